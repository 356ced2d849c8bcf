// Token debugger: decode a playback authorization token, explain each claim, check it
// against the IVS rules in the page, ask the server whether it would accept it, and
// generate test tokens signed in the page with a pasted private key.

import { ApiError, Client } from '../api.js';
import { privateKeyPKCS8, PEMError } from '../pem.js';
import {
  CLAIM, decodeToken, checkClaims, explainClaim, explainHeader, expiry, signToken, RESOLUTIONS,
} from '../jwt.js';
import { h, clear, alertBox, errorAlert, showIn, field, busy, readFile, announce } from '../ui.js';

const CHANNEL_ARN = /^arn:aws:ivs:[a-z0-9-]+:[0-9]{12}:channel\/[a-zA-Z0-9-]+$/;

// What an IVS claim means when it is absent.
const unsetMeaning = [
  [CLAIM.allowOrigin, 'every origin may play'],
  [CLAIM.strictOrigin, 'origins are left to browsers\' CORS checks'],
  [CLAIM.singleUse, 'the token can start playback any number of times until it expires'],
  [CLAIM.viewerId, 'the viewer\'s sessions cannot be revoked one by one'],
  [CLAIM.sessionVersion, 'version 0'],
  [CLAIM.maxResolution, 'every rendition plays'],
];

