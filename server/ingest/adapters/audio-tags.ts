/**
 * The only module that calls music-metadata. Returns plain facts and tags (NFC strings), and the
 * first embedded picture when asked.
 */
import { open } from 'node:fs/promises';
import { parseFile, type IAudioMetadata } from 'music-metadata';
import { PermanentExtractError } from '../extractors/types.ts';

export interface AudioTagFacts {
  container?: string;
  codec?: string;
  durationSec?: number;
  /**
   * What the header claims when it is more than `durationSec`: a WAV whose data chunk runs past the
   * end of the file (music-metadata, like ffprobe, counts only the bytes that are there).
   */
  claimedDurationSec?: number;
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

/**
 * The length in seconds that a RIFF/WAVE header gives its data chunk (its size over the byte rate
 * of the fmt chunk), or undefined when the file is no WAV or the chunks are not found.
 */
async function wavHeaderSeconds(path: string): Promise<number | undefined> {
  const fh = await open(path, 'r');
  try {
    const h = Buffer.alloc(20);
    if ((await fh.read(h, 0, 12, 0)).bytesRead < 12 || h.toString('latin1', 0, 4) !== 'RIFF' || h.toString('latin1', 8, 12) !== 'WAVE') return undefined;
    let byteRate = 0;
    // Chunk by chunk from the header (LIST, bext or JUNK chunks may come before the data).
    for (let pos = 12, i = 0; i < 64; i++) {
      const { bytesRead } = await fh.read(h, 0, 20, pos);
      if (bytesRead < 8) return undefined;
      const id = h.toString('latin1', 0, 4);
      const size = h.readUInt32LE(4);
      if (id === 'fmt ' && bytesRead >= 20) byteRate = h.readUInt32LE(16);
      if (id === 'data') return byteRate > 0 && size !== 0xffffffff ? size / byteRate : undefined;
      pos += 8 + size + (size % 2);
    }
    return undefined;
  } finally {
    await fh.close();
  }
}

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
  // ffmpeg (and what is made with it) writes an MP3's comment as a `TXXX:comment` frame, not `COMM`:
  // music-metadata maps only COMM to the common comment.
  const txxx = m.native['ID3v2.3']?.concat(m.native['ID3v2.4'] ?? []) ?? m.native['ID3v2.4'] ?? [];
  const txxxComment = txxx.find((t) => /^TXXX:comment$/i.test(t.id))?.value;
  const comment = (c.comment?.map((x) => (typeof x === 'string' ? x : x.text)) ?? (typeof txxxComment === 'string' ? [txxxComment] : [])).map(nfc).filter(Boolean).join('\n');
  const rating = c.rating?.[0]?.rating;
  const pic = c.picture?.[0];
  const durationSec = f.duration !== undefined && Number.isFinite(f.duration) ? Math.round(f.duration * 1000) / 1000 : undefined;
  const claimed = f.container === 'WAVE' && durationSec !== undefined ? await wavHeaderSeconds(path) : undefined;
  return {
    container: f.container,
    codec: f.codec,
    durationSec,
    claimedDurationSec: claimed !== undefined && claimed > durationSec! ? Math.round(claimed * 1000) / 1000 : undefined,
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
      // music-metadata maps no RIFF INFO field to copyright: a WAV's ICOP is read from the native tags.
      copyright: nfc(c.copyright) ?? nfc(m.native.exif?.find((t) => t.id === 'ICOP')?.value),
      language: nfc(c.language),
      rating: rating !== undefined ? Math.round(rating * 5 * 100) / 100 : undefined,
    },
    picture: pic ? { format: pic.format, data: Buffer.from(pic.data) } : undefined,
  };
}
