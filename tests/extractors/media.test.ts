import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import iconv from 'iconv-lite';
import { getExtractor } from '../../server/ingest/extractors/index.ts';
import { repairLegacyTag } from '../../server/ingest/extractors/audio.ts';
import { audioPeaks, defaultFfprobePath } from '../../server/ingest/adapters/ffmpeg.ts';
import { PermanentExtractError } from '../../server/ingest/extractors/types.ts';
import { sniffStoredFile } from '../../server/ingest/sniff.ts';
import { asVniTyped, ffmpeg, inputFor, makeAudio, makeVideo, tempDir, toCp1258Form, failure } from '../helpers/fixtures.ts';
import { cpuClock } from '../helpers/cpu.ts';

const video = getExtractor('video');
const audio = getExtractor('audio');
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

const thumb = (d: { name: string; path: string }[], size: number) => d.find((x) => x.name === `thumb-${size}.webp`)!.path;

describe('video extractor', () => {
  it('a clip with a title, a comment and a named audio track has them as its text; one without has none', async () => {
    const path = join(dir, 'titled.mkv');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=duration=1:size=160x120:rate=10', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1',
      '-c:v', 'libx264', '-c:a', 'aac', '-metadata', 'title=Lễ hội Lồng tồng Trùng Khánh', '-metadata', 'comment=Phóng sự của Đài PT-TH Cao Bằng',
      '-metadata:s:v:0', 'title=Bản phát sóng', '-metadata:s:a:0', 'title=Tiếng Tày', path]);
    const { pages } = await video.extract(await inputFor(path, 'video', 'video/x-matroska', dir));
    expect(pages).toEqual([{ page: 1, text: 'Lễ hội Lồng tồng Trùng Khánh\nPhóng sự của Đài PT-TH Cao Bằng\nBản phát sóng\nTiếng Tày' }]);
    const plain = join(dir, 'untitled.mp4');
    await makeVideo(plain, { seconds: 1, width: 160, height: 120 });
    expect((await video.extract(await inputFor(plain, 'video', 'video/mp4', dir))).pages).toEqual([]);
  });

  it('reads duration, codecs, size, frame rate and audio tracks; thumbnail is a frame', async () => {
    const path = join(dir, 'plain.mp4');
    await makeVideo(path, { seconds: 4, width: 320, height: 240 });
    const inp = await inputFor(path, 'video', 'video/mp4', dir);
    const { metadata } = await video.extract(inp);
    expect(metadata).toMatchObject({ videoCodec: 'h264', width: 320, height: 240, rotation: 0, frameRate: 25 });
    expect(metadata.container).toMatch(/mp4/);
    expect(metadata.durationSec as number).toBeGreaterThan(3.9);
    expect(metadata.durationSec as number).toBeLessThan(4.2);
    expect(metadata.audioTracks).toEqual([expect.objectContaining({ codec: 'aac', channels: 1, sampleRate: 44100 })]);
    const { derivatives } = await video.thumbnail(inp);
    expect(await sharp(thumb(derivatives, 1024)).metadata()).toMatchObject({ format: 'webp', width: 320, height: 240 });
    expect(await sharp(thumb(derivatives, 256)).metadata()).toMatchObject({ width: 256, height: 192 });
  });

  it.each([
    ['Windows Media (WMV)', 'phong-su.wmv', 'video/x-ms-wmv', ['-c:v', 'wmv2', '-c:a', 'wmav2'], 'wmv2', /asf/],
    ['Flash video (FLV)', 'clip.flv', 'video/x-flv', ['-c:v', 'flv', '-c:a', 'libmp3lame', '-ar', '44100'], 'flv1', /flv/],
  ])('%s: facts from ffprobe and a frame as thumbnail', async (_label, name, mediaType, codecArgs, codec, container) => {
    const path = join(dir, name);
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=3', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=3', ...codecArgs, path]);
    const inp = await inputFor(path, 'video', mediaType, dir);
    const { metadata } = await video.extract(inp);
    expect(metadata).toMatchObject({ videoCodec: codec, width: 320, height: 240 });
    expect(metadata.container).toMatch(container);
    expect(metadata.durationSec as number).toBeGreaterThan(2.9);
    expect(metadata.durationSec as number).toBeLessThan(3.3);
    expect(metadata.audioTracks).toHaveLength(1);
    const { derivatives } = await video.thumbnail(inp);
    expect(await sharp(thumb(derivatives, 1024)).metadata()).toMatchObject({ format: 'webp', width: 320, height: 240 });
  });

  it('a fast-start MP4 cut short (its index claims 10 s): the duration that decodes, marked truncated', async () => {
    const whole = join(dir, 'whole-faststart.mp4');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=10', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-movflags', '+faststart', whole]);
    const bytes = await readFile(whole);
    const cut = join(dir, 'cut-faststart.mp4');
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.45)));
    const { metadata } = await video.extract(await inputFor(cut, 'video', 'video/mp4', dir));
    expect(metadata).toMatchObject({ truncated: true });
    expect(metadata.claimedDurationSec as number).toBeGreaterThan(9.9);
    expect(metadata.durationSec as number).toBeGreaterThan(2);
    expect(metadata.durationSec as number).toBeLessThan(7);
    // The whole file is not marked.
    const full = await video.extract(await inputFor(whole, 'video', 'video/mp4', dir));
    expect(full.metadata.truncated).toBeUndefined();
    expect(full.metadata.durationSec as number).toBeGreaterThan(9.9);
  });

  it('rotation metadata: displayed size and thumbnail are portrait', async () => {
    const path = join(dir, 'rotated.mp4');
    await makeVideo(path, { seconds: 2, width: 320, height: 240, rotate: 90 });
    const inp = await inputFor(path, 'video', 'video/mp4', dir);
    const { metadata } = await video.extract(inp);
    expect(metadata).toMatchObject({ width: 240, height: 320, codedWidth: 320, codedHeight: 240 });
    expect([90, 270]).toContain(metadata.rotation);
    const { derivatives } = await video.thumbnail(inp);
    expect(await sharp(thumb(derivatives, 1024)).metadata()).toMatchObject({ width: 240, height: 320 });
    // The poster is the unrotated video's poster turned by the reported clockwise rotation.
    const plain = await video.thumbnail(await inputFor(`${path}.plain.mp4`, 'video', 'video/mp4', dir));
    const expected = await sharp(thumb(plain.derivatives, 1024)).rotate(metadata.rotation as number).raw().toBuffer();
    const actual = await sharp(thumb(derivatives, 1024)).raw().toBuffer();
    expect(actual.length).toBe(expected.length);
    let diff = 0;
    for (let i = 0; i < actual.length; i++) diff += Math.abs(actual[i] - expected[i]);
    expect(diff / actual.length).toBeLessThan(12);
  });

  it('skips a black lead-in for the poster frame', async () => {
    const path = join(dir, 'black-start.mp4');
    await makeVideo(path, { seconds: 10, blackLeadSec: 2 });
    const { derivatives } = await video.thumbnail(await inputFor(path, 'video', 'video/mp4', dir));
    const s = await sharp(thumb(derivatives, 256)).greyscale().stats();
    expect(s.channels[0].mean).toBeGreaterThan(40);
  });

  it('finds a picture for the poster frame when black fills most of the clip', async () => {
    const path = join(dir, 'long-black-start.mp4');
    await makeVideo(path, { seconds: 5, blackLeadSec: 4 });
    const { derivatives } = await video.thumbnail(await inputFor(path, 'video', 'video/mp4', dir));
    const s = await sharp(thumb(derivatives, 256)).greyscale().stats();
    expect(s.channels[0].mean).toBeGreaterThan(40);
    expect(s.channels[0].stdev).toBeGreaterThan(10);
  });

  it('an ffprobe that crashes is named as such, not as a malformed file', async () => {
    const path = join(dir, 'probe-ok.mp4');
    await makeVideo(path, { seconds: 1 });
    // Stands in for the bundled static ffprobe, which dies with SIGSEGV on every MPEG-TS file.
    const crashing = join(dir, 'crashing-ffprobe.sh');
    await writeFile(crashing, '#!/bin/sh\nkill -SEGV $$\n', { mode: 0o755 });
    const inp = await inputFor(path, 'video', 'video/mp4', dir, { ffprobePath: crashing });
    const e = await failure(video.extract(inp));
    expect(e.code).toBe('MEDIA_PROBE_CRASHED');
    expect(e.message).toMatch(/ffprobe crashed \(SIGSEGV\)/);
  });

  it('an MPEG-TS recording that ffprobe crashes on is read through ffmpeg: duration, codecs, size, language and a frame', async () => {
    const path = join(dir, 'ban-tin.ts');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=6', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=6',
      '-c:v', 'mpeg2video', '-c:a', 'mp2', '-metadata:s:a:0', 'language=vie', '-f', 'mpegts', path]);
    // Stands in for the bundled static ffprobe, which dies with SIGSEGV on every MPEG-TS file: this
    // one crashes on the file, and reads only a pipe (what ffmpeg hands it).
    const crashing = join(dir, 'ts-crashing-ffprobe.sh');
    await writeFile(crashing, `#!/bin/sh\ncase "$*" in *pipe:0*) exec '${defaultFfprobePath()}' "$@";; esac\nkill -SEGV $$\n`, { mode: 0o755 });
    // A camcorder's .m2ts (192-byte packets) with H.264 and ADTS AAC.
    const cam = join(dir, 'may-quay.m2ts');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25:duration=3', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=3',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-mpegts_m2ts_mode', '1', '-f', 'mpegts', cam]);
    const camInp = await inputFor(cam, 'video', 'video/mp2t', dir, { ffprobePath: crashing });
    expect((await video.extract(camInp)).metadata).toMatchObject({ container: 'mpegts', videoCodec: 'h264', width: 640, height: 360, audioTracks: [{ codec: 'aac' }] });
    for (const ffprobePath of [crashing, defaultFfprobePath()]) {
      const inp = await inputFor(path, 'video', 'video/mp2t', dir, { ffprobePath });
      const { metadata } = await video.extract(inp);
      expect(metadata).toMatchObject({ container: 'mpegts', videoCodec: 'mpeg2video', width: 320, height: 240, frameRate: 25, audioTracks: [{ codec: 'mp2', channels: 1, sampleRate: 44100, language: 'vie' }] });
      expect(metadata.durationSec as number).toBeGreaterThan(5.5);
      expect(metadata.durationSec as number).toBeLessThan(6.5);
      const { derivatives } = await video.thumbnail(inp);
      const s = await sharp(thumb(derivatives, 256)).stats();
      expect(s.channels[0].stdev).toBeGreaterThan(10); // the test picture, not black
    }
  });

  it('a WebM holding only sound is sniffed as audio/webm, and the audio extractor reads its tags, duration and waveform', async () => {
    const path = join(dir, 'bai-ca.webm');
    await ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=4', '-c:a', 'libopus', '-metadata', 'title=Bài ca Cao Bằng', '-metadata', 'artist=Đội văn nghệ xã Ngọc Côn', path]);
    expect(await sniffStoredFile(path)).toMatchObject({ ok: true, info: { mediaType: 'audio/webm', kind: 'audio' } });
    const inp = await inputFor(path, 'audio', 'audio/webm', dir);
    const { metadata, pages } = await audio.extract(inp);
    expect(metadata.durationSec as number).toBeCloseTo(4, 0);
    expect(pages[0].text).toBe('Bài ca Cao Bằng\nĐội văn nghệ xã Ngọc Côn');
    const { derivatives, note } = await audio.thumbnail(inp);
    expect(note).toBe('waveform');
    expect(derivatives.length).toBe(2);
  });

  it('garbage fails with MEDIA_MALFORMED', async () => {
    const path = join(dir, 'junk.mp4');
    await writeFile(path, Buffer.concat([Buffer.from('\0\0\0\x18ftypmp42'), Buffer.alloc(4000, 0x55)]));
    const inp = await inputFor(path, 'video', 'video/mp4', dir);
    expect((await failure(video.extract(inp))).code).toBe('MEDIA_MALFORMED');
    expect((await failure(video.thumbnail(inp))).code).toBe('MEDIA_MALFORMED');
  });
});

