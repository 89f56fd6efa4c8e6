import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoTrackHandlers, sniffStoredFile } from '../../server/ingest/sniff.ts';
import { tempDir } from '../helpers/fixtures.ts';

/** An ISO box: 32-bit size, type, body. */
const box = (type: string, ...body: Buffer[]): Buffer => {
  const b = Buffer.concat(body);
  const h = Buffer.alloc(8);
  h.writeUInt32BE(8 + b.length, 0);
  h.write(type, 4, 'latin1');
  return Buffer.concat([h, b]);
};
const hdlr = (handler: string) => box('hdlr', Buffer.alloc(8), Buffer.from(handler, 'latin1'), Buffer.alloc(12), Buffer.from('Âm thanh\0', 'utf8'));

/**
 * An MP4 (brand `isom`, which file-type calls video/mp4) whose first track's sample table (`stbl`)
 * is `stblBytes` long, so that `moov` is larger still. The sample table is a hole in a sparse file:
 * the test neither writes nor holds its bytes. `tracks`: the handler of each track, the first one
 * holding the big table.
 */
async function writeBigMoovMp4(path: string, tracks: string[], stblBytes: number): Promise<number> {
  const ftyp = box('ftyp', Buffer.from('isom', 'latin1'), Buffer.alloc(4), Buffer.from('isomiso2mp41', 'latin1'));
  const mvhd = box('mvhd', Buffer.alloc(100));
  const tkhd = box('tkhd', Buffer.alloc(84));
  const mdhd = box('mdhd', Buffer.alloc(24));
  // Later tracks: small, after the big one.
  const rest = tracks.slice(1).map((h) => box('trak', tkhd, box('mdia', mdhd, hdlr(h), box('minf', box('stbl', Buffer.alloc(16))))));
  const restBytes = Buffer.concat(rest);
  // The first track: trak { tkhd, mdia { mdhd, hdlr, minf { stbl <stblBytes> } } }; headers written, body left a hole.
  const stblSize = 8 + stblBytes;
  const minfSize = 8 + stblSize;
  const h1 = hdlr(tracks[0]);
  const mdiaSize = 8 + mdhd.length + h1.length + minfSize;
  const trakSize = 8 + tkhd.length + mdiaSize;
  const moovSize = 8 + mvhd.length + trakSize + restBytes.length;
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const head = Buffer.concat([
    ftyp,
    u32(moovSize), Buffer.from('moov'), mvhd,
    u32(trakSize), Buffer.from('trak'), tkhd,
    u32(mdiaSize), Buffer.from('mdia'), mdhd, h1,
    u32(minfSize), Buffer.from('minf'),
    u32(stblSize), Buffer.from('stbl'),
  ]);
  const fh = await open(path, 'w');
  try {
    await fh.write(head, 0, head.length, 0);
    const afterStbl = head.length + stblBytes;
    const mdat = box('mdat', Buffer.alloc(64, 0x21));
    const tail = Buffer.concat([restBytes, mdat]);
    await fh.write(tail, 0, tail.length, afterStbl);
    return moovSize;
  } finally {
    await fh.close();
  }
}

describe('ISO media sniffing: tracks read from disk whatever the size of moov', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('kho-sniff-iso-'));
  });
  afterAll(async () => {
    await cleanup();
  });

  it('an audio-only MP4 whose moov is 80 MB is audio/mp4, read without buffering moov', async () => {
    const path = join(dir, 'bài nói chuyện dài.mp4');
    const moovSize = await writeBigMoovMp4(path, ['soun'], 80 * 1024 * 1024);
    expect(moovSize).toBeGreaterThan(64 * 1024 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    expect(await isoTrackHandlers(path)).toEqual(new Set(['soun']));
    // No buffer of the moov's size was allocated (the old reader read moov whole, up to 64 MB).
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
    const r = await sniffStoredFile(path);
    expect(r.ok && r.info.mediaType).toBe('audio/mp4');
    expect(r.ok && r.info.kind).toBe('audio');
  });

  it('a video track after a 70 MB sound track makes it video/mp4', async () => {
    const path = join(dir, 'phim tài liệu.mp4');
    await writeBigMoovMp4(path, ['soun', 'vide'], 70 * 1024 * 1024);
    expect(await isoTrackHandlers(path)).toEqual(new Set(['soun', 'vide']));
    const r = await sniffStoredFile(path);
    expect(r.ok && r.info.mediaType).toBe('video/mp4');
  });

  it('a moov cut short by the end of the file lists the tracks it still holds', async () => {
    const path = join(dir, 'bị cắt.mp4');
    await writeBigMoovMp4(path, ['soun'], 1024);
    const fh = await open(path, 'r+');
    // Cut inside the stbl body: the hdlr before it is whole.
    await fh.truncate(360);
    await fh.close();
    expect(await isoTrackHandlers(path)).toEqual(new Set(['soun']));
  });
});
