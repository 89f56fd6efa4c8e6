/**
 * A query key given twice: the list filters (`type`, `agency`, `language`, `state`) read
 * `?type=book&type=map` as `?type=book,map`; any other key given twice is a 400 naming it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, makeTestApp, type TestApp } from '../helpers/app.ts';
import { makeProduct } from '../web/helpers.ts';

describe('repeated query keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    await makeProduct(t.app, { title: 'Sách lịch sử Đảng bộ tỉnh Cao Bằng', type: 'book', agency: 'so-vhttdl' }, { publish: true });
    await makeProduct(t.app, { title: 'Bản đồ du lịch tỉnh Cao Bằng', type: 'map', agency: 'ban-tuyen-giao' }, { publish: true });
    await makeProduct(t.app, { title: 'Tờ gấp du lịch tỉnh Cao Bằng', type: 'flyer', agency: 'so-vhttdl' }, { publish: true });
  });
  afterAll(async () => t?.close());

  const titles = async (url: string) => {
    const res = await t.app.inject({ url, headers: auth() });
    expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
    return (res.json().hits as Array<{ title: string }>).map((h) => h.title).sort();
  };

  it('reads a repeated list filter of the search as the comma-separated list', async () => {
    const both = ['Bản đồ du lịch tỉnh Cao Bằng', 'Sách lịch sử Đảng bộ tỉnh Cao Bằng'];
    expect(await titles('/api/search?q=cao+bang&type=book,map')).toEqual(both);
    expect(await titles('/api/search?q=cao+bang&type=book&type=map')).toEqual(both);
    expect(await titles('/api/search?q=cao+bang&agency=so-vhttdl&agency=ban-tuyen-giao')).toHaveLength(3);
    const list = await t.app.inject({ url: '/api/products?state=submitted&state=published', headers: auth() });
    expect(list.statusCode).toBe(200);
    expect(list.json().total).toBe(3);
  });

  it('refuses any other key given twice with a 400 that names it', async () => {
    for (const [url, field] of [['/api/search?q=a&q=b', 'q'], ['/api/search?q=a&page=1&page=2', 'page'], ['/api/products?pageSize=5&pageSize=6', 'pageSize']]) {
      const res = await t.app.inject({ url, headers: auth() });
      expect(res.statusCode, url).toBe(400);
      expect(res.json(), url).toMatchObject({ code: 'VALIDATION_FAILED', field, message: `querystring/${field} must be given once (it was given 2 times)` });
    }
  });

  it('answers a query string with a malformed or non-UTF-8 percent-encoding 400 BAD_URL, instead of searching its raw text', async () => {
    for (const url of ['/api/search?q=%ED%A0%80', '/api/search?q=%FF', '/api/search?q=l%E1%BB', '/api/products?q=%', '/api/suggest?q=%C3%28']) {
      const res = await t.app.inject({ url, headers: auth() });
      expect(res.statusCode, url).toBe(400);
      expect(res.json(), url).toMatchObject({ code: 'BAD_URL', message: expect.stringContaining('query string') });
    }
    // Well-formed UTF-8, and a plus for a space, still search.
    expect(await titles('/api/search?q=b%E1%BA%A3n+%C4%91%E1%BB%93')).toEqual(['Bản đồ du lịch tỉnh Cao Bằng']);
  });
});
