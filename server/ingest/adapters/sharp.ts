/**
 * The only module that imports sharp. Everything pixel-related goes through here: header probes,
 * WebP thumbnails at THUMB_SIZES, rendering raw pixel buffers (PDF pages, video frames, waveforms,
 * decoded HEIC) and the neutral placeholders.
 *
 * Decoding rules: `limitInputPixels` is always the configured pixel cap (pixel bombs are refused
 * before decoding), EXIF orientation is applied, everything is converted to sRGB 8-bit (CMYK via
 * its ICC profile, 16-bit, CIELab), only the first page/frame is decoded, and the source is
 * decoded once: the 1024 px image is made first and the 256 px one is resized from it.
 */
import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { storageFault } from '../../errors.ts';
import { PermanentExtractError, THUMB_SIZES, thumbName, type DerivativeFile } from '../extractors/types.ts';

// The job runner runs one worker process per core, so one libvips thread per process keeps the
// cores busy without oversubscribing them (bench: 2 × 1 thread at least as fast as 2 × 2). The
// operation cache only costs memory in a process that handles each file once.
sharp.cache(false);
sharp.concurrency(1);

/** libvips threads per process (e.g. more when a single process does all the work). */
export function configureSharp(opts: { threads: number }): void {
  sharp.concurrency(Math.max(1, Math.floor(opts.threads)));
}

/** Header facts of an image, before any pixel is decoded. */
export interface ImageHeader {
  format: string;
  width: number;
  height: number;
  /** Width/height after EXIF orientation. */
  orientedWidth: number;
  orientedHeight: number;
  orientation: number;
  space: string;
  channels: number;
  depth: string;
  bitsPerSample: number | null;
  hasAlpha: boolean;
  hasProfile: boolean;
  pages: number;
  compression: string | null;
  density: number | null;
  exif?: Buffer;
  iptc?: Buffer;
  xmp?: Buffer;
}

