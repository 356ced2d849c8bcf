// DOM helpers. The console builds every element with createElement and textContent: the
// Content-Security-Policy requires Trusted Types with no policy, so innerHTML and the
// other string-to-DOM sinks throw.

import { meaningOf } from './api.js';

// h creates an element. attrs: class, text, on<event> (functions), boolean attributes
// (true/false), anything else as an attribute. children: nodes, strings, arrays, or
// null/false/undefined (skipped).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

let uid = 0;
// id returns a fresh element id with a prefix.
export function id(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// alertBox is a Cloudscape-style flash: kind is info, success, warning or error.
export function alertBox(kind, title, ...body) {
  return h('div', { class: `alert alert-${kind}`, role: kind === 'error' || kind === 'warning' ? 'alert' : 'status' },
    h('p', { class: 'alert-title' }, h('span', { class: 'alert-kind' }, kindLabel[kind] + ': '), title),
    body.length ? h('div', { class: 'alert-body' }, body) : null);
}

const kindLabel = { info: 'Info', success: 'Success', warning: 'Warning', error: 'Error' };

// errorAlert shows an error in words: what it means, then the server's code and message.
export function errorAlert(err, doing = '') {
  const code = err.code || err.name || 'Error';
  const meaning = err.code ? meaningOf(err.code, err.operation) : '';
  const title = doing ? `${doing} failed.` : 'That did not work.';
  return h('div', { class: 'alert alert-error', role: 'alert', 'data-error-code': code },
    h('p', { class: 'alert-title' }, h('span', { class: 'alert-kind' }, 'Error: '), title, meaning ? ' ' + meaning : ''),
    h('p', { class: 'alert-body' },
      err.code ? h('code', { class: 'error-code' }, code) : null,
      err.code && err.message ? ': ' : '',
      err.message || ''));
}

// showIn replaces the content of a container (an error or status area).
export function showIn(container, ...nodes) {
  clear(container).append(...nodes.filter(Boolean));
  // In a scrolling dialog the message may be below the fold.
  if (container.isConnected && container.closest('dialog')) {
    requestAnimationFrame(() => container.scrollIntoView({ block: 'nearest' }));
  }
}

// openDialog shows a modal dialog, appended to the body for its lifetime, and returns it.
// Focus goes to the element matching focusSelector (or the first control); when the dialog
// closes it is removed and focus returns to where it was, as the AWS console does.
export function openDialog(dialog, focusSelector) {
  const opener = document.activeElement;
  document.body.append(dialog);
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
  });
  dialog.showModal();
  const target = (focusSelector && dialog.querySelector(focusSelector)) ||
    dialog.querySelector('input, textarea, select, button:not(.dialog-close)');
  if (target) target.focus();
  return dialog;
}

// dialogShell builds a <dialog> with a title, a close button, a body and a footer.
export function dialogShell({ title, idPrefix, body, footer }) {
  const titleId = id(idPrefix + '-title');
  const dlg = h('dialog', { class: 'modal', 'aria-labelledby': titleId, id: idPrefix });
  const close = h('button', { type: 'button', class: 'dialog-close', 'aria-label': 'Close', onclick: () => dlg.close() }, '\u00d7');
  dlg.append(
    h('div', { class: 'modal-header' }, h('h2', { id: titleId }, title), close),
    h('div', { class: 'modal-body' }, body),
    h('div', { class: 'modal-footer' }, footer));
  return dlg;
}

const live = () => document.getElementById('live');

// announce tells screen readers about a change that happened elsewhere on the page.
export function announce(message) {
  const el = live();
  if (!el) return;
  el.textContent = '';
  setTimeout(() => { el.textContent = message; }, 50);
}

// field builds a labelled control with an optional hint, wired with aria-describedby.
export function field(label, control, hint) {
  const cid = control.id || id('field');
  control.id = cid;
  let hintEl = null;
  if (hint) {
    hintEl = h('p', { class: 'hint', id: cid + '-hint' }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
  }
  return h('div', { class: 'field' }, h('label', { for: cid }, label), hintEl, control);
}

// busy disables a button and changes its label while work runs, and restores it after.
export async function busy(button, label, work) {
  const old = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = label;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = old;
  }
}

