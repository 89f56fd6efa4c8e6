import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { validateXML } from 'xmllint-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleOaiRequest, OAI_ID_PREFIX } from '../../server/ops/oai-pmh.ts';
import { auth, makeTestApp, multipartBody, type TestApp } from '../helpers/app.ts';
import { makePdf, makePng } from '../helpers/samples.ts';

const SCHEMA_DIR = join(import.meta.dirname, 'schema');
let schemaFiles: Record<string, string>;

async function validate(xml: string, root: 'oai' | 'oai_dc' = 'oai'): Promise<void> {
  const r = await validateXML({
    xml: [{ fileName: 'response.xml', contents: xml }],
    schema: [root === 'oai' ? schemaFiles['harvest-driver.xsd'] : schemaFiles['oai_dc.xsd']],
    preload: ['OAI-PMH.xsd', 'oai_dc.xsd', 'simpledc20021212.xsd', 'xml.xsd'].map((fileName) => ({ fileName, contents: schemaFiles[fileName] })),
  });
  if (!r.valid) throw new Error(`invalid against the schema:\n${r.rawOutput}\n---\n${xml.slice(0, 3000)}`);
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['record', 'header', 'set', 'setSpec', 'error', 'dc:title', 'dc:subject', 'dc:identifier'].includes(name) });
const parse = (xml: string) => parser.parse(xml)['OAI-PMH'];

