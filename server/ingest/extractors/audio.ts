/**
 * Audio extractor (music-metadata for facts and tags, ffprobe for the facts of containers it does
 * not read, such as AMR; ffmpeg for checks and waveforms).
 *
 * Metadata keys: `durationSec` (what really decodes), `container`, `codec`, `sampleRate`, `channels`,
 * `bitRate`, `bitsPerSample`, `lossless`, `tagTypes` (ID3v1, ID3v2.3, vorbis, iTunes…),
 * `tags: {title, artist, album, albumArtist, year, date, genre[], comment, track, composer,
 * copyright, language, rating (0–5)}`, `hasCover`; for a truncated file whose header claims more:
 * `truncated: true` and `claimedDurationSec`.
 *
 * Thumbnail: the embedded cover art when there is one, else a waveform drawn from peak levels.
 * Failures: EMPTY_FILE, MEDIA_MALFORMED (unreadable, or no audio decodes), TIMEOUT.
 */
import { readAudioTags, type AudioTagFacts } from '../adapters/audio-tags.ts';
import { audioPeaks, decodedAudioFrom, measureDecodedDuration, probe, type ProbeResult } from '../adapters/ffmpeg.ts';
import { writeThumbnails } from '../adapters/sharp.ts';
import { decodeBytes, decodeText, isLegacyVietnameseEncoding, repairLegacyVietnamese } from '../adapters/text-encoding.ts';
import { assertNotEmpty, compact, tagText } from './common.ts';
import { PermanentExtractError, type ExtractInput, type ExtractResult, type Extractor, type ThumbnailResult } from './types.ts';
import { drawWaveform } from './waveform.ts';

/**
 * A word holding a non-ASCII letter or symbol: the same matches as the global `\p{L}*[^\p{ASCII}\s\d\p{P}]\p{L}*`,
 * which was tried from every letter of a long plain-ASCII word, each try scanning the rest of it
 * (quadratic: 40,000 letters took 1.7 s). Here the first branch starts only where a word starts; the
 * second is the one match that can start just after a letter: a symbol right after a previous match.
 */
const ACCENTED_WORD = /(?<!\p{L})\p{L}*[^\p{ASCII}\s\d\p{P}]\p{L}*|(?<=\p{L})[^\p{L}\p{ASCII}\s\d\p{P}]\p{L}*/gu;

/**
 * ID3v1 (and ID3v2 frames marked ISO-8859-1) were often written from legacy Vietnamese code pages
 * (TCVN3, VISCII, Windows-1258, VNI) and come out as Latin-1 mojibake. A string made only of Latin-1
 * characters is re-read as bytes and kept re-decoded when the encoding detector is sure it is
 * Vietnamese; anything else is left as it is.
 */
/** Only Latin-1 characters, some of them above ASCII: how a legacy code page's bytes come out. */
const latin1Reading = (s: unknown): s is string => typeof s === 'string' && /[\u0080-\u00ff]/.test(s) && !/[^\u0000-\u00ff]/.test(s);

export function repairLegacyTag(s: string): string {
  if (!latin1Reading(s)) return s;
  const d = decodeText(Buffer.from(s, 'latin1'));
  // Short strings are weak evidence: want at least two accented words ("Ça ira" is French, not "ầa ira").
  const accented = d.text.match(ACCENTED_WORD)?.length ?? 0;
  if (isLegacyVietnameseEncoding(d.encoding) && accented >= 2) return d.text;
  // VNI (a mark byte after its letter, "Vieät Nam") reads as plain Latin-1 to the detector.
  return repairLegacyVietnamese(s);
}

/**
 * One tag set was written in one code page: its Latin-1-only strings are judged together (a short
 * field — "Thu Hiền", "Về quê mẹ" — alone can read as valid syllables in the wrong code page), and
 * when they are clearly legacy Vietnamese, every one of them is read in that code page. Otherwise
 * each string is repaired on its own as before.
 */
function repairTags<T extends Record<string, unknown>>(tags: T): T {
  const strings = Object.values(tags).flatMap((v) => (Array.isArray(v) ? v : [v])).filter(latin1Reading);
  let whole: string | null = null;
  if (strings.length > 1) {
    const d = decodeText(Buffer.from(strings.join('\n'), 'latin1'));
    if (isLegacyVietnameseEncoding(d.encoding) && (d.text.match(ACCENTED_WORD)?.length ?? 0) >= 2) whole = d.encoding;
  }
  const fix = (s: string) => (whole !== null && latin1Reading(s) ? decodeBytes(Buffer.from(s, 'latin1'), whole).normalize('NFC') : repairLegacyTag(s));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(tags)) {
    out[k] = typeof v === 'string' ? fix(v) : Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? fix(x) : x)) : v;
  }
  return out as T;
}

