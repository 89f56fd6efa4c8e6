/**
 * `/api/search` checked against a plain reference. A random catalogue (seeded, so a failure can be
 * replayed with KHO_DIFF_SEED) is built through the real app over HTTP — uploads with text files the
 * job worker extracts, workflow transitions, several agencies, types, years (and none), languages,
 * states and access levels — then many random requests (words taken from the records, with and without
 * marks, every filter, sort, page and limit; as anonymous, an agency's submitter, a researcher granted
 * internal records, and an archivist) are compared with what straightforward code computes from the
 * database:
 *
 * - exactly: which records a viewer may see; for a query searched as typed (no `corrections`, no
 *   `expansions`, the last word followed by a space so it is not a prefix) the set of visible records
 *   holding every required word — in their catalogue fields, or all of them in one file's text, the
 *   documented rule — with every filter applied: `total`, the ids over all pages (each exactly once),
 *   and each facet counted with the other filters applied; `mode` (`or` exactly when no visible record
 *   holds every word); `ignored` words are held by no visible record; page and limit bounds;
 *   `sort=date` and `sort=title` order (dateKey and titleSortKey, as docs/search.md defines them);
 * - loosely: relevance order (scores never increase down the list, ties by id); a last word typed
 *   without a space (a prefix) finds at least what the whole word finds; in `or` mode every hit holds
 *   some word and every record holding at least half of them in its fields is listed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { makeActors, type Actors } from '../catalogue/fixtures.ts';
import { titleSortKey } from '../../server/search/fold.ts';
import { seededRandom } from '../helpers/fixtures.ts';

const SEED = Number(process.env.KHO_DIFF_SEED ?? 20261128);
const RECORDS = 300;
const CASES = 300;


/** Folding as documented (docs/search.md, Folding): NFD, marks stripped, đ → d, lower case. */
const fold = (s: string): string => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd').toLowerCase();
const words = (s: string | null | undefined): string[] => (s ? fold(s).match(/[\p{L}\p{N}]+/gu) ?? [] : []);

/** Syllables the records are written with (real Vietnamese, with marks). */
const SYLLABLES = (
  'thác giốc hang ngườm ngao núi phja oắc đồn biên phòng chiến thắng đông khê hội xuân lồng tồng làng nghề rèn phúc sen ' +
  'múa sư tử hát then đàn tính chợ phiên vùng hồ thang hen rừng trúc cây hồi hạt dẻ trùng khánh bánh cuốn lúa nếp mùa gặt ' +
  'đêm trăng suối đá đèo mã phục sông giang quây sơn cầu đường nhà sàn mái ngói đất nước non hùng liệt cách mạng tuyên truyền ' +
  'giáo dục thống niệm ngày lập bộ đội đoàn kết tộc lễ cấp sắc tết nhảy lửa khèn sáo áo chàm thổ cẩm giấy mộc khắc gỗ chè ' +
  'xanh ớt gừng măng chim đào mận người già trẻ em học sinh trường lớp thầy cô bác cháu cội nguồn ký ức năm tháng xưa nay ' +
  'mới cũ đẹp giàu mạnh vững vàng bền lâu dài rộng cao thấp sâu trong ngoài trên dưới giữa đầu cuối'
).split(' ');

const TYPES = ['book', 'leaflet', 'flyer', 'map', 'video', 'audio', 'photo', 'document', 'other'];
const AGENCIES = ['ban-tuyen-giao', 'so-vhttdl', 'so-tttt', 'tinh-doan', 'bao-cao-bang'];
const STATES = ['submitted', 'in_review', 'accepted', 'published', 'returned', 'withdrawn'];
/** Beyond 32 distinct languages the facet table's bit mask ran out (see facets.ts). */
const LANGS = ['vi', 'tay', 'nut', 'hmn', 'dao', 'en', 'fr', 'zh', ...'ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da'.split(' ')];
const PATHS: Record<string, string[]> = {
  submitted: [],
  in_review: ['start_review'],
  accepted: ['start_review', 'accept'],
  published: ['start_review', 'accept', 'publish'],
  returned: ['return'],
  withdrawn: ['withdraw'],
};

