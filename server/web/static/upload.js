// Upload page: choose or drop several files, send the record and all its files in one multipart
// request (the API takes a product with its files at once) with a progress bar per file — the
// file whose byte range the upload has reached fills up — then follow the processing state.
document.documentElement.classList.add('js');
const form = document.getElementById('upload-form');
if (form) {
  const M = JSON.parse(document.getElementById('upload-messages').textContent);
  const fmt = (s, p) => s.replace(/\{(\w+)\}/g, (m, k) => (k in p ? String(p[k]) : m));
  const maxBytes = Number(form.dataset.maxBytes);
  const maxFiles = Number(form.dataset.maxFiles);
  const input = document.getElementById('file-input');
  const drop = document.getElementById('dropzone');
  const listEl = document.getElementById('file-list');
  const errorsEl = document.getElementById('upload-errors');
  const statusEl = document.getElementById('upload-status');
  const submit = document.getElementById('upload-submit');
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  /** @type {{file: File, li: HTMLLIElement, bar: HTMLProgressElement, status: HTMLElement, problem: string}[]} */
  let entries = [];
  let busy = false;
  // Set by "submit anyway" after a duplicate refusal: the next request keeps the duplicate (flagged).
  let allowDuplicate = false;
  // Without JavaScript the form posts to /nop itself; here the choice after a duplicate refusal is
  // the "submit anyway" button, so the form's own choice (shown after a refusal without it) goes.
  for (const c of form.querySelectorAll('.duplicate-choice')) c.remove();

  const sizeText = (n) => {
    const u = ['B', 'KB', 'MB', 'GB'];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    // The page language's number format, as the server writes sizes (13 KB, 1,5 MB in Vietnamese).
    return `${n.toLocaleString(document.documentElement.lang === 'en' ? 'en-GB' : 'vi-VN', { maximumFractionDigits: i ? 1 : 0 })} ${u[i]}`;
  };
  const el = (tag, props = {}, ...children) => {
    const e = Object.assign(document.createElement(tag), props);
    e.append(...children);
    return e;
  };

  const problemOf = (f) => {
    if (f.size > maxBytes) return fmt(M.FILE_TOO_LARGE, { name: f.name, size: M.maxSize });
    if (f.size === 0) return fmt(M.EMPTY_FILE, { name: f.name });
    return '';
  };

  const addFiles = (files) => {
    if (busy) return;
    for (const file of files) {
      if (entries.some((e) => e.file.name === file.name && e.file.size === file.size && e.file.lastModified === file.lastModified)) continue;
      const idx = entries.length;
      const bar = el('progress', { max: 100, value: 0 });
      bar.setAttribute('aria-label', fmt(M.progress, { name: file.name }));
      const status = el('span', { className: 'file-status' });
      const remove = el('button', { type: 'button', className: 'small secondary', textContent: '×' });
      remove.setAttribute('aria-label', fmt(M.remove, { name: file.name }));
      const li = el('li', { className: 'file-item' }, el('span', { className: 'name', textContent: `${file.name} (${sizeText(file.size)})` }), remove, bar, status);
      li.dataset.index = String(idx);
      const entry = { file, li, bar, status, problem: problemOf(file) };
      remove.addEventListener('click', () => {
        // While the files are being sent the list is what is being sent: cancel the upload instead.
        if (busy) return;
        entries = entries.filter((e) => e !== entry);
        li.remove();
        refresh();
      });
      entries.push(entry);
      listEl.append(li);
    }
    refresh();
  };

  const refresh = () => {
    for (const e of entries) {
      e.li.classList.toggle('is-error', !!e.problem);
      e.status.textContent = e.problem;
    }
  };

  input.addEventListener('change', () => {
    addFiles([...input.files]);
    input.value = '';
  });
  for (const ev of ['dragenter', 'dragover']) drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('dragover'); });
  for (const ev of ['dragleave', 'drop']) drop.addEventListener(ev, () => drop.classList.remove('dragover'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    if (e.dataTransfer?.files?.length) addFiles([...e.dataTransfer.files]);
  });

  const clearFieldErrors = () => {
    for (const p of form.querySelectorAll('.field-error.js-added')) p.remove();
    for (const c of form.querySelectorAll('[aria-invalid="true"]')) {
      c.removeAttribute('aria-invalid');
      // Back to what described the field before (its help text), if anything.
      if (c.dataset.describedby) c.setAttribute('aria-describedby', c.dataset.describedby);
      else c.removeAttribute('aria-describedby');
    }
  };
  const fieldError = (name, text) => {
    const control = form.elements.namedItem(name);
    if (!control || !(control instanceof HTMLElement)) return false;
    const p = el('p', { className: 'field-error js-added', id: `${name}-error`, textContent: text });
    control.insertAdjacentElement('afterend', p);
    control.setAttribute('aria-invalid', 'true');
    // The message first, then the field's help (the format it wants) as before.
    if (control.dataset.describedby === undefined) control.dataset.describedby = control.getAttribute('aria-describedby') || '';
    control.setAttribute('aria-describedby', `${p.id} ${control.dataset.describedby}`.trim());
    // The first field in the form's order that has a problem gets the focus.
    if (!form.querySelector('[aria-invalid="true"]:focus')) control.focus();
    return true;
  };
  const showErrors = (items) => {
    errorsEl.replaceChildren(...(items.length ? [el('ul', {}, ...items.map((i) => el('li', {}, ...[i].flat())))] : []));
  };

  const describeError = (status, body) => {
    const code = body?.code || '';
    const name = body?.fileName || '';
    switch (code) {
      case 'FILE_TOO_LARGE':
        return fmt(M.FILE_TOO_LARGE, { name, size: M.maxSize });
      case 'TOO_MANY_FILES':
        return M.TOO_MANY_FILES;
      case 'UNSUPPORTED_MEDIA_TYPE':
        return fmt(M.UNSUPPORTED_MEDIA_TYPE, { name });
      case 'ENCRYPTED_FILE':
        return fmt(M.ENCRYPTED_FILE, { name });
      case 'EMPTY_FILE':
        return fmt(M.EMPTY_FILE, { name });
      case 'NO_FILES':
        return M.NO_FILES;
      case 'CSRF_TOKEN_INVALID':
        return M.CSRF;
      case 'DUPLICATE_FILE':
        return (body.duplicates || []).map((d) => [
          fmt(M.DUPLICATE_FILE, { name: d.fileName }), ' ',
          ...d.existingProducts.map((p) => (p.title
            ? el('a', { href: `/san-pham/${p.id}`, textContent: p.title })
            : fmt(M.DUPLICATE_HIDDEN, { id: p.id }))),
        ]);
      case 'FIELD_TOO_LARGE':
        return M.FIELD_TOO_LARGE;
      // Refusals of the store itself (507/503): nothing was saved, and retrying at once will not help.
      case 'STORAGE_FULL':
        return M.STORAGE_FULL;
      case 'STORAGE_READ_ONLY':
      case 'STORAGE_IO_ERROR':
        return M.STORAGE_UNAVAILABLE;
      // Cut by the server for a stalled or too slow network (408): nothing was saved.
      case 'UPLOAD_STALLED':
      case 'UPLOAD_TOO_SLOW':
        return [M[code], ` (${code})`];
      default:
        if (status === 401) return M.UNAUTHORIZED;
        if (status === 403) return M.FORBIDDEN;
        if (status === 429) return M.RATE_LIMITED;
        if (status >= 500) return M.SERVER;
        // An unforeseen refusal: in the page language with its stable code, not the API's English.
        return fmt(M.withCode, { code: code || status });
    }
  };

  const follow = (id) => {
    const until = Date.now() + 30 * 60 * 1000;
    const tick = async () => {
      let rec;
      try {
        const res = await fetch(`/api/products/${id}`, { headers: { accept: 'application/json' } });
        if (res.ok) rec = await res.json();
      } catch { /* retry */ }
      if (rec) {
        rec.files.forEach((f, i) => {
          const e = entries[i];
          if (e) {
            e.status.textContent = fmt(M.processingState, { state: M[`processing.${f.processing}`] || f.processing });
            e.li.dataset.processing = f.processing;
          }
        });
        const state = document.getElementById('processing-state');
        if (state) {
          state.textContent = fmt(M.processingState, { state: M[`processing.${rec.processing}`] || rec.processing });
          state.dataset.state = rec.processing;
        }
        if (rec.processing === 'done' || rec.processing === 'failed') return;
      }
      if (Date.now() < until) setTimeout(tick, 1000);
    };
    tick();
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (busy) return;
    const keepDuplicate = allowDuplicate;
    allowDuplicate = false;
    clearFieldErrors();
    showErrors([]);
    // A refusal the server showed in the page (a post made without the script) is old news now.
    document.getElementById('upload-refused')?.remove();
    statusEl.replaceChildren();
    const problems = entries.filter((e) => e.problem).map((e) => e.problem);
    if (entries.length === 0) problems.push(M.NO_FILES);
    if (entries.length > maxFiles) problems.push(M.TOO_MANY_FILES);
    if (!form.elements.namedItem('type').value) fieldError('type', M['field.type']) && problems.push(M['field.type']);
    if (!form.elements.namedItem('title').value.trim()) fieldError('title', M['field.title']) && problems.push(M['field.title']);
    if (problems.length) {
      showErrors(problems);
      return;
    }

    // Fields first, then the files: the API validates the record before reading any file.
    const data = new FormData();
    let fieldBytes = 0;
    const enc = new TextEncoder();
    for (const c of form.elements) {
      // onDuplicate goes in the URL (reject, or flag after "submit anyway").
      if (!c.name || c.type === 'file' || c.name === '_csrf' || c.name === 'onDuplicate' || c.disabled) continue;
      if ((c.type === 'radio' || c.type === 'checkbox') && !c.checked) continue;
      if (c.value === '') continue;
      data.append(c.name, c.value);
      fieldBytes += enc.encode(c.value).length + c.name.length + 90;
    }
    const ranges = [];
    let offset = fieldBytes;
    for (const e of entries) {
      data.append('file', e.file, e.file.name);
      const start = offset + enc.encode(e.file.name).length + 170;
      ranges.push([start, start + e.file.size]);
      offset = start + e.file.size + 2;
    }
    const estimated = offset + 60;

    busy = true;
    submit.disabled = true;
    statusEl.textContent = M.uploading;
    for (const e of entries) e.li.querySelector('button').disabled = true;
    const xhr = new XMLHttpRequest();
    // The upload can be stopped while it is sent (a slow network, the wrong file): nothing is saved,
    // the fields stay as typed. Leaving the page meanwhile asks first.
    const cancel = el('button', { type: 'button', id: 'upload-cancel', className: 'secondary', textContent: M.cancel });
    submit.insertAdjacentElement('afterend', cancel);
    cancel.addEventListener('click', () => xhr.abort());
    const leaving = (e) => { e.preventDefault(); e.returnValue = ''; };
    window.addEventListener('beforeunload', leaving);
    const done = () => {
      busy = false;
      cancel.remove();
      window.removeEventListener('beforeunload', leaving);
      for (const e of entries) e.li.querySelector('button').disabled = false;
    };
    // The share sent so far, in steps of 10 %, in the status line (a polite live region: a screen
    // reader hears it move without every byte being read out).
    let said = 0;
    xhr.onabort = () => {
      done();
      submit.disabled = false;
      for (const e of entries) e.bar.value = 0;
      statusEl.replaceChildren(el('p', { id: 'upload-cancelled', textContent: M.cancelled }));
      submit.focus();
    };
    xhr.open('POST', `/api/products?onDuplicate=${keepDuplicate ? 'flag' : 'reject'}`);
    xhr.setRequestHeader('x-csrf-token', csrf);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable) return;
      const pos = e.loaded * (estimated / e.total);
      const pct = Math.floor((e.loaded / e.total) * 10) * 10;
      if (pct > said && pct < 100) {
        said = pct;
        statusEl.textContent = fmt(M.uploadingPct, { pct });
      }
      entries.forEach((en, i) => {
        const [a, b] = ranges[i];
        const frac = b === a ? (pos >= a ? 1 : 0) : Math.min(1, Math.max(0, (pos - a) / (b - a)));
        en.bar.value = Math.round(frac * 100);
      });
    };
    xhr.onerror = () => {
      done();
      submit.disabled = false;
      statusEl.replaceChildren();
      showErrors([M.NETWORK]);
    };
    xhr.onload = () => {
      done();
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status === 201 && body) {
        for (const e of entries) e.bar.value = 100;
        for (const c of form.elements) if (c.tagName !== 'FIELDSET') c.disabled = true;
        const link = el('a', { href: `/san-pham/${body.id}`, textContent: M.viewRecord, id: 'new-record-link' });
        statusEl.replaceChildren(
          el('p', { textContent: fmt(M.success, { id: body.id }) }),
          el('p', { id: 'processing-state', textContent: fmt(M.processingState, { state: M[`processing.${body.processing}`] || body.processing }) }),
          el('p', {}, link),
          // The form stays as sent (disabled): the next product starts from an empty one.
          el('p', {}, el('a', { href: '/nop', textContent: M.another, id: 'another-upload-link' })),
        );
        statusEl.scrollIntoView({ block: 'nearest' });
        link.focus();
        follow(body.id);
        return;
      }
      submit.disabled = false;
      statusEl.replaceChildren();
      for (const e of entries) e.bar.value = 0;
      // Every field the server found a problem with (body.errors), else the one it named.
      const fieldProblems = Array.isArray(body?.errors) ? body.errors : body?.field ? [{ field: body.field, message: body.message }] : [];
      const shown = fieldProblems.filter((p) => fieldError(p.field, M[`field.${p.field}`] || p.message));
      if (shown.length > 0) {
        showErrors(shown.map((p) => M[`field.${p.field}`] || p.message));
        return;
      }
      const msg = describeError(xhr.status, body);
      if (body?.fileName) {
        const e = entries.find((x) => x.file.name === body.fileName);
        if (e) { e.problem = Array.isArray(msg) ? '' : msg; refresh(); }
      }
      showErrors(Array.isArray(msg) && body?.code === 'DUPLICATE_FILE' ? msg : [msg]);
      if (body?.code === 'DUPLICATE_FILE') {
        // Another agency may hand in the same released file (a co-issued product): the copy can still be
        // submitted, flagged as a possible duplicate for the archivists.
        const again = el('button', { type: 'button', id: 'upload-anyway', className: 'secondary', textContent: M.submitAnyway });
        again.addEventListener('click', () => {
          allowDuplicate = true;
          form.requestSubmit();
        });
        errorsEl.append(el('p', {}, again));
      }
    };
    xhr.send(data);
  });
}
