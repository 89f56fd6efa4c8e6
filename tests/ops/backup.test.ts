import Database from 'better-sqlite3';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backup, listSnapshots, restore, RestoreRefused } from '../../server/ops/backup.ts';
import { blobRel, hashFile } from '../../server/ops/hash.ts';
import { auth, makeDataDir, makeTestApp, type TestApp } from '../helpers/app.ts';
import { makePdf, makePng } from '../helpers/samples.ts';

describe('backup and restore of a running server under upload load', () => {
  let t: TestApp;
  let base: string;
  let work: string;
  let uploads = 0;

  const upload = async (i: number) => {
    const form = new FormData();
    form.set('title', `Ảnh tư liệu phong trào thi đua số ${i} — Hà Quảng`);
    form.set('type', 'photo');
    form.set('year', '2023');
    form.append('file', new Blob([new Uint8Array(await makePng(64 + (i % 50), 48 + Math.floor(i / 50), i))], { type: 'image/png' }), `ảnh ${i}.png`);
    const res = await fetch(`${base}/api/products`, { method: 'POST', body: form, headers: auth() });
    if (res.status !== 201) throw new Error(`upload ${i}: ${res.status} ${await res.text()}`);
    uploads++;
  };

  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 1 } });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = t.app.server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
    work = await makeDataDir();
    // A first batch, extracted (so there are derivatives to back up).
    const form = new FormData();
    form.set('title', 'Lịch sử Đảng bộ huyện Trùng Khánh');
    form.set('type', 'book');
    form.append('file', new Blob([new Uint8Array(await makePdf(2, 'Trung Khanh'))], { type: 'application/pdf' }), 'Trùng Khánh.pdf');
    expect((await fetch(`${base}/api/products`, { method: 'POST', body: form, headers: auth() })).status).toBe(201);
    for (let i = 0; i < 6; i++) await upload(i);
    await t.app.jobRunner.drain(60_000);
  });
  afterAll(async () => {
    await t.close();
    await rm(work, { recursive: true, force: true });
  });

  it('snapshots consistently while uploads continue, restores and verifies; then backs up incrementally', async () => {
    const dest = join(work, 'backup');
    let stop = false;
    let i = 100;
    const load = Promise.all(
      [0, 1].map(async () => {
        while (!stop) await upload(i++);
      }),
    );
    // Let the load get going, then back up in the middle of it.
    while (uploads < 10) await new Promise((r) => setTimeout(r, 10));
    const before = uploads;
    const first = await backup({ dataDir: t.dataDir, dest, stamp: '20250101T000000Z' });
    const during = uploads - before;
    stop = true;
    await load;
    expect(first.problems).toEqual([]);
    expect(during).toBeGreaterThan(0); // uploads really ran while the backup did
    expect(first.manifest.counts.products).toBeGreaterThanOrEqual(before + 1);
    expect(first.manifest.derivatives.length).toBeGreaterThan(0);
    expect((await readFile(join(dest, 'LATEST'), 'utf8')).trim()).toBe('20250101T000000Z');

    // Restore into a fresh dir.
    const target = join(work, 'restored');
    const r = await restore({ src: dest, dataDir: target });
    expect(r.problems).toEqual([]);
    expect(r.verified.integrity).toBe('ok');

    // Every record matches the live database, and every blob the snapshot references is there with the right hash.
    const restored = new Database(join(target, 'kho.sqlite'), { readonly: true });
    const live = t.app.db.sqlite;
    const rows = restored.prepare('SELECT * FROM products ORDER BY id').all() as Array<Record<string, unknown>>;
    expect(rows.length).toBe(first.manifest.counts.products);
    const liveStmt = live.prepare('SELECT * FROM products WHERE id = ?');
    for (const row of rows) expect(liveStmt.get(row.id)).toEqual(row);
    const files = restored.prepare('SELECT f.product_id, f.sha256, f.original_name FROM product_files f ORDER BY f.id').all() as Array<{ sha256: string; product_id: number }>;
    expect(files.length).toBe(first.manifest.counts.productFiles);
    for (const f of files) {
      const h = await hashFile(join(target, 'blobs', blobRel(f.sha256)));
      expect(h.sha256).toBe(f.sha256);
    }
    for (const d of restored.prepare('SELECT sha256, name, size FROM derivatives').all() as Array<{ sha256: string; name: string; size: number }>) {
      const h = await hashFile(join(target, 'blobs', `${blobRel(d.sha256)}.d`, d.name));
      expect(h.size).toBe(d.size);
    }
    // A restored store opens in the app and serves a record.
    restored.close();
    const again = await makeTestApp({ jobs: { workers: 0 } }, target);
    try {
      const res = await again.app.inject({ method: 'GET', url: `/api/products/${rows[0].id}`, headers: auth() });
      expect(res.statusCode).toBe(200);
      expect(res.json().title).toBe(rows[0].title);
    } finally {
      await again.app.close();
    }

    // Incremental: only blobs added since the first snapshot are copied.
    const second = await backup({ dataDir: t.dataDir, dest, stamp: '20250102T000000Z' });
    expect(second.problems).toEqual([]);
    expect(second.reused.blobs).toBe(first.manifest.counts.blobs);
    expect(second.copied.blobs).toBe(second.manifest.counts.blobs - first.manifest.counts.blobs);
    expect(second.copied.blobs).toBeGreaterThan(0);
    expect(await listSnapshots(dest)).toEqual(['20250101T000000Z', '20250102T000000Z']);
  });

  it('gives backups started in the same second their own snapshots (-2, -3), one after another or side by side', async () => {
    const dest = join(work, 'backup-same-second');
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-27T04:08:00.250Z'));
    try {
      const a = await backup({ dataDir: t.dataDir, dest });
      const [b, c] = await Promise.all([backup({ dataDir: t.dataDir, dest }), backup({ dataDir: t.dataDir, dest })]);
      expect([a.stamp, ...[b.stamp, c.stamp].sort()]).toEqual(['20261127T040800Z', '20261127T040800Z-2', '20261127T040800Z-3']);
      expect(await listSnapshots(dest)).toEqual(['20261127T040800Z', '20261127T040800Z-2', '20261127T040800Z-3']);
      for (const stamp of [a.stamp, b.stamp, c.stamp]) {
        const m = JSON.parse(await readFile(join(dest, 'snapshots', stamp, 'manifest.json'), 'utf8')) as { blobs: unknown[] };
        expect(m.blobs.length, stamp).toBe(a.manifest.blobs.length);
      }
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a non-empty target and reports a corrupt blob in the backup', async () => {
    const dest = join(work, 'backup2');
    const b = await backup({ dataDir: t.dataDir, dest });
    const busy = join(work, 'busy');
    await mkdir(busy, { recursive: true });
    await writeFile(join(busy, 'kho.sqlite'), 'x');
    await expect(restore({ src: dest, dataDir: busy })).rejects.toBeInstanceOf(RestoreRefused);

    const victim = b.manifest.blobs[0].sha256;
    const p = join(dest, 'blobs', blobRel(victim));
    const bytes = await readFile(p);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    await writeFile(p, bytes);
    const r = await restore({ src: dest, dataDir: join(work, 'restored2') });
    expect(r.problems).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'BLOB_CORRUPT', sha256: victim })]));
  });
});