describe('OAI-PMH 2.0 endpoint', () => {
  let t: TestApp;
  const publicIds: number[] = [];
  let internalId = 0;
  let draftId = 0;

  const ctx = (pageSize = 3, now?: () => Date) => ({
    sqlite: t.app.db.sqlite,
    baseUrl: 'http://kho.test/oai',
    siteUrl: 'http://kho.test',
    repositoryName: 'Kho tư liệu — Ban Tuyên giáo Tỉnh uỷ Cao Bằng',
    adminEmail: 'kho@caobang.test.vn',
    pageSize,
    now,
  });
  const oai = (args: Record<string, string | string[]>, pageSize = 3, now?: () => Date) => handleOaiRequest(args, ctx(pageSize, now));

  beforeAll(async () => {
    schemaFiles = {};
    for (const f of ['OAI-PMH.xsd', 'oai_dc.xsd', 'simpledc20021212.xsd', 'xml.xsd', 'harvest-driver.xsd']) schemaFiles[f] = await readFile(join(SCHEMA_DIR, f), 'utf8');
    t = await makeTestApp({ jobs: { workers: 0 } });
    const sqlite = t.app.db.sqlite;
    sqlite.prepare(`INSERT OR IGNORE INTO agencies (code, name, category) VALUES ('so-vhttdl', 'Sở Văn hoá, Thể thao và Du lịch', 'department'), ('bao-cao-bang', 'Báo Cao Bằng', 'press')`).run();
    const titles = [
      'Lịch sử Đảng bộ tỉnh Cao Bằng (1930–2020)',
      'Bản đồ du lịch Cao Bằng',
      'Tờ gấp "Non nước Cao Bằng" <bản tiếng Tày> & tiếng Nùng',
      'Ảnh Thác Bản Giốc',
      'Phim tài liệu Pác Bó',
      'Sách Địa lý – Lịch sử địa phương',
      'Tài liệu tuyên truyền Nghị quyết',
      'Tài liệu nội bộ',
      'Bản nháp chưa duyệt',
    ];
    const types = ['book', 'map', 'flyer', 'photo', 'video', 'book', 'document', 'document', 'leaflet'];
    for (let i = 0; i < titles.length; i++) {
      const data = i % 2 === 0 ? await makePdf(1, `doc ${i}`) : await makePng(20 + i, 20, i);
      const { body, headers } = multipartBody(
        { title: titles[i], type: types[i], year: String(2015 + i), agency: i % 3 === 0 ? 'bao-cao-bang' : 'so-vhttdl', language: i === 2 ? 'vi,tay,nut' : 'vi', description: `Mô tả số ${i}: đặc sản văn hoá Cao Bằng` },
        [{ filename: `tệp ${i}`, data }],
      );
      const res = await t.app.inject({ method: 'POST', url: '/api/products', payload: body, headers: { ...headers, ...auth() } });
      expect(res.statusCode, res.body).toBe(201);
      const id = res.json().id as number;
      if (i < 7) {
        sqlite.prepare(`UPDATE products SET state = 'published', published_at = ?, updated_at = ? WHERE id = ?`).run('2024-05-01T00:00:00.000Z', `2024-0${1 + (i % 6)}-1${i}T08:30:00.123Z`, id);
        publicIds.push(id);
      } else if (i === 7) {
        sqlite.prepare(`UPDATE products SET state = 'published', access = 'internal' WHERE id = ?`).run(id);
        internalId = id;
      } else draftId = id;
      t.app.events.emit('product-changed', id);
    }
  });
  afterAll(() => t.close());

  it('the shipped schema really rejects malformed responses', async () => {
    const good = oai({ verb: 'Identify' });
    await validate(good);
    await expect(validate(good.replace(/<responseDate>.*<\/responseDate>/, ''))).rejects.toThrow(/invalid/);
    await expect(validate(good.replace('<granularity>YYYY-MM-DDThh:mm:ssZ', '<granularity>YYYY'))).rejects.toThrow(/invalid/);
    const rec = oai({ verb: 'GetRecord', identifier: `${OAI_ID_PREFIX}${publicIds[0]}`, metadataPrefix: 'oai_dc' });
    await validate(rec);
    await expect(validate(rec.replace('<dc:title', '<dc:tieude').replace('</dc:title>', '</dc:tieude>'))).rejects.toThrow(/invalid/);
    await expect(validate(rec.replace(/<datestamp>([^<]*)Z</, '<datestamp>$1+07:00<'))).rejects.toThrow(/invalid/);
  });

  it('Identify', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/oai?verb=Identify' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/xml');
    await validate(res.body);
    const r = parse(res.body);
    expect(r.Identify.protocolVersion).toBe(2);
    expect(r.Identify.baseURL).toMatch(/^http:\/\/localhost(:\d+)?\/oai$/);
    expect(r.Identify.granularity).toBe('YYYY-MM-DDThh:mm:ssZ');
    expect(r.Identify.earliestDatestamp).toBe('2024-01-10T08:30:00Z');
    expect(r.request['@verb']).toBe('Identify');
  });

  it('ListMetadataFormats and ListSets (by type and agency), also over POST', async () => {
    const lmf = oai({ verb: 'ListMetadataFormats' });
    await validate(lmf);
    expect(parse(lmf).ListMetadataFormats.metadataFormat.metadataPrefix).toBe('oai_dc');
    const sets = await t.app.inject({ method: 'POST', url: '/oai', payload: 'verb=ListSets', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await validate(sets.body);
    const specs = parse(sets.body).ListSets.set.map((s: { setSpec: string[] }) => s.setSpec[0]);
    expect(specs).toEqual(expect.arrayContaining(['type', 'type:book', 'type:map', 'agency', 'agency:so-vhttdl', 'agency:bao-cao-bang']));
    expect(sets.body).toContain('Cơ quan: Báo Cao Bằng');
  });

  it('ListRecords pages with stateless resumption tokens, cursor and completeListSize, exposing only published public records', async () => {
    const seen: string[] = [];
    let xml = oai({ verb: 'ListRecords', metadataPrefix: 'oai_dc' });
    const cursors: Array<[string | undefined, string | undefined]> = [];
    for (let page = 0; page < 10; page++) {
      await validate(xml);
      const r = parse(xml).ListRecords;
      for (const rec of r.record) seen.push(rec.header[0].identifier);
      const tok = r.resumptionToken;
      if (tok === undefined) break;
      cursors.push([tok['@cursor'], tok['@completeListSize']]);
      const value = typeof tok === 'string' ? tok : tok['#text'];
      if (!value) break;
      expect(tok['@expirationDate']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      xml = oai({ verb: 'ListRecords', resumptionToken: value });
    }
    expect(cursors).toEqual([['0', '7'], ['3', '7'], ['6', '7']]);
    expect(seen).toEqual(publicIds.map((id) => `${OAI_ID_PREFIX}${id}`));
    expect(seen).not.toContain(`${OAI_ID_PREFIX}${internalId}`);
    expect(seen).not.toContain(`${OAI_ID_PREFIX}${draftId}`);
  });

  it('escapes record text and carries Dublin Core', async () => {
    const xml = oai({ verb: 'GetRecord', identifier: `${OAI_ID_PREFIX}${publicIds[2]}`, metadataPrefix: 'oai_dc' });
    await validate(xml);
    const rec = parse(xml).GetRecord.record[0];
    const dc = rec.metadata['oai_dc:dc'];
    expect(dc['dc:title'][0]['#text']).toBe('Tờ gấp "Non nước Cao Bằng" <bản tiếng Tày> & tiếng Nùng');
    const agencyName = (t.app.db.sqlite.prepare(`SELECT name FROM agencies WHERE code = 'so-vhttdl'`).get() as { name: string }).name;
    expect(dc['dc:creator']['#text'] ?? dc['dc:creator']).toBe(agencyName);
    expect(dc['dc:identifier'].map((i: unknown) => (typeof i === 'string' ? i : (i as { '#text': string })['#text']))).toContain(`http://kho.test/api/products/${publicIds[2]}`);
    expect(rec.header[0].setSpec).toEqual(['type:flyer', 'agency:so-vhttdl']);
    expect(rec.header[0].datestamp).toBe('2024-03-12T08:30:00Z');
  });

  it('ListIdentifiers with sets and from/until (day and second granularity)', async () => {
    const byAgency = oai({ verb: 'ListIdentifiers', metadataPrefix: 'oai_dc', set: 'agency:bao-cao-bang' }, 100);
    await validate(byAgency);
    expect(parse(byAgency).ListIdentifiers.header.map((h: { identifier: string }) => h.identifier)).toEqual([0, 3, 6].map((i) => `${OAI_ID_PREFIX}${publicIds[i]}`));
    const byType = oai({ verb: 'ListIdentifiers', metadataPrefix: 'oai_dc', set: 'type:book' }, 100);
    expect(parse(byType).ListIdentifiers.header).toHaveLength(2);
    // updated_at months are 1,2,3,4,5,6,1 for the seven public records.
    const spring = oai({ verb: 'ListIdentifiers', metadataPrefix: 'oai_dc', from: '2024-03-01', until: '2024-04-30' }, 100);
    await validate(spring);
    expect(parse(spring).ListIdentifiers.header.map((h: { identifier: string }) => h.identifier)).toEqual([2, 3].map((i) => `${OAI_ID_PREFIX}${publicIds[i]}`));
    const exact = oai({ verb: 'ListIdentifiers', metadataPrefix: 'oai_dc', from: '2024-03-12T08:30:00Z', until: '2024-03-12T08:30:00Z' }, 100);
    expect(parse(exact).ListIdentifiers.header).toHaveLength(1);
    const after = oai({ verb: 'ListIdentifiers', metadataPrefix: 'oai_dc', from: '2024-03-12T08:30:01Z', until: '2024-03-31T00:00:00Z' }, 100);
    expect(parse(after).error[0]['@code']).toBe('noRecordsMatch');
  });

  const errorOf = async (xml: string) => {
    await validate(xml);
    const r = parse(xml);
    return { code: r.error[0]['@code'] as string, request: r.request };
  };

  it('bad verbs and bad arguments, with a bare request element', async () => {
    for (const args of [{}, { verb: 'Harvest' }, { verb: ['Identify', 'Identify'] }]) {
      const e = await errorOf(oai(args as Record<string, string>));
      expect(e.code).toBe('badVerb');
      expect(typeof e.request).toBe('string');
    }
    const bad: Array<Record<string, string | string[]>> = [
      { verb: 'Identify', extra: '1' },
      { verb: 'ListRecords' },
      { verb: 'ListRecords', metadataPrefix: ['oai_dc', 'oai_dc'] },
      { verb: 'ListRecords', metadataPrefix: 'oai_dc', from: '2024-13-01' },
      { verb: 'ListRecords', metadataPrefix: 'oai_dc', from: '2024-01-01', until: '2024-02-01T00:00:00Z' },
      { verb: 'ListRecords', metadataPrefix: 'oai_dc', from: '2024-05-01', until: '2024-01-01' },
      { verb: 'ListRecords', metadataPrefix: 'oai_dc', from: '2024-05-01T10:00:00+07:00' },
      { verb: 'ListIdentifiers', metadataPrefix: 'oai_dc', resumptionToken: 'abc.def' },
      { verb: 'GetRecord', identifier: `${OAI_ID_PREFIX}1` },
      { verb: 'ListRecords', metadataPrefix: 'oai_dc', set: 'type: book' },
    ];
    for (const args of bad) {
      const e = await errorOf(oai(args));
      expect(e.code, JSON.stringify(args)).toBe('badArgument');
      expect(typeof e.request, 'no attributes echoed on badArgument').toBe('string');
    }
    const http = await t.app.inject({ method: 'GET', url: '/oai?verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc' });
    expect((await errorOf(http.body)).code).toBe('badArgument');
  });

  it('a POST body that gives an argument as something other than text is a badArgument (badVerb for the verb), not a server fault', async () => {
    for (const [payload, code] of [
      [{ verb: 'GetRecord', metadataPrefix: 'oai_dc', identifier: { id: 1 } }, 'badArgument'],
      [{ verb: 'ListRecords', metadataPrefix: { tiền_tố: 'oai_dc' } }, 'badArgument'],
      [{ verb: 'ListRecords', metadataPrefix: 'oai_dc', set: true }, 'badArgument'],
      [{ verb: 'ListRecords', resumptionToken: null }, 'badArgument'],
      [{ verb: { tên: 'Identify' } }, 'badVerb'],
    ] as const) {
      const res = await t.app.inject({ method: 'POST', url: '/oai', payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(200);
      await validate(res.body);
      expect((await errorOf(res.body)).code, JSON.stringify(payload)).toBe(code);
    }
  });

  it('bad resumption tokens: tampered, for another verb, expired, past the end', async () => {
    const first = parse(oai({ verb: 'ListIdentifiers', metadataPrefix: 'oai_dc' })).ListIdentifiers.resumptionToken['#text'] as string;
    const [payload, sig] = first.split('.');
    const edited = JSON.parse(Buffer.from(payload, 'base64url').toString());
    edited[6] = 0;
    const forged = `${Buffer.from(JSON.stringify(edited)).toString('base64url')}.${sig}`;
    for (const [verb, token, now] of [
      ['ListIdentifiers', forged, undefined],
      ['ListIdentifiers', `${first}x`, undefined],
      ['ListRecords', first, undefined],
      ['ListIdentifiers', first, () => new Date(Date.now() + 2 * 24 * 3600 * 1000)],
      ['ListSets', first, undefined],
    ] as const) {
      const e = await errorOf(oai({ verb, resumptionToken: token }, 3, now));
      expect(e.code, `${verb} ${token.slice(0, 10)}`).toBe('badResumptionToken');
      expect(e.request['@resumptionToken']).toBe(token);
    }
    // The genuine token still works.
    const ok = oai({ verb: 'ListIdentifiers', resumptionToken: first });
    await validate(ok);
    expect(parse(ok).ListIdentifiers.header).toHaveLength(3);
  });

  it('cannotDisseminateFormat, idDoesNotExist, noRecordsMatch', async () => {
    expect((await errorOf(oai({ verb: 'ListRecords', metadataPrefix: 'marc21' }))).code).toBe('cannotDisseminateFormat');
    expect((await errorOf(oai({ verb: 'GetRecord', identifier: `${OAI_ID_PREFIX}${publicIds[0]}`, metadataPrefix: 'mods' }))).code).toBe('cannotDisseminateFormat');
    for (const id of [`${OAI_ID_PREFIX}${internalId}`, `${OAI_ID_PREFIX}${draftId}`, `${OAI_ID_PREFIX}999999`, 'oai:other:1', 'không-phải-định-danh']) {
      expect((await errorOf(oai({ verb: 'GetRecord', identifier: id, metadataPrefix: 'oai_dc' }))).code).toBe('idDoesNotExist');
    }
    expect((await errorOf(oai({ verb: 'ListMetadataFormats', identifier: `${OAI_ID_PREFIX}${draftId}` }))).code).toBe('idDoesNotExist');
    expect((await errorOf(oai({ verb: 'ListRecords', metadataPrefix: 'oai_dc', set: 'type:audio' }))).code).toBe('noRecordsMatch');
    expect((await errorOf(oai({ verb: 'ListRecords', metadataPrefix: 'oai_dc', set: 'agency:khong-co' }))).code).toBe('noRecordsMatch');
    expect((await errorOf(oai({ verb: 'ListRecords', metadataPrefix: 'oai_dc', from: '2030-01-01' }))).code).toBe('noRecordsMatch');
  });
});
