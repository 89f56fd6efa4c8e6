/**
 * Server time of the search page with a few thousand published records (the search engineer
 * benchmarks the index itself at 100,000). Measures the page's own Server-Timing (search + render)
 * and the whole inject round trip, and prints them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/app.ts';

const N = 5000;
const WORDS = ['lịch sử', 'Đảng bộ', 'Cao Bằng', 'thanh niên', 'du lịch', 'Pác Bó', 'văn hoá', 'dân tộc', 'Tày', 'Nùng', 'biên giới', 'nông thôn mới', 'Bản Giốc', 'truyền thống', 'cách mạng'];
const TYPES = ['book', 'leaflet', 'flyer', 'map', 'video', 'audio', 'photo', 'document'];

describe('search page server time', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    const { sqlite } = t.app.db;
    const agencies = (sqlite.prepare('SELECT id FROM agencies').all() as Array<{ id: number }>).map((a) => a.id);
    const ins = sqlite.prepare(
      `INSERT INTO products (title, type, description, agency_id, year, languages, subjects, state, access, published_at, submitted_at)
       VALUES (?, ?, ?, ?, ?, ?, '[]', 'published', 'public', ?, ?)`,
    );
    sqlite.transaction(() => {
      for (let i = 0; i < N; i++) {
        const w = (k: number) => WORDS[(i * 7 + k * 13) % WORDS.length];
        const at = new Date(Date.UTC(2020 + (i % 5), i % 12, 1 + (i % 27))).toISOString();
        ins.run(`${w(0)} ${w(1)} số ${i}`, TYPES[i % TYPES.length], `Tài liệu về ${w(2)} và ${w(3)}.`, agencies[i % agencies.length], 2018 + (i % 6), i % 9 === 0 ? '["vi","tay"]' : '["vi"]', at, at);
      }
    })();
    t.app.searchIndex.rebuild();
  }, 120_000);
  afterAll(async () => t?.close());

  it(`renders in well under 100 ms server time with ${N} records`, async () => {
    const urls = ['/', '/?q=lich+su', '/?q=cao+bang&type=book&year=2021', '/?q=pac+bo&sort=date&page=3', '/?q=van+hoa+dan+toc&language=tay', '/?q=bien+gioi+nong+thon'];
    // Warm up (JIT, statement caches).
    for (const u of urls) await t.app.inject({ method: 'GET', url: u });
    const server: number[] = [];
    const total: number[] = [];
    const perUrl = new Map<string, number[]>();
    const render: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (const u of urls) {
        const t0 = performance.now();
        const res = await t.app.inject({ method: 'GET', url: u });
        total.push(performance.now() - t0);
        expect(res.statusCode).toBe(200);
        const timing = String(res.headers['server-timing']);
        const ms = [...timing.matchAll(/dur=([\d.]+)/g)].reduce((s, m) => s + Number(m[1]), 0);
        server.push(ms);
        render.push(Number(/render;dur=([\d.]+)/.exec(timing)?.[1] ?? 0));
        perUrl.set(u, [...(perUrl.get(u) ?? []), ms]);
      }
    }
    const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
    console.log(`search page, ${N} records: server time median ${q(server, 0.5).toFixed(1)} ms, p95 ${q(server, 0.95).toFixed(1)} ms; inject round trip median ${q(total, 0.5).toFixed(1)} ms, p95 ${q(total, 0.95).toFixed(1)} ms`);
    console.log(`  of which page rendering (HTML, facets, agency names): median ${q(render, 0.5).toFixed(1)} ms, p95 ${q(render, 0.95).toFixed(1)} ms`);
    for (const [u, xs] of perUrl) console.log(`  ${u}: median ${q(xs, 0.5).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`);
    expect(q(server, 0.5)).toBeLessThan(100);
    const browse = await t.app.inject({ method: 'GET', url: '/' });
    expect(browse.body.match(/class="hit"/g)).toHaveLength(20);
  }, 120_000);
});
