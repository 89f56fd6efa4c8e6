import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { validateXML } from 'xmllint-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell } from '../../server/routes/exchange.ts';
import { auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { makePdf } from '../helpers/samples.ts';

const SCHEMA_DIR = join(import.meta.dirname, '../oai/schema');

describe('Dublin Core and search export', () => {
  let t: TestApp;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    const sqlite = t.app.db.sqlite;
    sqlite.prepare(`INSERT OR IGNORE INTO agencies (code, name, category) VALUES ('so-vhttdl', 'Sở Văn hoá, Thể thao và Du lịch', 'department')`).run();
    const make = async (key: string, title: string, state: string, access: string, extra: Record<string, string> = {}) => {
      const { body, headers } = multipartBody({ title, type: 'book', year: '2022', agency: 'so-vhttdl', language: 'vi', ...extra }, [{ filename: `${key}.pdf`, data: await makePdf(1, key) }]);
      const res = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
      expect(res.statusCode, res.body).toBe(201);
      ids[key] = res.json().id;
      sqlite.prepare('UPDATE products SET state = ?, access = ?, subjects = ?, isbn = ?, publisher = ? WHERE id = ?').run(state, access, JSON.stringify(['lịch sử', 'Cao Bằng']), '978-604-57-1234-5', 'NXB Chính trị Quốc gia Sự thật', ids[key]);
      t.app.events.emit('product-changed', ids[key]);
    };
    await make('pub', 'Lịch sử Cao Bằng, tập 1', 'published', 'public', { description: '=HYPERLINK("http://x") giới thiệu' });
    await make('pub2', 'Lịch sử Cao Bằng, tập 2 "kháng chiến"', 'published', 'public');
    await make('internal', 'Lịch sử Cao Bằng — tài liệu nội bộ', 'published', 'internal');
    await make('draft', 'Lịch sử Cao Bằng — bản thảo', 'submitted', 'public');
  });
  afterAll(() => t.close());

  it('Dublin Core JSON of a published record', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/api/products/${ids.pub}/dublin-core` });
    expect(res.statusCode).toBe(200);
    const dc = res.json();
    expect(dc['@context']).toEqual({ dc: 'http://purl.org/dc/elements/1.1/' });
    expect(dc['dc:title']).toEqual(['Lịch sử Cao Bằng, tập 1']);
    expect(dc['dc:subject']).toEqual(['lịch sử', 'Cao Bằng']);
    expect(dc['dc:type']).toEqual(['Text', 'book']);
    expect(dc['dc:format']).toEqual(['application/pdf']);
    expect(dc['dc:identifier']).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`/api/products/${ids.pub}$`)), 'urn:isbn:9786045712345']));
    expect(dc['dc:language']).toEqual(['vi']);
    expect(dc['dc:publisher']).toEqual(['NXB Chính trị Quốc gia Sự thật']);
  });

  it('Dublin Core XML validates against oai_dc.xsd; hidden records are 404 for the public', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/api/products/${ids.pub2}/dublin-core?format=xml` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/xml');
    expect(res.body).toContain('<dc:title xml:lang="vi">Lịch sử Cao Bằng, tập 2 &quot;kháng chiến&quot;</dc:title>');
    const files: Record<string, string> = Object.fromEntries(await Promise.all(['oai_dc.xsd', 'simpledc20021212.xsd', 'xml.xsd'].map(async (f) => [f, await readFile(join(SCHEMA_DIR, f), 'utf8')] as const)));
    const v = await validateXML({ xml: [{ fileName: 'dc.xml', contents: res.body }], schema: [files['oai_dc.xsd']], preload: Object.entries(files).map(([fileName, contents]) => ({ fileName, contents })) });
    expect(v.valid, v.rawOutput).toBe(true);
    for (const key of ['internal', 'draft']) {
      expect((await t.app.inject({ method: 'GET', url: `/api/products/${ids[key]}/dublin-core` })).statusCode).toBe(404);
      expect((await t.app.inject({ method: 'GET', url: `/api/products/${ids[key]}/dublin-core`, headers: auth() })).statusCode).toBe(200);
    }
  });

  it('CSV export of a search: only what the viewer may see, Excel-friendly, formulas neutralised', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/search/export?format=csv&q=lich%20su%20cao%20bang' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="kho-tu-lieu-\d{8}\.csv"/);
    expect(res.body.startsWith('\uFEFF')).toBe(true);
    const rows = parseCsv(res.body.slice(1), { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => Number(r.id)).sort()).toEqual([ids.pub, ids.pub2].sort());
    const r2 = rows.find((r) => Number(r.id) === ids.pub2)!;
    expect(r2.title).toBe('Lịch sử Cao Bằng, tập 2 "kháng chiến"');
    expect(r2.subjects).toBe('lịch sử; Cao Bằng');
    expect(r2.agencyCode).toBe('so-vhttdl');
    expect(r2.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(res.headers['x-exported-count']).toBe('2');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('-1')).toBe(`'-1`);
  });

  it('JSON export for staff includes every record the search finds, with full records', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/search/export?format=json&q=lich%20su%20cao%20bang', headers: auth() });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.total).toBe(4);
    expect(body.exported).toBe(4);
    expect(body.truncated).toBe(false);
    expect(body.records.map((r: { id: number }) => r.id).sort()).toEqual(Object.values(ids).sort());
    expect(body.records[0].files[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    const bad = await t.app.inject({ method: 'GET', url: '/api/search/export?format=xlsx' });
    expect(bad.statusCode).toBe(400);
  });
});