interface Rec {
  id: number;
  title: string;
  type: string;
  agencyId: number | null;
  agencyCode: string | null;
  year: number | null;
  releaseDate: string | null;
  createdAt: string;
  languages: string[];
  state: string;
  access: string;
  /** Folded words of the catalogue fields searched (title, description, subjects, agency, type and language labels, year). */
  fieldWords: Set<string>;
  /** Folded words of each file's text. */
  texts: Array<Set<string>>;
}

type Viewer = 'anonymous' | 'agency' | 'researcherInternal' | 'archivist';

describe('the search API against a reference computed from the database', () => {
  let t: TestApp;
  let a: Actors;
  let base: string;
  let recs: Rec[] = [];
  let agencyOf: Map<number, string>;
  let vocab: string[] = [];
  const headersOf = (v: Viewer): Record<string, string> => (v === 'anonymous' ? {} : a[v === 'agency' ? 'agency' : v].headers);
  const sees = (v: Viewer, r: Rec): boolean => {
    const pub = r.state === 'published' && r.access === 'public';
    if (v === 'anonymous') return pub;
    if (v === 'archivist') return true;
    if (v === 'researcherInternal') return r.state === 'published';
    return pub || r.agencyId === a.agencyA;
  };

  const get = async (path: string, v: Viewer) => {
    const res = await fetch(base + path, { headers: headersOf(v) });
    const body = await res.text();
    return { status: res.status, body, json: () => JSON.parse(body) };
  };

  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 1 } });
    a = await makeActors(t.app);
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    const rnd = seededRandom(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const phrase = (min: number, max: number) => Array.from({ length: min + Math.floor(rnd() * (max - min + 1)) }, () => pick(SYLLABLES)).join(' ');
    const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    let langTurn = 0;
    for (let i = 0; i < RECORDS; i++) {
      const fields: Record<string, string | string[]> = { title: cap(phrase(2, 6)), type: pick(TYPES) };
      if (rnd() < 0.5) fields.description = cap(phrase(4, 14)) + '.';
      if (rnd() < 0.35) fields.subjects = [phrase(2, 2), phrase(1, 2)].slice(0, 1 + Math.floor(rnd() * 2));
      if (rnd() < 0.9) fields.agency = pick(AGENCIES);
      const yr = rnd();
      if (yr < 0.25) fields.releaseDate = `${2015 + Math.floor(rnd() * 10)}-0${1 + Math.floor(rnd() * 9)}-1${Math.floor(rnd() * 9)}`;
      else if (yr < 0.75) fields.year = String(2015 + Math.floor(rnd() * 10));
      // Every language of the list used at least once (more than 32 distinct), the common ones often.
      const langs = langTurn < LANGS.length && rnd() < 0.3 ? [LANGS[langTurn++]] : rnd() < 0.6 ? [pick(LANGS.slice(0, 6))] : [pick(LANGS.slice(0, 6)), pick(LANGS.slice(0, 8))];
      fields.languages = [...new Set(langs)].join(',');
      if (rnd() < 0.25) fields.access = 'internal';
      // A third of the records carry a text file of their own words; the rest one shared file without words.
      const text = rnd() < 0.35 ? `${cap(phrase(8, 30))}.\n${phrase(3, 12)}.\n` : '— — —\n';
      const { body, headers } = multipartBody(fields, [{ filename: `tai-lieu-${i}.txt`, contentType: 'text/plain', data: Buffer.from(text) }]);
      const res = await fetch(`${base}/api/products`, { method: 'POST', headers: { ...admin, ...headers }, body: new Uint8Array(body) });
      expect(res.status, await res.clone().text()).toBe(201);
      const id = ((await res.json()) as { id: number }).id;
      const state = rnd() < 0.5 ? 'published' : pick(STATES);
      for (const action of PATHS[state]) {
        const r = await fetch(`${base}/api/products/${id}/transitions`, {
          method: 'POST',
          headers: { ...admin, 'content-type': 'application/json' },
          body: JSON.stringify(action === 'return' ? { action, reason: 'Thiếu bản lưu chiểu' } : { action }),
        });
        expect(r.status, await r.clone().text()).toBe(200);
      }
    }
    // Every file's text extracted (the job worker) and indexed.
    const deadline = Date.now() + 240_000;
    for (;;) {
      const left = (t.app.db.sqlite.prepare("SELECT count(*) AS n FROM jobs WHERE kind = 'extract' AND state IN ('queued', 'running')").get() as { n: number }).n;
      if (left === 0) break;
      if (Date.now() > deadline) throw new Error(`${left} extraction jobs still waiting`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // The text of a file is indexed in slices after its job (indexBlobSoon): give it a moment.
    await new Promise((r) => setTimeout(r, 1000));

    // The reference: read back from the database, with straightforward code.
    const sqlite = t.app.db.sqlite;
    const agencies = sqlite.prepare('SELECT id, code, name, short_name FROM agencies').all() as Array<{ id: number; code: string; name: string; short_name: string | null }>;
    agencyOf = new Map(agencies.map((g) => [g.id, g.code]));
    const typeLabel: Record<string, string> = { book: 'sách', leaflet: 'tờ rơi', flyer: 'tờ gấp', map: 'bản đồ', video: 'phim video clip', audio: 'âm thanh phát thanh', photo: 'ảnh', document: 'tài liệu văn bản', other: '' };
    const langLabel: Record<string, string> = { vi: '', tay: 'Tày', nut: 'Nùng', hmn: "H'Mông Mông", dao: 'Dao', en: 'Anh' };
    const rows = sqlite.prepare('SELECT id, title, alt_title, type, description, agency_id, year, release_date, created_at, languages, subjects, state, access FROM products ORDER BY id').all() as Array<Record<string, string | number | null>>;
    const textsOf = sqlite.prepare('SELECT group_concat(bt.text, char(10)) AS text FROM product_files pf JOIN blob_texts bt ON bt.sha256 = pf.sha256 WHERE pf.product_id = ? GROUP BY pf.sha256');
    recs = rows.map((r) => {
      const g = r.agency_id === null ? undefined : agencies.find((x) => x.id === r.agency_id);
      const langs = JSON.parse(String(r.languages ?? '[]')) as string[];
      const fieldText = [r.title, r.alt_title, r.description, ...(JSON.parse(String(r.subjects ?? '[]')) as string[]), g?.name, g?.short_name, g?.code.replace(/-/g, ' '), typeLabel[String(r.type)], ...langs.map((l) => langLabel[l] ?? l), r.year === null ? null : String(r.year)];
      return {
        id: Number(r.id),
        title: String(r.title),
        type: String(r.type),
        agencyId: r.agency_id === null ? null : Number(r.agency_id),
        agencyCode: g?.code ?? null,
        year: r.year === null ? null : Number(r.year),
        releaseDate: r.release_date === null ? null : String(r.release_date),
        createdAt: String(r.created_at),
        languages: langs,
        state: String(r.state),
        access: String(r.access),
        fieldWords: new Set(fieldText.flatMap((s) => words(s as string | null))),
        texts: (textsOf.all(r.id) as Array<{ text: string }>).map((x) => new Set(words(x.text))),
      };
    });
    expect(recs).toHaveLength(RECORDS);
    expect(recs.filter((r) => r.texts.some((s) => s.size > 0)).length).toBeGreaterThan(RECORDS / 5);
    expect(new Set(recs.flatMap((r) => r.languages)).size).toBeGreaterThan(32);
    // Words of the records a query may use and the reference match exactly: not a word of an agency's
    // name, a type or language label (every record of that agency/type holds it), nor one the search
    // reads in other forms (i/y spellings, Roman numerals, abbreviations, question words).
    const noise = new Set([...agencies.flatMap((g) => [...words(g.name), ...words(g.short_name), ...words(g.code.replace(/-/g, ' '))]), ...Object.values(typeLabel).flatMap(words), ...Object.values(langLabel).flatMap(words), ...LANGS]);
    const other = /^(h|k|l|m|qu|s|t)[iy]$|^[ivxlcdm]+$/;
    vocab = [...new Set(SYLLABLES)].filter((s) => !noise.has(fold(s)) && !other.test(fold(s)) && !['về', 'những', 'các', 'có', 'không', 'nào', 'tìm', 'gì', 'xin', 'hãy', 'muốn', 'cần', 'giúp', 'tôi', 'đâu'].includes(s));
    expect(vocab.length).toBeGreaterThan(100);
  }, 600_000);

  afterAll(async () => t?.close());

  /** What a viewer may see, with the state filter (a filter like any other, but on every facet too). */
  const holds = (r: Rec, w: string) => r.fieldWords.has(w) || r.texts.some((s) => s.has(w));
  const holdsAll = (r: Rec, ws: string[]) => ws.every((w) => r.fieldWords.has(w)) || r.texts.some((s) => ws.every((w) => s.has(w)));

  interface Params {
    q?: string;
    type?: string;
    agency?: string;
    year?: number;
    yearFrom?: number;
    yearTo?: number;
    language?: string;
    state?: string;
    sort?: 'relevance' | 'date' | 'title';
  }
  const listOf = (s: string | undefined) => (s === undefined ? [] : s.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean));
  const filterOk = (r: Rec, p: Params, skip: 'type' | 'agency' | 'year' | 'language' | null) => {
    const types = listOf(p.type);
    const ags = listOf(p.agency);
    const langs = listOf(p.language);
    const states = listOf(p.state);
    if (states.length > 0 && !states.includes(r.state)) return false;
    if (skip !== 'type' && types.length > 0 && !types.includes(r.type)) return false;
    if (skip !== 'agency' && ags.length > 0 && !(r.agencyId !== null && (ags.includes(String(r.agencyId)) || ags.includes(r.agencyCode!)))) return false;
    if (skip !== 'language' && langs.length > 0 && !r.languages.some((l) => langs.includes(l))) return false;
    const anyYear = p.year !== undefined || p.yearFrom !== undefined || p.yearTo !== undefined;
    if (anyYear) {
      if (r.year === null) return false;
      if (skip !== 'year' && p.year !== undefined && r.year !== p.year) return false;
      if (p.yearFrom !== undefined && r.year < p.yearFrom) return false;
      if (p.yearTo !== undefined && r.year > p.yearTo) return false;
    }
    return true;
  };
  const facetsOf = (matching: Rec[], p: Params) => {
    const out = { type: {} as Record<string, number>, agency: {} as Record<string, number>, year: {} as Record<string, number>, language: {} as Record<string, number> };
    const inc = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
    for (const r of matching) {
      if (filterOk(r, p, 'type')) inc(out.type, r.type);
      if (filterOk(r, p, 'agency') && r.agencyCode !== null) inc(out.agency, r.agencyCode);
      if (filterOk(r, p, 'year') && r.year !== null) inc(out.year, String(r.year));
      if (filterOk(r, p, 'language')) for (const l of r.languages) inc(out.language, l);
    }
    return out;
  };
  const dateKey = (r: Rec) => `${r.releaseDate ?? (r.year !== null ? String(r.year) : '')}\u0001${r.createdAt}`;
  const qs = (p: Params & { page?: number; limit?: number }) =>
    Object.entries(p)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
      .join('&');

  interface Hit {
    id: number;
    score: number;
  }
  /** Every page of a request: the hits in order, after checking each page's bounds and that total and facets hold still. */
  async function allPages(p: Params, v: Viewer, limit: number) {
    const first = await get(`/api/search?${qs({ ...p, limit })}`, v);
    expect(first.status, first.body).toBe(200);
    const body = first.json();
    const pages = Math.max(1, Math.ceil(body.total / limit));
    const hits: Hit[] = [];
    for (let page = 1; page <= pages + 1; page++) {
      const res = page === 1 ? first : await get(`/api/search?${qs({ ...p, page, limit })}`, v);
      expect(res.status, res.body).toBe(200);
      const b = res.json();
      expect(b.page).toBe(page);
      expect(b.limit).toBe(limit);
      expect(b.total).toBe(body.total);
      expect(b.facets).toEqual(body.facets);
      expect(b.hits.length, `page ${page} of ${pages}`).toBe(Math.max(0, Math.min(limit, body.total - (page - 1) * limit)));
      hits.push(...(b.hits as Hit[]));
    }
    return { body, hits };
  }

  it('agrees with the reference on random requests of every viewer', async () => {
    const rnd = seededRandom(SEED + 1);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const byId = new Map(recs.map((r) => [r.id, r]));
    const viewers: Viewer[] = ['anonymous', 'agency', 'researcherInternal', 'archivist'];
    const tally = { exact: 0, orMode: 0, skipped: 0, browse: 0, prefix: 0, nonEmpty: 0 };
    for (let c = 0; c < CASES; c++) {
      const v = pick(viewers);
      const visible = recs.filter((r) => sees(v, r));
      // Words from a record this viewer may see (sometimes from any record: a hidden one's words must not show).
      const src = rnd() < 0.85 ? pick(visible) : pick(recs);
      const own = [...src.fieldWords, ...src.texts.flatMap((s) => [...s])];
      const spelled = new Map<string, string>();
      for (const s of SYLLABLES) spelled.set(fold(s), s);
      const usable = [...new Set(own)].filter((w) => vocab.some((s) => fold(s) === w));
      const n = rnd() < 0.15 ? 0 : 1 + Math.floor(rnd() * 3);
      const qWords = Array.from({ length: Math.min(n, usable.length) }, () => pick(usable));
      // With marks, without, or capitalised.
      const typed = qWords.map((w) => (rnd() < 0.5 ? spelled.get(w)! : rnd() < 0.5 ? w : w.charAt(0).toUpperCase() + w.slice(1)));
      const p: Params = {};
      const asPrefix = typed.length > 0 && rnd() < 0.15;
      // Sometimes a word excluded (`-word`, first, so a prefix stays last): a word of another visible record.
      const exWord = rnd() < 0.2 ? pick([...pick(visible).fieldWords].filter((w) => vocab.some((x) => fold(x) === w)).concat(usable)) : null;
      const exTyped = exWord === null ? [] : [`-${rnd() < 0.5 ? spelled.get(exWord)! : exWord}`];
      if (typed.length + exTyped.length > 0) p.q = [...exTyped, ...typed].join(' ') + (asPrefix ? '' : ' ');
      if (rnd() < 0.3) p.type = [pick(TYPES), ...(rnd() < 0.3 ? [pick(TYPES)] : [])].join(',');
      if (rnd() < 0.3) {
        const g = pick(AGENCIES);
        const id = [...agencyOf].find(([, code]) => code === g)![0];
        p.agency = [rnd() < 0.5 ? g : String(id), ...(rnd() < 0.3 ? [pick(AGENCIES).toUpperCase()] : [])].join(',');
      }
      const y = rnd();
      if (y < 0.15) p.year = 2015 + Math.floor(rnd() * 10);
      else if (y < 0.3) {
        const lo = 2015 + Math.floor(rnd() * 10);
        if (rnd() < 0.7) p.yearFrom = lo;
        if (rnd() < 0.7) p.yearTo = lo + Math.floor(rnd() * 4);
        if (rnd() < 0.2) p.year = lo + 1;
      }
      if (rnd() < 0.25) p.language = [pick(LANGS), ...(rnd() < 0.3 ? [pick(LANGS.slice(0, 6))] : [])].join(',');
      if (rnd() < 0.25) p.state = [pick(STATES), ...(rnd() < 0.3 ? [pick(STATES)] : [])].join(',');
      if (rnd() < 0.6) p.sort = pick(['relevance', 'date', 'title'] as const);
      const what = `${v} ${qs(p)}`;

      const total = visible.filter((r) => filterOk(r, p, null)).length;
      const limit = Math.max(1 + Math.floor(rnd() * 100), Math.ceil(total / 12));
      const { body, hits } = await allPages(p, v, limit);
      // Nothing the viewer may not see, in the hits or the facets.
      for (const h of hits) expect(sees(v, byId.get(h.id)!), `${what}: hidden record ${h.id} listed`).toBe(true);
      const ids = hits.map((h) => h.id);
      expect(new Set(ids).size, `${what}: an id listed twice`).toBe(ids.length);
      expect(ids.length, what).toBe(body.total);
      const sort = p.sort ?? (typed.length > 0 ? 'relevance' : 'date');
      // An excluded word leaves out every record holding it, in its fields or a file's text (docs/search.md, Operators).
      if (exWord !== null) for (const id of ids) expect(holds(byId.get(id)!, exWord), `${what}: ${id} holds the excluded word`).toBe(false);
      const kept = (rs: Rec[]) => (exWord === null ? rs : rs.filter((r) => !holds(r, exWord)));

      let expected: Rec[] | null = null;
      if (typed.length === 0) {
        tally.browse++;
        expected = kept(visible);
        expect(body.mode, what).toBe('all');
      } else if (body.corrections.length > 0 || (body.expansions ?? []).length > 0) {
        tally.skipped++;
      } else {
        // Words left out must be held by no record the viewer may see (else they leaked or were lost).
        for (const w of body.ignored ?? []) expect(visible.some((r) => r.fieldWords.has(fold(w)) || r.texts.some((s) => s.has(fold(w)))), `${what}: ignored ${w}`).toBe(false);
        const optional = new Set((body.optional ?? []).map(fold));
        const ignored = new Set((body.ignored ?? []).map(fold));
        const required = [...new Set(qWords)].filter((w) => !optional.has(w) && !ignored.has(w));
        const andSet = visible.filter((r) => holdsAll(r, required));
        if (required.length === 0) {
          expect(body.total, what).toBe(0);
        } else if (body.mode === 'or') {
          tally.orMode++;
          expect(andSet, `${what}: or mode though visible records hold every word`).toEqual([]);
          // At least half of the words typed (a word typed twice counts twice: docs/search.md, Unknown syllables).
          const terms = qWords.filter((w) => !optional.has(w) && !ignored.has(w));
          const half = Math.max(1, Math.ceil(terms.length / 2));
          for (const id of ids) {
            const r = byId.get(id)!;
            // A last word typed as a prefix also matches its completions (docs/search.md, Prefixes).
            const last = qWords[qWords.length - 1];
            const completes = asPrefix && [...r.fieldWords, ...r.texts.flatMap((x) => [...x])].some((w) => w.startsWith(last));
            expect(completes || required.some((w) => holds(r, w)), `${what}: or hit ${id}`).toBe(true);
          }
          const must = kept(visible).filter((r) => filterOk(r, p, null) && terms.filter((w) => r.fieldWords.has(w)).length >= half);
          for (const r of must) expect(ids, `${what}: or mode misses ${r.id}`).toContain(r.id);
        } else if (asPrefix) {
          tally.prefix++;
          expect(body.mode, what).toBe('and');
          // The whole last word is one of the prefix's readings: at least those records.
          for (const r of kept(andSet).filter((x) => filterOk(x, p, null))) expect(ids, `${what}: prefix misses ${r.id}`).toContain(r.id);
        } else {
          tally.exact++;
          expect(body.mode, `${what}: mode`).toBe('and');
          expected = kept(andSet);
        }
      }
      if (expected !== null) {
        const filtered = expected.filter((r) => filterOk(r, p, null));
        if (filtered.length > 0) tally.nonEmpty++;
        expect([...ids].sort((x, y) => x - y), `${what}: ids`).toEqual(filtered.map((r) => r.id).sort((x, y) => x - y));
        expect(body.facets, `${what}: facets`).toEqual(facetsOf(expected, p));
      }
      // Order.
      for (let i = 1; i < hits.length; i++) {
        const [x, y] = [hits[i - 1], hits[i]];
        const byScore = x.score > y.score || (x.score === y.score && x.id < y.id);
        if (sort === 'relevance') expect(byScore, `${what}: relevance order at ${i}`).toBe(true);
        else if (sort === 'date') {
          const [dx, dy] = [dateKey(byId.get(x.id)!), dateKey(byId.get(y.id)!)];
          expect(dx > dy || (dx === dy && byScore), `${what}: date order at ${i}: ${dx} / ${dy}`).toBe(true);
        } else {
          const [tx, ty] = [titleSortKey(byId.get(x.id)!.title), titleSortKey(byId.get(y.id)!.title)];
          expect(tx < ty || (tx === ty && byScore), `${what}: title order at ${i}`).toBe(true);
        }
      }
    }
    console.log(`search differential (seed ${SEED}): ${JSON.stringify(tally)}`);
    // Enough of the requests were compared exactly.
    expect(tally.exact + tally.browse).toBeGreaterThan(CASES / 2);
    expect(tally.nonEmpty).toBeGreaterThan(CASES / 4);
  }, 600_000);
});
