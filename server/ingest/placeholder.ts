/**
 * Neutral placeholder pictures for files that have no thumbnail (text, office, failed jobs):
 * a flat tile with a simple pictogram per kind, drawn from pixels (no SVG), encoded as PNG by the
 * sharp adapter, and cached per kind and size for the life of the process.
 */
import type { MediaKind } from '../db/schema.ts';
import type { RawPixels } from './adapters/sharp.ts';

export interface PlaceholderImage {
  mediaType: 'image/png';
  data: Buffer;
  width: number;
  height: number;
}

type Shape = (u: number, v: number) => boolean;

const inTriangle = (u: number, v: number, a: [number, number], b: [number, number], c: [number, number]) => {
  const s = (p: [number, number], q: [number, number]) => (u - q[0]) * (p[1] - q[1]) - (p[0] - q[0]) * (v - q[1]);
  const d1 = s(a, b), d2 = s(b, c), d3 = s(c, a);
  return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0));
};

/** Pictograms in the unit square (u right, v down). */
const SHAPES: Record<MediaKind, Shape> = {
  pdf: (u, v) => page(u, v) || (v > 0.72 && v < 0.86 && u > 0.3 && u < 0.7),
  office: (u, v) => page(u, v),
  text: (u, v) => page(u, v),
  image: (u, v) => frame(u, v) || inTriangle(u, v, [0.18, 0.8], [0.45, 0.42], [0.7, 0.8]) || (u - 0.68) ** 2 + (v - 0.33) ** 2 < 0.008,
  video: (u, v) => frame(u, v) || inTriangle(u, v, [0.4, 0.33], [0.4, 0.67], [0.68, 0.5]),
  audio: (u, v) => {
    const bars = [0.3, 0.6, 0.9, 0.5, 0.75, 0.4, 0.2];
    const i = Math.floor((u - 0.1) / (0.8 / bars.length));
    if (i < 0 || i >= bars.length || (u - 0.1) % (0.8 / bars.length) > 0.07) return false;
    return Math.abs(v - 0.5) < bars[i] * 0.4;
  },
};
function page(u: number, v: number): boolean {
  const border = (u > 0.2 && u < 0.8 && v > 0.08 && v < 0.92) && !(u > 0.25 && u < 0.75 && v > 0.13 && v < 0.87);
  const lines = u > 0.3 && u < 0.7 && v > 0.2 && v < 0.66 && (v - 0.2) % 0.09 < 0.035;
  return border || lines;
}
function frame(u: number, v: number): boolean {
  return u > 0.08 && u < 0.92 && v > 0.15 && v < 0.85 && !(u > 0.13 && u < 0.87 && v > 0.2 && v < 0.8);
}

function mask(shape: Shape, side: number): RawPixels {
  const data = new Uint8Array(side * side);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) data[y * side + x] = shape((x + 0.5) / side, (y + 0.5) / side) ? 1 : 0;
  return { data, width: side, height: side, channels: 1 };
}

const cache = new Map<string, Promise<PlaceholderImage>>();

/** A square PNG placeholder for `kind`, `size` px a side (256 or 1024; other sizes use 256). */
export function placeholderImage(kind: MediaKind, size: number): Promise<PlaceholderImage> {
  const side = size === 1024 ? 1024 : 256;
  const k = (kind in SHAPES ? kind : 'text') as MediaKind;
  const key = `${k}:${side}`;
  let hit = cache.get(key);
  if (!hit) {
    // sharp is loaded on first use: the server process does not pay for libvips until it draws one.
    hit = import('./adapters/sharp.ts')
      .then(({ flatPng }) => flatPng(side, side, [0xec, 0xee, 0xf1], mask(SHAPES[k], Math.round(side * 0.5)), [0x8a, 0x94, 0xa3]))
      .then((data) => ({ mediaType: 'image/png' as const, data, width: side, height: side }));
    hit.catch(() => cache.delete(key));
    cache.set(key, hit);
  }
  return hit;
}
