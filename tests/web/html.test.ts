import { describe, expect, it } from 'vitest';
import { escapeHtml, html, markedSnippet, raw } from '../../server/web/html.ts';
import { translator } from '../../server/web/i18n.ts';

describe('html template', () => {
  it('escapes every interpolated value', () => {
    const title = '<script>alert(1)</script> & "q" \'s\'';
    expect(html`<h1 title="${title}">${title}</h1>`.value).toBe(
      '<h1 title="&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot; &#39;s&#39;">&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot; &#39;s&#39;</h1>',
    );
  });
  it('keeps nested fragments and raw() but escapes array items', () => {
    const items = ['<b>', 'x'];
    expect(html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>${raw('<hr>')}`.value).toBe('<ul><li>&lt;b&gt;</li><li>x</li></ul><hr>');
    expect(html`${null}${undefined}${false}${0}`.value).toBe('0');
  });
  it('lets only <mark> through in search snippets', () => {
    expect(markedSnippet('Cao <mark>Bằng</mark> &lt;img onerror=x&gt; <img src=x onerror=alert(1)>').value).toBe(
      'Cao <mark>Bằng</mark> &lt;img onerror=x&gt; &lt;img src=x onerror=alert(1)&gt;',
    );
  });
  it('escapeHtml covers quotes and backticks', () => {
    expect(escapeHtml('`"\'<>&')).toBe('&#96;&quot;&#39;&lt;&gt;&amp;');
  });
});

describe('translator', () => {
  it('is Vietnamese by default and English on request, filling placeholders', () => {
    expect(translator('vi')('search.results', { n: 3 })).toBe('3 kết quả');
    expect(translator('en')('search.results', { n: 3 })).toBe('3 results');
    expect(translator('en')('nav.search')).toBe('Search');
  });
});
