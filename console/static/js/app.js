// The console shell: session, region, navigation and routing. Pages are modules under
// pages/ exporting render(main, ctx); adding one is a row in `pages` and a nav link.
// A route is #/{page}[/{segment}...][?{query}]: ctx.path holds the segments after the page
// name (decoded), ctx.query the query (URLSearchParams), e.g. #/channels/{id} or
// #/token?channel={ARN}.

import { Client, ApiError } from './api.js';
import { h, clear, errorAlert, alertBox, field, busy, showIn } from './ui.js';

// The regions where Amazon IVS (low-latency streaming) runs, as the AWS console names them.
export const REGIONS = [
  ['us-east-1', 'US East (N. Virginia)'],
  ['us-west-2', 'US West (Oregon)'],
  ['ap-south-1', 'Asia Pacific (Mumbai)'],
  ['ap-northeast-2', 'Asia Pacific (Seoul)'],
  ['ap-northeast-1', 'Asia Pacific (Tokyo)'],
  ['eu-central-1', 'Europe (Frankfurt)'],
  ['eu-west-1', 'Europe (Ireland)'],
];
const DEFAULT_REGION = 'us-west-2';

export function regionName(code) {
  const r = REGIONS.find(([c]) => c === code);
  return r ? r[1] : code;
}

// pages is the route table: #/{name}. A page module exports render(main, ctx).
const pages = {
  channels: { title: 'Channels', load: () => import('./pages/channels.js') },
  keys: { title: 'Playback keys', load: () => import('./pages/keys.js') },
  token: { title: 'Token debugger', load: () => import('./pages/token.js') },
};

// parseRoute splits a #/... hash into the page name, the path segments after it, and the
// query. Segments are percent-decoded; a malformed escape leaves the segment as it is.
export function parseRoute(hash) {
  const rest = hash.slice(2);
  const q = rest.indexOf('?');
  const pathPart = q < 0 ? rest : rest.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
  const segments = pathPart.split('/').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  return { name: segments[0], path: segments.slice(1).filter((s) => s !== ''), query };
}
const DEFAULT_PAGE = 'keys';

// The session lives in this tab's sessionStorage only: closing the tab or signing out
// forgets the secret.
const SESSION_KEY = 'playkey.console.credentials';
const REGION_KEY = 'playkey.console.region';

function loadCredentials() {
  try {
    const c = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
    return c && c.accessKeyId && c.secretAccessKey ? c : null;
  } catch {
    return null;
  }
}

function currentRegion() {
  const r = sessionStorage.getItem(REGION_KEY);
  return REGIONS.some(([c]) => c === r) ? r : DEFAULT_REGION;
}

const els = {};
let renderSeq = 0;
// What the rendered page asked to run when it is left (timers to stop).
let leaving = [];

function init() {
  els.main = document.getElementById('main');
  els.nav = document.getElementById('nav');
  els.navToggle = document.getElementById('nav-toggle');
  els.session = document.getElementById('session');
  els.region = document.getElementById('region');
  els.identity = document.getElementById('identity');
  els.signOut = document.getElementById('sign-out');

  for (const [code, name] of REGIONS) {
    els.region.append(h('option', { value: code }, `${name} ${code}`));
  }
  els.region.value = currentRegion();
  els.region.addEventListener('change', () => {
    sessionStorage.setItem(REGION_KEY, els.region.value);
    route();
  });
  els.signOut.addEventListener('click', signOut);
  els.navToggle.addEventListener('click', () => {
    const open = els.navToggle.getAttribute('aria-expanded') !== 'true';
    els.navToggle.setAttribute('aria-expanded', String(open));
    els.nav.classList.toggle('open', open);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && els.nav.classList.contains('open') && !document.querySelector('dialog[open]')) {
      els.navToggle.setAttribute('aria-expanded', 'false');
      els.nav.classList.remove('open');
      els.navToggle.focus();
    }
  });
  els.nav.addEventListener('click', (e) => {
    if (e.target.closest('a')) {
      els.navToggle.setAttribute('aria-expanded', 'false');
      els.nav.classList.remove('open');
    }
  });
  window.addEventListener('hashchange', () => route(true));
  route(false);
}

function signOut() {
  sessionStorage.clear();
  els.region.value = DEFAULT_REGION;
  history.replaceState(null, '', '#/' + DEFAULT_PAGE);
  route(true);
}

