// Without a network (the browser knows it is offline), following a link or sending a form ends on
// the browser's own "No internet" page and the page in hand is gone. Instead, stay on the page and
// say so in its language (#offline-note, from layout.ts), what was typed kept; back online, the note
// goes. Forms that send themselves (the upload's XMLHttpRequest) call preventDefault and say it their way.
const note = document.getElementById('offline-note');
if (note) {
  const stop = (e) => {
    if (navigator.onLine || e.defaultPrevented) return false;
    e.preventDefault();
    note.hidden = false;
    note.scrollIntoView({ block: 'nearest' });
    return true;
  };
  document.addEventListener('submit', stop);
  document.addEventListener('click', (e) => {
    const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
    if (!a || a.target || a.hasAttribute('download') || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || (url.pathname === location.pathname && url.search === location.search && url.hash)) return;
    stop(e);
  });
  window.addEventListener('online', () => { note.hidden = true; });
}
