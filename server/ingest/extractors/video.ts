/**
 * Video extractor (ffprobe for facts, ffmpeg for the poster frame).
 *
 * Metadata keys: `durationSec`, `container` (ffprobe format name), `videoCodec`, `videoProfile`,
 * `width`, `height` (displayed: after rotation and pixel aspect ratio), `codedWidth`, `codedHeight`,
 * `rotation` (degrees clockwise, 0/90/180/270), `frameRate`, `bitRate` (bit/s), `pixelFormat`,
 * `audioTracks: [{codec, channels, sampleRate, language, title}]`, `subtitleTracks: [{codec, language, title}]`,
 * `title`, `creationTime`, `hasCover` (attached picture stream); for a truncated file whose header
 * claims more (no frame decodes near the claimed end): `durationSec` is what decodes, with
 * `truncated: true` and `claimedDurationSec`.
 *
 * Thumbnail: a frame about 10 % in; when it is (nearly) black or blank, frames at 25 %, 40 % and 5 %
 * are tried and the first non-black one (else the brightest) is used. Rotation is applied by ffmpeg.
 * A file with no video stream gets the audio treatment (cover or waveform).
 * Failures: EMPTY_FILE, MEDIA_MALFORMED, IMAGE_TOO_LARGE (frame bigger than the pixel cap), TIMEOUT.
 */
import { grabFrame, measureDecodedDuration, probe, type ProbeResult, type ProbeStream } from '../adapters/ffmpeg.ts';
import { greyStats, writeThumbnails } from '../adapters/sharp.ts';
import { audioThumbnail } from './audio.ts';
import { assertNotEmpty, compact, tagText } from './common.ts';
import { PermanentExtractError, THUMB_SIZES, type ExtractInput, type ExtractResult, type Extractor, type ThumbnailResult } from './types.ts';

const num = (v: string | number | undefined): number | undefined => {
  const n = Number(v);
  return v === undefined || v === '' || !Number.isFinite(n) ? undefined : n;
};

/** `30000/1001` → 29.97 */
export function parseRate(r: string | undefined): number | undefined {
  if (!r) return undefined;
  const [a, b] = r.split('/').map(Number);
  if (!b || !Number.isFinite(a) || !Number.isFinite(b) || a <= 0) return undefined;
  return Math.round((a / b) * 1000) / 1000;
}

/** Clockwise display rotation from the display matrix (side data) or the legacy `rotate` tag. */
export function rotationOf(s: ProbeStream): number {
  const side = s.side_data_list?.find((d) => typeof d.rotation === 'number');
  // The display matrix rotation is counter-clockwise; the legacy tag is clockwise.
  const deg = side ? -(side.rotation as number) : Number(s.tags?.rotate ?? 0);
  return (((Math.round(deg / 90) * 90) % 360) + 360) % 360;
}

export function mainVideoStream(p: ProbeResult): ProbeStream | undefined {
  return p.streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic && (s.width ?? 0) > 0);
}

export function durationOf(p: ProbeResult): number | undefined {
  const d = num(p.format.duration) ?? Math.max(0, ...p.streams.map((s) => num(s.duration) ?? 0));
  return d ? Math.round(d * 1000) / 1000 : undefined;
}

function displaySize(v: ProbeStream, rotation: number) {
  const [sw, sh] = (v.sample_aspect_ratio ?? '1:1').split(':').map(Number);
  const sar = sw > 0 && sh > 0 ? sw / sh : 1;
  let w = Math.round((v.width ?? 0) * sar);
  let h = v.height ?? 0;
  if (rotation === 90 || rotation === 270) [w, h] = [h, w];
  return { width: w, height: h };
}

