// Playback keys: the account's key pairs in the region, with Create (generated in this
// page; only the public key is sent), Import, Delete and tags, as in the AWS console.

import { ApiError } from '../api.js';
import { encodePEM } from '../pem.js';
import {
  h, clear, alertBox, errorAlert, showIn, openDialog, dialogShell, announce, field, busy,
  tagEditor, tagList, tagsDialog, confirmDeleteDialog, download, readFile,
} from '../ui.js';

// QUOTA is the IVS limit of key pairs per account and region; it is not adjustable.
export const QUOTA = 3;
const NAME_PATTERN = /^[a-zA-Z0-9-_]{0,128}$/;

function keyId(arn) {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

function displayName(kp) {
  return kp.name || keyId(kp.arn);
}

function checkName(name) {
  if (NAME_PATTERN.test(name)) return '';
  return name.length > 128 ? 'The name is longer than 128 characters.' : 'The name may hold only letters, digits, - and _.';
}

export function render(main, ctx) {
  const { client } = ctx;
  let keys = [];

  const refresh = h('button', { type: 'button', id: 'refresh-keys', onclick: () => reload() }, 'Refresh');
  const importBtn = h('button', { type: 'button', id: 'import-key', onclick: () => importDialog() }, 'Import');
  const createBtn = h('button', { type: 'button', id: 'create-key', class: 'primary', onclick: () => createDialog() }, 'Create playback key');
  const count = h('span', { class: 'count', id: 'keys-count' });
  const quota = h('p', { class: 'quota', id: 'quota' });
  const status = h('div', { id: 'keys-status' });
  const table = h('div', { id: 'keys-table', class: 'table-wrap' });

  main.append(
    h('div', { class: 'breadcrumbs' }, 'Amazon IVS › Playback security › Playback keys'),
    h('div', { class: 'page-header' },
      h('h1', { tabindex: '-1' }, 'Playback keys'),
      h('div', { class: 'actions' }, refresh, importBtn, createBtn)),
    h('p', { class: 'lead' },
      'A playback key pair signs the playback authorization tokens of private channels. ',
      'playkey keeps only the public key; the private key stays with you. ',
      `Region: ${ctx.regionName} (${ctx.region}).`),
    h('section', { class: 'container', 'aria-labelledby': 'keys-heading' },
      h('div', { class: 'container-header' },
        h('h2', { id: 'keys-heading' }, 'Key pairs ', count),
        quota),
      status,
      table));

  async function reload() {
    showIn(status, h('p', { class: 'loading', role: 'status' }, 'Loading playback keys…'));
    try {
      const summaries = await client.listPlaybackKeyPairs();
      // The list has no fingerprint; there are at most 3 keys, so get each.
      keys = await Promise.all(summaries.map((s) => client.getPlaybackKeyPair(s.arn).catch((err) => {
        if (err instanceof ApiError && err.code === 'ResourceNotFoundException') return null; // deleted meanwhile
        throw err;
      })));
      keys = keys.filter(Boolean).sort((a, b) => a.name.localeCompare(b.name) || a.arn.localeCompare(b.arn));
    } catch (err) {
      if (!ctx.alive()) return;
      showIn(status, errorAlert(err, 'Loading the playback keys'));
      return;
    }
    if (!ctx.alive()) return;
    clear(status);
    draw();
  }

  function draw() {
    count.textContent = `(${keys.length})`;
    quota.textContent = `Quota: ${keys.length} of ${QUOTA} used in this region`;
    quota.classList.toggle('quota-full', keys.length >= QUOTA);
    quota.dataset.used = String(keys.length);
    if (keys.length === 0) {
      showIn(table, h('div', { class: 'empty' },
        h('p', {}, h('strong', {}, 'No playback keys')),
        h('p', {}, 'Create a key pair in this browser, or import the public key of one you made with openssl.')));
      return;
    }
    const rows = keys.map((kp) => h('tr', { 'data-arn': kp.arn, 'data-name': kp.name },
      h('td', { 'data-label': 'Name', class: 'key-name' }, kp.name || h('span', { class: 'muted' }, '(no name)')),
      h('td', { 'data-label': 'ARN', class: 'key-arn mono' }, kp.arn),
      h('td', { 'data-label': 'Fingerprint', class: 'key-fingerprint mono' }, kp.fingerprint || ''),
      h('td', { 'data-label': 'Tags', class: 'key-tags' }, tagList(kp.tags)),
      h('td', { 'data-label': 'Actions', class: 'key-actions' },
        h('button', { type: 'button', class: 'tags-button', 'aria-label': `Manage tags of ${displayName(kp)}`, onclick: () => tagsDialogFor(kp) }, 'Tags'),
        h('button', { type: 'button', class: 'delete-button danger', 'aria-label': `Delete ${displayName(kp)}`, onclick: () => deleteDialog(kp) }, 'Delete'))));
    showIn(table, h('table', { class: 'table', id: 'keys' },
      h('caption', { class: 'visually-hidden' }, `Playback keys in ${ctx.regionName}`),
      h('thead', {}, h('tr', {}, ['Name', 'ARN', 'Fingerprint', 'Tags', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows)));
  }

  function quotaNote() {
    return keys.length >= QUOTA
      ? alertBox('warning', `This region already has ${keys.length} of ${QUOTA} playback keys.`, h('p', {}, 'The server will refuse another one. Delete a key first.'))
      : null;
  }

  // Create: generate a P-384 key pair in the page, import the public half, then offer the
  // private half for download once.
  function createDialog() {
    const name = h('input', { type: 'text', id: 'create-name', maxlength: 128, autocomplete: 'off', spellcheck: 'false' });
    const tags = tagEditor();
    const errors = h('div', { class: 'form-status', id: 'create-status' });
    const submit = h('button', { type: 'submit', class: 'primary', id: 'create-submit', form: 'create-form' }, 'Create');
    const cancel = h('button', { type: 'button', id: 'create-cancel', onclick: () => dlg.close() }, 'Cancel');
    const form = h('form', { id: 'create-form', novalidate: true },
      quotaNote(),
      h('p', {}, 'The key pair is generated in this browser. Only the public key is sent to playkey; you download the private key at the next step, once.'),
      field('Name - optional', name, 'Up to 128 letters, digits, - and _.'),
      tags.el,
      errors);
    const body = h('div', {}, form);
    const footer = h('div', { class: 'footer-buttons' }, cancel, submit);
    const dlg = dialogShell({ title: 'Create playback key', idPrefix: 'create-dialog', body, footer });

    let privateKey = null;
    let downloaded = false;
    let created = null;
    dlg.addEventListener('close', () => { privateKey = null; });
    // While the private key is still to be saved, Escape asks first.
    dlg.addEventListener('cancel', (e) => {
      if (created && !downloaded && !doneBtn.dataset.confirm) {
        e.preventDefault();
        warnUnsaved();
      }
    });

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const why = checkName(name.value);
      if (why) {
        showIn(errors, alertBox('error', why));
        name.focus();
        return;
      }
      const t = tags.read();
      if (t.error) {
        showIn(errors, alertBox('error', t.error));
        return;
      }
      clear(errors);
      await busy(submit, 'Creating…', async () => {
        let pair;
        try {
          pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify']);
        } catch (err) {
          showIn(errors, errorAlert(err, 'Generating the key pair'));
          return;
        }
        const spki = await crypto.subtle.exportKey('spki', pair.publicKey);
        try {
          created = await client.importPlaybackKeyPair({ publicKeyMaterial: encodePEM('PUBLIC KEY', spki), name: name.value, tags: t.tags });
        } catch (err) {
          // The private key was never sent; dropping it here loses nothing.
          showIn(errors, errorAlert(err, 'Importing the public key'), h('p', { class: 'hint' }, 'The generated key pair was discarded.'));
          return;
        }
        privateKey = pair.privateKey;
        showSaveStep();
        reload();
      });
    });

    const doneBtn = h('button', { type: 'button', id: 'create-done', onclick: () => (downloaded || doneBtn.dataset.confirm ? dlg.close() : warnUnsaved()) }, 'Done');
    const savedNote = h('div', { id: 'download-status', class: 'form-status' });

    function warnUnsaved() {
      showIn(savedNote, alertBox('warning', 'You have not downloaded the private key.',
        h('p', {}, 'If you close this dialog, it is gone for good: the key pair will be useless and you will need to create another.')));
      doneBtn.dataset.confirm = 'yes';
      doneBtn.textContent = 'Close without downloading';
      doneBtn.focus();
    }

    function showSaveStep() {
      const filename = `${created.name || 'playback-key'}-${keyId(created.arn)}.pem`;
      const dl = h('button', {
        type: 'button', class: 'primary', id: 'download-private-key',
        onclick: async () => {
          if (!privateKey) return;
          const der = await crypto.subtle.exportKey('pkcs8', privateKey);
          download(filename, encodePEM('PRIVATE KEY', der), 'application/x-pem-file');
          downloaded = true;
          doneBtn.textContent = 'Done';
          showIn(savedNote, alertBox('success', `Downloaded ${filename}.`,
            h('p', {}, 'Keep it secret. playkey token sign, openssl and JWT libraries read this PKCS#8 PEM.')));
          announce(`Private key downloaded as ${filename}`);
        },
      }, 'Download private key');
      clear(body).append(
        alertBox('success', `Playback key ${created.name || keyId(created.arn)} created.`,
          h('dl', { class: 'facts' },
            h('dt', {}, 'ARN'), h('dd', { class: 'mono', id: 'created-arn' }, created.arn),
            h('dt', {}, 'Fingerprint'), h('dd', { class: 'mono', id: 'created-fingerprint' }, created.fingerprint))),
        h('div', { class: 'save-step' },
          h('h3', {}, 'Download the private key. You cannot retrieve it later.'),
          h('p', {}, 'This is the only time the private key is available. It was generated in this browser and never sent to playkey, which keeps only the public key. Without it you cannot sign playback tokens with this key pair.'),
          dl),
        savedNote);
      clear(footer).append(doneBtn);
      dl.focus();
    }

    openDialog(dlg, '#create-name');
  }

  function importDialog() {
    const name = h('input', { type: 'text', id: 'import-name', maxlength: 128, autocomplete: 'off', spellcheck: 'false' });
    const material = h('textarea', { id: 'import-material', rows: 8, spellcheck: 'false', autocomplete: 'off', class: 'mono', placeholder: '-----BEGIN PUBLIC KEY-----' });
    const file = h('input', { type: 'file', id: 'import-file', accept: '.pem,.pub,.key,.txt,text/plain' });
    const tags = tagEditor();
    const errors = h('div', { class: 'form-status', id: 'import-status' });
    const submit = h('button', { type: 'submit', class: 'primary', id: 'import-submit', form: 'import-form' }, 'Import');
    const cancel = h('button', { type: 'button', id: 'import-cancel', onclick: () => dlg.close() }, 'Cancel');
    file.addEventListener('change', async () => {
      try {
        const text = await readFile(file);
        if (text !== null) {
          material.value = text;
          announce('Public key read from the file');
        }
      } catch (err) {
        showIn(errors, alertBox('error', err.message));
      }
    });
    const form = h('form', { id: 'import-form', novalidate: true },
      quotaNote(),
      h('p', {}, 'Import the public key of an ECDSA P-384 key pair you already have, for example from ',
        h('code', {}, 'openssl ecparam -name secp384r1 -genkey -noout -out priv.pem'), ' then ',
        h('code', {}, 'openssl ec -in priv.pem -pubout -out public.pem'), '.'),
      field('Name - optional', name, 'Up to 128 letters, digits, - and _.'),
      field('Public key material', material, 'Paste the PEM (-----BEGIN PUBLIC KEY-----…), or choose a file below.'),
      field('Or choose a file', file),
      tags.el,
      errors);
    const dlg = dialogShell({
      title: 'Import playback key', idPrefix: 'import-dialog', body: form,
      footer: h('div', { class: 'footer-buttons' }, cancel, submit),
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const why = checkName(name.value);
      if (why) {
        showIn(errors, alertBox('error', why));
        name.focus();
        return;
      }
      const pem = material.value;
      if (pem.trim() === '') {
        showIn(errors, alertBox('error', 'Paste a public key or choose a file.'));
        material.focus();
        return;
      }
      // Never send a private key anywhere, not even to be refused.
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
        showIn(errors, alertBox('error', 'This is a private key; it was not sent.',
          h('p', {}, 'Import the public key only. Derive it with ', h('code', {}, 'openssl ec -in priv.pem -pubout'), '.')));
        material.focus();
        return;
      }
      const t = tags.read();
      if (t.error) {
        showIn(errors, alertBox('error', t.error));
        return;
      }
      clear(errors);
      await busy(submit, 'Importing…', async () => {
        try {
          const kp = await client.importPlaybackKeyPair({ publicKeyMaterial: pem, name: name.value, tags: t.tags });
          dlg.close();
          announce(`Playback key ${displayName(kp)} imported`);
          showIn(status, alertBox('success', `Playback key ${displayName(kp)} imported.`, h('p', { class: 'mono' }, kp.fingerprint)));
          reload();
        } catch (err) {
          showIn(errors, errorAlert(err, 'Importing the public key'));
        }
      });
    });
    openDialog(dlg, '#import-name');
  }

  function deleteDialog(kp) {
    const name = displayName(kp);
    confirmDeleteDialog({
      idPrefix: 'delete', title: 'Delete playback key', noun: 'playback key', name, arn: kp.arn,
      consequence: 'Tokens signed with its private key stop working at once, for every private channel in this region. This cannot be undone.',
      doing: 'Deleting the playback key',
      del: () => client.deletePlaybackKeyPair(kp.arn),
      onDeleted: () => {
        showIn(status, alertBox('success', `Playback key ${name} deleted.`));
        announce(`Playback key ${name} deleted`);
        reload().then(() => main.querySelector('#create-key')?.focus());
      },
    });
  }

  function tagsDialogFor(kp) {
    tagsDialog({
      client, arn: kp.arn, name: displayName(kp),
      onSaved: () => {
        showIn(status, alertBox('success', `Tags of ${displayName(kp)} saved.`));
        // The table is drawn anew; put focus back on this row's Tags button.
        reload().then(() => {
          for (const row of main.querySelectorAll('tr[data-arn]')) {
            if (row.dataset.arn === kp.arn) row.querySelector('.tags-button')?.focus();
          }
        });
      },
    });
  }

  reload();
}