/** Cover art if any, else a waveform. Also used by the video extractor for audio-only files. */
export async function audioThumbnail(input: ExtractInput, _probe?: ProbeResult): Promise<ThumbnailResult> {
  const { ffmpegPath, deadline, maxImagePixels } = input.limits;
  const facts = await readAudioTags(input.path, { withPicture: true }).catch(() => null);
  if (facts?.picture) {
    try {
      return { derivatives: await writeThumbnails({ buffer: facts.picture.data }, input.workDir, { maxPixels: maxImagePixels }) };
    } catch {
      // A broken cover is not fatal: fall through to the waveform.
    }
  }
  const peaks = await audioPeaks(input.path, ffmpegPath, 1024, deadline);
  if (!peaks) throw new PermanentExtractError('MEDIA_MALFORMED', 'No audio could be decoded for a waveform');
  return { derivatives: await writeThumbnails({ raw: drawWaveform(peaks) }, input.workDir, { maxPixels: maxImagePixels }), note: 'waveform' };
}

/**
 * music-metadata does not read every container the store accepts (AMR, from phones and recorders):
 * then the stream facts come from ffprobe, without tags. Rethrows `cause` when ffprobe finds no audio.
 */
async function probedFacts(input: ExtractInput, cause: unknown): Promise<AudioTagFacts> {
  if (!(cause instanceof PermanentExtractError) || cause.code !== 'MEDIA_MALFORMED') throw cause;
  const p = await probe(input.path, input.limits.ffprobePath, input.limits.deadline).catch(() => null);
  const a = p?.streams.find((s) => s.codec_type === 'audio');
  if (!p || !a) throw cause;
  const num = (v: unknown) => (v !== undefined && Number.isFinite(Number(v)) ? Number(v) : undefined);
  const duration = num(a.duration) ?? num(p.format.duration);
  return {
    container: p.format.format_name,
    codec: a.codec_name,
    durationSec: duration !== undefined ? Math.round(duration * 1000) / 1000 : undefined,
    sampleRate: num(a.sample_rate),
    channels: a.channels,
    bitRate: num(a.bit_rate) ?? num(p.format.bit_rate),
    tagTypes: [],
    tags: {},
  };
}

export const audioExtractor: Extractor = {
  kind: 'audio',

  async extract(input: ExtractInput): Promise<ExtractResult> {
    await assertNotEmpty(input);
    const { ffmpegPath, deadline } = input.limits;
    const f = await readAudioTags(input.path, { withPicture: true }).catch((e: unknown) => probedFacts(input, e));
    // A WAV cut short is read as what it holds; its header says what it should hold.
    let durationSec = f.claimedDurationSec ?? f.durationSec;
    let truncated: { truncated: true; claimedDurationSec: number } | undefined;
    // A header can claim more than the file holds (cut-off upload): check that the claimed end
    // decodes (2 s from 2.5 s before it must reach to within 1 s of it), and if not, measure what
    // does. Not just "does anything decode there": a 6 s clip cut at 3.6 s still decodes a little
    // from 3.5 s on.
    if (durationSec !== undefined && durationSec > 1) {
      const from = Math.max(0, durationSec - 2.5);
      const endOk = from + (await decodedAudioFrom(input.path, ffmpegPath, from, 2, deadline)) >= durationSec - 1;
      if (!endOk) {
        const measured = await measureDecodedDuration(input.path, ffmpegPath, 'a', deadline);
        if (measured === null || measured <= 0) throw new PermanentExtractError('MEDIA_MALFORMED', 'No audio in this file can be decoded');
        if (measured < durationSec - 1) {
          truncated = { truncated: true, claimedDurationSec: durationSec };
          durationSec = Math.round(measured * 1000) / 1000;
        }
      }
    } else if (durationSec === undefined) {
      const measured = await measureDecodedDuration(input.path, ffmpegPath, 'a', deadline);
      if (measured === null) throw new PermanentExtractError('MEDIA_MALFORMED', 'No audio in this file can be decoded');
      durationSec = Math.round(measured * 1000) / 1000;
    }
    const metadata = compact({
      durationSec,
      container: f.container,
      codec: f.codec,
      sampleRate: f.sampleRate,
      channels: f.channels,
      bitRate: f.bitRate,
      bitsPerSample: f.bitsPerSample,
      lossless: f.lossless,
      tagTypes: f.tagTypes.length ? f.tagTypes : undefined,
      tags: compact(repairTags(f.tags)),
      ...truncated,
    });
    const tags = (metadata.tags ?? {}) as Record<string, unknown>;
    // (Not the genre: ID3v1 stores a number whose English name, "Other", "Folk"…, says little.)
    const pages = tagText(['title', 'artist', 'albumArtist', 'album', 'composer', 'comment', 'copyright'].map((k) => tags[k]));
    return { metadata: { ...metadata, hasCover: Boolean(f.picture) }, pages };
  },

  thumbnail: (input) => audioThumbnail(input),
};
