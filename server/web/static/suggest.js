// Search suggestions as you type: an ARIA combobox over GET /goi-y?q= (the search service's suggest).
// Enter on a title suggestion opens the record; on an agency it applies that agency's filter
// (keeping the other filters); on a subject it searches for the text.
const input = document.getElementById('q');
const list = document.getElementById('q-suggestions');
// A polite live region says how many suggestions came (in the page language), as the list itself is silent.
const count = document.getElementById('q-suggest-count');
if (input && list) {
  let items = [];
  let active = -1;
  let timer = 0;
  let seq = 0;

  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    items = [];
    active = -1;
    if (count) count.textContent = '';
  };
  const choose = (s) => {
    if (s.kind === 'title' && s.productId) {
      location.href = `/san-pham/${s.productId}`;
      return;
    }
    if (s.kind === 'agency' && s.agency) {
      const params = new URLSearchParams(new FormData(input.form));
      params.delete('q');
      params.delete('page');
      if (!params.getAll('agency').includes(s.agency)) params.append('agency', s.agency);
      location.href = `${input.form.getAttribute('action') || '/'}?${params}`;
      return;
    }
    input.value = s.text;
    close();
    input.form.requestSubmit();
  };
  const highlight = (i) => {
    active = i;
    [...list.children].forEach((li, j) => li.setAttribute('aria-selected', j === i ? 'true' : 'false'));
    if (i >= 0) input.setAttribute('aria-activedescendant', list.children[i].id);
    else input.removeAttribute('aria-activedescendant');
  };
  const render = (suggestions) => {
    items = suggestions;
    list.replaceChildren(
      ...suggestions.map((s, i) => {
        const li = document.createElement('li');
        li.id = `q-sugg-${i}`;
        li.setAttribute('role', 'option');
        li.setAttribute('aria-selected', 'false');
        li.textContent = s.text; // text only: never HTML from the server
        // Titles, agencies and subjects are the catalogue's Vietnamese, whatever the page language.
        if (document.documentElement.lang !== 'vi') li.lang = 'vi';
        li.addEventListener('mousedown', (e) => {
          e.preventDefault();
          choose(s);
        });
        return li;
      }),
    );
    const open = suggestions.length > 0;
    if (count) {
      const n = suggestions.length;
      count.textContent = n === 0 ? count.dataset.none : (n === 1 ? count.dataset.one : count.dataset.many).replace('{n}', String(n));
    }
    list.hidden = !open;
    input.setAttribute('aria-expanded', open ? 'true' : 'false');
    active = -1;
  };
  const fetchSuggestions = async () => {
    const q = input.value.trim();
    if (q.length < 2) return close();
    const mine = ++seq;
    try {
      const res = await fetch(`${input.dataset.suggest}?q=${encodeURIComponent(q)}`, { headers: { accept: 'application/json' } });
      if (!res.ok || mine !== seq) return;
      const body = await res.json();
      if (mine === seq) render(Array.isArray(body.suggestions) ? body.suggestions : []);
    } catch {
      /* suggestions are a convenience: stay quiet */
    }
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(fetchSuggestions, 150);
  });
  input.addEventListener('keydown', (e) => {
    if (list.hidden) return;
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      highlight((active + 1) % items.length);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      highlight(active <= 0 ? items.length - 1 : active - 1);
    } else if (e.key === 'Enter' && active >= 0) {
      e.preventDefault();
      choose(items[active]);
    } else if (e.key === 'Escape') {
      // Close the list only; without preventDefault a search input would also clear its text.
      e.preventDefault();
      close();
    }
  });
  input.addEventListener('blur', () => setTimeout(close, 100));
}
