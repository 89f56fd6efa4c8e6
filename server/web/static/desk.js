// Review desk: "select all" for the bulk actions (the form works without it).
const all = document.getElementById('select-all');
if (all) {
  const boxes = () => [...document.querySelectorAll('input[name="ids"]')];
  all.hidden = false;
  all.addEventListener('change', () => boxes().forEach((b) => (b.checked = all.checked)));
  document.addEventListener('change', (e) => {
    if (e.target instanceof HTMLInputElement && e.target.name === 'ids') {
      const bs = boxes();
      all.checked = bs.every((b) => b.checked);
      all.indeterminate = !all.checked && bs.some((b) => b.checked);
    }
  });
}
