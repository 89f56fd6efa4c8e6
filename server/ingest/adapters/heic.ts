/**
 * The only module that calls heic-decode (libheif compiled to WebAssembly). The prebuilt sharp
 * reads HEIC headers but has no HEVC decoder, so HEIC pixels come from here as raw RGBA.
 * libheif applies the container's rotation/mirror boxes, so the pixels come out upright.
 */
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { PermanentExtractError } from '../extractors/types.ts';
import type { RawPixels } from './sharp.ts';

type HeicDecode = (opts: { buffer: Uint8Array }) => Promise<{ width: number; height: number; data: Uint8ClampedArray }>;

const require = createRequire(import.meta.url);

/**
 * The WebAssembly decoder holds the bitstream, its own frame buffers and the RGBA result at once
 * (about 3× the RGBA size), so HEIC gets a tighter pixel cap than other formats.
 */
export const MAX_HEIC_PIXELS = 64_000_000;
let decoder: HeicDecode | undefined;

/** Decodes the primary image of a HEIC/HEIF file to RGBA; refuses more than maxPixels. */
export async function decodeHeic(path: string, limit: number, claimed: { width: number; height: number }): Promise<RawPixels> {
  const maxPixels = Math.min(limit, MAX_HEIC_PIXELS);
  if (claimed.width * claimed.height > maxPixels) {
    throw new PermanentExtractError('IMAGE_TOO_LARGE', `The image claims ${claimed.width}×${claimed.height} pixels, more than the limit of ${maxPixels}`);
  }
  decoder ??= require('heic-decode') as HeicDecode;
  let image: Awaited<ReturnType<HeicDecode>>;
  try {
    image = await decoder({ buffer: await readFile(path) });
  } catch (err) {
    throw new PermanentExtractError('HEIC_UNSUPPORTED', `The HEIC image could not be decoded: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (image.width * image.height > maxPixels) {
    throw new PermanentExtractError('IMAGE_TOO_LARGE', `The image has ${image.width}×${image.height} pixels, more than the limit of ${maxPixels}`);
  }
  const data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return { data, width: image.width, height: image.height, channels: 4 };
}
