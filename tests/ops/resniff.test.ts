import { spawnSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db/client.ts';
import { auth, makeDataDir, makeTestApp, multipartBody } from '../helpers/app.ts';
import { ffmpeg, tempDir } from '../helpers/fixtures.ts';
import { makePng } from '../helpers/samples.ts';
import { createUser, login } from '../web/helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');

const run = (dataDir: string, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/rederive.ts'), '--data-dir', dataDir, '--quiet', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, JOB_WORKERS: '1', LOG_LEVEL: 'silent' },
    timeout: 120_000,
  });

describe('rederive --resniff: files stored before a sniffing fix get their right type', () => {
  it('corrects an audio-only MP4 stored as video (jobs, derivatives, audit), keeps the product type, skips a busy file, and is idempotent', async () => {
    const dataDir = await makeDataDir();
    const { dir, cleanup } = await tempDir('kho-resniff-');
    try {
      // Two recordings a phone saved as .mp4 (AAC only, brand isom), and a picture.
      const mp4s = [join(dir, 'bài nói chuyện.mp4'), join(dir, 'phát thanh xã.mp4')];
      await ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=330:duration=2', '-c:a', 'aac', mp4s[0]]);
      await ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=550:duration=2', '-c:a', 'aac', mp4s[1]]);
      const t = await makeTestApp({ jobs: { workers: 0 } }, dataDir);
      const ids: number[] = [];
      const shas: string[] = [];
      const files: Array<[string, Buffer, string]> = [
        ['bài nói chuyện.mp4', await readFile(mp4s[0]), 'video'],
        ['phát thanh xã.mp4', await readFile(mp4s[1]), 'audio'],
        ['ảnh hội nghị.png', await makePng(120, 80, 4), 'photo'],
      ];
      for (const [name, data, type] of files) {
        const { body, headers } = multipartBody({ title: `Tư liệu ${name}`, type }, [{ filename: name, data }]);
        const res = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
        expect(res.statusCode, res.body).toBe(201);
        ids.push(res.json().id);
        shas.push(res.json().files[0].sha256);
      }
      const sql = t.app.db.sqlite;
      // As stored by the sniffer before it read a container's tracks: video, jobs settled, a video thumbnail row.
      for (const sha of shas.slice(0, 2)) {
        sql.prepare(`UPDATE blobs SET media_type = 'video/mp4', kind = 'video', metadata = '{"container":"mov,mp4,m4a,3gp,3g2,mj2"}' WHERE sha256 = ?`).run(sha);
        sql.prepare(`UPDATE jobs SET state = 'done', attempts = 1, finished_at = '2026-01-01T00:00:00.000Z' WHERE sha256 = ?`).run(sha);
        sql.prepare(`INSERT INTO derivatives (sha256, name, media_type, size, width, height) VALUES (?, 'thumb-256.webp', 'image/webp', 10, 256, 144)`).run(sha);
      }
      // The second one's thumbnail job is running on a live server right now.
      sql.prepare(`UPDATE jobs SET state = 'running' WHERE sha256 = ? AND kind = 'thumbnail'`).run(shas[1]);
      const before = sql.prepare('SELECT id, type, version, updated_at AS updatedAt FROM products ORDER BY id').all() as Array<{ id: number; type: string; version: number; updatedAt: string }>;

      // 1) With the server (the app) still open on the same data dir.
      const r1 = run(dataDir, '--resniff');
      expect(r1.status, r1.stderr + r1.stdout).toBe(1);
      expect(r1.stdout).toContain('re-sniffed 3 file(s): 1 type(s) corrected');
      expect(r1.stdout).toContain(`${shas[0]}  video/mp4 → audio/mp4  products #${ids[0]} (video)`);
      expect(r1.stdout).toContain(`note: product #${ids[0]} is typed "video"`);
      expect(r1.stdout).toContain(`BUSY ${shas[1]}`);
      expect(r1.stdout).toContain('re-queued 2 job(s)');

      const blob = (sha: string) => sql.prepare('SELECT media_type AS mediaType, kind, metadata FROM blobs WHERE sha256 = ?').get(sha) as { mediaType: string; kind: string; metadata: string | null };
      const jobs = (sha: string) => sql.prepare('SELECT kind, state, attempts FROM jobs WHERE sha256 = ? ORDER BY kind').all(sha);
      const derivs = (sha: string) => (sql.prepare('SELECT count(*) AS n FROM derivatives WHERE sha256 = ?').get(sha) as { n: number }).n;
      expect(blob(shas[0])).toEqual({ mediaType: 'audio/mp4', kind: 'audio', metadata: null });
      expect(jobs(shas[0])).toEqual([{ kind: 'extract', state: 'queued', attempts: 0 }, { kind: 'thumbnail', state: 'queued', attempts: 0 }]);
      expect(derivs(shas[0])).toBe(0);
      // The busy one is untouched, the picture too.
      expect(blob(shas[1]).mediaType).toBe('video/mp4');
      expect(derivs(shas[1])).toBe(1);
      expect(blob(shas[2]).mediaType).toBe('image/png');
      // The product keeps the type a person chose and its version (ETag); its datestamp moves (dc:format changed).
      const after = sql.prepare('SELECT id, type, version, updated_at AS updatedAt FROM products ORDER BY id').all() as typeof before;
      expect(after[0].type).toBe('video');
      expect(after[0].version).toBe(before[0].version);
      expect(after[0].updatedAt > before[0].updatedAt).toBe(true);
      expect(after.slice(1)).toEqual(before.slice(1));
      // The running server reads the new type at once.
      const rec = await t.app.inject({ method: 'GET', url: `/api/products/${ids[0]}`, headers: auth() });
      expect(rec.json().files[0].mediaType).toBe('audio/mp4');
      const hist = await t.app.inject({ method: 'GET', url: `/api/products/${ids[0]}/history`, headers: auth() });
      const entries = hist.json().entries as Array<{ action: string; actor: string; changes: unknown; note: string }>;
      expect(entries.at(-1)).toMatchObject({ action: 'file_type_corrected', actor: 'rederive', changes: { mediaType: ['video/mp4', 'audio/mp4'] }, note: 'bài nói chuyện.mp4' });
      // The record page names the entry in Vietnamese, with the file's old and new type.
      await createUser(t.app, 'luu-tru', 'archivist');
      const archivist = await login(t.app, 'luu-tru');
      const page = (await t.app.inject({ method: 'GET', url: `/san-pham/${ids[0]}`, headers: { cookie: archivist.cookie } })).body.split('id="hist-h"')[1];
      expect(page).toMatch(/<td[^>]*>Nhận diện lại loại tệp<\/td>/);
      expect(page).toMatch(/Loại tệp:<\/span> video\/mp4/);
      const blobAudit = sql.prepare(`SELECT action, changes FROM audit_log WHERE entity = 'blob' AND entity_id = ?`).all(shas[0]);
      expect(blobAudit).toEqual([{ action: 'resniff', changes: JSON.stringify({ mediaType: ['video/mp4', 'audio/mp4'], kind: ['video', 'audio'] }) }]);
      await t.app.close();

      // 2) The busy job has finished; the server is stopped: correct the rest and run the jobs here.
      const db = openDatabase(join(dataDir, 'kho.sqlite'), { migrate: false });
      db.sqlite.prepare(`UPDATE jobs SET state = 'done' WHERE state = 'running'`).run();
      db.close();
      const r2 = run(dataDir, '--resniff', '--process');
      expect(r2.stdout, r2.stderr).toContain('re-sniffed 3 file(s): 1 type(s) corrected');
      expect(r2.stdout).toContain(`${shas[1]}  video/mp4 → audio/mp4  products #${ids[1]} (audio)`);
      expect(r2.stdout).not.toContain('note: product');
      expect(r2.status, r2.stderr + r2.stdout).toBe(0);
      const db2 = openDatabase(join(dataDir, 'kho.sqlite'), { migrate: false });
      for (const sha of shas.slice(0, 2)) {
        const b = db2.sqlite.prepare('SELECT kind, metadata FROM blobs WHERE sha256 = ?').get(sha) as { kind: string; metadata: string };
        expect(b.kind).toBe('audio');
        // Extracted by the audio extractor this time (its facts: codec, sample rate; the video one's: audioTracks).
        const facts = JSON.parse(b.metadata);
        expect(facts.durationSec).toBeGreaterThan(1.5);
        expect(facts.sampleRate).toBe(44100);
        expect(facts.audioTracks).toBeUndefined();
        expect(db2.sqlite.prepare(`SELECT state FROM jobs WHERE sha256 = ? ORDER BY kind`).all(sha)).toEqual([{ state: 'done' }, { state: 'done' }]);
        expect((db2.sqlite.prepare('SELECT count(*) AS n FROM derivatives WHERE sha256 = ?').get(sha) as { n: number }).n).toBeGreaterThan(0);
      }
      const audits = (db2.sqlite.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;
      db2.close();

      // 3) Again: nothing left to correct, nothing written.
      const r3 = run(dataDir, '--resniff');
      expect(r3.status, r3.stderr).toBe(0);
      expect(r3.stdout).toContain('re-sniffed 3 file(s): 0 type(s) corrected');
      expect(r3.stdout).toContain('re-queued 0 job(s)');
      const db3 = openDatabase(join(dataDir, 'kho.sqlite'), { migrate: false });
      expect((db3.sqlite.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n).toBe(audits);
      db3.close();

      // Options that do not go together are bad usage.
      expect(run(dataDir, '--resniff', '--failed-only').status).toBe(2);
      expect(run(dataDir, '--process', '--wait').status).toBe(2);
    } finally {
      await cleanup();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 240_000);
});
