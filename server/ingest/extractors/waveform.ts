/** Draws a waveform picture (raw RGB pixels) from peak levels: symmetric bars on a light background. */
import type { RawPixels } from '../adapters/sharp.ts';

export function drawWaveform(peaks: number[], width = 1024, height = 256): RawPixels {
  const data = Buffer.alloc(width * height * 3, 0xf4);
  const mid = height / 2;
  const ink = [0x2b, 0x5d, 0x8c];
  for (let x = 0; x < width; x++) {
    const p = peaks.length ? peaks[Math.min(peaks.length - 1, Math.floor((x / width) * peaks.length))] : 0;
    const half = Math.max(1, Math.round(Math.min(1, p) * (mid - 4)));
    for (let y = Math.floor(mid - half); y < Math.ceil(mid + half); y++) data.set(ink, (y * width + x) * 3);
  }
  return { data, width, height, channels: 3 };
}
