/**
 * Every file of the shared corpus through its extractor: expected facts or the expected clear
 * failure, and decoded thumbnails. Runs only when KHO_CORPUS_DIR is set (and then fails if the
 * directory is missing). Files are read in place, never copied into the project.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { unzipSync, strFromU8 } from 'fflate';
import type { MediaKind } from '../../server/db/schema.ts';
import { getExtractor } from '../../server/ingest/extractors/index.ts';
import { stopPdfHelpers } from '../../server/ingest/adapters/pdf.ts';
import { PermanentExtractError, type ExtractResult, type ThumbnailResult } from '../../server/ingest/extractors/types.ts';
import { inputFor, tempDir } from '../helpers/fixtures.ts';

const CORPUS = process.env.KHO_CORPUS_DIR ?? '';

type Md = Record<string, any>;
interface Expect {
  kind: MediaKind;
  mediaType: string;
  /** Expected failure code of both jobs, or checks on the results. */
  fails?: string;
  extract?: (r: ExtractResult, path: string) => void | Promise<void>;
  /** Expected [width, height] of thumb-1024 (null: no thumbnail expected). */
  thumb?: [number, number] | null;
  thumbCheck?: (t: ThumbnailResult) => void | Promise<void>;
}

const text = (r: ExtractResult) => r.pages.map((p) => p.text).join('\n');
const PDF = 'application/pdf';
const A4: [number, number] = [724, 1024];

