/** Small real files made on the fly for API tests (the extractor tests have richer fixtures). */
import { PDFDocument, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';

export async function makePdf(pages = 2, label = 'Kho tu lieu'): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let i = 1; i <= pages; i++) {
    const page = doc.addPage([420, 595]);
    page.drawText(`${label} - page ${i}`, { x: 40, y: 500, size: 18, font });
  }
  doc.setTitle(label);
  return Buffer.from(await doc.save());
}

export async function makePng(width = 64, height = 48, seed = 0): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: (seed * 37) % 256, g: 120, b: 200 } } }).png().toBuffer();
}

export async function makeJpeg(width = 64, height = 48, seed = 0): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: (seed * 53) % 256, b: 30 } } }).jpeg().toBuffer();
}

/** Bytes that no sniffer recognises and that are not text. */
export function randomBinary(n = 4096, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x & 0xff;
  }
  b[0] = 0; // a NUL byte: certainly not text
  return b;
}