// poll runs work now and then every intervalMs after each run ends, while the page is
// open and visible: it pauses while the tab is hidden, runs at once when it shows again,
// and stops for good when the user leaves the page (ctx.onLeave). It returns {now, stop}:
// now() runs work at once (after a run in progress) and goes on from there. The element
// indicator, if given, says in data-polling whether it is running, paused or stopped.
export function poll(ctx, work, intervalMs, indicator = null) {
  const state = (s) => { if (indicator) indicator.dataset.polling = s; };
  let timer = 0;
  let running = false;
  let again = false;
  let stopped = false;
  async function tick() {
    clearTimeout(timer);
    timer = 0;
    if (stopped || !ctx.alive() || document.hidden) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await work();
    } catch (err) {
      // work shows the API's errors itself; this is a fault of the page. Report it as an
      // uncaught one, and go on polling.
      reportError(err);
    } finally {
      running = false;
    }
    if (stopped || !ctx.alive() || document.hidden) return;
    if (again) {
      again = false;
      tick();
      return;
    }
    timer = setTimeout(tick, intervalMs);
  }
  function onVisibility() {
    if (document.hidden) {
      clearTimeout(timer);
      timer = 0;
      state('paused');
    } else {
      state('running');
      tick();
    }
  }
  function stop() {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisibility);
    state('stopped');
  }
  document.addEventListener('visibilitychange', onVisibility);
  state(document.hidden ? 'paused' : 'running');
  ctx.onLeave(stop);
  tick();
  return { now: tick, stop };
}

// Tags, as the IVS model allows them.
export const MAX_TAGS = 50;
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

// tagEditor is a list of key/value rows with Add and Remove buttons. read() returns
// {tags} or {error}.
export function tagEditor(initial = {}) {
  const rows = h('div', { class: 'tag-rows' });
  const add = h('button', { type: 'button', class: 'add-tag', onclick: () => { addRow('', ''); focusLast(); } }, 'Add new tag');
  const count = h('p', { class: 'hint' });
  const el = h('fieldset', { class: 'tags' }, h('legend', {}, 'Tags'), rows, add, count);
  const update = () => {
    const n = rows.children.length;
    count.textContent = n >= MAX_TAGS ? `You can add no more tags (at most ${MAX_TAGS}).` : `You can add ${MAX_TAGS - n} more tags.`;
    add.disabled = n >= MAX_TAGS;
  };
  const focusLast = () => rows.lastElementChild?.querySelector('input')?.focus();
  function addRow(k, v) {
    const n = rows.children.length + 1;
    const key = h('input', { type: 'text', class: 'tag-key', value: k, 'aria-label': `Tag ${n} key`, maxlength: 128, autocomplete: 'off' });
    const val = h('input', { type: 'text', class: 'tag-value', value: v, 'aria-label': `Tag ${n} value`, maxlength: 256, autocomplete: 'off' });
    const row = h('div', { class: 'tag-row' },
      h('label', { class: 'tag-cell' }, h('span', { class: 'tag-label' }, 'Key'), key),
      h('label', { class: 'tag-cell' }, h('span', { class: 'tag-label' }, 'Value'), val),
      h('button', {
        type: 'button', class: 'remove-tag', 'aria-label': `Remove tag ${n}`,
        onclick: () => {
          const next = row.nextElementSibling || row.previousElementSibling;
          row.remove();
          update();
          (next?.querySelector('input') || add).focus();
        },
      }, 'Remove'));
    rows.append(row);
    update();
  }
  for (const [k, v] of Object.entries(initial)) addRow(k, v);
  update();
  return {
    el,
    read() {
      const tags = {};
      for (const row of rows.children) {
        const k = row.querySelector('.tag-key').value;
        const v = row.querySelector('.tag-value').value;
        if (k === '' && v === '') continue;
        if (k === '') return { error: 'A tag has a value but no key.' };
        if ([...k].length > 128) return { error: `Tag key "${k.slice(0, 20)}…" is longer than 128 characters.` };
        if ([...v].length > 256) return { error: `The value of tag "${k}" is longer than 256 characters.` };
        if (!TAG_CHARS.test(k) || !TAG_CHARS.test(v)) {
          return { error: `Tag "${k}": keys and values may hold letters, digits, spaces and _ . : / = + - @ only.` };
        }
        if (k in tags) return { error: `Tag key "${k}" appears twice.` };
        tags[k] = v;
      }
      return { tags };
    },
  };
}

