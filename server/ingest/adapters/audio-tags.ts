/**
 * The only module that calls music-metadata. Returns plain facts and tags (NFC strings), and the
 * first embedded picture when asked.
 */
import { parseFile, type IAudioMetadata } from 'music-metadata';
import { PermanentExtractError } from '../extractors/types.ts';

export interface AudioTagFacts {
  container?: string;
  codec?: string;
  durationSec?: number;
  sampleRate?: number;
  channels?: number;
  bitRate?: number;
  bitsPerSample?: number;
  lossless?: boolean;
  tagTypes: string[];
  tags: {
    title?: string;
    artist?: string;
    album?: string;
    albumArtist?: string;
    year?: number;
    date?: string;
    genre?: string[];
    comment?: string;
    track?: number;
    composer?: string;
    copyright?: string;
    language?: string;
    rating?: number;
  };
  picture?: { format: string; data: Buffer };
}

/**
 * RIFF INFO chunks (WAV, AVI) and ID3v2 frames marked ISO-8859-1 are read by music-metadata as
 * Latin-1, but ffmpeg and most taggers write UTF-8 there ("Lá»\u0085 há»\u0099i" for "Lễ hội"). A
 * string of Latin-1 characters whose bytes are valid UTF-8 is read as UTF-8; anything else is left
 * for the legacy code-page repair (audio extractor). Done before trimming: "à" ends in byte A0,
 * which reads as a no-break space.
 */
function utf8ReadAsLatin1(s: string): string {
  if (!/[\u0080-\u00ff]/.test(s) || /[^\u0000-\u00ff]/.test(s)) return s;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(s, 'latin1'));
  } catch {
    return s;
  }
}

const nfc = (s: unknown): string | undefined => {
  if (typeof s !== 'string') return undefined;
  const t = utf8ReadAsLatin1(s).replace(/\u0000/g, '').trim();
  return t ? t.normalize('NFC') : undefined;
};

/** Reads stream facts and tags. `withPicture` keeps the first cover image. */
export async function readAudioTags(path: string, opts: { withPicture?: boolean } = {}): Promise<AudioTagFacts> {
  let m: IAudioMetadata;
  try {
    // `duration: true` makes MP3s without a Xing/VBRI header be scanned, so the duration is what is really there.
    m = await parseFile(path, { duration: true, skipCovers: !opts.withPicture });
  } catch (err) {
    throw new PermanentExtractError('MEDIA_MALFORMED', `The audio file could not be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  const f = m.format;
  const c = m.common;
  const comment = c.comment?.map((x) => (typeof x === 'string' ? x : x.text)).map(nfc).filter(Boolean).join('\n');
  const rating = c.rating?.[0]?.rating;
  const pic = c.picture?.[0];
  return {
    container: f.container,
    codec: f.codec,
    durationSec: f.duration !== undefined && Number.isFinite(f.duration) ? Math.round(f.duration * 1000) / 1000 : undefined,
    sampleRate: f.sampleRate,
    channels: f.numberOfChannels,
    bitRate: f.bitrate !== undefined && Number.isFinite(f.bitrate) ? Math.round(f.bitrate) : undefined,
    bitsPerSample: f.bitsPerSample,
    lossless: f.lossless,
    tagTypes: [...(f.tagTypes ?? [])],
    tags: {
      title: nfc(c.title),
      artist: nfc(c.artist) ?? nfc(c.artists?.join('; ')),
      album: nfc(c.album),
      albumArtist: nfc(c.albumartist),
      year: c.year,
      date: nfc(c.date),
      genre: c.genre?.map(nfc).filter((g): g is string => Boolean(g)),
      comment: comment || undefined,
      track: c.track?.no ?? undefined,
      composer: nfc(c.composer?.join('; ')),
      copyright: nfc(c.copyright),
      language: nfc(c.language),
      rating: rating !== undefined ? Math.round(rating * 5 * 100) / 100 : undefined,
    },
    picture: pic ? { format: pic.format, data: Buffer.from(pic.data) } : undefined,
  };
}
