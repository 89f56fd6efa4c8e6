/**
 * Search benchmark: 100,000 synthetic Vietnamese records (1% with 50–300 pages of text), the search
 * service against a plain SQLite FTS5 baseline on the same data, in-process and over HTTP.
 *
 *   node --import tsx scripts/bench/search.ts            (standalone; `runSearchBench()` for npm run bench)
 *   BENCH_SEARCH_RECORDS=20000 BENCH_SEARCH_HTTP_SECONDS=3 …   (smaller, faster runs)
 *   BENCH_SEARCH_DIR=/tmp/sb BENCH_SEARCH_REUSE=1 …   (keep the data in a directory; measure again without regenerating)
 *   BENCH_SEARCH_WORKERS=0 …   (query worker threads of the measured server; default as the server's: SEARCH_WORKERS, else one per CPU beyond the first)
 *
 * Text comes from a syllable bigram model trained on the project's own Vietnamese test texts
 * (tests/search/relevance/texts.json: Plan 199-KH/TU, a circular, two court precedents), so syllable
 * frequencies and neighbours follow real text. The parent process generates the database and builds
 * the indexes; a fresh child process measures start-up, RSS and latencies (in-process), then serves
 * HTTP for autocannon (16 connections) so the load generator never shares the server's event loop.
 */
// @ts-expect-error autocannon ships no type declarations
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { SERVER_NODE_ARGS } from '../build.mjs';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { openDatabase } from '../../server/db/client.ts';
import searchRoutes from '../../server/routes/search.ts';
import { createSearchService, defaultSearchWorkers, foldForIndex, type SearchParams } from '../../server/search/index.ts';
import { parseQuery } from '../../server/search/query.ts';
import { loadCatalogue, lcg } from '../../tests/search/relevance/fixture.ts';
import { evaluate } from '../../tests/search/relevance/evaluate.ts';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(SELF, '../../..');

interface BenchOptions {
  records: number;
  textShare: number;
  queriesPerClass: number;
  httpSeconds: number;
  connections: number;
  dir?: string;
  keep?: boolean;
  reuse?: boolean;
}

type QueryClass = '1-syllable' | '2-syllable' | '4-syllable' | 'phrase' | 'typo' | 'prefix' | 'filtered';
type BenchQuery = { cls: QueryClass; params: SearchParams };