// tagList shows tags as a list of key = value chips.
export function tagList(tags) {
  const entries = Object.entries(tags || {});
  if (entries.length === 0) return h('span', { class: 'muted' }, 'No tags');
  return h('ul', { class: 'tag-list' }, entries.map(([k, v]) =>
    h('li', { class: 'tag-chip' }, h('span', { class: 'tag-k' }, k), v === '' ? null : [' = ', h('span', { class: 'tag-v' }, v)])));
}

// download offers bytes as a file through a Blob and an a[download] element.
export function download(filename, text, type = 'application/octet-stream') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// readFile returns the text of the file chosen in an <input type=file>, refusing large ones.
export async function readFile(input, maxBytes = 64 * 1024) {
  const file = input.files && input.files[0];
  if (!file) return null;
  if (file.size > maxBytes) throw new Error(`${file.name} is ${file.size} bytes; a PEM key is a few hundred.`);
  return file.text();
}

// tagsDialog edits the tags of any resource: it loads them, lets the user change them, and
// sends the removed keys (UntagResource) and the new or changed ones (TagResource).
// onSaved runs after the dialog has closed.
// confirmDeleteDialog asks the user to type a resource's name before deleting it. Element
// ids start with idPrefix (idPrefix-confirm, -submit, -cancel, -status, -form, -dialog).
// del() performs the deletion; on success the dialog closes and onDeleted() runs; on failure
// the error is shown in the dialog, described as `doing`.
export function confirmDeleteDialog({ idPrefix, title, noun, name, arn, consequence, doing, del, onDeleted }) {
  const confirmInput = h('input', { type: 'text', id: `${idPrefix}-confirm`, autocomplete: 'off', spellcheck: 'false' });
  const errors = h('div', { class: 'form-status', id: `${idPrefix}-status` });
  const submit = h('button', { type: 'submit', class: 'danger-primary', id: `${idPrefix}-submit`, form: `${idPrefix}-form`, disabled: true }, 'Delete');
  const cancel = h('button', { type: 'button', id: `${idPrefix}-cancel`, onclick: () => dlg.close() }, 'Cancel');
  confirmInput.addEventListener('input', () => { submit.disabled = confirmInput.value !== name; });
  const form = h('form', { id: `${idPrefix}-form`, novalidate: true },
    h('p', {}, `Delete ${noun} `, h('strong', {}, name), '?'),
    h('p', {}, consequence),
    h('p', { class: 'mono small' }, arn),
    field(`To confirm, type ${name}`, confirmInput),
    errors);
  const dlg = dialogShell({
    title, idPrefix: `${idPrefix}-dialog`, body: form,
    footer: h('div', { class: 'footer-buttons' }, cancel, submit),
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (confirmInput.value !== name) return;
    await busy(submit, 'Deleting…', async () => {
      try {
        await del();
      } catch (err) {
        showIn(errors, errorAlert(err, doing));
        return;
      }
      dlg.close();
      onDeleted();
    });
    submit.disabled = confirmInput.value !== name;
  });
  openDialog(dlg, `#${idPrefix}-confirm`);
}