describe('audio extractor', () => {
  const vi = { title: 'Quốc ca Việt Nam', artist: 'Đài Phát thanh Cao Bằng', album: 'Loa truyền thanh cơ sở', date: '2023', comment: 'Bản ghi thử – tiếng Tày' };

  it.each(['mp3', 'ogg', 'flac', 'm4a', 'opus'])('%s: duration, codec and Vietnamese tags', async (ext) => {
    const path = join(dir, `tone.${ext}`);
    await makeAudio(path, { seconds: 3, tags: vi });
    const { metadata, pages } = await audio.extract(await inputFor(path, 'audio', `audio/${ext}`, dir));
    // The tags are the recording's text, so search finds it by them.
    expect(pages).toHaveLength(1);
    expect(pages[0].text.split('\n')).toEqual(expect.arrayContaining([vi.title, vi.artist, vi.album]));
    expect(metadata.durationSec as number).toBeGreaterThan(2.9);
    expect(metadata.durationSec as number).toBeLessThan(3.2);
    // MP4 sample entries of AAC often say 2 channels whatever the stream holds.
    if (ext !== 'm4a') expect(metadata.channels).toBe(1);
    expect(metadata.tags).toMatchObject({ title: vi.title, artist: vi.artist, album: vi.album, year: 2023 });
    // ffmpeg writes an MP3's comment as a TXXX:comment frame (not COMM): it is read too, and is text.
    expect((metadata.tags as { comment?: string }).comment).toBe(vi.comment);
    expect(pages[0].text.split('\n')).toContain(vi.comment);
    expect(metadata.hasCover).toBe(false);
  });

  it('Windows Media audio (WMA): duration, codec and Vietnamese tags from the ASF header; a waveform', async () => {
    const path = join(dir, 'dan-ca.wma');
    await ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=4', '-c:a', 'wmav2', '-metadata', 'title=Dân ca Tày – Hát then', '-metadata', 'artist=Đội văn nghệ xã Trường Hà', path]);
    const inp = await inputFor(path, 'audio', 'audio/x-ms-wma', dir);
    const { metadata } = await audio.extract(inp);
    expect(metadata).toMatchObject({ tags: expect.objectContaining({ title: 'Dân ca Tày – Hát then', artist: 'Đội văn nghệ xã Trường Hà' }) });
    expect(metadata.durationSec as number).toBeGreaterThan(3.9);
    expect(metadata.durationSec as number).toBeLessThan(4.3);
    const { derivatives, note } = await audio.thumbnail(inp);
    expect(note).toBe('waveform');
    expect(derivatives).toHaveLength(2);
  });

  it('AMR (phones, voice recorders), which music-metadata cannot read: facts from ffprobe', async () => {
    const path = join(dir, 'ghi-am.amr');
    await ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=8000:duration=3', '-c:a', 'libopencore_amrnb', '-ar', '8000', '-ac', '1', path]);
    const { metadata } = await audio.extract(await inputFor(path, 'audio', 'audio/amr', dir));
    expect(metadata).toMatchObject({ codec: 'amr_nb', sampleRate: 8000, channels: 1, hasCover: false });
    expect(metadata.durationSec as number).toBeGreaterThan(2.9);
    expect(metadata.durationSec as number).toBeLessThan(3.2);
  });

  it('ID3v1 tags written in a legacy Vietnamese code page (TCVN3) come out as Unicode', async () => {
    const plain = join(dir, 'plain.mp3');
    await makeAudio(plain, { seconds: 2 });
    const field = (s: string, n: number) => {
      const b = Buffer.alloc(n);
      iconv.encode(s, 'tcvn').copy(b);
      return b;
    };
    const id3v1 = Buffer.concat([Buffer.from('TAG'), field('Bài ca Cao Bằng', 30), field('Đài truyền thanh huyện', 30), field('Tuyên truyền', 30), Buffer.from('2023'), field('', 30), Buffer.from([255])]);
    const path = join(dir, 'id3v1-tcvn.mp3');
    await writeFile(path, Buffer.concat([await readFile(plain), id3v1]));
    const { metadata } = await audio.extract(await inputFor(path, 'audio', 'audio/mpeg', dir));
    expect(metadata.tags).toMatchObject({ title: 'Bài ca Cao Bằng', artist: 'Đài truyền thanh huyện', album: 'Tuyên truyền', year: 2023 });
    // Genuine Latin-1 tags are left alone.
    for (const t of ['Café del Mar', 'Motörhead', 'Ça ira', 'Déjà vu', 'Sigur Rós', 'Señorita']) expect(repairLegacyTag(t)).toBe(t);
    // A tag typed in VNI.
    expect(repairLegacyTag(asVniTyped('Bài ca Cao Bằng'))).toBe('Bài ca Cao Bằng');
  });

  // VISCII bytes from a table read off the project decoder (iconv-lite), checked against bytes glibc iconv gives.
  const VISCII = new Map([...Array(256).keys()].map((b) => [iconv.decode(Buffer.from([b]), 'viscii'), b] as const));
  const viscii = (s: string) => Buffer.from([...s.normalize('NFC')].map((ch) => VISCII.get(ch)!));
  const id3v1Mp3 = async (name: string, title: Buffer, artist: Buffer) => {
    const plain = join(dir, 'plain-v1.mp3');
    await makeAudio(plain, { seconds: 2 });
    const field = (b: Buffer) => Buffer.concat([b, Buffer.alloc(30 - b.length)]);
    const path = join(dir, name);
    await writeFile(path, Buffer.concat([await readFile(plain), Buffer.from('TAG'), field(title), field(artist), field(Buffer.alloc(0)), Buffer.from('2023'), field(Buffer.alloc(0)), Buffer.from([255])]));
    return path;
  };

  it.each([
    ['VISCII', viscii],
    ['TCVN3', (s: string) => iconv.encode(s, 'tcvn')],
    ['Windows-1258', (s: string) => iconv.encode(toCp1258Form(s), 'windows-1258')],
  ])('ID3v1 tags in %s come out as Unicode (short tags, where each legacy reading may look like Vietnamese)', async (name, encode) => {
    expect(viscii('Lễ hội Pháo hoa')).toEqual(Buffer.from('4cad2068b569205068e16f20686f61', 'hex'));
    expect(viscii('Đài Phát thanh Cao Bằng')).toEqual(Buffer.from('d0e069205068e174207468616e682043616f2042a26e67', 'hex'));
    const path = await id3v1Mp3(`id3v1-${name}.mp3`, encode('Lễ hội Pháo hoa'), encode('Đài Phát thanh Cao Bằng'));
    const { metadata } = await audio.extract(await inputFor(path, 'audio', 'audio/mpeg', dir));
    expect(metadata.tags).toMatchObject({ title: 'Lễ hội Pháo hoa', artist: 'Đài Phát thanh Cao Bằng', year: 2023 });
    for (const t of ['Lễ hội Pháo hoa Trùng Khánh', 'Bài ca Cao Bằng', 'Đài truyền thanh huyện', 'Tuyên truyền cổ động', 'Khuyến khích', 'Bảo Lạc, Cao Bằng', 'Bác Hồ']) {
      expect(repairLegacyTag(encode(t).toString('latin1')), `${name}: ${t}`).toBe(t);
    }
  });

  it('the fields of one ID3v1 tag are read in one code page: a short field follows the others', async () => {
    // Read alone, each of these reads as other valid syllables in another code page ("Vô quờ mâ", "Thu Hi«n").
    for (const [title, artist] of [['Về quê mẹ', 'Thu Hiền, Đài Cao Bằng'], ['Lời ru người Nùng Phàn Slình', 'Thu Hiền']]) {
      const path = await id3v1Mp3('id3v1-one-page.mp3', viscii(title), viscii(artist));
      const { metadata } = await audio.extract(await inputFor(path, 'audio', 'audio/mpeg', dir));
      expect(metadata.tags).toMatchObject({ title, artist });
    }
  });

  it('WAV (RIFF INFO) tags written as UTF-8 are read as UTF-8; legacy code-page bytes there are still repaired', async () => {
    const path = join(dir, 'info-utf8.wav');
    // "nhà" ends in the byte A0, which read as Latin-1 is a no-break space: it must survive trimming.
    await ffmpeg(['-f', 'lavfi', '-i', 'sine=f=440', '-t', '4', '-metadata', 'title=Lễ hội Pháo hoa Trùng Khánh', '-metadata', 'artist=Đài Phát thanh Cao Bằng', '-metadata', 'comment=Tiếng hát quê nhà', path]);
    const { metadata } = await audio.extract(await inputFor(path, 'audio', 'audio/wav', dir));
    expect(metadata.tags).toMatchObject({ title: 'Lễ hội Pháo hoa Trùng Khánh', artist: 'Đài Phát thanh Cao Bằng', comment: 'Tiếng hát quê nhà' });
    expect(metadata.truncated).toBeUndefined();
    // The same file with its INAM value in TCVN3 (not valid UTF-8): the legacy repair still reads it.
    const bytes = await readFile(path);
    const at = bytes.indexOf('INAM');
    const len = bytes.readUInt32LE(at + 4);
    const tcvn = Buffer.concat([iconv.encode('Lễ hội Pháo hoa Trùng Khánh', 'tcvn'), Buffer.alloc(len)]).subarray(0, len);
    const legacy = join(dir, 'info-tcvn.wav');
    await writeFile(legacy, Buffer.concat([bytes.subarray(0, at + 8), tcvn, bytes.subarray(at + 8 + len)]));
    const r = await audio.extract(await inputFor(legacy, 'audio', 'audio/wav', dir));
    expect(r.metadata.tags).toMatchObject({ title: 'Lễ hội Pháo hoa Trùng Khánh', artist: 'Đài Phát thanh Cao Bằng' });
  });

  it('a WAV copyright (RIFF INFO ICOP) is read and is part of the text', async () => {
    const path = join(dir, 'info-icop.wav');
    await ffmpeg(['-f', 'lavfi', '-i', 'sine=f=440', '-t', '2', '-metadata', 'title=Bài ca Pác Bó', '-metadata', 'copyright=© Sở Văn hoá, Thể thao và Du lịch Cao Bằng', path]);
    const { metadata, pages } = await audio.extract(await inputFor(path, 'audio', 'audio/wav', dir));
    expect(metadata.tags).toMatchObject({ title: 'Bài ca Pác Bó', copyright: '© Sở Văn hoá, Thể thao và Du lịch Cao Bằng' });
    expect(pages[0].text).toContain('© Sở Văn hoá, Thể thao và Du lịch Cao Bằng');
  });

  it('a 5-hour recording gets its waveform (the decoded output passed a 256 MB cap past 4.4 hours: MEDIA_MALFORMED)', async () => {
    // 5 hours of 1 kHz 8-bit mono WAV (18 MB), silent but for 10 loud seconds at 3 h 45 min.
    const rate = 1000;
    const seconds = 5 * 3600;
    const data = Buffer.alloc(rate * seconds, 0x80);
    data.fill(0xf0, rate * 13_500, rate * 13_510);
    const header = Buffer.alloc(44);
    header.write('RIFF', 0, 'latin1');
    header.writeUInt32LE(36 + data.length, 4);
    header.write('WAVEfmt ', 8, 'latin1');
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20); // PCM
    header.writeUInt16LE(1, 22); // mono
    header.writeUInt32LE(rate, 24);
    header.writeUInt32LE(rate, 28);
    header.writeUInt16LE(1, 32);
    header.writeUInt16LE(8, 34);
    header.write('data', 36, 'latin1');
    header.writeUInt32LE(data.length, 40);
    const path = join(dir, 'hoi-nghi-5-gio.wav');
    await writeFile(path, Buffer.concat([header, data]));
    const inp = await inputFor(path, 'audio', 'audio/wav', dir, { deadline: Date.now() + 120_000 });
    const t = await audio.thumbnail(inp);
    expect(t.note).toBe('waveform');
    const peaks = await audioPeaks(path, inp.limits.ffmpegPath, 1024, Date.now() + 120_000);
    expect(peaks).toHaveLength(1024);
    // 13,500 s of 18,000: bucket 768.
    const loud = peaks!.map((p, i) => [p, i] as const).filter(([p]) => p > 0.5).map(([, i]) => i);
    expect(loud.length).toBeGreaterThan(0);
    expect(Math.min(...loud)).toBeGreaterThanOrEqual(766);
    expect(Math.max(...loud)).toBeLessThanOrEqual(770);
  }, 180_000);

  it('a long plain-ASCII word in a Latin-1 tag is checked in one pass (the old expression took 1.7 s for 40,000 letters)', async () => {
    // A guard against a hang, not a speed figure: one pass takes milliseconds, the old count of
    // accented words about 10 s per tag here (a synchronous step is not stopped by the test timeout, hence the clock).
    const n = 100_000;
    const tcvn = iconv.decode(iconv.encode('Bài ca Cao Bằng', 'tcvn'), 'latin1');
    const path = join(dir, 'long-tag.mp3');
    await makeAudio(path, { seconds: 1, tags: { title: `Café ${'a'.repeat(n)}` } });
    // Only the synchronous repair is timed (ffprobe's start-up, outside the clock, varies with load).
    const cpuMs = cpuClock();
    expect(repairLegacyTag(`${tcvn} ${'x'.repeat(n)}`)).toBe(`Bài ca Cao Bằng ${'x'.repeat(n)}`);
    expect(repairLegacyTag(`Motörhead ${'x'.repeat(n)}`)).toBe(`Motörhead ${'x'.repeat(n)}`);
    expect(cpuMs()).toBeLessThan(3000);
    const { metadata } = await audio.extract(await inputFor(path, 'audio', 'audio/mpeg', dir));
    expect(metadata.tags).toMatchObject({ title: `Café ${'a'.repeat(n)}` });
  });

  it('embedded cover art becomes the thumbnail', async () => {
    const cover = join(dir, 'cover.jpg');
    await sharp({ create: { width: 500, height: 500, channels: 3, background: '#d03030' } }).jpeg().toFile(cover);
    const path = join(dir, 'with-cover.mp3');
    await makeAudio(path, { seconds: 2, tags: { title: 'Có ảnh bìa' }, coverJpeg: cover });
    const inp = await inputFor(path, 'audio', 'audio/mpeg', dir);
    expect((await audio.extract(inp)).metadata.hasCover).toBe(true);
    const { derivatives } = await audio.thumbnail(inp);
    expect(await sharp(thumb(derivatives, 1024)).metadata()).toMatchObject({ width: 500, height: 500 });
    const [r, g] = (await sharp(thumb(derivatives, 256)).stats()).channels.map((c) => c.mean);
    expect(r).toBeGreaterThan(150);
    expect(g).toBeLessThan(90);
  });

  it('no cover: a waveform picture', async () => {
    const path = join(dir, 'wave.ogg');
    await makeAudio(path, { seconds: 2 });
    const r = await audio.thumbnail(await inputFor(path, 'audio', 'audio/ogg', dir));
    expect(r.note).toBe('waveform');
    const m = await sharp(thumb(r.derivatives, 1024)).metadata();
    expect([m.width, m.height]).toEqual([1024, 256]);
    // The tone is loud: the middle row is ink, the top row background.
    const raw = await sharp(thumb(r.derivatives, 1024)).greyscale().raw().toBuffer();
    expect(raw[128 * 1024 + 512]).toBeLessThan(150);
    expect(raw[2 * 1024 + 512]).toBeGreaterThan(200);
  });

  it('truncated WAV whose header claims 10 s: reports what is really there, marked truncated with the claimed duration', async () => {
    const whole = join(dir, 'long.wav');
    await makeAudio(whole, { seconds: 10 });
    const bytes = await readFile(whole);
    const path = join(dir, 'cut.wav');
    await writeFile(path, bytes.subarray(0, Math.floor(bytes.length * 0.4)));
    const { metadata } = await audio.extract(await inputFor(path, 'audio', 'audio/wav', dir));
    expect(metadata.durationSec as number).toBeGreaterThan(3.5);
    expect(metadata.durationSec as number).toBeLessThan(4.5);
    expect(metadata.truncated).toBe(true);
    expect(metadata.claimedDurationSec as number).toBeGreaterThan(9.9);
    expect(metadata.claimedDurationSec as number).toBeLessThan(10.1);
    // The whole file is not marked.
    const full = await audio.extract(await inputFor(whole, 'audio', 'audio/wav', dir));
    expect(full.metadata).toMatchObject({ durationSec: 10 });
    expect(full.metadata.truncated).toBeUndefined();
  });

  it.each(['mp3', 'wav'])('a short %s cut short (6 s, its first 0.6 of bytes) is marked truncated; whole short clips are not', async (ext) => {
    const whole = join(dir, `short6.${ext}`);
    await makeAudio(whole, { seconds: 6 });
    const bytes = await readFile(whole);
    const path = join(dir, `short6-cut.${ext}`);
    await writeFile(path, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const { metadata } = await audio.extract(await inputFor(path, 'audio', `audio/${ext}`, dir));
    expect(metadata).toMatchObject({ truncated: true });
    expect(metadata.claimedDurationSec as number).toBeGreaterThan(5.9);
    expect(metadata.durationSec as number).toBeGreaterThan(3.2);
    expect(metadata.durationSec as number).toBeLessThan(4);
    for (const seconds of [1.5, 3, 6]) {
      const intact = join(dir, `intact-${seconds}.${ext}`);
      await makeAudio(intact, { seconds });
      const r = await audio.extract(await inputFor(intact, 'audio', `audio/${ext}`, dir));
      expect(r.metadata.truncated, `${seconds} s`).toBeUndefined();
      expect(Math.abs((r.metadata.durationSec as number) - seconds), `${seconds} s`).toBeLessThan(0.1);
    }
  });

  it('truncated M4A (header says 10 s): real duration or a clear failure', async () => {
    const whole = join(dir, 'long.m4a');
    await makeAudio(whole, { seconds: 10 });
    const bytes = await readFile(whole);
    const path = join(dir, 'cut.m4a');
    await writeFile(path, bytes.subarray(0, Math.floor(bytes.length * 0.5)));
    const r = await audio.extract(await inputFor(path, 'audio', 'audio/mp4', dir)).then((x) => x, (e: unknown) => e);
    if (r instanceof PermanentExtractError) expect(r.code).toBe('MEDIA_MALFORMED');
    else {
      const md = (r as { metadata: Record<string, number | boolean> }).metadata;
      expect(md.truncated).toBe(true);
      expect(md.claimedDurationSec as number).toBeGreaterThan(9.9);
      expect(md.durationSec as number).toBeLessThan(7);
    }
  });

  it('garbage and empty files fail clearly', async () => {
    const junk = join(dir, 'junk.mp3');
    await writeFile(junk, Buffer.alloc(3000, 0x11));
    const e1 = await failure(audio.extract(await inputFor(junk, 'audio', 'audio/mpeg', dir)));
    expect(e1.code).toBe('MEDIA_MALFORMED');
    const empty = join(dir, 'empty.mp3');
    await writeFile(empty, '');
    expect((await failure(audio.extract(await inputFor(empty, 'audio', 'audio/mpeg', dir)))).code).toBe('EMPTY_FILE');
  });
});