function show(value) {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

// itemList shows header parameters or claims: name, check, value, meaning and problems.
function itemList(id, attr, items) {
  return h('ul', { class: 'claim-list', id }, items.map((it) => h('li', {
    class: it.problems.length ? 'claim claim-problem' : 'claim', [attr]: it.name,
  },
  h('div', { class: 'claim-head' },
    h('code', { class: 'claim-name' }, it.name),
    it.problems.length ? h('span', { class: 'badge badge-error' }, 'Problem') : h('span', { class: 'badge badge-ok' }, 'OK')),
  h('div', { class: 'claim-value mono' }, it.value === null ? h('em', {}, 'missing') : it.value),
  h('p', { class: 'claim-meaning' }, it.meaning),
  it.problems.map((p) => h('p', { class: 'claim-reason' }, h('code', {}, p.code), ': ', p.reason)))));
}

export function render(main, ctx) {
  // Decode and check.
  const tokenInput = h('textarea', { id: 'token-input', rows: 5, spellcheck: 'false', autocomplete: 'off', class: 'mono' });
  const channelInput = h('input', { type: 'text', id: 'token-channel', spellcheck: 'false', autocomplete: 'off', class: 'mono', placeholder: 'arn:aws:ivs:us-west-2:123456789012:channel/abcdEFGH1234' });
  const decodeBtn = h('button', { type: 'submit', class: 'primary', id: 'decode-submit' }, 'Decode and check');
  const result = h('div', { id: 'token-result', 'aria-live': 'polite' });
  const decodeForm = h('form', { id: 'decode-form', novalidate: true },
    field('Token', tokenInput, 'The value of ?token= on the playback URL: three base64url parts separated by dots.'),
    field('Channel ARN - optional', channelInput, 'The channel being played. Without it, aws:channel-arn is not compared.'),
    h('div', { class: 'form-actions' }, decodeBtn));

  // Generate.
  const keyInput = h('textarea', { id: 'gen-key', rows: 6, spellcheck: 'false', autocomplete: 'off', class: 'mono', placeholder: '-----BEGIN PRIVATE KEY-----' });
  const keyFile = h('input', { type: 'file', id: 'gen-key-file', accept: '.pem,.key,.txt,text/plain' });
  const genChannel = h('input', { type: 'text', id: 'gen-channel', spellcheck: 'false', autocomplete: 'off', class: 'mono', required: true });
  const ttl = h('input', { type: 'number', id: 'gen-ttl', min: 1, step: 1, value: '300', inputmode: 'numeric' });
  const viewerId = h('input', { type: 'text', id: 'gen-viewer-id', maxlength: 40, autocomplete: 'off' });
  const sessionVersion = h('input', { type: 'number', id: 'gen-session-version', min: 0, step: 1, inputmode: 'numeric' });
  const singleUse = h('input', { type: 'checkbox', id: 'gen-single-use' });
  const maxRes = h('select', { id: 'gen-max-resolution' },
    h('option', { value: '' }, 'No limit'),
    Object.entries(RESOLUTIONS).map(([v, p]) => h('option', { value: v }, `${v} (up to ${p})`)));
  const origins = h('input', { type: 'text', id: 'gen-origins', spellcheck: 'false', autocomplete: 'off', placeholder: 'https://example.com, https://*.example.net' });
  const strict = h('input', { type: 'checkbox', id: 'gen-strict' });
  const genBtn = h('button', { type: 'submit', class: 'primary', id: 'gen-submit' }, 'Generate token');
  const genStatus = h('div', { id: 'gen-status', class: 'form-status' });
  const genOut = h('textarea', { id: 'gen-output', rows: 4, readonly: true, class: 'mono', spellcheck: 'false' });
  const genOutField = field('Generated token', genOut);
  genOutField.hidden = true;

  keyFile.addEventListener('change', async () => {
    try {
      const text = await readFile(keyFile);
      if (text !== null) keyInput.value = text;
    } catch (err) {
      showIn(genStatus, alertBox('error', err.message));
    }
  });

  const genForm = h('form', { id: 'gen-form', novalidate: true },
    h('p', {}, 'Signs an ES384 token in this page. The private key is not sent anywhere nor stored; it stays in this form until you leave the page.'),
    field('Private key (PEM)', keyInput, 'A P-384 key as -----BEGIN PRIVATE KEY----- (PKCS#8, as this console downloads it) or -----BEGIN EC PRIVATE KEY----- (SEC1, as openssl ecparam writes it).'),
    field('Or choose a file', keyFile),
    field('Channel ARN', genChannel),
    field('Expires in (seconds)', ttl, 'At most 600 with a viewer ID or single use.'),
    h('details', { class: 'optional-claims' },
      h('summary', {}, 'Optional claims'),
      field('Viewer ID (aws:viewer-id)', viewerId, 'Up to 40 characters; lets you revoke this viewer\'s sessions.'),
      field('Viewer session version (aws:viewer-session-version)', sessionVersion),
      h('div', { class: 'field checkbox' }, singleUse, h('label', { for: 'gen-single-use' }, 'Single use (aws:single-use-uuid, a fresh UUID)')),
      field('Maximum resolution (aws:maximum-resolution)', maxRes),
      field('Allowed origins (aws:access-control-allow-origin)', origins, 'Comma-separated; empty allows every origin.'),
      h('div', { class: 'field checkbox' }, strict, h('label', { for: 'gen-strict' }, 'Strict origin enforcement (aws:strict-origin-enforcement)'))),
    genStatus,
    h('div', { class: 'form-actions' }, genBtn),
    genOutField);

  main.append(
    h('div', { class: 'breadcrumbs' }, 'Amazon IVS › Playback security › Token debugger'),
    h('div', { class: 'page-header' }, h('h1', { tabindex: '-1' }, 'Token debugger')),
    h('p', { class: 'lead' }, 'Paste a playback authorization token to see what each claim means and whether it would start playback. Tokens are decoded in this page.'),
    h('div', { class: 'columns' },
      h('section', { class: 'container', 'aria-labelledby': 'decode-heading' },
        h('h2', { id: 'decode-heading' }, 'Decode and check a token'), decodeForm, result),
      h('section', { class: 'container', 'aria-labelledby': 'gen-heading' },
        h('h2', { id: 'gen-heading' }, 'Generate a test token'), genForm)));

  // #/token?channel={ARN}, from a channel's page, fills in the channel for both forms.
  const presetChannel = ctx.query?.get('channel') || '';
  if (presetChannel) {
    channelInput.value = presetChannel;
    genChannel.value = presetChannel;
    genForm.prepend(alertBox('info', 'Channel filled in from its page.',
      h('p', { class: 'mono', id: 'token-preset-channel' }, presetChannel),
      h('p', {}, 'Paste a private key to sign a test token for it, or paste a token on the left (above on a narrow screen) to check it against this channel.')));
  }

  decodeForm.addEventListener('submit', (e) => {
    e.preventDefault();
    decode();
  });

  genForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(genStatus);
    genOut.value = '';
    genOutField.hidden = true;
    const channel = genChannel.value.trim();
    if (!channel) {
      showIn(genStatus, alertBox('error', 'Enter the channel ARN the token is for.'));
      genChannel.focus();
      return;
    }
    const seconds = Number(ttl.value);
    if (!Number.isInteger(seconds) || seconds < 1) {
      showIn(genStatus, alertBox('error', 'The expiry must be a whole number of seconds, 1 or more.'));
      ttl.focus();
      return;
    }
    let pkcs8;
    try {
      pkcs8 = privateKeyPKCS8(keyInput.value);
    } catch (err) {
      showIn(genStatus, alertBox('error', err instanceof PEMError ? err.message : 'The private key could not be read.'));
      keyInput.focus();
      return;
    }
    const claims = { [CLAIM.channelArn]: channel, [CLAIM.exp]: Math.floor(Date.now() / 1000) + seconds };
    if (viewerId.value !== '') claims[CLAIM.viewerId] = viewerId.value;
    if (sessionVersion.value !== '') claims[CLAIM.sessionVersion] = Number(sessionVersion.value);
    if (singleUse.checked) claims[CLAIM.singleUse] = crypto.randomUUID();
    if (maxRes.value) claims[CLAIM.maxResolution] = maxRes.value;
    if (origins.value.trim() !== '') claims[CLAIM.allowOrigin] = origins.value.trim();
    if (strict.checked) claims[CLAIM.strictOrigin] = true;
    await busy(genBtn, 'Signing…', async () => {
      let token;
      try {
        token = await signToken(pkcs8, claims);
      } catch (err) {
        showIn(genStatus, alertBox('error', 'WebCrypto could not use this key.',
          h('p', {}, `${err.name}: ${err.message || 'the key is not a valid ECDSA P-384 private key'}`)));
        return;
      }
      genOut.value = token;
      genOutField.hidden = false;
      showIn(genStatus, alertBox('success', 'Token generated.', h('p', {}, 'It is decoded and checked on the left (above on a narrow screen).')));
      tokenInput.value = token;
      channelInput.value = channel;
      announce('Token generated');
      decode();
    });
  });

  let checkSeq = 0;

  function decode() {
    const token = tokenInput.value.trim();
    const channelArn = channelInput.value.trim();
    clear(result);
    if (!token) {
      result.append(alertBox('error', 'Paste a token first.'));
      tokenInput.focus();
      return;
    }
    const now = Date.now() / 1000;
    const d = decodeToken(token);
    const problems = [...d.problems];
    if (d.claims) problems.push(...checkClaims(d.claims, { channelArn, now }));

    const verdict = problems.length === 0
      ? alertBox('success', 'The header and claims pass every check this page can make.',
        h('p', {}, 'The signature can only be checked by the server, which holds the public keys: see the server check below.'))
      : alertBox('error', `This token would be rejected: ${problems[0].code}.`,
        h('ul', { class: 'problems' }, problems.map((p) => h('li', { 'data-code': p.code }, h('code', {}, p.code), ': ', p.reason))));
    verdict.id = 'token-verdict';
    verdict.dataset.verdict = problems.length === 0 ? 'ok' : 'rejected';
    result.append(verdict);

    if (channelArn && !CHANNEL_ARN.test(channelArn)) {
      result.append(alertBox('warning', 'The channel ARN you entered is not of the form arn:aws:ivs:REGION:ACCOUNT:channel/ID.'));
    }

    if (d.header) {
      result.append(h('h3', {}, 'Header'), itemList('token-header', 'data-param', Object.entries(d.header).map(([k, v]) => ({
        name: k, value: show(v), meaning: explainHeader(k, v),
        problems: problems.filter((p) => !p.claim && (p.code === 'unsupported_alg' ? k === 'alg' : p.code === 'bad_header' && p.reason.includes(JSON.stringify(k)))),
      }))));
    }

    if (d.claims) {
      const byClaim = new Map();
      for (const p of problems) if (p.claim) byClaim.set(p.claim, [...(byClaim.get(p.claim) || []), p]);
      const names = Object.keys(d.claims);
      for (const required of [CLAIM.exp, CLAIM.channelArn]) if (!names.includes(required)) names.unshift(required);
      result.append(h('h3', {}, 'Claims'), itemList('token-claims', 'data-claim', names.map((k) => ({
        name: k,
        value: k in d.claims ? show(d.claims[k]) : null,
        meaning: explainClaim(k, d.claims[k], now),
        problems: byClaim.get(k) || [],
      }))));
      const unset = unsetMeaning.filter(([k]) => !(k in d.claims));
      if (unset.length) {
        result.append(h('p', { class: 'hint' }, 'Not set:'), h('ul', { class: 'unset' },
          unset.map(([k, m]) => h('li', {}, h('code', {}, k), ` — ${m}.`))));
      }
      const exp = d.claims[CLAIM.exp];
      if (typeof exp === 'number') {
        const e = expiry(exp, now);
        result.append(h('p', { id: 'token-expiry' }, h('strong', {}, 'Expiry: '), `${e.local} (${e.relative})`));
      }
    }
    if (d.signature) {
      result.append(h('p', { class: 'hint', id: 'token-signature' },
        `Signature: ${d.signature.length} bytes${d.signature.length === 96 ? ' (r||s, the ES384 form)' : ''}. Checked by the server against every playback key of the channel's account and region.`));
    }

    const panel = h('section', { id: 'server-check', class: 'server-check', 'data-state': 'pending', 'aria-labelledby': 'server-check-heading' },
      h('h3', { id: 'server-check-heading' }, 'Server check'),
      h('p', { role: 'status' }, 'Asking this server whether it would accept the token…'));
    result.append(panel);
    const seq = ++checkSeq;
    const arn = channelArn || (d.claims && typeof d.claims[CLAIM.channelArn] === 'string' ? d.claims[CLAIM.channelArn] : '');
    // The gate decides with the keys of the channel's own region, so ask about that region,
    // whatever region the page shows.
    const arnRegion = CHANNEL_ARN.test(arn) ? arn.split(':')[3] : ctx.region;
    const client = arnRegion === ctx.region ? ctx.client : new Client(ctx.client.credentials, arnRegion);
    client.verifyPlaybackToken(token, arn).then((r) => {
      if (seq !== checkSeq || !ctx.alive()) return;
      const why = h('p', { class: 'server-reason' }, r.reason || '');
      const on = `${r.channelArn || arn || 'the channel in the token'}`;
      // The server's explanation (token.Explain, as playkey token inspect prints it) lists
      // every problem short of the signature, not only the first.
      const more = ((r.explanation && r.explanation.problems) || []).filter((p) => p.code !== r.code);
      const list = more.length
        ? h('ul', { class: 'problems server-problems' }, more.map((p) => h('li', { 'data-code': p.code }, h('code', {}, p.code), ': ', p.reason)))
        : null;
      let box;
      if (!r.valid) box = alertBox('error', `Rejected by this server: ${r.code || 'invalid'}.`, why, ...(list ? [h('p', {}, 'Also:'), list] : []));
      else if (r.code === 'public_channel') box = alertBox('success', `Plays on this server: ${on} is public, so no token is needed.`, why);
      else box = alertBox('success', `Accepted by this server for ${on}.`, why);
      setPanel(panel, r.valid ? 'valid' : 'invalid', box);
      panel.dataset.code = r.code || '';
    }, (err) => {
      if (seq !== checkSeq || !ctx.alive()) return;
      if (err instanceof ApiError && err.code === 'UnknownOperationException') {
        setPanel(panel, 'unavailable', alertBox('info', 'Server check unavailable.',
          h('p', {}, 'This playkey server has no VerifyPlaybackToken operation. The checks above were made in this page, without the signature.')));
      } else {
        setPanel(panel, 'error', errorAlert(err, 'The server check'));
      }
    });
  }

  function setPanel(panel, state, ...nodes) {
    panel.dataset.state = state;
    const heading = panel.querySelector('h3');
    clear(panel).append(heading, ...nodes);
  }
}