const EXPECTED: Record<string, Expect> = {
  'minimal-latex.pdf': { kind: 'pdf', mediaType: PDF, thumb: A4, extract: (r) => {
    expect(r.metadata).toMatchObject({ pages: 1, encrypted: false, creator: 'TeX', producer: expect.stringMatching(/^pdfTeX/) });
    expect(text(r)).toMatch(/^Lorem ipsum dolor sit amet/);
  } },
  'latex-4-pages.pdf': { kind: 'pdf', mediaType: PDF, thumb: A4, extract: (r) => {
    expect(r.metadata.pages).toBe(4);
    expect(r.pages.map((p) => p.page)).toEqual([1, 2, 3, 4]);
    for (const p of r.pages) expect(p.text.length).toBeGreaterThan(500);
  } },
  'google-docs-export.pdf': { kind: 'pdf', mediaType: PDF, thumb: [725, 1024], extract: (r) => {
    expect(r.metadata).toMatchObject({ pages: 1, title: 'PDF Example Document', producer: expect.stringMatching(/Skia/) });
    expect(text(r)).toContain('Beautiful is better than ugly.');
  } },
  'latex-with-jpeg.pdf': { kind: 'pdf', mediaType: PDF, thumb: A4, extract: (r) => {
    expect(r.metadata.pages).toBe(1);
    expect(text(r)).toContain('Your Chapter');
  }, thumbCheck: async (t) => {
    // The embedded photo makes the first page far from blank.
    const s = await sharp(t.derivatives.find((d) => d.name === 'thumb-256.webp')!.path).greyscale().stats();
    expect(s.channels[0].mean).toBeLessThan(245);
  } },
  'geotopo-117-pages.pdf': { kind: 'pdf', mediaType: PDF, thumb: A4, extract: (r) => {
    expect(r.metadata).toMatchObject({ pages: 117, title: 'Geometrie und Topologie', author: 'Martin Thoma' });
    expect(r.pages).toHaveLength(117);
    expect(r.pages[0].text).toContain('Geometrie und Topologie');
    expect(r.pages.filter((p) => p.text.length > 0).length).toBeGreaterThan(100);
  } },
  'arabic-habibi.pdf': { kind: 'pdf', mediaType: PDF, thumb: A4, extract: (r) => {
    expect(r.metadata).toMatchObject({ pages: 1, title: 'habibi' });
    expect(text(r)).toMatch(/[\u0600-\u06ff]{3,}/);
    expect(text(r)).not.toMatch(/[\u0000-\u0008]/);
  } },
  'vi-an-le-43-2021.pdf': { kind: 'pdf', mediaType: PDF, thumb: A4, extract: (r) => {
    expect(r.metadata).toMatchObject({ pages: 6, author: 'Tiến Tưởng', creator: expect.stringMatching(/Word/) });
    const t = text(r);
    expect(t).toBe(t.normalize('NFC'));
    expect(t).toContain('ÁN LỆ SỐ 43/2021/AL');
    expect(t).toContain('Về hiệu lực của hợp đồng thế chấp trong trường hợp tài sản thế chấp');
    for (const p of r.pages) expect(p.text.length).toBeGreaterThan(100);
  } },
  'japanese-noembed.pdf': { kind: 'pdf', mediaType: PDF, thumb: [791, 1024], extract: (r) => {
    expect(r.metadata.pages).toBe(1);
    expect(text(r)).toContain('Hello ASCII');
  } },
  'pdfa-crazyones.pdf': { kind: 'pdf', mediaType: PDF, thumb: [791, 1024], extract: (r) => {
    expect(r.metadata).toMatchObject({ pages: 1, producer: expect.stringMatching(/Ghostscript/) });
    expect(text(r)).toContain('The Crazy Ones');
  } },
  'with-attachment.pdf': { kind: 'pdf', mediaType: PDF, thumb: A4, extract: (r) => {
    expect(r.metadata).toMatchObject({ pages: 1, attachments: 1 });
  } },
  'encrypted-userpw.pdf': { kind: 'pdf', mediaType: PDF, fails: 'PDF_ENCRYPTED' },
  'damaged-xref-offsets.pdf': { kind: 'pdf', mediaType: PDF, thumb: [1024, 1024], extract: (r) => {
    expect(r.pages).toEqual([{ page: 1, text: 'Hello, world!' }]);
  } },
  'truncated-garbled.pdf': { kind: 'pdf', mediaType: PDF, fails: 'PDF_MALFORMED' },
  'smallest-valid.pdf': { kind: 'pdf', mediaType: PDF, thumb: [791, 1024], extract: (r) => {
    expect(r.metadata).toMatchObject({ pages: 1, pagesWithoutText: 1 });
    expect(r.pages).toEqual([{ page: 1, text: '' }]);
  } },
  'empty.pdf': { kind: 'pdf', mediaType: PDF, fails: 'EMPTY_FILE' },

  'exif-orientation-6.jpg': { kind: 'image', mediaType: 'image/jpeg', thumb: [600, 450], extract: (r) => {
    // Stored 450×600, Orientation 6 (rotate 90° clockwise): displayed 600×450.
    expect(r.metadata).toMatchObject({ format: 'jpeg', orientation: 6, width: 600, height: 450, storedWidth: 450, storedHeight: 600 });
  } },
  'jpeg-exif-iptc-xmp.jpg': { kind: 'image', mediaType: 'image/jpeg', thumb: [480, 369], extract: (r) => {
    expect(r.metadata).toMatchObject({ width: 480, height: 369, hasIccProfile: true });
    expect(r.metadata.exif).toMatchObject({ make: 'Canon', model: 'Canon EOS 5D Mark III', dateTaken: '2016-07-02T07:34:02' });
    expect(r.metadata.iptc).toMatchObject({ dateCreated: '2016-07-02' });
    expect(r.metadata.xmp).toMatchObject({ rating: 2, creatorTool: expect.stringMatching(/Lightroom/) });
  } },
  'cmyk-icc.jpg': { kind: 'image', mediaType: 'image/jpeg', thumb: [500, 333], extract: (r) => {
    expect(r.metadata).toMatchObject({ colorSpace: 'cmyk', channels: 4, hasIccProfile: true });
  }, thumbCheck: async (t) => {
    const m = await sharp(t.derivatives[0].path).metadata();
    expect(m.space).toBe('srgb');
    expect(m.channels).toBe(3);
  } },
  'truncated.jpg': { kind: 'image', mediaType: 'image/jpeg', thumb: [1024, 836], extract: (r) => {
    expect(r.metadata).toMatchObject({ width: 2725, height: 2225 });
  }, thumbCheck: (t) => expect(t.note).toMatch(/truncated|damaged/i) },
  'png-rgba.png': { kind: 'image', mediaType: 'image/png', thumb: [1024, 768], extract: (r) => {
    expect(r.metadata).toMatchObject({ format: 'png', width: 2048, height: 1536, hasAlpha: true, channels: 4 });
  } },
  'png-16bit-rgb.png': { kind: 'image', mediaType: 'image/png', thumb: [32, 32], extract: (r) => {
    expect(r.metadata).toMatchObject({ width: 32, height: 32, bitDepth: 16 });
  } },
  'tiff-lzw-palette.tif': { kind: 'image', mediaType: 'image/tiff', thumb: [725, 489], extract: (r) => {
    expect(r.metadata).toMatchObject({ format: 'tiff', width: 725, height: 489 });
  } },
  'tiff-fax-g3.tif': { kind: 'image', mediaType: 'image/tiff', thumb: [777, 1024], extract: (r) => {
    expect(r.metadata).toMatchObject({ format: 'tiff', width: 2464, height: 3248, bitDepth: 1 });
  } },
  'webp-lossy.webp': { kind: 'image', mediaType: 'image/webp', thumb: [1024, 772], extract: (r) => {
    expect(r.metadata).toMatchObject({ format: 'webp', width: 1024, height: 772 });
  } },
  'animated.gif': { kind: 'image', mediaType: 'image/gif', thumb: [80, 80], extract: (r) => {
    expect(r.metadata).toMatchObject({ format: 'gif', pages: 30, width: 80, height: 80 });
  } },
  'pixel-bomb-65536x65536.png': { kind: 'image', mediaType: 'image/png', fails: 'IMAGE_TOO_LARGE' },
  'iphone-gps-rotated.heic': { kind: 'image', mediaType: 'image/heic', thumb: [768, 1024], extract: (r) => {
    expect(r.metadata).toMatchObject({ format: 'heif', width: 3024, height: 4032 });
    expect(r.metadata.exif).toMatchObject({ make: 'Apple', model: 'iPhone 7 Plus' });
    const gps = (r.metadata as Md).exif.gps as { lat: number; lon: number };
    expect(gps.lat).toBeCloseTo(42.7749, 3);
    expect(gps.lon).toBeCloseTo(-71.0769, 3);
  } },
  'bmp-24bit.bmp': { kind: 'image', mediaType: 'image/bmp', thumb: [200, 133], extract: (r) => {
    expect(r.metadata).toMatchObject({ format: 'bmp', width: 200, height: 133 });
  } },
  'png-named-as.jpg': { kind: 'image', mediaType: 'image/png', thumb: [200, 133], extract: (r) => {
    expect(r.metadata).toMatchObject({ format: 'png', width: 200, height: 133 });
  } },

  'testsrc-636x360-53s.mp4': { kind: 'video', mediaType: 'video/mp4', thumb: [636, 360], extract: (r) => {
    expect(r.metadata).toMatchObject({ videoCodec: 'h264', width: 636, height: 360, frameRate: 25, rotation: 0 });
    expect(r.metadata.durationSec).toBeCloseTo(53.76, 1);
    expect(r.metadata.audioTracks).toEqual([expect.objectContaining({ codec: 'aac' })]);
  } },
  'bbb-trailer-cover.webm': { kind: 'video', mediaType: 'video/webm', thumb: [640, 360], extract: (r) => {
    expect(r.metadata).toMatchObject({ videoCodec: 'vp8', width: 640, height: 360, title: 'Big Buck Bunny', hasCover: true });
    expect(r.metadata.durationSec).toBeCloseTo(7.14, 1);
    expect(r.metadata.audioTracks).toEqual([expect.objectContaining({ codec: 'vorbis', channels: 1 })]);
  } },

  'tagged-rating.mp3': { kind: 'audio', mediaType: 'audio/mpeg', thumb: [1024, 256], extract: (r) => {
    expect(r.metadata).toMatchObject({ codec: expect.stringMatching(/MPEG 1 Layer 3/), sampleRate: 44100, hasCover: false });
    expect(r.metadata.tags).toMatchObject({ title: 'Testcase', artist: 'Testcase', album: 'Testcase', year: 2023, rating: 5 });
    expect(r.metadata.durationSec).toBeGreaterThan(0.9);
    expect(r.metadata.durationSec).toBeLessThan(1.2);
  } },
  'galway-opus.opus': { kind: 'audio', mediaType: 'audio/ogg', thumb: [1024, 256], extract: (r) => {
    expect(r.metadata).toMatchObject({ codec: 'Opus', channels: 1 });
    expect(r.metadata.tags).toMatchObject({ title: 'Galway', artist: 'Kevin MacLeod' });
    expect(r.metadata.durationSec).toBeCloseTo(15.8, 0);
  } },
  'vorbis.ogg': { kind: 'audio', mediaType: 'audio/ogg', thumb: [1024, 256], extract: (r) => {
    expect(r.metadata).toMatchObject({ codec: expect.stringMatching(/Vorbis/), channels: 2, sampleRate: 44100 });
    expect(r.metadata.durationSec).toBeGreaterThan(0.5);
  } },

  'vi-an-le-26-2018.docx': { kind: 'office', mediaType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', thumb: null, extract: (r, path) => {
    expect(r.metadata).toMatchObject({ format: 'docx', pageCount: 6, author: 'NguyenTienHiep' });
    // Independent reading of the source: every paragraph's runs of document.xml, NFC, must appear as a line.
    const xml = strFromU8(unzipSync(readFileSync(path), { filter: (f) => f.name === 'word/document.xml' })['word/document.xml']);
    const paras = [...xml.matchAll(/<w:p[ >][\s\S]*?<\/w:p>/g)]
      .map((p) => [...p[0].matchAll(/<w:t(?: [^>]*)?>([^<]*)<\/w:t>/g)].map((t) => t[1]).join(''))
      .map((s) => s.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").normalize('NFC').trim())
      .filter(Boolean);
    expect(paras.length).toBeGreaterThan(10);
    const lines = new Set(text(r).split('\n').map((l) => l.trim()));
    for (const p of paras) expect(lines.has(p)).toBe(true);
    expect(text(r)).toContain('Án lệ số 26/2018/AL');
  } },
  'vi-thong-tu-10-2020.txt': { kind: 'text', mediaType: 'text/plain', thumb: null, extract: (r, path) => {
    expect(r.metadata).toMatchObject({ encoding: 'utf-8', bom: false });
    expect(r.pages.map((p) => p.text).join('')).toBe(readFileSync(path, 'utf8').normalize('NFC'));
  } },
};

