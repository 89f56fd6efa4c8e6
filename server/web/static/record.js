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
          // The previews (thumbnails, page counts) are ready now: show them.
          location.reload();
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

// The PDF viewer's frame: Tab moves the focus into it, but Chromium then matches none of `:focus`,
// `:focus-visible` or `:focus-within` on the <iframe> (its content has the focus), so no CSS rule
// can show a ring. The page sees it as its window losing the focus while the frame is the active
// element: mark the frame then, when a Tab pressed just before moved the focus there (a click into
// the frame is seen by the frame's document only, so "the last input was the keyboard" cannot be
// told otherwise), and unmark it when the focus comes back to the page.
const frames = document.querySelectorAll('.pdf-frame');
if (frames.length > 0) {
  let lastTab = -Infinity;
  document.addEventListener('keydown', (e) => { if (e.key === 'Tab') lastTab = performance.now(); }, true);
  const clear = () => { for (const f of frames) f.classList.remove('frame-focus'); };
  window.addEventListener('blur', () => {
    const byTab = performance.now() - lastTab < 500;
    // The active element is updated just after the window's blur in some engines.
    setTimeout(() => {
      const active = document.activeElement;
      if (byTab && active instanceof HTMLIFrameElement && active.classList.contains('pdf-frame')) active.classList.add('frame-focus');
    }, 0);
  });
  window.addEventListener('focus', clear);
  document.addEventListener('focusin', clear);
}
