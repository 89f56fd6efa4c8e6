import CFB from 'cfb';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { isUtf16Text } from '../../server/ingest/sniff.ts';
import { sanitiseName } from '../../server/routes/products-upload.ts';
import { ffmpeg, makeDoc, makeOdp, makeOds, makePpt, makePptx, makeXls, makeXlsx, rtfEscape, tempDir, VI_SLIDES } from '../helpers/fixtures.ts';
import { makeJpeg, makePdf, makePng, randomBinary } from '../helpers/samples.ts';

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n++;
  return n;
}

describe('POST /api/products (upload)', () => {
  let t: TestApp;
  let pdf: Buffer;
  let png: Buffer;
  beforeAll(async () => {
    // No workers: these tests look at the store and the queue, not at extraction.
    t = await makeTestApp({ jobs: { workers: 0 }, upload: { maxFileBytes: 256 * 1024, maxFiles: 3 } });
    pdf = await makePdf(2, 'Dia ly - Lich su tinh Cao Bang');
    png = await makePng(80, 60);
  });
  afterAll(() => t.close());

  const upload = (fields: Record<string, string | string[]>, files: Parameters<typeof multipartBody>[1], headers: Record<string, string> = auth(), url = '/api/products') => {
    const { body, headers: h } = multipartBody(fields, files);
    return t.app.inject({ method: 'POST', url, payload: body, headers: { ...h, ...headers } });
  };

  it('stores several files, sniffs their types and queues one job per derivative', async () => {
    const res = await upload({ title: 'Địa lý - Lịch sử tỉnh Cao Bằng', type: 'book', year: '2023', language: 'vi', description: 'Sách dùng cho các trường phổ thông' }, [
      { filename: 'Địa lý – Lịch sử.pdf', contentType: 'application/pdf', data: pdf },
      { filename: 'bìa sách.png', contentType: 'image/png', data: png },
    ]);
    expect(res.statusCode).toBe(201);
    const rec = res.json();
    expect(res.headers.location).toBe(`/api/products/${rec.id}`);
    expect(rec.title).toBe('Địa lý - Lịch sử tỉnh Cao Bằng');
    expect(rec.type).toBe('book');
    expect(rec.year).toBe(2023);
    expect(rec.state).toBe('submitted');
    expect(rec.duplicates).toEqual([]);
    expect(rec.files).toHaveLength(2);
    expect(rec.files[0]).toMatchObject({ originalName: 'Địa lý – Lịch sử.pdf', mediaType: 'application/pdf', kind: 'pdf', size: pdf.length });
    expect(rec.files[1]).toMatchObject({ originalName: 'bìa sách.png', mediaType: 'image/png', kind: 'image', size: png.length });
    expect(rec.files[0].derivatives.map((d: { kind: string; state: string }) => [d.kind, d.state])).toEqual([
      ['extract', 'queued'],
      ['thumbnail', 'queued'],
    ]);
    const jobs = t.app.db.sqlite.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number };
    expect(jobs.n).toBe(4);
    const audit = t.app.db.sqlite.prepare(`SELECT action, actor FROM audit_log WHERE entity = 'product' AND entity_id = ?`).all(String(rec.id));
    expect(audit).toEqual([{ action: 'create', actor: 'admin-token' }]);

    const get = await t.app.inject({ url: `/api/products/${rec.id}`, headers: auth() });
    expect(get.statusCode).toBe(200);
    expect(get.json().files.map((f: { sha256: string }) => f.sha256)).toEqual(rec.files.map((f: { sha256: string }) => f.sha256));
  });

  it('stores the same bytes once and tells the second uploader which product has them', async () => {
    const jpeg = await makeJpeg(40, 40, 7);
    const first = await upload({ title: 'Tờ gấp du lịch văn minh', type: 'flyer' }, [{ filename: 'to-gap.jpg', data: jpeg }]);
    expect(first.statusCode).toBe(201);
    const blobsBefore = await countFiles(join(t.dataDir, 'blobs'));
    const second = await upload({ title: 'Tờ gấp du lịch văn minh (bản 2)', type: 'flyer' }, [{ filename: 'ban-sao.jpg', data: jpeg }]);
    expect(second.statusCode).toBe(201);
    const body = second.json();
    expect(body.duplicates).toEqual([
      {
        sha256: first.json().files[0].sha256,
        fileName: 'ban-sao.jpg',
        existingProducts: [{ id: first.json().id, title: 'Tờ gấp du lịch văn minh', url: `/api/products/${first.json().id}` }],
      },
    ]);
    expect(body.duplicateFlags).toEqual([expect.objectContaining({ kind: 'same_file', productId: first.json().id })]);
    expect(await countFiles(join(t.dataDir, 'blobs'))).toBe(blobsBefore);

    const rejected = await upload({ title: 'Lần 3', type: 'flyer' }, [{ filename: 'x.jpg', data: jpeg }], auth(), '/api/products?onDuplicate=reject');
    expect(rejected.statusCode).toBe(409);
    expect(rejected.json()).toMatchObject({ code: 'DUPLICATE_FILE', duplicates: [expect.objectContaining({ sha256: first.json().files[0].sha256 })] });
  });

  it('refuses an onDuplicate form field other than flag or reject (it was taken as flag), before reading the file', async () => {
    const res = await upload({ title: 'Lựa chọn sai', type: 'flyer', onDuplicate: 'tu-choi' }, [{ filename: 'a.txt', data: Buffer.from('Tờ rơi lựa chọn sai') }]);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'onDuplicate' });
    const ok = await upload({ title: 'Lựa chọn đúng', type: 'flyer', onDuplicate: 'reject' }, [{ filename: 'b.txt', data: Buffer.from('Tờ rơi lựa chọn đúng') }]);
    expect(ok.statusCode).toBe(201);
  });

  it('reads a product id in a path only as decimal digits (not 0x10, 1e3, " 16" or 16.0)', async () => {
    const made = await upload({ title: 'Số hiệu', type: 'flyer' }, [{ filename: 'so.txt', data: Buffer.from('Tờ rơi số hiệu 16') }]);
    expect(made.statusCode).toBe(201);
    const id = made.json().id as number;
    expect((await t.app.inject({ url: `/api/products/${id}`, headers: auth() })).statusCode).toBe(200);
    for (const raw of [`0x${id.toString(16)}`, `${id}e0`, `%20${id}`, `${id}.0`, `+${id}`]) {
      const res = await t.app.inject({ url: `/api/products/${raw}`, headers: auth() });
      expect(res.statusCode, raw).toBe(400);
      expect(res.json(), raw).toMatchObject({ code: 'VALIDATION_FAILED', field: 'id' });
    }
    expect((await t.app.inject({ method: 'POST', url: `/api/products/0x${id.toString(16)}/transitions`, headers: auth(), payload: { action: 'start_review' } })).statusCode).toBe(400);
  });

  it('sniffs the real type: a PNG named .jpg is a PNG', async () => {
    const res = await upload({ title: 'Ảnh đặt tên sai', type: 'photo' }, [{ filename: 'anh.jpg', contentType: 'image/jpeg', data: await makePng(10, 10, 3) }]);
    expect(res.statusCode).toBe(201);
    expect(res.json().files[0]).toMatchObject({ mediaType: 'image/png', originalName: 'anh.jpg' });
  });

  it.each([
    // file-type names these differently from the table (video/matroska, video/vnd.avi, audio/ogg; codecs=opus).
    ['Matroska', 'phim.mkv', ['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5:duration=1', '-c:v', 'mpeg4'], 'video/x-matroska', 'video'],
    ['AVI', 'phim.avi', ['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5:duration=1', '-c:v', 'mpeg4'], 'video/x-msvideo', 'video'],
    ['Ogg Opus', 'loa.opus', ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'libopus'], 'audio/ogg', 'audio'],
    // video/MP1S and video/MP2P for file-type.
    ['MPEG-1 system stream (VCD)', 'phim.mpg', ['-f', 'lavfi', '-i', 'testsrc=size=352x288:rate=25:duration=1', '-c:v', 'mpeg1video', '-f', 'mpeg'], 'video/mpeg', 'video'],
    ['MPEG-2 program stream (DVD)', 'phim.vob', ['-f', 'lavfi', '-i', 'testsrc=size=352x288:rate=25:duration=1', '-c:v', 'mpeg2video', '-f', 'vob'], 'video/mpeg', 'video'],
    // Windows Media (ASF: video/x-ms-asf, audio/x-ms-asf for file-type) and Flash video, common in older archives.
    ['Windows Media video', 'phong-su.wmv', ['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5:duration=1', '-f', 'lavfi', '-i', 'sine=duration=1', '-c:v', 'wmv2', '-c:a', 'wmav2'], 'video/x-ms-wmv', 'video'],
    ['Windows Media audio', 'dan-ca.wma', ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'wmav2'], 'audio/x-ms-wma', 'audio'],
    ['Flash video', 'clip.flv', ['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5:duration=1', '-c:v', 'flv'], 'video/x-flv', 'video'],
    // Matroska and WebM are filed by their tracks, as ISO media: sound without a picture is audio.
    ['WebM with only an Opus track', 'bai-hat.webm', ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'libopus'], 'audio/webm', 'audio'],
    ['Matroska with only a Vorbis track', 'ghi-am.mka', ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'libvorbis'], 'audio/x-matroska', 'audio'],
    ['WebM with a VP9 picture and no sound', 'hinh.webm', ['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5:duration=1', '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8'], 'video/webm', 'video'],
    ['Matroska with a picture, sound and subtitles', 'phim-phu-de.mkv', ['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5:duration=1', '-f', 'lavfi', '-i', 'sine=duration=1', '-f', 'lavfi', '-i', 'sine=duration=1', '-map', '0', '-map', '1', '-c:v', 'mpeg4', '-c:a', 'libvorbis'], 'video/x-matroska', 'video'],
  ])('accepts %s, a type of the table under another name', async (_label, filename, args, mediaType, kind) => {
    const { dir, cleanup } = await tempDir('kho-upload-');
    try {
      await ffmpeg([...args, join(dir, filename)]);
      const res = await upload({ title: `Tệp ${filename}`, type: kind }, [{ filename, data: await readFile(join(dir, filename)) }]);
      expect(res.statusCode).toBe(201);
      expect(res.json().files[0]).toMatchObject({ mediaType, kind });
    } finally {
      await cleanup();
    }
  });

  it.each([
    ['PPTX', 'bai-giang.pptx', 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
    ['PPSX', 'trinh-chieu.ppsx', 'application/vnd.openxmlformats-officedocument.presentationml.slideshow'],
    ['ODP', 'bai-giang.odp', 'application/vnd.oasis.opendocument.presentation'],
  ])('accepts a slide deck (%s) as an office file', async (label, filename, mediaType) => {
    const { dir, cleanup } = await tempDir('kho-upload-');
    try {
      const path = join(dir, filename);
      if (label === 'ODP') await makeOdp(path, VI_SLIDES);
      else await makePptx(path, VI_SLIDES, { slideshow: label === 'PPSX' });
      // Named .zip, sent as application/zip: the type still comes from the bytes.
      const res = await upload({ title: `Bài trình chiếu ${label}`, type: 'document' }, [{ filename: filename.replace(/\.\w+$/, '.zip'), contentType: 'application/zip', data: await readFile(path) }]);
      expect(res.statusCode).toBe(201);
      expect(res.json().files[0]).toMatchObject({ mediaType, kind: 'office' });
    } finally {
      await cleanup();
    }
  });

  it.each([
    ['XLSX', 'so-lieu.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    ['ODS', 'so-lieu.ods', 'application/vnd.oasis.opendocument.spreadsheet'],
  ])('accepts a spreadsheet (%s) as an office file', async (label, filename, mediaType) => {
    const { dir, cleanup } = await tempDir('kho-upload-');
    try {
      const path = join(dir, filename);
      if (label === 'ODS') await makeOds(path);
      else await makeXlsx(path);
      const res = await upload({ title: `Bảng số liệu ${label}`, type: 'document' }, [{ filename, data: await readFile(path) }]);
      expect(res.statusCode).toBe(201);
      expect(res.json().files[0]).toMatchObject({ mediaType, kind: 'office' });
    } finally {
      await cleanup();
    }
  });

  it('accepts an RTF document (rich text from Word) as an office file', async () => {
    const res = await upload({ title: 'Công văn RTF', type: 'document' }, [{ filename: 'cong-van.rtf', contentType: 'text/plain', data: Buffer.from(`{\\rtf1\\ansi\\ansicpg1252 ${rtfEscape('Công văn số 12 của Ban Tuyên giáo')}\\par}`) }]);
    expect(res.statusCode).toBe(201);
    expect(res.json().files[0]).toMatchObject({ mediaType: 'application/rtf', kind: 'office' });
  });

  it('accepts Word, PowerPoint and Excel 97–2003 files (compound files with a WordDocument, PowerPoint Document or Workbook stream) and still refuses another compound file', async () => {
    const doc = await upload({ title: 'Công văn cũ', type: 'document' }, [{ filename: 'cong-van.doc', data: makeDoc(['Công văn số 12 của Ban Tuyên giáo']) }]);
    expect(doc.statusCode).toBe(201);
    expect(doc.json().files[0]).toMatchObject({ mediaType: 'application/msword', kind: 'office' });
    const ppt = await upload({ title: 'Bài giảng cũ', type: 'document' }, [{ filename: 'bai-giang.ppt', data: makePpt(VI_SLIDES) }]);
    expect(ppt.statusCode).toBe(201);
    expect(ppt.json().files[0]).toMatchObject({ mediaType: 'application/vnd.ms-powerpoint', kind: 'office' });
    const xls = await upload({ title: 'Danh mục ấn phẩm', type: 'document' }, [{ filename: 'danh-muc.xls', data: makeXls([{ name: 'Ấn phẩm', rows: [['Tờ gấp Pác Bó', 5000]] }]) }]);
    expect(xls.statusCode).toBe(201);
    expect(xls.json().files[0]).toMatchObject({ mediaType: 'application/vnd.ms-excel', kind: 'office' });
    const cfb = CFB.utils.cfb_new();
    CFB.utils.cfb_add(cfb, '/Contents', Buffer.alloc(5000, 7));
    const other = await upload({ title: 'Bản vẽ', type: 'document' }, [{ filename: 'ban-ve.ppt', data: Buffer.from(CFB.write(cfb, { type: 'buffer' }) as Uint8Array) }]);
    expect(other.statusCode).toBe(415);
    expect(other.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a password-protected DOCX/XLSX/PPTX (a compound file with EncryptionInfo and EncryptedPackage) with 415 ENCRYPTED_FILE that says so, and keeps nothing', async () => {
    // What Office writes when "Encrypt with password" is set: the real package is encrypted inside.
    const cfb = CFB.utils.cfb_new();
    CFB.utils.cfb_add(cfb, '/EncryptionInfo', Buffer.concat([Buffer.from([4, 0, 4, 0, 0x40, 0, 0, 0]), Buffer.from('<?xml version="1.0"?><encryption/>')]));
    CFB.utils.cfb_add(cfb, '/EncryptedPackage', randomBinary(8192, 11));
    const data = Buffer.from(CFB.write(cfb, { type: 'buffer' }) as Uint8Array);
    const before = (t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;
    const res = await upload({ title: 'Báo cáo có mật khẩu', type: 'document' }, [{ filename: 'bao-cao-mat-khau.xlsx', data }]);
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ code: 'ENCRYPTED_FILE', detected: 'application/x-ooxml-encrypted', fileName: 'bao-cao-mat-khau.xlsx' });
    expect(res.json().message).toMatch(/password-protected/);
    expect((t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n).toBe(before);
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
  });

  it('accepts a TIFF whose first IFD lies past the sniffed head (after the image data)', async () => {
    const tiff = await sharp(randomBytes(200 * 200 * 3), { raw: { width: 200, height: 200, channels: 3 } }).tiff({ compression: 'none' }).toBuffer();
    expect(tiff.readUInt32LE(4)).toBeGreaterThan(64 * 1024);
    const res = await upload({ title: 'Bản quét TIFF', type: 'document' }, [{ filename: 'ban-quet.tif', data: tiff }]);
    expect(res.statusCode).toBe(201);
    expect(res.json().files[0]).toMatchObject({ mediaType: 'image/tiff', kind: 'image' });
  });

  it('accepts plain Vietnamese text as text/plain', async () => {
    const res = await upload({ title: 'Văn bản', type: 'document' }, [{ filename: 'van-ban.txt', data: Buffer.from('Đổi mới công tác tuyên truyền, giáo dục truyền thống\n'.repeat(50)) }]);
    expect(res.statusCode).toBe(201);
    expect(res.json().files[0].mediaType).toBe('text/plain');
  });

  it('takes a text that starts like a BMP or an ID3 tag for text, and still knows real BMP and MP3 files', async () => {
    for (const start of ['BM-01: Biểu mẫu báo cáo kết quả thực hiện Kế hoạch 199-KH/TU', 'ID3 là mã số của tài liệu']) {
      const res = await upload({ title: 'Biểu mẫu', type: 'document' }, [{ filename: 'bieu-mau.txt', data: Buffer.from(`${start}\nCao Bằng, ngày 30 tháng 3 năm 2023\n`) }]);
      expect(res.statusCode).toBe(201);
      expect(res.json().files[0].mediaType).toBe('text/plain');
    }
    // A 2×2 24-bit BMP: BITMAPFILEHEADER + BITMAPINFOHEADER + two padded rows.
    const bmp = Buffer.alloc(54 + 16);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(bmp.length, 2);
    bmp.writeUInt32LE(54, 10);
    bmp.writeUInt32LE(40, 14);
    bmp.writeInt32LE(2, 18);
    bmp.writeInt32LE(2, 22);
    bmp.writeUInt16LE(1, 26);
    bmp.writeUInt16LE(24, 28);
    bmp.fill(0xc8, 54);
    const { dir, cleanup } = await tempDir('kho-upload-');
    try {
      await ffmpeg(['-f', 'lavfi', '-i', 'anullsrc=r=44100:cl=mono', '-t', '1', '-c:a', 'libmp3lame', '-write_id3v2', '0', '-write_xing', '0', join(dir, 'im-lang.mp3')]);
      const res = await upload({ title: 'Ảnh và âm thanh', type: 'other' }, [
        { filename: 'anh.bmp', data: bmp },
        { filename: 'im-lang.mp3', data: await readFile(join(dir, 'im-lang.mp3')) },
      ]);
      expect(res.statusCode).toBe(201);
      expect(res.json().files.map((f: { mediaType: string }) => f.mediaType)).toEqual(['image/bmp', 'audio/mpeg']);
    } finally {
      await cleanup();
    }
  });

  it.each([
    ['UTF-16LE', 'utf16le', 1],
    ['UTF-16LE, longer than the sniffed head', 'utf16le', 800],
    ['UTF-16BE', 'utf16be', 1],
  ])('accepts %s text with a byte order mark as text/plain (FF FE is not an MPEG frame)', async (_label, enc, times) => {
    const text = 'Đổi mới công tác tuyên truyền, giáo dục truyền thống tỉnh Cao Bằng\r\n'.repeat(times);
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const data = enc === 'utf16le' ? le : Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
    const res = await upload({ title: 'Văn bản Unicode', type: 'document' }, [{ filename: 'van-ban.txt', data }]);
    expect(res.statusCode).toBe(201);
    expect(res.json().files[0]).toMatchObject({ mediaType: 'text/plain', kind: 'text' });
    // Bytes after a BOM that do not read as UTF-16 text are not taken for text.
    expect(isUtf16Text(Buffer.concat([Buffer.from([0xff, 0xfe]), randomBinary(4096, 5)]))).toBe(false);
  });

  it.each([
    ['UTF-16LE', 'utf16le', 1],
    ['UTF-16LE, longer than the sniffed head', 'utf16le', 800],
    ['UTF-16BE', 'utf16be', 1],
  ])('accepts %s text without a byte order mark as text/plain', async (_label, enc, times) => {
    const text = 'Đổi mới công tác tuyên truyền, giáo dục truyền thống tỉnh Cao Bằng\r\n'.repeat(times);
    const le = Buffer.from(text, 'utf16le');
    const data = enc === 'utf16le' ? le : Buffer.from(le).swap16();
    const res = await upload({ title: 'Văn bản Unicode không BOM', type: 'document' }, [{ filename: 'van-ban-khong-bom.txt', data }]);
    expect(res.statusCode).toBe(201);
    expect(res.json().files[0]).toMatchObject({ mediaType: 'text/plain', kind: 'text' });
  });

  it('still refuses binary data full of NUL bytes that only looks like 16-bit units (quiet PCM samples, zeros)', async () => {
    // Little-endian 16-bit samples near zero: high bytes 00 or FF, low bytes anything (control characters).
    const pcm = Buffer.alloc(8192);
    const r = randomBinary(4096, 9);
    for (let i = 0; i < 4096; i++) pcm.writeInt16LE((r[i] % 64) - 32, i * 2);
    for (const [name, data] of [['mau.txt', pcm], ['rong.txt', Buffer.alloc(4096)]] as const) {
      const res = await upload({ title: 'Không phải chữ', type: 'other' }, [{ filename: name, data }]);
      expect(res.statusCode, name).toBe(415);
      expect(res.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it.each([
    ['unknown binary', randomBinary(5000), 'blob.pdf'],
    ['HTML', Buffer.from('<!DOCTYPE html><html><script>alert(1)</script></html>'), 'trang.html'],
    ['SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), 'hinh.svg'],
    ['ZIP archive', Buffer.from('504b0506000000000000000000000000000000000000', 'hex'), 'kho.zip'],
    ['SVG after a comment', Buffer.from('<!-- bản đồ hành chính -->\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="9" height="9"/></svg>'), 'ban-do.svg'],
    ['SVG after a DOCTYPE', Buffer.from('<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), 'ban-do2.svg'],
    ['HTML after a comment', Buffer.from('\uFEFF<!-- saved from url=(0014)about:internet -->\n<html><body onload="alert(1)">Trang</body></html>'), 'trang.htm'],
    ['a prefixed SVG', Buffer.from('<!-- x --><svg:svg xmlns:svg="http://www.w3.org/2000/svg"><svg:script>alert(1)</svg:script></svg:svg>'), 'hinh2.txt'],
  ])('refuses %s with 415 and keeps nothing', async (_label, data, filename) => {
    const before = (t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;
    const res = await upload({ title: 'Không hỗ trợ', type: 'other' }, [{ filename, data }]);
    expect(res.statusCode).toBe(415);
    expect(res.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect((t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n).toBe(before);
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
  });

  it('a text that mentions markup after its first line, or starts with a comment-like line, is still text', async () => {
    const res = await upload({ title: 'Ghi chú kỹ thuật', type: 'document' }, [
      { filename: 'ghi-chu.txt', data: Buffer.from('Hướng dẫn: chèn bản đồ bằng thẻ <svg> vào trang.\n<svg> là ảnh vector.\n') },
      { filename: 'mau.txt', data: Buffer.from('<!-- mẫu biểu -->\nBiểu mẫu số 01: Danh mục sản phẩm tuyên truyền.\n') },
    ]);
    expect(res.statusCode).toBe(201);
    expect(res.json().files.map((f: { mediaType: string }) => f.mediaType)).toEqual(['text/plain', 'text/plain']);
  });

  it('refuses a file over the size limit with 413 (multipart would truncate silently)', async () => {
    const big = Buffer.concat([await makePdf(1), randomBinary(300 * 1024)]);
    const res = await upload({ title: 'Quá lớn', type: 'book' }, [{ filename: 'lon.pdf', data: big }]);
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'FILE_TOO_LARGE', limitBytes: 256 * 1024 });
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
  });

  it('refuses too many files with 413', async () => {
    const files = await Promise.all([1, 2, 3, 4].map(async (i) => ({ filename: `anh-${i}.png`, data: await makePng(8, 8, 100 + i) })));
    const res = await upload({ title: 'Nhiều tệp', type: 'photo' }, files);
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('TOO_MANY_FILES');
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
  });

  it('refuses a zero-byte file', async () => {
    const res = await upload({ title: 'Rỗng', type: 'document' }, [{ filename: 'empty.pdf', data: Buffer.alloc(0) }]);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('EMPTY_FILE');
  });

  it('refuses an upload without files', async () => {
    const res = await upload({ title: 'Không có tệp', type: 'book' }, []);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'NO_FILES', field: 'file' });
  });

  it.each([
    [{ type: 'book' }, 'title'],
    [{ title: '   ', type: 'book' }, 'title'],
    [{ title: 'Sách' }, 'type'],
    [{ title: 'Sách', type: 'novel' }, 'type'],
    [{ title: 'Sách', type: 'book', year: '20x3' }, 'year'],
    [{ title: 'Sách', type: 'book', agency: 'khong-ton-tai' }, 'agency'],
  ])('names the bad field %j → %s', async (fields, field) => {
    const res = await upload(fields as Record<string, string>, [{ filename: 'a.pdf', data: pdf }]);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', field });
  });

  it('needs a valid token', async () => {
    const none = await upload({ title: 'x', type: 'book' }, [{ filename: 'a.pdf', data: pdf }], {});
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('UNAUTHORIZED');
    const bad = await upload({ title: 'x', type: 'book' }, [{ filename: 'a.pdf', data: pdf }], { authorization: 'Bearer not-the-token-at-all' });
    expect(bad.statusCode).toBe(401);
    expect(bad.json().code).toBe('INVALID_TOKEN');
  });

  it('keeps a long file name whole up to 255 characters, then cuts it on a character boundary and keeps the extension', async () => {
    const name = `${'a'.repeat(254)}😀😀 Bản đồ.pdf`;
    const res = await upload({ title: 'Tên tệp dài', type: 'map' }, [{ filename: name, data: await makePdf(1, 'Ban do') }]);
    expect(res.statusCode).toBe(201);
    const stored: string = res.json().files[0].originalName;
    expect(stored).toBe(`${'a'.repeat(251)}.pdf`);
    expect(sanitiseName(`${'đ'.repeat(300)}.wav`)).toBe(`${'đ'.repeat(251)}.wav`);
    expect(sanitiseName(`${'x'.repeat(253)}😀.wav`)).toBe(`${'x'.repeat(251)}.wav`);
    expect(sanitiseName(`${'x'.repeat(250)}😀😀😀😀😀😀.${'e'.repeat(20)}`)).toBe(`${'x'.repeat(250)}😀😀😀😀😀`);
    expect(sanitiseName('Bản đồ.pdf')).toBe('Bản đồ.pdf');
    // Bidirectional overrides would show "\u202egnp.exe" as "exe.png".
    expect(sanitiseName('\u202egnp.exe')).toBe('gnp.exe');
    expect(sanitiseName('../..\\x/\r\n')).toBe('file');
  });

  it('refuses a field sent after a file instead of dropping it, and keeps nothing', async () => {
    const before = (t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;
    const boundary = 'kho-late-field';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nSách\r\n--${boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\nbook\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n`),
      pdf,
      Buffer.from(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\nMô tả gửi sau tệp\r\n--${boundary}--\r\n`),
    ]);
    const res = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...auth(), 'content-type': `multipart/form-data; boundary=${boundary}` } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'FIELD_AFTER_FILE', field: 'description' });
    expect((t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n).toBe(before);
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
  });

  /** A multipart body written part by part: the Content-Disposition parameters exactly as given (no filename*). */
  const rawUpload = (parts: Array<[disposition: string, content: string | Buffer]>, url = '/api/products') => {
    const boundary = 'kho-raw-form';
    const chunks: Buffer[] = [];
    for (const [disposition, content] of parts) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; ${disposition}\r\n\r\n`), Buffer.from(content), Buffer.from('\r\n'));
    }
    chunks.push(Buffer.from(`--${boundary}--\r\n`));
    return t.app.inject({ method: 'POST', url, payload: Buffer.concat(chunks), headers: { ...auth(), 'content-type': `multipart/form-data; boundary=${boundary}` } });
  };
  const productCount = () => (t.app.db.sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;

  it('names a required field sent after a file FIELD_AFTER_FILE (not a missing field), and keeps nothing', async () => {
    const before = productCount();
    for (const [late, value] of [['title', 'Sau'], ['type', 'document']]) {
      const early = late === 'title' ? ['type', 'document'] : ['title', 'Công văn gửi sau tệp'];
      const res = await rawUpload([
        [`name="${early[0]}"`, early[1]],
        ['name="file"; filename="cong-van.txt"', 'Công văn số 12 của Ban Tuyên giáo Tỉnh uỷ'],
        [`name="${late}"`, value],
      ]);
      expect(res.statusCode, late).toBe(400);
      expect(res.json(), late).toMatchObject({ code: 'FIELD_AFTER_FILE', field: late });
    }
    // A known list field after a file, with the required ones missing too.
    const list = await rawUpload([['name="file"; filename="cong-van.txt"', 'Công văn số 12'], ['name="subject"', 'lịch sử']]);
    expect(list.json()).toMatchObject({ code: 'FIELD_AFTER_FILE', field: 'subject' });
    // With nothing after the file, a missing title is still named as missing.
    const missing = await rawUpload([['name="type"', 'document'], ['name="file"; filename="cong-van.txt"', 'Công văn số 12']]);
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'title', message: 'title is required' });
    expect(productCount()).toBe(before);
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
  });

  it('refuses an unknown form field and a single-valued field sent twice, naming the field, and keeps nothing', async () => {
    const before = productCount();
    const unknown = await upload({ title: 'Tờ rơi', type: 'leaflet', foo: 'bar' }, [{ filename: 'to-roi.txt', data: Buffer.from('Tờ rơi trường lạ') }]);
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'foo' });
    expect(unknown.json().message).toContain('"foo"');
    // With the record's own problems, all listed at once.
    const many = await upload({ title: 'Tờ rơi', type: 'sach', year: '20x3', zzz: '1' }, [{ filename: 'to-roi.txt', data: Buffer.from('Tờ rơi nhiều lỗi') }]);
    expect(many.statusCode).toBe(400);
    expect(many.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'zzz' });
    expect(many.json().errors.map((e: { field: string }) => e.field)).toEqual(['zzz', 'type', 'year']);
    for (const name of ['title', 'type', 'year', 'onDuplicate']) {
      const twice = { title: 'Tờ rơi', type: 'leaflet', year: '2023', onDuplicate: 'flag', [name]: { title: ['Tờ rơi X', 'Tờ rơi Y'], type: ['leaflet', 'flyer'], year: ['2022', '2023'], onDuplicate: ['flag', 'flag'] }[name]! };
      const res = await upload(twice, [{ filename: 'to-roi.txt', data: Buffer.from('Tờ rơi gửi hai lần') }]);
      expect(res.statusCode, name).toBe(400);
      expect(res.json(), name).toMatchObject({ code: 'VALIDATION_FAILED', field: name });
    }
    expect(productCount()).toBe(before);
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);
    // List fields stay repeatable under either name, and the page token of a web form is not a record field.
    const ok = await upload(
      { title: 'Tờ rơi nhiều chủ đề', type: 'leaflet', language: ['vi', 'tay'], subject: ['lịch sử', 'du lịch'], subjects: 'Cao Bằng', _csrf: 'x' },
      [{ filename: 'to-roi.txt', data: Buffer.from('Tờ rơi nhiều chủ đề') }],
    );
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json()).toMatchObject({ languages: ['vi', 'tay'], subjects: ['lịch sử', 'du lịch', 'Cao Bằng'] });
  });

  it('keeps the last segment of a Windows path and decodes only %22, %0D and %0A in a file name', async () => {
    const res = await rawUpload([
      ['name="title"', 'Bản đồ du lịch Cao Bằng'],
      ['name="type"', 'map'],
      ['name="file"; filename="C:\\Users\\Nguyen\\Tài liệu\\bản đồ.txt"', 'Bản đồ du lịch tỉnh Cao Bằng, bản in năm 2023'],
      ['name="file"; filename="Báo cáo %22Non nước Cao Bằng%22%0D%0Anăm 2023 %41.txt"', 'Báo cáo kết quả thực hiện Kế hoạch 199-KH/TU'],
      ['name="file"; filename="\\\\may-chu\\chung\\to-gap.txt"', 'Tờ gấp giới thiệu Thác Bản Giốc'],
    ]);
    expect(res.statusCode, res.body).toBe(201);
    const names = res.json().files.map((f: { originalName: string }) => f.originalName);
    expect(names).toEqual(['bản đồ.txt', 'Báo cáo "Non nước Cao Bằng" năm 2023 %41.txt', 'to-gap.txt']);
    const download = await t.app.inject({ url: res.json().files[1].url, headers: auth() });
    expect(download.headers['content-disposition']).toContain(`filename*=UTF-8''${encodeURIComponent('Báo cáo "Non nước Cao Bằng" năm 2023 %41.txt')}`);
    expect(download.headers['content-disposition']).not.toContain('%2522');
  });

  it('a file name and a field sent in the Vietnamese Windows code page (not UTF-8, as an old client sends them) keep their letters', async () => {
    // "Tôi Đà Nẵng.txt" in Windows-1258 (ẵ is ă + a combining tilde byte), sent as raw bytes.
    const name = Buffer.concat([Buffer.from('T'), Buffer.from([0xf4]), Buffer.from('i '), Buffer.from([0xd0, 0xe0]), Buffer.from(' N'), Buffer.from([0xe3, 0xde]), Buffer.from('ng.txt')]);
    const boundary = 'kho-raw-1258';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nTên tệp cũ\r\n--${boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\ndocument\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="`), name, Buffer.from('"\r\n\r\n'),
      Buffer.from('Công văn gửi từ máy cũ\r\n'), Buffer.from(`--${boundary}--\r\n`),
    ]);
    const res = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...auth(), 'content-type': `multipart/form-data; boundary=${boundary}` } });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().files[0].originalName).toBe('Tôi Đà Nẵng.txt');

    // A field value from the same client: "Tờ rơi" (ờ is ơ + a combining grave byte in Windows-1258).
    const title = Buffer.concat([Buffer.from('T'), Buffer.from([0xf5, 0xcc]), Buffer.from(' r'), Buffer.from([0xf5]), Buffer.from('i Cao B'), Buffer.from([0xe3, 0xcc]), Buffer.from('ng')]);
    const body2 = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n`), title, Buffer.from(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\nleaflet\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="to-roi.txt"\r\n\r\n`),
      Buffer.from('Tờ rơi gửi từ máy cũ\r\n'), Buffer.from(`--${boundary}--\r\n`),
    ]);
    const res2 = await t.app.inject({ method: 'POST', url: '/api/products', payload: body2, headers: { ...auth(), 'content-type': `multipart/form-data; boundary=${boundary}` } });
    expect(res2.statusCode, res2.body).toBe(201);
    expect(res2.json().title).toBe('Tờ rơi Cao Bằng');
  });

  it('stores the same bytes sent twice in one upload once, under the first name, and says so', async () => {
    const data = Buffer.from('Nghị quyết về công tác tuyên truyền, giáo dục truyền thống năm 2023');
    const res = await upload({ title: 'Nghị quyết gửi hai lần', type: 'document' }, [
      { filename: 'nghị quyết.txt', data },
      { filename: 'bìa.png', data: await makePng(12, 12, 41) },
      { filename: 'nghị quyết (bản sao).txt', data },
    ]);
    expect(res.statusCode, res.body).toBe(201);
    const rec = res.json();
    expect(rec.files.map((f: { originalName: string }) => f.originalName)).toEqual(['nghị quyết.txt', 'bìa.png']);
    expect(rec.mergedFiles).toEqual([{ sha256: rec.files[0].sha256, fileName: 'nghị quyết (bản sao).txt', mergedInto: 'nghị quyết.txt' }]);
    expect(rec.duplicates).toEqual([]);
    expect(t.app.db.sqlite.prepare('SELECT count(*) AS n FROM product_files WHERE product_id = ?').get(rec.id)).toEqual({ n: 2 });
    expect(await readdir(join(t.dataDir, 'tmp'))).toEqual([]);

    // Again, twice, into a new record: the earlier record is named once per file and flagged once.
    const again = await upload({ title: 'Bản khác của nghị quyết', type: 'document' }, [
      { filename: 'a.txt', data },
      { filename: 'a.txt', data },
      { filename: 'b.png', data: await makePng(12, 12, 41) },
    ]);
    expect(again.statusCode, again.body).toBe(201);
    const body = again.json();
    expect(body.files).toHaveLength(2);
    expect(body.mergedFiles).toEqual([{ sha256: rec.files[0].sha256, fileName: 'a.txt', mergedInto: 'a.txt' }]);
    expect(body.duplicates.map((d: { fileName: string }) => d.fileName)).toEqual(['a.txt', 'b.png']);
    expect(body.duplicateFlags).toEqual([expect.objectContaining({ kind: 'same_file', productId: rec.id })]);
    const plain = await upload({ title: 'Tờ rơi một tệp', type: 'leaflet' }, [{ filename: 'mot.txt', data: Buffer.from('Tờ rơi chỉ có một tệp') }]);
    expect(plain.json().mergedFiles).toEqual([]);
  });

  it('drops flags naming a deleted record from the records that held them', async () => {
    const data = Buffer.from('Tài liệu lịch sử Đảng bộ tỉnh Cao Bằng, bản dùng để thử xoá');
    const first = (await upload({ title: 'Lịch sử Đảng bộ tỉnh Cao Bằng', type: 'book' }, [{ filename: 'ls.txt', data }])).json();
    const second = (await upload({ title: 'Lịch sử Đảng bộ tỉnh Cao Bằng (tái bản)', type: 'book' }, [{ filename: 'ls-2.txt', data }])).json();
    const third = (await upload({ title: 'Lịch sử Đảng bộ tỉnh Cao Bằng tập 2', type: 'book' }, [{ filename: 'ls-3.txt', data: Buffer.from('Tập 2, bản dùng để thử xoá') }])).json();
    expect(second.duplicateFlags.map((f: { productId: number }) => f.productId)).toContain(first.id);
    expect(third.duplicateFlags.map((f: { productId: number }) => f.productId)).toEqual(expect.arrayContaining([first.id, second.id]));
    expect((await t.app.inject({ method: 'DELETE', url: `/api/products/${first.id}`, headers: auth() })).statusCode).toBe(204);
    const after = (await t.app.inject({ url: `/api/products/${third.id}`, headers: auth() })).json();
    // (Records of the earlier tests may be flagged too, for a similar title.)
    const others = third.duplicateFlags.length - 2;
    expect(after.duplicateFlags.map((f: { productId: number }) => f.productId)).toContain(second.id);
    expect(after.duplicateFlags.map((f: { productId: number }) => f.productId)).not.toContain(first.id);
    expect(after.duplicateFlags).toHaveLength(others + 1);
    expect(after.version).toBe(third.version);
    const secondAfter = (await t.app.inject({ url: `/api/products/${second.id}`, headers: auth() })).json();
    expect(secondAfter.duplicateFlags.map((f: { productId: number }) => f.productId)).not.toContain(first.id);
    const list = (await t.app.inject({ url: '/api/products?flagged=true&pageSize=100', headers: auth() })).json();
    expect(list.items.find((i: { id: number }) => i.id === third.id)?.duplicateFlagCount).toBe(others + 1);
  });

  it('refuses every non-multipart request with the same 415 NOT_MULTIPART (with no content type, octet-stream, JSON, a form)', async () => {
    for (const [type, payload] of [['application/json', '{"title":"Tờ rơi"}'], ['application/octet-stream', 'Tờ rơi'], [undefined, 'Tờ rơi'], ['application/x-www-form-urlencoded', 'title=T%E1%BB%9D']] as const) {
      const res = await t.app.inject({ method: 'POST', url: '/api/products', headers: { ...auth(), ...(type ? { 'content-type': type } : {}) }, payload });
      expect(res.statusCode, type).toBe(415);
      expect(res.json().code, type).toBe('NOT_MULTIPART');
    }
    // Other routes keep their own parsers.
    const json = await t.app.inject({ method: 'POST', url: '/api/products/1/transitions', headers: { ...auth(), 'content-type': 'application/octet-stream' }, payload: 'x' });
    expect(json.statusCode).toBe(415);
  });
});