describe.skipIf(!CORPUS)('corpus: extractors', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('kho-corpus-')));
  afterAll(async () => {
    await stopPdfHelpers();
    await cleanup?.();
  });

  it('the corpus directory exists and every listed file has an expectation', () => {
    expect(existsSync(join(CORPUS, 'MANIFEST.tsv'))).toBe(true);
    const files = readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')[0]);
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => !EXPECTED[f])).toEqual([]);
  });

  for (const [file, e] of Object.entries(EXPECTED)) {
    it(`${file}`, async () => {
      const path = join(CORPUS, file);
      expect(existsSync(path)).toBe(true);
      const ex = getExtractor(e.kind);
      const input = await inputFor(path, e.kind, e.mediaType, dir, { deadline: Date.now() + 50_000 });
      if (e.fails) {
        for (const job of [() => ex.extract(input), () => ex.thumbnail(input)]) {
          const err = await job().then(() => null, (x: unknown) => x);
          expect(err).toBeInstanceOf(PermanentExtractError);
          expect((err as PermanentExtractError).code).toBe(e.fails);
        }
        return;
      }
      const r = await ex.extract(input);
      expect(JSON.parse(JSON.stringify(r.metadata))).toEqual(r.metadata);
      for (const p of r.pages) expect(p.text).toBe(p.text.normalize('NFC'));
      await e.extract?.(r, path);
      const t = await ex.thumbnail(input);
      if (e.thumb === null) {
        expect(t.derivatives).toEqual([]);
      } else if (e.thumb) {
        const byName = Object.fromEntries(t.derivatives.map((d) => [d.name, d]));
        const big = await sharp(byName['thumb-1024.webp'].path).metadata();
        const small = await sharp(byName['thumb-256.webp'].path).metadata();
        expect(big.format).toBe('webp');
        expect([big.width, big.height]).toEqual(e.thumb);
        const scale = Math.min(1, 256 / Math.max(...e.thumb));
        expect(Math.max(small.width!, small.height!)).toBe(Math.round(Math.max(...e.thumb) * scale));
        // Orientation of the small one follows the big one.
        expect(Math.sign(small.width! - small.height!)).toBe(Math.sign(e.thumb[0] - e.thumb[1]));
      }
      await e.thumbCheck?.(t);
    });
  }
});
