/**
 * The search page says how a query was read, in Vietnamese and English, and the API says the same:
 * a word split or segmented is shown as the records write it (H'Mông, Hồ Chí Minh, not "h mong"),
 * abbreviations searched in both forms are named, and edge words read as cut off are named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/app.ts';
import { makeProduct } from './helpers.ts';

describe('search page notices', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
    await makeProduct(t.app, { title: "Tờ rơi tuyên truyền bằng tiếng H'Mông" }, { publish: true });
    await makeProduct(t.app, { title: 'Chủ tịch Hồ Chí Minh với Cao Bằng' }, { publish: true });
    await makeProduct(t.app, { title: 'Báo cáo của Ủy ban nhân dân tỉnh Cao Bằng' }, { publish: true });
    await makeProduct(
      t.app,
      { title: 'Kế hoạch tuyên truyền năm 2023', description: 'Thực hiện các nhiệm vụ tuyên truyền giáo dục truyền thống cách mạng.' },
      { publish: true },
    );
    await makeProduct(t.app, { title: 'Phụ lục c) danh mục' }, { publish: true });
  });
  afterAll(async () => t?.close());
  const get = (url: string) => t.app.inject({ method: 'GET', url });

  it('says a page past the last has no results, not that nothing was found, and links back', async () => {
    const vi = await get('/?q=cao+bang&page=4');
    expect(vi.statusCode).toBe(200);
    expect(vi.body).not.toContain('Không tìm thấy sản phẩm nào');
    expect(vi.body).toContain('<p class="empty">Danh sách chỉ có 1 trang: trang 4 không có kết quả nào. <a href="/?q=cao+bang">Về trang 1</a></p>');
    const en = await get('/?page=7&lang=en');
    expect(en.body).toContain('<p class="empty">The list has only 1 page: there are no results on page 7. <a href="/">Go to page 1</a></p>');
    // Nothing found at all keeps its own message.
    expect((await get('/?q=khongcogi&page=2')).body).toContain('<p class="empty">Không tìm thấy sản phẩm nào.');
  });

  it('shows a split word as the record writes it, in both languages and in the API', async () => {
    const vi = await get(`/?q=hmong`);
    expect(vi.body).toContain('<p class="info">Đã tìm theo: H&#39;Mông</p>');
    const en = await get(`/?q=hmong&lang=en`);
    expect(en.body).toContain('<p class="info">Searched for: H&#39;Mông</p>');
    const api = (await get('/api/search?q=hochiminh')).json();
    expect(api.corrections).toEqual([{ from: 'hochiminh', to: 'ho chi minh', display: 'Hồ Chí Minh' }]);
    expect((await get('/?q=hochiminh')).body).toContain('Đã tìm theo: Hồ Chí Minh');
  });

  it('names the other form of an abbreviation and the words read as cut off', async () => {
    const api = (await get(`/api/search?q=${encodeURIComponent('UBND tỉnh')}`)).json();
    expect(api.hits.map((h: { title: string }) => h.title)).toEqual(['Báo cáo của Ủy ban nhân dân tỉnh Cao Bằng']);
    expect(api.expansions).toEqual([{ from: 'ubnd', to: 'uy ban nhan dan', display: 'Ủy ban nhân dân' }]);
    expect((await get(`/?q=${encodeURIComponent('UBND tỉnh')}`)).body).toContain('Tìm cả dạng viết đầy đủ hoặc viết tắt: Ủy ban nhân dân');
    expect((await get(`/?q=${encodeURIComponent('UBND tỉnh')}&lang=en`)).body).toContain('Also searched, written out or abbreviated: Ủy ban nhân dân');
    const q = encodeURIComponent('c nhiệm vụ tuyên truyền giáo dục');
    const cut = (await get(`/api/search?q=${q}`)).json();
    expect(cut).toMatchObject({ mode: 'and', optional: ['c'], total: 1 });
    expect((await get(`/?q=${q}`)).body).toContain('Không bắt buộc có từ (từ để hỏi, hoặc có thể bị cắt dở khi sao chép): c');
    expect((await get(`/?q=${q}&lang=en`)).body).toContain('Not required (a question word, or a word that looks cut off where the text was copied): c');
  });

  it('answers a query of control characters or punctuation only with nothing, the same in the API, suggestions and page', async () => {
    for (const raw of ['%00%01', '%07', '-', '%2A%2A%2A']) {
      const api = await get(`/api/search?q=${raw}`);
      expect(api.statusCode, raw).toBe(200);
      expect(api.json(), raw).toMatchObject({ total: 0, hits: [], unsearchable: true });
      const sug = await get(`/api/suggest?q=${raw}`);
      expect(sug.json(), raw).toEqual({ suggestions: [] });
      const vi = await get(`/?q=${raw}`);
      expect(vi.body, raw).toContain('<p class="empty">Truy vấn không có chữ hay số nào để tìm');
      expect((await get(`/?q=${raw}&lang=en`)).body, raw).toContain('<p class="empty">The query holds no letter or digit to search for');
    }
    // A blank query still lists everything (the browsing list), and the page still says "newest".
    expect((await get('/api/search?q=%20%20')).json()).toMatchObject({ total: 5, mode: 'all' });
    expect((await get('/api/search?q=%20%20')).json().unsearchable).toBeUndefined();
  });

  it('explains the query syntax (operators) in both languages', async () => {
    expect((await get('/')).body).toContain('OR (viết hoa) giữa hai nhóm từ');
    expect((await get('/?lang=en')).body).toContain('OR (in capitals) between two groups of words');
    expect((await get('/')).body).toContain('Ngoặc đơn gom nhóm: (thác Bản Giốc OR Pác Bó) Cao Bằng');
    expect((await get('/?lang=en')).body).toContain('Parentheses group words: (thác Bản Giốc OR Pác Bó) Cao Bằng');
    const grouped = (await get(`/api/search?q=${encodeURIComponent('(hồ chí minh OR hmong) -(tiếng việt)')}`)).json();
    expect(grouped.total).toBeGreaterThan(0);
    const api = (await get(`/api/search?q=${encodeURIComponent('cao bằng -"hồ chí minh" OR hmong')}`)).json();
    expect(api.hits.map((h: { title: string }) => h.title).sort()).toEqual(['Báo cáo của Ủy ban nhân dân tỉnh Cao Bằng', "Tờ rơi tuyên truyền bằng tiếng H'Mông"]);
  });
});