export interface HttpRun {
  rps: number;
  p50: number;
  p97_5: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export interface Latency {
  n: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
}

export interface SearchBenchResult {
  records: number;
  textRecords: number;
  textPages: number;
  generateMs: number;
  buildMs: number;
  baselineBuildMs: number;
  dbBytes: number;
  startupMs: number;
  startupRebuilt: boolean;
  /** Query worker threads of the measured server (see server/search/query-workers.ts). */
  workers: number;
  rssAfterStartupMb: number;
  rssPeakMb: number;
  inProcess: Record<string, { service: Latency; baseline: Latency; avgTotal: number }>;
  http: Record<string, { service: HttpRun; uncached: HttpRun; baseline: HttpRun }>;
  phases: Record<string, number>;
  relevance: { queries: number; mrr: number; ndcg10: number; pageAccuracy: number };
}

// ---------------------------------------------------------------- text model

interface TextModel {
  next: Map<string, string[]>;
  starts: string[];
  words: string[];
}

function buildModel(): TextModel {
  const t = JSON.parse(readFileSync(join(ROOT, 'tests/search/relevance/texts.json'), 'utf8')) as Record<string, string[]>;
  const next = new Map<string, string[]>();
  const starts: string[] = [];
  const words: string[] = [];
  for (const line of Object.values(t).flat()) {
    const toks = (line.normalize('NFC').toLowerCase().match(/[\p{L}\p{M}\p{N}]+/gu) ?? []).filter((x) => !/^\d+$/.test(x) || x.length <= 4);
    if (toks.length < 3) continue;
    starts.push(toks[0]);
    for (let i = 0; i < toks.length; i++) {
      words.push(toks[i]);
      if (i + 1 < toks.length) {
        let l = next.get(toks[i]);
        if (l === undefined) next.set(toks[i], (l = []));
        l.push(toks[i + 1]);
      }
    }
  }
  return { next, starts, words };
}

function sampler(model: TextModel, rnd: () => number) {
  return (n: number): string[] => {
    const out: string[] = [];
    let cur = model.starts[Math.floor(rnd() * model.starts.length)];
    for (let i = 0; i < n; i++) {
      out.push(cur);
      const l = model.next.get(cur);
      cur = l !== undefined && rnd() < 0.93 ? l[Math.floor(rnd() * l.length)] : model.words[Math.floor(rnd() * model.words.length)];
    }
    return out;
  };
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

// ---------------------------------------------------------------- data generation

const AGENCY_NAMES = [
  'Ban Tuyên giáo Tỉnh uỷ', 'Sở Văn hóa, Thể thao và Du lịch', 'Sở Thông tin và Truyền thông', 'Sở Giáo dục và Đào tạo', 'Báo Cao Bằng',
  'Đài Phát thanh - Truyền hình Cao Bằng', 'Tỉnh Đoàn Cao Bằng', 'Ủy ban Mặt trận Tổ quốc tỉnh', 'Hội Liên hiệp Phụ nữ tỉnh', 'Hội Nông dân tỉnh',
  'Hội Cựu chiến binh tỉnh', 'Liên đoàn Lao động tỉnh', 'Bảo tàng tỉnh', 'Thư viện tỉnh', 'Huyện uỷ Hà Quảng', 'Huyện uỷ Trùng Khánh', 'Huyện uỷ Bảo Lạc',
  'Huyện uỷ Nguyên Bình', 'Huyện uỷ Thạch An', 'Huyện uỷ Quảng Hòa', 'Huyện uỷ Hạ Lang', 'Huyện uỷ Hòa An', 'Huyện uỷ Bảo Lâm', 'Thành uỷ Cao Bằng',
  'Sở Nội vụ', 'Sở Tư pháp', 'Công an tỉnh', 'Bộ Chỉ huy Quân sự tỉnh', 'Bộ Chỉ huy Bộ đội Biên phòng tỉnh', 'Trường Chính trị Hoàng Đình Giong',
];
const TYPES = ['book', 'leaflet', 'flyer', 'map', 'video', 'audio', 'photo', 'document', 'other'];
const LANGS = ['vi', 'vi', 'vi', 'vi', 'vi', 'vi', 'tay', 'nung', 'hmn', 'dao'];

function generate(sqlite: Database.Database, model: TextModel, opts: BenchOptions): { textRecords: number; textPages: number } {
  const rnd = lcg(199_2023);
  const words = sampler(model, rnd);
  const insAgency = sqlite.prepare('INSERT INTO agencies(code, name) VALUES (?, ?)');
  sqlite.transaction(() => AGENCY_NAMES.forEach((n, i) => insAgency.run(`agency-${i + 1}`, n)))();
  const subjects = Array.from({ length: 400 }, () => words(2 + Math.floor(rnd() * 2)).join(' '));
  const insP = sqlite.prepare(
    `INSERT INTO products(id, title, alt_title, type, description, agency_id, year, release_date, languages, subjects, publisher, state, access)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insBlob = sqlite.prepare("INSERT INTO blobs(sha256, size, media_type, kind, page_count) VALUES (?, ?, 'application/pdf', 'pdf', ?)");
  const insText = sqlite.prepare('INSERT INTO blob_texts(sha256, page, text) VALUES (?, ?, ?)');
  const insFile = sqlite.prepare("INSERT INTO product_files(product_id, sha256, original_name, position) VALUES (?, ?, 'sach.pdf', 0)");
  const every = Math.max(1, Math.round(1 / opts.textShare));
  let textRecords = 0;
  let textPages = 0;
  const batch = 2000;
  for (let start = 1; start <= opts.records; start += batch) {
    sqlite.transaction(() => {
      for (let id = start; id < Math.min(start + batch, opts.records + 1); id++) {
        const year = 2000 + Math.floor(rnd() * 25);
        const r = rnd();
        insP.run(
          id,
          cap(words(5 + Math.floor(rnd() * 8)).join(' ')),
          rnd() < 0.2 ? cap(words(4).join(' ')) : null,
          TYPES[Math.floor(rnd() * TYPES.length)],
          cap(words(45 + Math.floor(rnd() * 30)).join(' ')) + '.',
          1 + Math.floor(rnd() * AGENCY_NAMES.length),
          year,
          `${year}-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-15`,
          JSON.stringify(rnd() < 0.85 ? ['vi'] : ['vi', LANGS[Math.floor(rnd() * LANGS.length)]]),
          JSON.stringify([subjects[Math.floor(rnd() * subjects.length)], subjects[Math.floor(rnd() * subjects.length)]]),
          rnd() < 0.3 ? 'Nhà xuất bản Chính trị quốc gia Sự thật' : null,
          r < 0.9 ? 'published' : r < 0.95 ? 'submitted' : 'in_review',
          rnd() < 0.95 ? 'public' : 'internal',
        );
        if (id % every === 0) {
          const sha = id.toString(16).padStart(64, '0');
          const pages = 50 + Math.floor(rnd() * 251);
          insBlob.run(sha, pages * 1500, pages);
          for (let p = 1; p <= pages; p++) {
            const paras: string[] = [];
            let left = 220 + Math.floor(rnd() * 80);
            while (left > 0) {
              const n = Math.min(left, 12 + Math.floor(rnd() * 20));
              paras.push(cap(words(n).join(' ')) + '.');
              left -= n;
            }
            insText.run(sha, p, paras.join(' '));
          }
          insFile.run(id, sha);
          textRecords++;
          textPages += pages;
        }
      }
    })();
  }
  return { textRecords, textPages };
}

// ---------------------------------------------------------------- queries

function makeQueries(sqlite: Database.Database, opts: BenchOptions): BenchQuery[] {
  const rnd = lcg(42);
  const rows = sqlite.prepare('SELECT title, description FROM products WHERE id % 97 = 0').all() as Array<{ title: string; description: string }>;
  const toks = rows.map((r) => (`${r.title} ${r.description}`.toLowerCase().match(/[\p{L}\p{M}\p{N}]+/gu) ?? []).filter((t) => !/^\d+$/.test(t)));
  const pick = (n: number): string[] => {
    for (;;) {
      const t = toks[Math.floor(rnd() * toks.length)];
      if (t.length < n) continue;
      const s = Math.floor(rnd() * (t.length - n + 1));
      return t.slice(s, s + n);
    }
  };
  // Half the queries typed without marks, as on a phone keyboard.
  const spell = (w: string[]) => (rnd() < 0.5 ? foldForIndex(w.join(' ')) : w.join(' '));
  const typo = (w: string): string => {
    if (w.length < 4) return w + w.charAt(w.length - 1);
    const i = 1 + Math.floor(rnd() * (w.length - 2));
    const k = rnd();
    if (k < 0.33) return w.slice(0, i) + w.slice(i + 1); // deletion
    if (k < 0.66) return w.slice(0, i) + w.charAt(i + 1) + w.charAt(i) + w.slice(i + 2); // transposition
    return w.slice(0, i) + 'aeiou'.charAt(Math.floor(rnd() * 5)) + w.slice(i + 1); // substitution
  };
  const out: BenchQuery[] = [];
  for (let i = 0; i < opts.queriesPerClass; i++) {
    out.push({ cls: '1-syllable', params: { q: spell(pick(1)) + ' ' } });
    out.push({ cls: '2-syllable', params: { q: spell(pick(2)) + ' ' } });
    out.push({ cls: '4-syllable', params: { q: spell(pick(4)) + ' ' } });
    out.push({ cls: 'phrase', params: { q: `"${spell(pick(3))}"` } });
    const two = foldForIndex(pick(2).join(' ')).split(' ');
    const longer = two[0].length >= two[1].length ? 0 : 1;
    two[longer] = typo(two[longer]);
    out.push({ cls: 'typo', params: { q: two.join(' ') + ' ' } });
    const pre = pick(2);
    const last = foldForIndex(pre[1]);
    out.push({ cls: 'prefix', params: { q: `${spell([pre[0]])} ${last.slice(0, Math.max(1, Math.ceil(last.length / 2)))}` } });
    out.push({
      cls: 'filtered',
      params: rnd() < 0.5 ? { q: spell(pick(2)) + ' ', type: TYPES[Math.floor(rnd() * TYPES.length)] } : { q: spell(pick(2)) + ' ', agency: `agency-${1 + Math.floor(rnd() * AGENCY_NAMES.length)}`, yearFrom: 2010 },
    });
  }
  return out;
}

// ---------------------------------------------------------------- baseline: plain FTS5

function buildBaseline(sqlite: Database.Database): number {
  const t0 = performance.now();
  sqlite.exec(`
    DROP TABLE IF EXISTS bench_base_docs; DROP TABLE IF EXISTS bench_base_text;
    CREATE VIRTUAL TABLE bench_base_docs USING fts5(title, agency, subjects, body, content='', tokenize='unicode61 remove_diacritics 2');
    CREATE VIRTUAL TABLE bench_base_text USING fts5(body, content='', tokenize='unicode61 remove_diacritics 2');
  `);
  const ins = sqlite.prepare('INSERT INTO bench_base_docs(rowid, title, agency, subjects, body) VALUES (?, ?, ?, ?, ?)');
  const rows = sqlite.prepare('SELECT p.id, p.title, p.alt_title, p.description, p.subjects, a.name AS agency FROM products p LEFT JOIN agencies a ON a.id = p.agency_id').all() as Array<Record<string, string | number | null>>;
  sqlite.transaction(() => {
    for (const r of rows) ins.run(r.id, foldForIndex(`${r.title} ${r.alt_title ?? ''}`), foldForIndex(String(r.agency ?? '')), foldForIndex(String(r.subjects)), foldForIndex(String(r.description ?? '')));
  })();
  const insT = sqlite.prepare('INSERT INTO bench_base_text(rowid, body) VALUES (?, ?)');
  const files = sqlite.prepare('SELECT product_id AS id, sha256 FROM product_files').all() as Array<{ id: number; sha256: string }>;
  const pages = sqlite.prepare('SELECT text FROM blob_texts WHERE sha256 = ? ORDER BY page').pluck();
  sqlite.transaction(() => {
    for (const f of files) insT.run(f.id, foldForIndex((pages.all(f.sha256) as string[]).join('\n')));
  })();
  return performance.now() - t0;
}

/** The plain baseline: folded AND query, top 20 by bm25 plus an exact count, fields and text. No facets, typos, exact preference or snippets. */
function baselineSearcher(sqlite: Database.Database) {
  const top = sqlite.prepare('SELECT rowid FROM bench_base_docs WHERE bench_base_docs MATCH ? ORDER BY rank LIMIT 20').pluck();
  const count = sqlite.prepare('SELECT count(*) FROM bench_base_docs WHERE bench_base_docs MATCH ?').pluck();
  const text = sqlite.prepare('SELECT rowid FROM bench_base_text WHERE bench_base_text MATCH ? ORDER BY rank LIMIT 20').pluck();
  return (params: SearchParams): { total: number; ids: number[] } => {
    const p = parseQuery(params.q ?? '', false);
    if (p.terms.length === 0) return { total: 0, ids: [] };
    const expr = p.phrases.length > 0 ? p.phrases.map((ph) => `"${ph.join(' ')}"`).join(' AND ') : p.terms.map((t) => `"${t.folded}"`).join(' AND ');
    const ids = top.all(expr) as number[];
    const total = count.get(expr) as number;
    const tids = text.all(expr) as number[];
    return { total: total + tids.length, ids: [...ids, ...tids].slice(0, 20) };
  };
}

// ---------------------------------------------------------------- measurement helpers

function latency(samples: number[]): Latency {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const r = (x: number) => Math.round(x * 100) / 100;
  return { n: s.length, median: r(q(0.5)), p95: r(q(0.95)), p99: r(q(0.99)), max: r(s[s.length - 1]) };
}

const toQs = (p: SearchParams): string =>
  '?' + Object.entries(p).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&');

async function cannon(url: string, paths: string[], seconds: number, connections: number) {
  let i = 0;
  const res = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, path: paths[i++ % paths.length] }) }],
  });
  return { rps: Math.round(res.requests.average), p50: res.latency.p50, p97_5: res.latency.p97_5, p99: res.latency.p99, errors: res.errors, non2xx: res.non2xx };
}

// ---------------------------------------------------------------- child: start-up, in-process, HTTP server

async function child(dbFile: string, queriesFile: string): Promise<void> {
  const t0 = performance.now();
  const db = openDatabase(dbFile);
  // Query worker threads as the server runs them (server/plugins/search.ts); BENCH_SEARCH_WORKERS overrides.
  const workers = Number(process.env.BENCH_SEARCH_WORKERS ?? defaultSearchWorkers());
  const service = createSearchService({ sqlite: db.sqlite, profile: true, workers, workerInflight: process.env.BENCH_SEARCH_INFLIGHT ? Number(process.env.BENCH_SEARCH_INFLIGHT) : undefined }) as ReturnType<typeof createSearchService> & {
    searchUncached: ReturnType<typeof createSearchService>['search'];
    phaseTimings(): Record<string, number>;
  };
  const ready = service.ensureReady();
  const startupMs = Math.round(performance.now() - t0);
  const rssAfterStartupMb = Math.round(process.memoryUsage().rss / 2 ** 20);
  const queries = JSON.parse(readFileSync(queriesFile, 'utf8')) as BenchQuery[];
  const base = baselineSearcher(db.sqlite);
  // Warm-up (JIT, page cache) on a slice of the queries, then measure every query once per engine.
  for (const q of queries.slice(0, 200)) {
    service.searchUncached(q.params, null);
    base(q.params);
  }
  const byClass = new Map<string, { s: number[]; b: number[]; total: number }>();
  for (const q of queries) {
    let e = byClass.get(q.cls);
    if (e === undefined) byClass.set(q.cls, (e = { s: [], b: [], total: 0 }));
    let t = performance.now();
    const r = service.searchUncached(q.params, null);
    e.s.push(performance.now() - t);
    e.total += r.total;
    t = performance.now();
    base(q.params);
    e.b.push(performance.now() - t);
  }
  const inProcess: SearchBenchResult['inProcess'] = {};
  for (const [cls, e] of byClass) inProcess[cls] = { service: latency(e.s), baseline: latency(e.b), avgTotal: Math.round(e.total / e.s.length) };

  const app = Fastify({ logger: false });
  app.decorateRequest('principal', null);
  // The real route (query validation, response schema serialisation) twice: with the service's answer
  // cache at /api/search, and under /bench/uncached with every search bypassing that cache.
  await app.register(async (cached) => {
    cached.decorate('searchIndex', service as never);
    await cached.register(searchRoutes);
  });
  const uncached = { ...service, search: service.searchUncached, searchAsync: (p: SearchParams, v: null) => service.searchAsync(p, v, false) };
  await app.register(
    async (scope) => {
      scope.decorate('searchIndex', uncached as never);
      await scope.register(searchRoutes);
    },
    { prefix: '/bench/uncached' },
  );
  app.get('/bench/baseline', async (req) => base(req.query as SearchParams));
  app.get('/bench/rss', async () => ({ rss: process.memoryUsage().rss, maxRss: process.resourceUsage().maxRSS * 1024 }));
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(JSON.stringify({ address, startupMs, workers: (service as unknown as { workersLive(): number }).workersLive(), startupRebuilt: ready.rebuilt, rssAfterStartupMb, inProcess, phases: service.phaseTimings() }) + '\n');
  process.on('SIGTERM', () => {
    void app.close().then(() => {
      service.close();
      db.close();
      process.exit(0);
    });
  });
}

// ---------------------------------------------------------------- parent

export async function runSearchBench(partial: Partial<BenchOptions> = {}): Promise<SearchBenchResult> {
  const env = process.env;
  const opts: BenchOptions = {
    records: Number(env.BENCH_SEARCH_RECORDS ?? 100_000),
    textShare: Number(env.BENCH_SEARCH_TEXT_SHARE ?? 0.01),
    queriesPerClass: Number(env.BENCH_SEARCH_QUERIES ?? 400),
    httpSeconds: Number(env.BENCH_SEARCH_HTTP_SECONDS ?? 5),
    connections: 16,
    ...partial,
  };
  const log = (m: string) => process.stderr.write(`[bench:search] ${m}\n`);
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'kho-search-bench-'));
  mkdirSync(dir, { recursive: true });
  const dbFile = join(dir, 'kho.sqlite');
  const queriesFile = join(dir, 'queries.json');
  // BENCH_SEARCH_REUSE=1 with BENCH_SEARCH_DIR: measure again on the database (and queries) of an earlier kept run.
  const reuse = opts.reuse === true && existsSync(dbFile) && existsSync(queriesFile) && existsSync(join(dir, 'build.json'));
  if (!reuse) rmSync(dbFile, { force: true });
  if (!reuse) rmSync(dbFile + '-wal', { force: true });
  if (!reuse) rmSync(dbFile + '-shm', { force: true });

  // Relevance on the judged set (small, in memory).
  const rel = (() => {
    const mem = openDatabase(':memory:');
    const cat = loadCatalogue(mem.sqlite);
    const s = createSearchService({ sqlite: mem.sqlite });
    s.ensureReady();
    const ev = evaluate(s, cat);
    s.close();
    mem.close();
    return { queries: ev.queries, mrr: ev.mrr, ndcg10: ev.ndcg10, pageAccuracy: ev.pageAccuracy };
  })();
  log(`relevance: ${rel.queries} queries, MRR ${rel.mrr}, nDCG@10 ${rel.ndcg10}, page accuracy ${rel.pageAccuracy}`);

  let build: { gen: { textRecords: number; textPages: number }; generateMs: number; buildMs: number; baselineBuildMs: number; dbBytes: number };
  if (reuse) {
    build = JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8'));
    log(`reusing ${dbFile} (built earlier: ${(build.buildMs / 1000).toFixed(1)} s)`);
  } else {
    const db = openDatabase(dbFile);
    db.sqlite.pragma('synchronous = NORMAL');
    let t = performance.now();
    const gen = generate(db.sqlite, buildModel(), opts);
    const generateMs = Math.round(performance.now() - t);
    log(`generated ${opts.records} records, ${gen.textRecords} with ${gen.textPages} pages of text in ${(generateMs / 1000).toFixed(1)} s`);
    const service = createSearchService({ sqlite: db.sqlite });
    t = performance.now();
    service.rebuild();
    const buildMs = Math.round(performance.now() - t);
    log(`index built in ${(buildMs / 1000).toFixed(1)} s`);
    service.close();
    const baselineBuildMs = Math.round(buildBaseline(db.sqlite));
    log(`baseline FTS5 built in ${(baselineBuildMs / 1000).toFixed(1)} s`);
    const queries = makeQueries(db.sqlite, opts);
    db.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    const dbBytes = (db.sqlite.prepare('SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()').pluck().get() as number) ?? 0;
    db.close();
    writeFileSync(queriesFile, JSON.stringify(queries));
    build = { gen, generateMs, buildMs, baselineBuildMs, dbBytes };
    writeFileSync(join(dir, 'build.json'), JSON.stringify(build));
  }
  const { gen, generateMs, buildMs, baselineBuildMs, dbBytes } = build;
  const queries = JSON.parse(readFileSync(queriesFile, 'utf8')) as BenchQuery[];

  // The measured process runs with the Node flags `npm start` gives the server (SERVER_NODE_ARGS).
  const proc = spawn(process.execPath, [...SERVER_NODE_ARGS, '--import', 'tsx', SELF, '--child', dbFile, queriesFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((res, rej) => {
    let buf = '';
    proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) res(buf.slice(0, nl));
    });
    proc.on('exit', (code) => rej(new Error(`bench child exited with ${code}`)));
  });
  const info = JSON.parse(first) as { address: string; startupMs: number; workers: number; startupRebuilt: boolean; rssAfterStartupMb: number; inProcess: SearchBenchResult['inProcess']; phases: Record<string, number> };
  log(`child start-up ${info.startupMs} ms (rebuilt: ${info.startupRebuilt}), RSS ${info.rssAfterStartupMb} MB; HTTP at ${info.address}`);
  const http: SearchBenchResult['http'] = {};
  try {
    const classes = [...new Set(queries.map((q) => q.cls))];
    for (const cls of classes) {
      const qs = queries.filter((q) => q.cls === cls).map((q) => toQs(q.params));
      const s = await cannon(info.address, qs.map((x) => `/api/search${x}`), opts.httpSeconds, opts.connections);
      const u = await cannon(info.address, qs.map((x) => `/bench/uncached/api/search${x}`), opts.httpSeconds, opts.connections);
      const b = await cannon(info.address, qs.map((x) => `/bench/baseline${x}`), opts.httpSeconds, opts.connections);
      http[cls] = { service: s, uncached: u, baseline: b };
      log(`HTTP ${cls}: ${s.rps} req/s with the answer cache, ${u.rps} without (p99 ${u.p99} ms), baseline ${b.rps} req/s`);
    }
  } finally {
    var rss = (await (await fetch(`${info.address}/bench/rss`)).json()) as { rss: number; maxRss: number };
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
  if (!opts.keep && opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
  return {
    records: opts.records,
    textRecords: gen.textRecords,
    textPages: gen.textPages,
    generateMs,
    buildMs,
    baselineBuildMs,
    dbBytes,
    startupMs: info.startupMs,
    startupRebuilt: info.startupRebuilt,
    workers: info.workers,
    rssAfterStartupMb: info.rssAfterStartupMb,
    rssPeakMb: Math.round(rss.maxRss / 2 ** 20),
    inProcess: info.inProcess,
    http,
    phases: info.phases,
    relevance: rel,
  };
}

export function formatSearchBench(r: SearchBenchResult): string {
  const lines: string[] = [];
  lines.push(`Search bench: ${r.records} records, ${r.textRecords} with full text (${r.textPages} pages), DB ${(r.dbBytes / 2 ** 20).toFixed(0)} MB`);
  lines.push(`  index build ${(r.buildMs / 1000).toFixed(1)} s (baseline FTS5 ${(r.baselineBuildMs / 1000).toFixed(1)} s); start-up ${r.startupMs} ms (rebuilt: ${r.startupRebuilt}, ${r.workers} query worker(s)); RSS after start-up ${r.rssAfterStartupMb} MB, peak ${r.rssPeakMb} MB`);
  lines.push(`  relevance: ${r.relevance.queries} judged queries, MRR ${r.relevance.mrr}, nDCG@10 ${r.relevance.ndcg10}, page accuracy ${r.relevance.pageAccuracy}`);
  lines.push('  in-process latency, ms (median / p95 / p99)      service                 plain FTS5 baseline     avg total');
  for (const [cls, v] of Object.entries(r.inProcess)) {
    const f = (l: Latency) => `${l.median} / ${l.p95} / ${l.p99}`.padEnd(24);
    lines.push(`    ${cls.padEnd(44)} ${f(v.service)}${f(v.baseline)}${v.avgTotal}`);
  }
  lines.push('  HTTP, 16 connections: req/s (p50 / p97.5 / p99 ms); each class cycles through its queries, so "cached" repeats them;');
  lines.push('  "uncached" bypasses the answer cache (searches on the query workers and the main thread)');
  const h = (x: HttpRun) => `${String(x.rps).padStart(6)} (${x.p50} / ${x.p97_5} / ${x.p99})`.padEnd(26);
  for (const [cls, v] of Object.entries(r.http)) {
    lines.push(`    ${cls.padEnd(12)} cached ${h(v.service)} uncached ${h(v.uncached)} baseline ${h(v.baseline)} errors ${v.service.errors + v.service.non2xx + v.uncached.errors + v.uncached.non2xx}`);
  }
  lines.push(`  in-process time by phase (ms, all queries): ${JSON.stringify(r.phases)}`);
  return lines.join('\n');
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === SELF;
if (isMain) {
  if (process.argv[2] === '--child') {
    await child(process.argv[3], process.argv[4]);
  } else {
    const r = await runSearchBench({ keep: process.env.BENCH_SEARCH_KEEP === '1', dir: process.env.BENCH_SEARCH_DIR || undefined, reuse: process.env.BENCH_SEARCH_REUSE === '1' });
    console.log(formatSearchBench(r));
    mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench-results/search.json'), JSON.stringify(r, null, 2) + '\n');
  }
}