export function tagsDialog({ client, arn, name, onSaved }) {
  const holder = h('div', { id: 'tags-editor' }, h('p', { class: 'loading', role: 'status' }, 'Loading tags…'));
  const errors = h('div', { class: 'form-status', id: 'tags-status' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'tags-submit', form: 'tags-form', disabled: true }, 'Save changes');
  const cancel = h('button', { type: 'button', id: 'tags-cancel', onclick: () => dlg.close() }, 'Cancel');
  const form = h('form', { id: 'tags-form', novalidate: true },
    h('p', {}, 'Tags of ', h('strong', {}, name), `. A tag is a key and an optional value; a resource has at most ${MAX_TAGS}.`),
    holder, errors);
  const dlg = dialogShell({
    title: 'Manage tags', idPrefix: 'tags-dialog', body: form,
    footer: h('div', { class: 'footer-buttons' }, cancel, submit),
  });
  let before = {};
  let editor = null;
  openDialog(dlg, '#tags-cancel');
  client.listTagsForResource(arn).then((tags) => {
    before = tags;
    editor = tagEditor(tags);
    showIn(holder, editor.el);
    submit.disabled = false;
    (editor.el.querySelector('input') || editor.el.querySelector('button'))?.focus();
  }, (err) => showIn(holder, errorAlert(err, 'Loading the tags')));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!editor) return;
    const t = editor.read();
    if (t.error) {
      showIn(errors, alertBox('error', t.error));
      return;
    }
    const removed = Object.keys(before).filter((k) => !(k in t.tags));
    const changed = Object.fromEntries(Object.entries(t.tags).filter(([k, v]) => before[k] !== v));
    await busy(submit, 'Saving…', async () => {
      try {
        if (removed.length) await client.untagResource(arn, removed);
        if (Object.keys(changed).length) await client.tagResource(arn, changed);
      } catch (err) {
        showIn(errors, errorAlert(err, 'Saving the tags'));
        return;
      }
      dlg.close();
      announce('Tags saved');
      if (onSaved) onSaved();
    });
  });
}

// copyText puts text on the clipboard and reports whether it could. The Clipboard API
// needs a focused document; when it refuses, a selected text area and the copy command
// (in the open dialog, if any, since a modal makes the rest of the page inert) do it.
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // fall through to the copy command
  }
  const active = document.activeElement;
  const ta = h('textarea', { class: 'visually-hidden', readonly: true, tabindex: '-1', 'aria-hidden': 'true' });
  ta.value = text;
  (active?.closest('dialog') || document.body).append(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  ta.remove();
  if (active && typeof active.focus === 'function') active.focus();
  return ok;
}

// copyButton is a Copy button for a value (a string, or a function returning one); label
// names the value for screen readers ("Copy playback URL").
export function copyButton(value, label, attrs = {}) {
  const btn = h('button', { type: 'button', class: 'copy-button', 'aria-label': `Copy ${label}`, ...attrs }, 'Copy');
  let timer = 0;
  btn.addEventListener('click', async () => {
    const text = typeof value === 'function' ? value() : value;
    const ok = await copyText(text);
    btn.textContent = ok ? 'Copied' : 'Copy failed';
    btn.dataset.copied = ok ? 'yes' : 'no';
    announce(ok ? `${label} copied` : `Could not copy the ${label}; select it and copy it by hand`);
    clearTimeout(timer);
    timer = setTimeout(() => { btn.textContent = 'Copy'; }, 2500);
  });
  return btn;
}

// copyValue shows a value in monospace with a Copy button beside it.
export function copyValue(value, label, { id: valueId, copyId } = {}) {
  return h('div', { class: 'copy-value' },
    h('span', { class: 'mono copy-text', id: valueId }, value),
    copyButton(value, label, { id: copyId }));
}

// secretValue shows a secret masked, with Show/Hide and Copy buttons.
export function secretValue(value, label, { id: valueId, showId, copyId } = {}) {
  const masked = () => [h('span', { 'aria-hidden': 'true' }, '•'.repeat(Math.min(24, value.length || 8))),
    h('span', { class: 'visually-hidden' }, `${label} hidden`)];
  const text = h('span', { class: 'mono copy-text', id: valueId, 'data-shown': 'no' }, masked());
  const toggle = h('button', { type: 'button', class: 'show-button', id: showId, 'aria-pressed': 'false', 'aria-label': `Show ${label}` }, 'Show');
  toggle.addEventListener('click', () => {
    const show = toggle.getAttribute('aria-pressed') !== 'true';
    toggle.setAttribute('aria-pressed', String(show));
    toggle.setAttribute('aria-label', `${show ? 'Hide' : 'Show'} ${label}`);
    toggle.textContent = show ? 'Hide' : 'Show';
    text.replaceChildren(...(show ? [value] : masked()));
    text.dataset.shown = show ? 'yes' : 'no';
  });
  return h('div', { class: 'copy-value' }, text, toggle, copyButton(value, label, { id: copyId }));
}
