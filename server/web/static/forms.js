// The browser's own check of a form before it is sent (required fields, lengths, patterns, number
// ranges) speaks the browser's language, not the page's: an English Chromium said "Please fill out
// this field." on the Vietnamese page. Each control that fails the check gets the page language's
// message instead (from <meta name="form-messages">, written by the server from i18n.ts); typing
// clears it, so the browser checks the new value afresh.
const meta = document.querySelector('meta[name="form-messages"]');
const msg = meta ? JSON.parse(meta.content) : null;
const fill = (s, p) => s.replace(/\{(\w+)\}/g, (m, k) => (k in p ? String(p[k]) : m));
const isControl = (el) => el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement;

function messageFor(el) {
  const v = el.validity;
  if (v.valueMissing) return el instanceof HTMLSelectElement || el.type === 'checkbox' || el.type === 'radio' || el.type === 'file' ? msg.choose : msg.required;
  if (v.badInput) return el.type === 'number' ? msg.number : msg.format;
  if (v.typeMismatch) return el.type === 'email' ? msg.email : el.type === 'url' ? msg.url : msg.format;
  if (v.tooShort) return fill(msg.tooShort, { min: el.minLength, len: el.value.length });
  if (v.tooLong) return fill(msg.tooLong, { max: el.maxLength, len: el.value.length });
  if (v.rangeUnderflow) return fill(msg.min, { min: el.min });
  if (v.rangeOverflow) return fill(msg.max, { max: el.max });
  if (v.stepMismatch) return msg.step;
  if (v.patternMismatch) return el.dataset.patternMessage || msg.pattern;
  return '';
}

if (msg) {
  document.addEventListener('invalid', (e) => {
    const el = e.target;
    if (!isControl(el)) return;
    el.setCustomValidity('');
    el.setCustomValidity(messageFor(el));
  }, true);
  const clear = (e) => {
    if (isControl(e.target) && e.target.validity.customError) e.target.setCustomValidity('');
  };
  document.addEventListener('input', clear, true);
  document.addEventListener('change', clear, true);
}