// route renders the page the hash names, or the sign-in page without a session. Hashes
// that are not routes (#main, from the skip link) leave the page as it is.
function route(userNavigated = false) {
  const hash = location.hash || '#/' + DEFAULT_PAGE;
  if (!hash.startsWith('#/')) return;
  const seq = ++renderSeq;
  for (const f of leaving.splice(0)) f();
  const credentials = loadCredentials();
  const signedIn = credentials !== null;
  els.session.hidden = !signedIn;
  els.nav.hidden = !signedIn;
  els.navToggle.hidden = !signedIn;
  document.body.classList.toggle('signed-in', signedIn);
  clear(els.main);
  if (!signedIn) {
    document.title = 'Sign in | playkey console';
    renderSignIn(els.main);
    return;
  }
  els.identity.textContent = credentials.accessKeyId;
  const r = parseRoute(hash);
  const name = r.name || DEFAULT_PAGE;
  const page = pages[name] || pages[DEFAULT_PAGE];
  const pageName = pages[name] ? name : DEFAULT_PAGE;
  document.title = `${page.title} | playkey console`;
  for (const a of els.nav.querySelectorAll('a[data-page]')) {
    if (a.dataset.page === pageName) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const region = currentRegion();
  const ctx = {
    client: new Client(credentials, region),
    region,
    regionName: regionName(region),
    alive: () => seq === renderSeq,
    path: pages[name] ? r.path : [],
    query: pages[name] ? r.query : new URLSearchParams(),
    // onLeave runs f when the user goes to another page (or at once if already gone).
    onLeave: (f) => {
      if (seq === renderSeq) leaving.push(f);
      else f();
    },
    // setTitle names the page in the window title once it knows what it shows.
    setTitle: (title) => {
      if (seq === renderSeq) document.title = `${title} | playkey console`;
    },
  };
  page.load().then((mod) => {
    if (!ctx.alive()) return;
    mod.render(els.main, ctx);
    if (userNavigated) els.main.querySelector('h1')?.focus();
  }, (err) => {
    showIn(els.main, errorAlert(err, 'Loading the page'));
  });
}

// parseCredentials finds an access key, secret and region in pasted text: export lines
// (AWS_ACCESS_KEY_ID=...) or a shared-credentials file (aws_access_key_id = ...).
export function parseCredentials(text) {
  const out = {};
  const pick = (re) => {
    const m = text.match(re);
    return m ? m[1].replace(/^["']|["']$/g, '') : '';
  };
  out.accessKeyId = pick(/(?:AWS_ACCESS_KEY_ID|aws_access_key_id)\s*=\s*(\S+)/);
  out.secretAccessKey = pick(/(?:AWS_SECRET_ACCESS_KEY|aws_secret_access_key)\s*=\s*(\S+)/);
  out.region = pick(/(?:AWS_REGION|AWS_DEFAULT_REGION|region)\s*=\s*([a-z0-9-]+)/);
  return out;
}

function renderSignIn(main) {
  if (!window.isSecureContext || !window.crypto || !crypto.subtle) {
    main.append(alertBox('error', 'This page needs a secure context.',
      h('p', {}, 'The console signs requests and generates keys with WebCrypto, which browsers offer only over https or on localhost. Open it at http://127.0.0.1:PORT/console/ or http://localhost:PORT/console/, or serve it over https (playkey serve --tls-cert FILE --tls-key FILE).')));
    return;
  }
  const keyId = h('input', { type: 'text', id: 'access-key-id', name: 'access-key-id', autocomplete: 'off', spellcheck: 'false', required: true });
  const secret = h('input', { type: 'password', id: 'secret-access-key', name: 'secret-access-key', autocomplete: 'off', required: true });
  const paste = h('textarea', { id: 'paste-credentials', rows: 4, spellcheck: 'false', autocomplete: 'off' });
  const status = h('div', { id: 'sign-in-status', class: 'form-status' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'sign-in' }, 'Sign in');
  paste.addEventListener('input', () => {
    const c = parseCredentials(paste.value);
    if (c.accessKeyId) keyId.value = c.accessKeyId;
    if (c.secretAccessKey) secret.value = c.secretAccessKey;
    if (c.region && REGIONS.some(([r]) => r === c.region)) regionSelect.value = c.region;
  });
  const regionSelect = h('select', { id: 'sign-in-region' },
    REGIONS.map(([code, name]) => h('option', { value: code }, `${name} ${code}`)));
  regionSelect.value = els.region.value;

  const form = h('form', { class: 'container sign-in', novalidate: true },
    h('h1', { tabindex: '-1' }, 'Sign in to the playkey console'),
    h('p', {}, 'Use an access key this server knows: the one ', h('code', {}, 'playkey serve'),
      ' created in ', h('code', {}, 'playkey-data/credentials'), ', or one from its ', h('code', {}, '--credentials'),
      ' file. The page signs its API calls with it, like the AWS CLI does. It is kept in this tab\'s session storage only and cleared when you sign out or close the tab.'),
    field('Access key ID', keyId),
    field('Secret access key', secret),
    field('Region', regionSelect),
    h('details', { class: 'paste' },
      h('summary', {}, 'Paste credentials instead'),
      field('Export lines or a credentials file', paste, 'The AWS_ACCESS_KEY_ID=… lines playkey serve printed, or a profile from the credentials file. Nothing is sent until you sign in.')),
    status,
    h('div', { class: 'form-actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const credentials = { accessKeyId: keyId.value.trim(), secretAccessKey: secret.value.trim() };
    if (!credentials.accessKeyId || !credentials.secretAccessKey) {
      showIn(status, alertBox('error', 'Enter an access key ID and its secret access key.'));
      (credentials.accessKeyId ? secret : keyId).focus();
      return;
    }
    const region = regionSelect.value;
    await busy(submit, 'Signing in…', async () => {
      try {
        // Any signed call proves the key: the server checks the signature first.
        await new Client(credentials, region).operation('ListPlaybackKeyPairs', { maxResults: 1 });
      } catch (err) {
        showIn(status, errorAlert(err instanceof ApiError ? err : new ApiError('Error', String(err), 0), 'Signing in'));
        return;
      }
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(credentials));
      sessionStorage.setItem(REGION_KEY, region);
      els.region.value = region;
      if (!location.hash.startsWith('#/')) history.replaceState(null, '', '#/' + DEFAULT_PAGE);
      route(true);
    });
  });
  main.append(form);
  keyId.focus();
}

init();
