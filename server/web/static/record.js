// Record page: image zoom toggle, and the processing state followed without reloading.
for (const btn of document.querySelectorAll('.zoom-toggle')) {
  const box = document.getElementById(btn.getAttribute('aria-controls'));
  const img = box?.querySelector('img');
  if (!box || !img) continue;
  btn.hidden = false;
  const toggle = (e) => {
    e?.preventDefault();
    const on = !box.classList.contains('zoomed');
    box.classList.toggle('zoomed', on);
    btn.setAttribute('aria-pressed', on ? 'true' : 'false');
    if (on && img.dataset.full && img.src !== new URL(img.dataset.full, location.href).href) img.src = img.dataset.full;
  };
  btn.addEventListener('click', toggle);
  box.querySelector('.zoom-link')?.addEventListener('click', toggle);
  // Escape undoes the zoom, from the button or from inside the picture, and leaves the focus on the button.
  const unzoom = (e) => {
    if (e.key !== 'Escape' || !box.classList.contains('zoomed')) return;
    toggle(e);
    btn.focus();
  };
  btn.addEventListener('keydown', unzoom);
  box.addEventListener('keydown', unzoom);
}

// Turning a PDF's pages replaces the history entry instead of adding one, so Back goes straight
// back to where the record was opened from (the search results), however many pages were turned.
for (const nav of document.querySelectorAll('.pdf-page .page-nav')) {
  nav.addEventListener('click', (e) => {
    const a = e.target.closest('a[href]');
    if (!a || e.defaultPrevented || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    location.replace(a.href);
  });
  const form = nav.querySelector('form.page-jump');
  form?.addEventListener('submit', (e) => {
    e.preventDefault();
    const url = new URL(form.action, location.href);
    url.search = new URLSearchParams(new FormData(form)).toString();
    location.replace(url.href);
  });
}

const status = document.querySelector('[data-poll]');
if (status) {
  const url = status.dataset.poll;
  const started = Date.now();
  const tick = async () => {
    try {
      const res = await fetch(url, { headers: { accept: 'application/json' } });
      if (res.ok) {
        const rec = await res.json();
        if (rec.processing === 'done' || rec.processing === 'failed') {
          // The previews (thumbnails, page counts) are ready now: show them, by reloading the page
          // unless something is being typed in it (a return reason), which a reload would throw away.
          // Then the status says so (a polite live region) and offers the reload as a link.
          const typing = [...document.querySelectorAll('textarea, input:not([type=hidden]), select')].some(
            (c) => c === document.activeElement || (c.type === 'checkbox' || c.type === 'radio' ? c.checked !== c.defaultChecked : c instanceof HTMLSelectElement ? [...c.options].some((o) => o.selected !== o.defaultSelected) : c.value !== c.defaultValue),
          );
          if (!typing) {
            location.reload();
            return;
          }
          const show = Object.assign(document.createElement('a'), { href: location.href, textContent: status.dataset.labelShow });
          status.replaceChildren(`${status.dataset.labelDone} `, show);
          return;
        }
      }
    } catch {
      /* try again */
    }
    if (Date.now() - started < 10 * 60 * 1000) setTimeout(tick, 1500);
  };
  setTimeout(tick, 1500);
}