/** Raw interleaved 8-bit pixels (e.g. a rendered PDF page or a decoded HEIC). */
export interface RawPixels {
  data: Uint8Array | Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

export type ImageSource = { path: string } | { buffer: Buffer } | { raw: RawPixels };

const DEPTH_BITS: Record<string, number> = { uchar: 8, char: 8, ushort: 16, short: 16, uint: 32, int: 32, float: 32, complex: 64, double: 64, dpcomplex: 128 };

function isPixelLimitError(err: unknown): boolean {
  return err instanceof Error && /pixel limit/i.test(err.message);
}

/** Turns libvips decode errors into permanent failures with a stable code. */
export function mapSharpError(err: unknown, what = 'image'): never {
  if (err instanceof PermanentExtractError) throw err;
  // The disk, not the image (see writeWebp).
  if (storageFault(err)) throw err;
  const message = err instanceof Error ? err.message : String(err);
  if (isPixelLimitError(err)) throw new PermanentExtractError('IMAGE_TOO_LARGE', `The ${what} has more pixels than the configured limit`);
  // libheif repeats "bad seek to N" many times before the line that says what went wrong.
  const lines = message.split('\n').filter((l) => l.trim() !== '');
  const telling = lines.find((l) => /heif:/i.test(l)) ?? lines.find((l) => !/bad seek/i.test(l)) ?? lines[0] ?? message;
  // Only a missing decoder is "unsupported"; a damaged HEIF or AVIF file ("Invalid input: No 'meta'
  // box…") is malformed like any other damaged image.
  if (/compression format .* not built|unsupported (codec|feature)|\bhevc\b/i.test(telling)) {
    throw new PermanentExtractError('HEIC_UNSUPPORTED', `HEIC/HEVC images cannot be decoded here: ${telling}`);
  }
  throw new PermanentExtractError('IMAGE_MALFORMED', `The ${what} could not be decoded: ${telling}`);
}

/** Reads the header only (no pixel decoding). Refuses pixel bombs by the claimed dimensions. */
export async function readImageHeader(path: string, maxPixels: number): Promise<ImageHeader> {
  let m: Metadata;
  try {
    // The header is read with no pixel limit so that a bomb gets a precise message, not a decode error.
    m = await sharp(path, { limitInputPixels: false }).metadata();
  } catch (err) {
    mapSharpError(err);
  }
  const width = m.width ?? 0;
  const height = m.height ?? 0;
  if (!width || !height) throw new PermanentExtractError('IMAGE_MALFORMED', 'The image has no dimensions');
  if (width * height > maxPixels) {
    throw new PermanentExtractError('IMAGE_TOO_LARGE', `The image claims ${width}×${height} pixels, more than the limit of ${maxPixels}`);
  }
  const orientation = m.orientation ?? 1;
  const swap = orientation >= 5 && orientation <= 8;
  return {
    format: m.format ?? 'unknown',
    width,
    height,
    orientedWidth: m.autoOrient?.width ?? (swap ? height : width),
    orientedHeight: m.autoOrient?.height ?? (swap ? width : height),
    orientation,
    space: m.space ?? 'unknown',
    channels: m.channels ?? 0,
    depth: m.depth ?? 'uchar',
    bitsPerSample: m.bitsPerSample ?? DEPTH_BITS[m.depth ?? 'uchar'] ?? null,
    hasAlpha: m.hasAlpha ?? false,
    hasProfile: m.hasProfile ?? false,
    pages: m.pages ?? 1,
    compression: m.compression ?? null,
    density: m.density ?? null,
    exif: m.exif,
    iptc: m.iptc,
    xmp: m.xmp,
  };
}

export interface ThumbnailOptions {
  maxPixels: number;
  /** Decode what is there in a truncated/corrupt file instead of failing. */
  lenient?: boolean;
}

function open(source: ImageSource, opts: ThumbnailOptions): Sharp {
  const common: SharpOptions = {
    limitInputPixels: opts.maxPixels,
    failOn: opts.lenient ? 'none' : 'truncated',
    sequentialRead: true,
    pages: 1,
    page: 0,
  };
  if ('path' in source) return sharp(source.path, common);
  if ('buffer' in source) return sharp(source.buffer, common);
  const { data, width, height, channels } = source.raw;
  return sharp(data, { ...common, raw: { width, height, channels } });
}

async function writeWebp(img: Sharp, workDir: string, size: number): Promise<DerivativeFile> {
  const path = join(workDir, thumbName(size));
  // Encoded in memory (a thumbnail is small) and written by Node: libvips' own write failure says
  // only "write error", which would read as a damaged image; Node's error keeps the errno (ENOSPC:
  // the scratch disk is full), a failure that is retried later.
  const { data, info } = await img.webp({ quality: size <= 256 ? 75 : 80, effort: 2 }).toBuffer({ resolveWithObject: true });
  await writeFile(path, data);
  return { name: thumbName(size), path, mediaType: 'image/webp', width: info.width, height: info.height };
}

/**
 * Writes `thumb-256.webp` and `thumb-1024.webp` into workDir (long side ≤ size, never enlarged,
 * oriented, sRGB). The source is decoded once.
 */
export async function writeThumbnails(source: ImageSource, workDir: string, opts: ThumbnailOptions): Promise<DerivativeFile[]> {
  const [small, large] = [Math.min(...THUMB_SIZES), Math.max(...THUMB_SIZES)];
  try {
    const { data, info } = await open(source, opts)
      .autoOrient()
      .resize({ width: large, height: large, fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const raw = { width: info.width, height: info.height, channels: info.channels as 1 | 2 | 3 | 4 };
    const fromRaw = () => sharp(data, { raw });
    return await Promise.all([
      writeWebp(fromRaw(), workDir, large),
      writeWebp(fromRaw().resize({ width: small, height: small, fit: 'inside', withoutEnlargement: true }), workDir, small),
    ]);
  } catch (err) {
    mapSharpError(err);
  }
}

/** Encodes raw pixels as PNG (tests, placeholders, waveform images). */
export async function rawToPng(raw: RawPixels): Promise<Buffer> {
  return sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } }).png().toBuffer();
}

/** A flat image with a centred pictogram drawn from raw pixels (no SVG), as PNG. */
export async function flatPng(width: number, height: number, background: [number, number, number], mask: RawPixels | null, ink: [number, number, number]): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(background, i * 3);
  if (mask) {
    const ox = Math.floor((width - mask.width) / 2);
    const oy = Math.floor((height - mask.height) / 2);
    for (let y = 0; y < mask.height; y++) {
      for (let x = 0; x < mask.width; x++) {
        if (!mask.data[y * mask.width + x]) continue;
        const i = ((oy + y) * width + ox + x) * 3;
        data.set(ink, i);
      }
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 9, palette: true }).toBuffer();
}

/** Decoded pixel facts of an image file or buffer (used by tests and checks). */
export async function probePixels(input: string | Buffer): Promise<{ format: string; width: number; height: number; channels: number }> {
  const m = await sharp(input).metadata();
  return { format: m.format ?? 'unknown', width: m.width ?? 0, height: m.height ?? 0, channels: m.channels ?? 0 };
}

/** Mean and spread of an image's grey levels (0–255): used to skip black or blank video frames. */
export async function greyStats(input: Buffer): Promise<{ mean: number; stdev: number }> {
  const s = await sharp(input).greyscale().stats();
  return { mean: s.channels[0].mean, stdev: s.channels[0].stdev };
}