export const videoExtractor: Extractor = {
  kind: 'video',

  async extract(input: ExtractInput): Promise<ExtractResult> {
    await assertNotEmpty(input);
    const p = await probe(input.path, input.limits.ffprobePath, input.limits.deadline, input.limits.ffmpegPath);
    const v = mainVideoStream(p);
    const rotation = v ? rotationOf(v) : 0;
    const size = v ? displaySize(v, rotation) : undefined;
    const audio = p.streams.filter((s) => s.codec_type === 'audio');
    const subs = p.streams.filter((s) => s.codec_type === 'subtitle');
    const metadata = compact({
      durationSec: durationOf(p),
      container: p.format.format_name,
      videoCodec: v?.codec_name,
      videoProfile: v?.profile,
      width: size?.width,
      height: size?.height,
      codedWidth: v?.width,
      codedHeight: v?.height,
      rotation: v ? rotation : undefined,
      frameRate: parseRate(v?.avg_frame_rate) ?? parseRate(v?.r_frame_rate),
      bitRate: num(p.format.bit_rate),
      pixelFormat: v?.pix_fmt,
      audioTracks: audio.map((a) => compact({ codec: a.codec_name, channels: a.channels, sampleRate: num(a.sample_rate), language: a.tags?.language, title: a.tags?.title })),
      subtitleTracks: subs.map((s) => compact({ codec: s.codec_name, language: s.tags?.language, title: s.tags?.title })),
      title: p.format.tags?.title?.normalize('NFC'),
      creationTime: p.format.tags?.creation_time,
      hasCover: p.streams.some((s) => s.disposition?.attached_pic === 1) || undefined,
    });
    if (!v && !audio.length) throw new PermanentExtractError('MEDIA_MALFORMED', 'The file has no video or audio stream');
    const ft = Object.fromEntries(Object.entries(p.format.tags ?? {}).map(([k, v]) => [k.toLowerCase(), v])); // Matroska's are upper case
    const pages = tagText([ft.title, ft.artist, ft.album, ft.comment, ft.description, ft.synopsis, ft.copyright, p.streams.map((s) => s.tags?.title)]);
    // A header can claim more than the file holds (an upload cut short whose index sits at the start,
    // as in a fast-start MP4): when no frame decodes near the claimed end, measure what does.
    const claimed = metadata.durationSec;
    if (v && claimed !== undefined && claimed > 3) {
      const { ffmpegPath, deadline } = input.limits;
      const nearEnd = await grabFrame(input.path, ffmpegPath, Math.max(0, claimed - 1.5), 64, deadline);
      if (nearEnd === null && Date.now() < deadline) {
        const measured = await measureDecodedDuration(input.path, ffmpegPath, 'v', deadline);
        if (measured === null || measured <= 0) throw new PermanentExtractError('MEDIA_MALFORMED', 'No video in this file can be decoded');
        if (measured < claimed - 1) return { metadata: { ...metadata, durationSec: Math.round(measured * 1000) / 1000, truncated: true, claimedDurationSec: claimed }, pages };
      }
    }
    return { metadata, pages };
  },

  async thumbnail(input: ExtractInput): Promise<ThumbnailResult> {
    await assertNotEmpty(input);
    const { ffmpegPath, ffprobePath, deadline, maxImagePixels } = input.limits;
    const p = await probe(input.path, ffprobePath, deadline, ffmpegPath);
    const v = mainVideoStream(p);
    if (!v) return audioThumbnail(input, p);
    if ((v.width ?? 0) * (v.height ?? 0) > maxImagePixels) {
      throw new PermanentExtractError('IMAGE_TOO_LARGE', `The video frame size ${v.width}×${v.height} is above the pixel limit`);
    }
    const duration = durationOf(p) ?? 0;
    const long = Math.max(...THUMB_SIZES);
    let best: { png: Buffer; mean: number } | null = null;
    // Later points are tried only while every frame so far is black or flat: a clip whose first
    // half is a black lead-in or a fade (4 s of black in a 5 s spot) had a black thumbnail.
    for (const at of duration > 0 ? [0.1, 0.25, 0.4, 0.05, 0.6, 0.8] : [0]) {
      if (Date.now() > deadline) break;
      const png = await grabFrame(input.path, ffmpegPath, duration * at, long, deadline);
      if (!png) continue;
      const { mean, stdev } = await greyStats(png);
      if (!best || mean > best.mean) best = { png, mean };
      if (mean > 20 && stdev > 4) break; // not black, not a flat title card
    }
    if (!best && duration > 0) {
      const png = await grabFrame(input.path, ffmpegPath, 0, long, deadline);
      if (png) best = { png, mean: 0 };
    }
    if (!best) throw new PermanentExtractError('MEDIA_MALFORMED', 'No video frame could be decoded');
    return { derivatives: await writeThumbnails({ buffer: best.png }, input.workDir, { maxPixels: maxImagePixels }) };
  },
};
