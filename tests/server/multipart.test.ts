/**
 * The upload route's multipart reader (server/ingest/multipart.ts): every part comes back exactly,
 * however the body is cut into chunks (one byte at a time, cuts inside the delimiter, file bytes
 * that look like the start of a delimiter), and malformed or oversized bodies fail with their codes.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../server/errors.ts';
import { multipartBoundary, readMultipart, type MultipartLimits } from '../../server/ingest/multipart.ts';
import { cpuClock } from '../helpers/cpu.ts';
import { seededRandom } from '../helpers/fixtures.ts';

const LIMITS: MultipartLimits = { maxFileBytes: 1 << 20, maxFiles: 5, maxFieldBytes: 1000, maxFields: 20, maxParts: 30 };


function* chunksOf(body: Buffer, cuts: number[]) {
  let at = 0;
  for (const c of cuts) {
    if (c > at && c < body.length) {
      yield body.subarray(at, c);
      at = c;
    }
  }
  yield body.subarray(at);
}

async function* from(chunks: Iterable<Buffer>) {
  for (const c of chunks) yield c;
}

type Got = { type: 'field'; name: string; value: string } | { type: 'file'; name: string; filename: string; mimetype: string; data: Buffer };

async function parse(chunks: Iterable<Buffer>, boundary: string, limits: MultipartLimits = LIMITS): Promise<Got[]> {
  const out: Got[] = [];
  for await (const p of readMultipart(from(chunks)[Symbol.asyncIterator](), boundary, limits)) {
    if (p.type === 'field') out.push({ type: 'field', name: p.name, value: p.value });
    else {
      const bufs: Buffer[] = [];
      for await (const b of p.data) bufs.push(Buffer.from(b));
      out.push({ type: 'file', name: p.name, filename: p.filename, mimetype: p.mimetype, data: Buffer.concat(bufs) });
    }
  }
  return out;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AppError) return `${e.statusCode} ${e.code}`;
    throw e;
  }
  return 'no error';
}

function encode(boundary: string, parts: Got[], opts: { preamble?: string; epilogue?: string } = {}): Buffer {
  const out: Buffer[] = [Buffer.from(opts.preamble ?? '')];
  for (const p of parts) {
    if (p.type === 'field') out.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"\r\n\r\n${p.value}\r\n`));
    else {
      out.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\nContent-Type: ${p.mimetype}\r\n\r\n`));
      out.push(p.data, Buffer.from('\r\n'));
    }
  }
  out.push(Buffer.from(`--${boundary}--${opts.epilogue ?? '\r\n'}`));
  return Buffer.concat(out);
}

describe('multipart reader', () => {
  it('reads fields and files exactly, whatever the chunking (randomized)', async () => {
    const rand = seededRandom(20261126);
    const boundary = '----kho-test-7MA4YWxkTrZu0gW';
    const delimiterish = Buffer.from(`\r\n--${boundary}`);
    for (let round = 0; round < 150; round++) {
      const parts: Got[] = [];
      const nParts = 1 + Math.floor(rand() * 4);
      for (let i = 0; i < nParts; i++) {
        if (rand() < 0.4) {
          parts.push({ type: 'field', name: `trường_${i}`, value: `Tờ rơi tuyên truyền số ${i} — Đảng bộ tỉnh ${round}` });
          continue;
        }
        // File bytes salted with CR, LF and cut-off prefixes of the delimiter: the hard cases.
        const len = Math.floor(rand() * 3000);
        const data = Buffer.alloc(len);
        for (let j = 0; j < len; j++) data[j] = Math.floor(rand() * 256);
        for (let k = 0; k < 6 && len > delimiterish.length; k++) {
          const at = Math.floor(rand() * (len - delimiterish.length));
          delimiterish.copy(data, at, 0, 1 + Math.floor(rand() * (delimiterish.length - 1)));
        }
        if (len > 2 && rand() < 0.3) data.set([0x0d, 0x0a], len - 2); // ends like a line break
        parts.push({ type: 'file', name: 'file', filename: `bản đồ ${i}.pdf`, mimetype: 'application/pdf', data });
      }
      const body = encode(boundary, parts, { preamble: rand() < 0.3 ? 'preamble to ignore\r\n' : '', epilogue: rand() < 0.3 ? '\r\nepilogue' : '\r\n' });
      const style = round % 3;
      const cuts =
        style === 0
          ? Array.from({ length: body.length }, (_, i) => i) // one byte at a time
          : style === 1
            ? Array.from({ length: 1 + Math.floor(rand() * 12) }, () => Math.floor(rand() * body.length)).sort((a, b) => a - b)
            : Array.from({ length: Math.ceil(body.length / 64) }, (_, i) => i * 64 + Math.floor(rand() * 3)); // many short chunks
      expect(await parse(chunksOf(body, cuts), boundary)).toEqual(parts);
    }
  });

  it('decodes quoted names, escapes and RFC 8187 filename* (preferred), and defaults the file type', async () => {
    const b = 'XyZ';
    const body = Buffer.from(
      `--${b}\r\ncontent-disposition: form-data; name="ti\\"tle"\r\n\r\nSách \\"quý\\"\r\n` +
        `--${b}\r\nContent-Disposition: form-data; name=file; filename="fallback.pdf"; filename*=UTF-8''C%C3%B4ng%20v%C4%83n%20s%E1%BB%91%201.pdf\r\n\r\nabc\r\n` +
        `--${b}\r\nContent-Disposition: form-data; name="file"; filename="Bản đồ du lịch.jpg"\r\nContent-Type: image/jpeg\r\n\r\n\r\n` +
        `--${b}--`,
    );
    expect(await parse([body], b)).toEqual([
      { type: 'field', name: 'ti"tle', value: 'Sách \\"quý\\"' },
      { type: 'file', name: 'file', filename: 'Công văn số 1.pdf', mimetype: 'application/octet-stream', data: Buffer.from('abc') },
      { type: 'file', name: 'file', filename: 'Bản đồ du lịch.jpg', mimetype: 'image/jpeg', data: Buffer.alloc(0) },
    ]);
  });

  it('a part with only a filename* in an unknown charset is a file without a name, not a field', async () => {
    const b = 'XyZ';
    const body = Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="file"; filename*=koi8-r''%C1%C2.txt\r\n\r\nabc\r\n--${b}--`);
    expect(await parse([body], b)).toEqual([{ type: 'file', name: 'file', filename: '', mimetype: 'application/octet-stream', data: Buffer.from('abc') }]);
  });

  it('accepts transport padding after a boundary and skips parts that are not form-data', async () => {
    const b = 'pad';
    const body = Buffer.from(`--${b}  \t\r\nContent-Disposition: attachment; name="x"\r\n\r\nignored\r\n--${b}\r\nContent-Disposition: form-data; name="type"\r\n\r\nbook\r\n--${b}--\r\n`);
    expect(await parse([body], b)).toEqual([{ type: 'field', name: 'type', value: 'book' }]);
  });

  it('refuses endless transport padding after a boundary instead of reading it byte by byte', async () => {
    // 16 MiB of spaces after the first boundary: the old reader read all of it, one await per byte (~1 µs),
    // outside any limit. A guard against an unbounded read, not a speed figure.
    const b = 'pad';
    let pulled = 0;
    function* endless() {
      yield Buffer.from(`--${b}`);
      for (let i = 0; i < 256; i++) {
        pulled += 65_536;
        yield Buffer.alloc(65_536, 0x20);
      }
      yield Buffer.from(`\r\nContent-Disposition: form-data; name="title"\r\n\r\nCao Bằng\r\n--${b}--\r\n`);
    }
    const cpuMs = cpuClock();
    expect(await codeOf(parse(endless(), b))).toBe('400 BAD_MULTIPART');
    expect(pulled).toBeLessThanOrEqual(2 * 65_536);
    expect(cpuMs()).toBeLessThan(3000);
  });

  it('skips what a consumer leaves of a file part and goes on with the next part', async () => {
    const b = 'skip';
    const big = Buffer.alloc(200_000, 7);
    const body = encode(b, [
      { type: 'file', name: 'file', filename: 'a.bin', mimetype: 'application/octet-stream', data: big },
      { type: 'field', name: 'after', value: 'vẫn đọc được' },
    ]);
    const seen: string[] = [];
    for await (const p of readMultipart(from(chunksOf(body, [1000, 70_000, 140_000]))[Symbol.asyncIterator](), b, LIMITS)) {
      if (p.type === 'file') {
        for await (const _ of p.data) break; // read one chunk, then stop
        seen.push('file');
      } else seen.push(`${p.name}=${p.value}`);
    }
    expect(seen).toEqual(['file', 'after=vẫn đọc được']);
  });

  it('refuses bodies cut short, without boundaries, or with a broken line after a boundary', async () => {
    const b = 'cut';
    const whole = encode(b, [{ type: 'file', name: 'file', filename: 'a.pdf', mimetype: 'application/pdf', data: Buffer.alloc(5000, 1) }]);
    expect(await codeOf(parse([whole.subarray(0, whole.length - 30)], b))).toBe('400 UPLOAD_INCOMPLETE');
    expect(await codeOf(parse([whole.subarray(0, 40)], b))).toBe('400 UPLOAD_INCOMPLETE'); // inside the headers
    expect(await codeOf(parse([Buffer.alloc(0)], b))).toBe('400 UPLOAD_INCOMPLETE');
    expect(await codeOf(parse([Buffer.alloc(100_000, 0x61)], b))).toBe('400 BAD_MULTIPART');
    expect(await codeOf(parse([Buffer.from(`--${b}XX\r\n`)], b))).toBe('400 BAD_MULTIPART');
    expect(await codeOf(parse([Buffer.from(`--${b}\r\nno colon here\r\n\r\nx\r\n--${b}--`)], b))).toBe('400 BAD_MULTIPART');
  });

  it('applies every limit with a 413 and its code', async () => {
    const b = 'lim';
    const file = (n: number, size = 10): Got => ({ type: 'file', name: 'file', filename: `f${n}.pdf`, mimetype: 'application/pdf', data: Buffer.alloc(size, n) });
    const limits = { ...LIMITS, maxFileBytes: 100, maxFiles: 2, maxFieldBytes: 10, maxFields: 2, maxParts: 4 };
    expect(await codeOf(parse([encode(b, [file(1, 101)])], b, limits))).toBe('413 FILE_TOO_LARGE');
    expect(await parse([encode(b, [file(1, 100)])], b, limits)).toHaveLength(1); // exactly the limit is fine
    expect(await codeOf(parse([encode(b, [file(1), file(2), file(3)])], b, limits))).toBe('413 TOO_MANY_FILES');
    expect(await codeOf(parse([encode(b, [{ type: 'field', name: 'title', value: 'quá mười byte' }])], b, limits))).toBe('413 FIELD_TOO_LARGE');
    const field = (v: string): Got => ({ type: 'field', name: 'f', value: v });
    expect(await codeOf(parse([encode(b, [field('1'), field('2'), field('3')])], b, limits))).toBe('413 TOO_MANY_FIELDS');
    expect(await codeOf(parse([encode(b, [field('1'), field('2'), file(1), file(2), file(3)])], b, { ...limits, maxFiles: 9 }))).toBe('413 TOO_MANY_PARTS');
    const longHeader = Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${'n'.repeat(20_000)}"\r\n\r\nx\r\n--${b}--`);
    expect(await codeOf(parse([longHeader], b))).toBe('413 PART_HEADERS_TOO_LARGE');
    const longName = Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${'n'.repeat(150)}"\r\n\r\nx\r\n--${b}--`);
    let truncated = false;
    for await (const p of readMultipart(from([longName])[Symbol.asyncIterator](), b, LIMITS)) truncated = p.nameTruncated;
    expect(truncated).toBe(true);
  });

  it('takes the boundary from the Content-Type only for multipart/form-data', () => {
    expect(multipartBoundary('multipart/form-data; boundary=----abc')).toBe('----abc');
    expect(multipartBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b;c"')).toBe('a b;c');
    expect(multipartBoundary('multipart/form-data')).toBeNull();
    expect(multipartBoundary('multipart/mixed; boundary=x')).toBeNull();
    expect(multipartBoundary('application/json')).toBeNull();
    expect(multipartBoundary(undefined)).toBeNull();
    expect(multipartBoundary(`multipart/form-data; boundary=${'x'.repeat(71)}`)).toBeNull();
  });
});
