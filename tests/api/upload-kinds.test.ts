/**
 * Uploads whose kind is decided from inside the file: an ISO media file (MP4, M4A, 3GP, MOV) holding
 * only sound is audio, one with a picture track video; a text with a stray NUL byte is text, a binary
 * file still is not; a DOCX whose XML parts are UTF-16 is read.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { ffmpeg, tempDir } from '../helpers/fixtures.ts';

describe('kinds decided from inside the file', () => {
  let t: TestApp;
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 1 } });
    ({ dir, cleanup } = await tempDir('kho-kinds-'));
  });
  afterAll(async () => {
    await t.close();
    await cleanup();
  });

  const upload = async (title: string, type: string, files: Parameters<typeof multipartBody>[1]) => {
    const { body, headers } = multipartBody({ title, type }, files);
    return t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
  };
  const record = async (id: number) => (await t.app.inject({ url: `/api/products/${id}`, headers: auth() })).json();
  const texts = (sha256: string) => (t.app.db.sqlite.prepare('SELECT text FROM blob_texts WHERE sha256 = ? ORDER BY page').all(sha256) as Array<{ text: string }>).map((r) => r.text).join('\n');

  it('an MP4, an M4B and a 3GP holding only sound are audio: duration, tags, a waveform, no failed video job', async () => {
    const tone = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=16000:duration=3'];
    const tags = ['-metadata', 'title=Bản tin phát thanh xã Đàm Thuỷ', '-metadata', 'artist=Đài truyền thanh huyện Trùng Khánh'];
    const mp4 = join(dir, 'ghi-am.mp4');
    // A phone's AAC recording: brand isom/mp42, no video track.
    await ffmpeg([...tone, '-c:a', 'aac', '-b:a', '32k', ...tags, '-f', 'mp4', mp4]);
    const m4b = join(dir, 'sach-noi.m4b');
    await ffmpeg([...tone, '-c:a', 'aac', '-b:a', '32k', ...tags, '-f', 'ipod', m4b]);
    const gp = join(dir, 'loa-phuong.3gp');
    await ffmpeg([...tone, '-ar', '8000', '-ac', '1', '-c:a', 'aac', '-b:a', '12k', '-f', '3gp', gp]);
    const res = await upload('Bản tin phát thanh', 'audio', [
      { filename: 'ghi-am.mp4', contentType: 'video/mp4', data: await readFile(mp4) },
      { filename: 'sach-noi.m4b', data: await readFile(m4b) },
      { filename: 'loa-phuong.3gp', data: await readFile(gp) },
    ]);
    expect(res.statusCode).toBe(201);
    const rec = res.json();
    expect(rec.files.map((f: { mediaType: string; kind: string }) => [f.mediaType, f.kind])).toEqual([
      ['audio/mp4', 'audio'],
      ['audio/mp4', 'audio'],
      ['audio/3gpp', 'audio'],
    ]);
    await t.app.jobRunner.drain(60_000);
    const after = await record(rec.id);
    expect(after.processing).toBe('done');
    for (const f of after.files) {
      expect(f.derivatives.map((d: { kind: string; state: string }) => [d.kind, d.state])).toEqual([['extract', 'done'], ['thumbnail', 'done']]);
      expect(f.metadata.durationSec).toBeGreaterThan(2.5);
      expect(f.metadata.durationSec).toBeLessThan(3.5);
      expect(f.metadata.videoCodec).toBeUndefined();
    }
    expect(after.files[0].metadata.tags).toMatchObject({ title: 'Bản tin phát thanh xã Đàm Thuỷ', artist: 'Đài truyền thanh huyện Trùng Khánh' });
    expect(texts(after.files[0].sha256)).toContain('Đài truyền thanh huyện Trùng Khánh');
    // The waveform (1024×256), not a video frame.
    const thumb = await t.app.inject({ url: `/api/files/${after.files[0].sha256}/thumbnail?size=1024`, headers: auth() });
    expect(thumb.statusCode).toBe(200);
    // Downloaded under their own names: .mp4, .m4b and .3gp are audio extensions too.
    const dl = await t.app.inject({ url: `/api/files/${after.files[2].sha256}`, headers: auth() });
    expect(dl.headers['content-disposition']).toContain("filename*=UTF-8''loa-phuong.3gp");
    expect(dl.headers['content-type']).toBe('audio/3gpp');
  });

  it('a 3G2 (CDMA phones) is accepted as 3GP: video with a picture track, audio without', async () => {
    const v = join(dir, 'clip.3g2');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=176x144:rate=15:duration=2', '-c:v', 'mpeg4', '-f', '3g2', v]);
    const a = join(dir, 'ghi-am.3g2');
    await ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000:duration=2', '-c:a', 'aac', '-b:a', '12k', '-f', '3g2', a]);
    const res = await upload('Phóng sự điện thoại', 'video', [
      { filename: 'clip.3g2', data: await readFile(v) },
      { filename: 'ghi-am.3g2', data: await readFile(a) },
    ]);
    expect(res.statusCode).toBe(201);
    expect(res.json().files.map((f: { mediaType: string; kind: string }) => [f.mediaType, f.kind])).toEqual([
      ['video/3gpp', 'video'],
      ['audio/3gpp', 'audio'],
    ]);
  });

  it('a 3GP and an M4A-branded file with a picture track stay or become video', async () => {
    const gp = join(dir, 'clip.3gp');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=176x144:rate=15:duration=2', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000:duration=2', '-c:v', 'mpeg4', '-c:a', 'aac', '-ar', '8000', '-ac', '1', '-b:a', '12k', '-shortest', '-f', '3gp', gp]);
    const m4a = join(dir, 'clip.m4a');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=176x144:rate=15:duration=2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-brand', 'M4A ', '-f', 'mp4', m4a]);
    const res = await upload('Phóng sự ngắn', 'video', [
      { filename: 'clip.3gp', data: await readFile(gp) },
      { filename: 'clip.m4a', data: await readFile(m4a) },
    ]);
    expect(res.statusCode).toBe(201);
    expect(res.json().files.map((f: { mediaType: string; kind: string }) => [f.mediaType, f.kind])).toEqual([
      ['video/3gpp', 'video'],
      ['video/mp4', 'video'],
    ]);
  });

  it('a long Vietnamese UTF-8 text with a few stray NUL bytes is text, the NULs dropped; binary data with NULs is still refused', async () => {
    const line = 'Nghị quyết Đại hội Đảng bộ tỉnh Cao Bằng lần thứ XIX, nhiệm kỳ 2020–2025: phát triển kinh tế – xã hội.\n';
    const text = Buffer.from(line.repeat(200), 'utf8');
    // One NUL inside a line (between two words) early on, one at a line's end further down.
    const at = (n: number) => Buffer.byteLength(line, 'utf8') * n;
    const mid = at(3) + Buffer.byteLength('Nghị quyết', 'utf8');
    const withNul = Buffer.concat([text.subarray(0, mid), Buffer.from([0]), text.subarray(mid, at(100)), Buffer.from([0]), text.subarray(at(100))]);
    const res = await upload('Nghị quyết Đại hội', 'document', [{ filename: 'nghi-quyet.txt', data: withNul }]);
    expect(res.statusCode).toBe(201);
    const f = res.json().files[0];
    expect(f).toMatchObject({ mediaType: 'text/plain', kind: 'text' });
    await t.app.jobRunner.drain(60_000);
    const stored = texts(f.sha256);
    expect(stored).not.toContain('\u0000');
    expect(stored).toContain('Đảng bộ tỉnh Cao Bằng');
    expect(stored.length).toBe(text.toString('utf8').length);

    // A NUL in the first bytes (where a format keeps its header), a run of NULs, or NULs every few
    // hundred bytes: not text.
    const early = Buffer.concat([Buffer.from('KHO'), Buffer.from([0]), text]);
    const run = Buffer.concat([text.subarray(0, 3000), Buffer.from([0, 0]), text.subarray(3000)]);
    const many = Buffer.from(text);
    for (let i = 500; i < 8000; i += 500) many[i] = 0;
    for (const [name, data] of [['early.txt', early], ['run.txt', run], ['many.txt', many]] as const) {
      const r = await upload('Tệp nhị phân', 'other', [{ filename: name, data }]);
      expect(r.statusCode, name).toBe(415);
      expect(r.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });
});
