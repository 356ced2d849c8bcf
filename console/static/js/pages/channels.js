// Channels: the account's channels in the region, page by page, with which are live
// (refreshed while the page is open) and Create (private or public), and a page per channel
// (#/channels/{id}) with its live stream and stream sessions (live.js), playback URL,
// stream key, private/public switch, tags, Delete and viewer-session revocation, as in the
// AWS console.

import { ApiError } from '../api.js';
import {
  h, clear, alertBox, errorAlert, showIn, openDialog, dialogShell, announce, field, busy,
  tagEditor, tagList, tagsDialog, confirmDeleteDialog, copyValue, secretValue,
} from '../ui.js';
import { liveDetails, watchStreams, stateBadge, formatTime, viewers } from './live.js';

const NAME_PATTERN = /^[a-zA-Z0-9-_]{0,128}$/;
const ID_PATTERN = /^[a-zA-Z0-9]{1,64}$/;
export const MAX_VIEWER_ID = 40;
export const MAX_SESSION_VERSION = 2147483647;
const PAGE_SIZES = [10, 25, 50, 100];

// The model's enumerations, with what the AWS console says of each.
export const TYPES = [
  ['STANDARD', 'Standard', 'Video is transcoded: several qualities are made from the input, so viewers get the best one for their device and network. Up to 1080p and 8.5 Mbps in.'],
  ['BASIC', 'Basic', 'Video is transmuxed: viewers get the input quality only. Up to 1080p in, 1.5 Mbps at 480p and 3.5 Mbps above.'],
  ['ADVANCED_SD', 'Advanced SD', 'Transcoded with a transcode preset; renditions up to SD (480p).'],
  ['ADVANCED_HD', 'Advanced HD', 'Transcoded with a transcode preset; renditions up to HD (720p).'],
];
export const LATENCY_MODES = [
  ['LOW', 'Ultra-low latency', 'For near-real-time interaction with viewers.'],
  ['NORMAL', 'Standard latency', 'For broadcasts where a few seconds more delay do not matter.'],
];
const PRESETS = [
  ['HIGHER_BANDWIDTH_DELIVERY', 'Higher bandwidth delivery'],
  ['CONSTRAINED_BANDWIDTH_DELIVERY', 'Constrained bandwidth delivery'],
];

const label = (table, value) => (table.find(([v]) => v === value) || [value, value])[1];
const isAdvanced = (type) => type === 'ADVANCED_SD' || type === 'ADVANCED_HD';

export function channelId(arn) {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

function displayName(ch) {
  return ch.name || channelId(ch.arn);
}

function checkName(name) {
  if (NAME_PATTERN.test(name)) return '';
  return name.length > 128 ? 'The name is longer than 128 characters.' : 'The name may hold only letters, digits, - and _.';
}

// checkRevocation returns why a revocation form is wrong, or ''.
export function checkRevocation(viewerId, version) {
  const n = [...viewerId].length;
  if (n < 1) return 'Enter the viewer ID: the aws:viewer-id claim of the tokens to revoke.';
  if (n > MAX_VIEWER_ID) return `A viewer ID has at most ${MAX_VIEWER_ID} characters; this one has ${n}.`;
  if (!/^[0-9]+$/.test(version) || Number(version) > MAX_SESSION_VERSION) {
    return `The session version must be a whole number from 0 to ${MAX_SESSION_VERSION}.`;
  }
  return '';
}

function authBadge(authorized) {
  return authorized
    ? h('span', { class: 'badge badge-private', 'data-authorized': 'true' }, 'Private')
    : h('span', { class: 'badge badge-public', 'data-authorized': 'false' }, 'Public');
}

// State kept across renders of this module: a message for the next render of the list
// (after a delete), the chosen page size, and the ARNs of the channels seen, so that
// #/channels/{id} finds its channel without listing them all.
let flash = null;
let pageSize = PAGE_SIZES[0];
const knownArns = new Map();
const arnKey = (ctx, id) => `${ctx.client.credentials.accessKeyId}|${ctx.region}|${id}`;
const remember = (ctx, arn) => knownArns.set(arnKey(ctx, channelId(arn)), arn);

export function render(main, ctx) {
  if (ctx.path.length > 0) renderDetails(main, ctx, ctx.path[0]);
  else renderList(main, ctx);
}

// regionKeyCount returns how many playback keys the region has, or null when unknown: a
// private channel plays only with a token signed by one of them.
async function regionKeyCount(client) {
  try {
    return (await client.listPlaybackKeyPairs()).length;
  } catch {
    return null;
  }
}

function noKeysWarning() {
  return alertBox('warning', 'This region has no playback keys.',
    h('p', {}, 'A private channel plays only with a token signed by one of the region\'s playback keys, so no viewer can play it yet. ',
      h('a', { href: '#/keys' }, 'Create or import a playback key'), '.'));
}

function ingestNote() {
  return alertBox('info', 'Where the broadcast goes.',
    h('p', {}, 'playkey serve receives streams over RTMP (and RTMPS or SRT when configured) at the ingest address it prints at startup, by default rtmp://127.0.0.1:1935/app/ with the stream key. The ingest endpoint above keeps the form Amazon IVS gives it unless the server runs with --ingest-url; a channel goes live when a broadcaster publishes with its stream key, and plays at its playback URL through the gate.'));
}

// ---- The list -------------------------------------------------------------------------

function renderList(main, ctx) {
  const { client } = ctx;
  // tokens[i] is the nextToken that asks for page i (tokens[0]: none).
  let tokens = [undefined];
  let pageIndex = 0;
  let channels = [];
  let next;
  let streams = null; // channel ARN -> live stream summary, once ListStreams has answered

  const refresh = h('button', { type: 'button', id: 'refresh-channels', onclick: () => load(pageIndex) }, 'Refresh');
  const createBtn = h('button', { type: 'button', id: 'create-channel', class: 'primary', onclick: () => createDialog(ctx, created) }, 'Create channel');
  const count = h('span', { class: 'count', id: 'channels-count' });
  const status = h('div', { id: 'channels-status' });
  const liveCount = h('span', { class: 'live-count', id: 'live-count', 'aria-live': 'polite' });
  const streamsStatus = h('div', { id: 'streams-status' });
  const refreshed = h('p', { class: 'hint refreshed', id: 'streams-refreshed' });
  const table = h('div', { id: 'channels-table', class: 'table-wrap' });
  const prev = h('button', { type: 'button', id: 'channels-prev', class: 'pager-button', 'aria-label': 'Previous page', disabled: true, onclick: () => load(pageIndex - 1) }, '‹');
  const nextBtn = h('button', { type: 'button', id: 'channels-next', class: 'pager-button', 'aria-label': 'Next page', disabled: true, onclick: () => load(pageIndex + 1) }, '›');
  const pageLabel = h('span', { id: 'channels-page', class: 'pager-page', 'aria-live': 'polite' });
  const sizeSelect = h('select', { id: 'channels-page-size', class: 'page-size' },
    PAGE_SIZES.map((n) => h('option', { value: String(n) }, `${n} per page`)));
  sizeSelect.value = String(pageSize);
  sizeSelect.addEventListener('change', () => {
    pageSize = Number(sizeSelect.value);
    tokens = [undefined];
    load(0);
  });

  main.append(
    h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumbs' }, 'Amazon IVS › Live streaming › Channels'),
    h('div', { class: 'page-header' },
      h('h1', { tabindex: '-1' }, 'Channels'),
      h('div', { class: 'actions' }, refresh, createBtn)),
    h('p', { class: 'lead' },
      'A private channel (token authorization enabled) plays only for viewers with a playback token signed by one of the region\'s playback keys; a public channel plays for anyone with its playback URL. ',
      `Region: ${ctx.regionName} (${ctx.region}).`),
    h('section', { class: 'container', 'aria-labelledby': 'channels-heading' },
      h('div', { class: 'container-header' },
        h('h2', { id: 'channels-heading' }, 'Channels ', count, ' ', liveCount),
        h('div', { class: 'pager', role: 'group', 'aria-label': 'Pages' },
          h('label', { for: 'channels-page-size', class: 'visually-hidden' }, 'Channels per page'), sizeSelect,
          prev, pageLabel, nextBtn)),
      status,
      streamsStatus,
      table,
      refreshed));

  if (flash) {
    showIn(status, flash);
    flash = null;
  }

  function created(ch) {
    showIn(status, alertBox('success', `Channel ${displayName(ch)} created.`,
      h('p', {}, h('a', { href: `#/channels/${channelId(ch.arn)}` }, 'View its details'), ' for the playback URL, the stream key and viewer-session revocation.')));
    tokens = [undefined];
    load(0);
  }

  async function load(index) {
    const busyNote = h('p', { class: 'loading', role: 'status' }, 'Loading channels…');
    table.setAttribute('aria-busy', 'true');
    if (!table.firstChild) showIn(table, busyNote);
    prev.disabled = true;
    nextBtn.disabled = true;
    let out;
    try {
      const body = { maxResults: pageSize };
      if (tokens[index]) body.nextToken = tokens[index];
      out = await client.operation('ListChannels', body);
    } catch (err) {
      if (!ctx.alive()) return;
      table.removeAttribute('aria-busy');
      // A stale page token: start again from the first page.
      if (index > 0 && err instanceof ApiError && err.code === 'ValidationException' && /token/i.test(err.message)) {
        tokens = [undefined];
        load(0);
        return;
      }
      showIn(table, errorAlert(err, 'Loading the channels'));
      return;
    }
    if (!ctx.alive()) return;
    table.removeAttribute('aria-busy');
    channels = out.channels || [];
    next = out.nextToken;
    pageIndex = index;
    tokens[index + 1] = next;
    tokens.length = index + 2;
    for (const ch of channels) remember(ctx, ch.arn);
    draw();
  }

  function draw() {
    const seen = pageIndex * pageSize + channels.length;
    count.textContent = `(${seen}${next ? '+' : ''})`;
    pageLabel.textContent = `Page ${pageIndex + 1}`;
    prev.disabled = pageIndex === 0;
    nextBtn.disabled = !next;
    if (channels.length === 0) {
      showIn(table, h('div', { class: 'empty' },
        h('p', {}, h('strong', {}, pageIndex === 0 ? 'No channels' : 'No more channels')),
        pageIndex === 0 ? h('p', {}, `No channel in ${ctx.regionName} yet. Create one to get a playback URL to protect with tokens.`) : null));
      return;
    }
    const rows = channels.map((ch) => h('tr', { 'data-arn': ch.arn, 'data-name': ch.name, 'data-state': streamState(ch) },
      h('td', { 'data-label': 'Name', class: 'channel-name' },
        h('a', { href: `#/channels/${channelId(ch.arn)}` }, ch.name || h('span', {}, channelId(ch.arn), h('span', { class: 'muted' }, ' (no name)')))),
      h('td', { 'data-label': 'ARN', class: 'channel-arn mono small' }, ch.arn),
      h('td', { 'data-label': 'Stream', class: 'channel-stream' }, streamBadge(ch)),
      h('td', { 'data-label': 'Viewers', class: 'channel-viewers' }, streamViewers(ch)),
      h('td', { 'data-label': 'Started', class: 'channel-started' }, streamStart(ch)),
      h('td', { 'data-label': 'Playback authorization', class: 'channel-auth' }, authBadge(ch.authorized)),
      h('td', { 'data-label': 'Latency mode', class: 'channel-latency', 'data-value': ch.latencyMode }, label(LATENCY_MODES, ch.latencyMode)),
      h('td', { 'data-label': 'Channel type', class: 'channel-type', 'data-value': ch.type }, label(TYPES, ch.type))));
    showIn(table, h('table', { class: 'table', id: 'channels' },
      h('caption', { class: 'visually-hidden' }, `Channels in ${ctx.regionName}, page ${pageIndex + 1}`),
      h('thead', {}, h('tr', {}, ['Name', 'ARN', 'Stream', 'Viewers', 'Started', 'Playback authorization', 'Latency mode', 'Channel type'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows)));
  }

  // The stream columns: blank until ListStreams has answered, then Live or Offline.
  function streamState(ch) {
    if (!streams) return null;
    return streams.has(ch.arn) ? 'LIVE' : 'OFFLINE';
  }
  function streamBadge(ch) {
    return streams ? stateBadge(streams.get(ch.arn)) : h('span', { class: 'muted' }, '…');
  }
  function streamViewers(ch) {
    const s = streams && streams.get(ch.arn);
    return s ? viewers(s.viewerCount) : h('span', { class: 'muted' }, '-');
  }
  function streamStart(ch) {
    const s = streams && streams.get(ch.arn);
    return s ? formatTime(s.startTime) : h('span', { class: 'muted' }, '-');
  }

  // The live streams are asked for again every few seconds; their cells change in place,
  // so that focus and the rest of the table stay as they are.
  watchStreams(ctx, (live, when) => {
    streams = live;
    clear(streamsStatus);
    liveCount.textContent = `${live.size} live`;
    liveCount.dataset.count = String(live.size);
    refreshed.textContent = `Live streams refreshed at ${when.toLocaleTimeString()}; the page asks again every few seconds while it is open.`;
    for (const tr of table.querySelectorAll('tr[data-arn]')) {
      const ch = channels.find((c) => c.arn === tr.dataset.arn);
      if (!ch) continue;
      tr.dataset.state = streamState(ch);
      tr.querySelector('.channel-stream').replaceChildren(streamBadge(ch));
      tr.querySelector('.channel-viewers').replaceChildren(streamViewers(ch));
      tr.querySelector('.channel-started').replaceChildren(streamStart(ch));
    }
  }, (err) => showIn(streamsStatus, errorAlert(err, 'Reading the live streams')), refreshed);

  load(0);
}

// ---- Create ---------------------------------------------------------------------------

// radios builds a fieldset of radio buttons with descriptions.
function radios(name, legend, options, value) {
  const inputs = [];
  const fs = h('fieldset', { class: 'radio-group', id: name },
    h('legend', {}, legend),
    options.map(([v, title, desc]) => {
      const input = h('input', { type: 'radio', name, value: v, id: `${name}-${v}`, checked: v === value, 'aria-describedby': `${name}-${v}-desc` });
      inputs.push(input);
      return h('div', { class: 'radio' }, input,
        h('label', { for: `${name}-${v}` }, h('span', { class: 'radio-title' }, title, ' ', h('code', { class: 'muted small' }, v)),
          h('span', { class: 'hint radio-desc', id: `${name}-${v}-desc` }, desc)));
    }));
  return { el: fs, value: () => (inputs.find((i) => i.checked) || inputs[0]).value, inputs };
}

function createDialog(ctx, onCreated) {
  const { client } = ctx;
  const name = h('input', { type: 'text', id: 'channel-name', maxlength: 128, autocomplete: 'off', spellcheck: 'false' });
  const type = radios('channel-type', 'Channel type', TYPES, 'STANDARD');
  const latency = radios('channel-latency', 'Latency mode', LATENCY_MODES, 'LOW');
  const preset = h('select', { id: 'channel-preset' }, PRESETS.map(([v, t]) => h('option', { value: v }, `${t} (${v})`)));
  const presetField = field('Transcode preset', preset, 'Advanced channels only: how renditions trade quality for bandwidth.');
  presetField.hidden = true;
  for (const i of type.inputs) i.addEventListener('change', () => { presetField.hidden = !isAdvanced(type.value()); });
  const authorized = h('input', { type: 'checkbox', id: 'channel-authorized', 'aria-describedby': 'channel-authorized-hint' });
  const keysNote = h('div', { id: 'channel-keys-note' });
  const policy = h('select', { id: 'channel-policy', disabled: true }, h('option', { value: '' }, 'Loading policies…'));
  const policyStatus = h('div', { id: 'channel-policy-status' });
  const tags = tagEditor();
  const errors = h('div', { class: 'form-status', id: 'create-channel-status' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'create-channel-submit', form: 'create-channel-form' }, 'Create channel');
  const cancel = h('button', { type: 'button', id: 'create-channel-cancel', onclick: () => dlg.close() }, 'Cancel');

  let keyCount = null;
  const updateKeysNote = () => {
    if (authorized.checked && keyCount === 0) showIn(keysNote, noKeysWarning());
    else clear(keysNote);
  };
  authorized.addEventListener('change', updateKeysNote);

  const form = h('form', { id: 'create-channel-form', novalidate: true },
    field('Channel name - optional', name, 'Up to 128 letters, digits, - and _.'),
    type.el,
    presetField,
    latency.el,
    h('fieldset', { class: 'plain' },
      h('legend', {}, 'Playback authorization'),
      h('div', { class: 'field checkbox' }, authorized, h('label', { for: 'channel-authorized' }, 'Enable token-authorization')),
      h('p', { class: 'hint', id: 'channel-authorized-hint' },
        'A private channel plays only with a playback token signed by one of this region\'s playback keys. Without it the channel is public: anyone with the playback URL can watch.'),
      keysNote),
    field('Playback restriction policy - optional', policy, 'Limits playback to some countries and origins.'),
    policyStatus,
    tags.el,
    errors);
  const body = h('div', {}, form);
  const footer = h('div', { class: 'footer-buttons' }, cancel, submit);
  const dlg = dialogShell({ title: 'Create channel', idPrefix: 'create-channel-dialog', body, footer });

  client.listAll('ListPlaybackRestrictionPolicies', 'playbackRestrictionPolicies', { maxResults: 100 }).then((policies) => {
    const none = h('option', { value: '' }, 'No playback restriction policy');
    policy.replaceChildren(none, ...policies
      .sort((a, b) => a.name.localeCompare(b.name) || a.arn.localeCompare(b.arn))
      .map((p) => h('option', { value: p.arn }, `${p.name || '(no name)'} — ${channelId(p.arn)}`)));
    policy.disabled = false;
  }, (err) => {
    policy.replaceChildren(h('option', { value: '' }, 'No playback restriction policy'));
    showIn(policyStatus, errorAlert(err, 'Loading the playback restriction policies'));
  });
  regionKeyCount(client).then((n) => {
    keyCount = n;
    updateKeysNote();
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
    const input = {
      type: type.value(),
      latencyMode: latency.value(),
      authorized: authorized.checked,
    };
    if (name.value) input.name = name.value;
    if (isAdvanced(input.type)) input.preset = preset.value;
    if (policy.value) input.playbackRestrictionPolicyArn = policy.value;
    if (Object.keys(t.tags).length) input.tags = t.tags;
    await busy(submit, 'Creating…', async () => {
      let out;
      try {
        out = await client.operation('CreateChannel', input);
      } catch (err) {
        showIn(errors, errorAlert(err, 'Creating the channel'));
        return;
      }
      remember(ctx, out.channel.arn);
      announce(`Channel ${displayName(out.channel)} created`);
      showStreamKeyStep(out.channel, out.streamKey);
      onCreated(out.channel);
    });
  });

  function showStreamKeyStep(ch, key) {
    const id = channelId(ch.arn);
    // Closing removes the dialog, and a removed link does not navigate: go by hand.
    const view = h('a', {
      href: `#/channels/${id}`, class: 'button-link primary', id: 'create-channel-view',
      onclick: (e) => {
        e.preventDefault();
        dlg.close();
        location.hash = `#/channels/${id}`;
      },
    }, 'View channel');
    const close = h('button', { type: 'button', id: 'create-channel-close', onclick: () => dlg.close() }, 'Close');
    clear(body).append(
      alertBox('success', `Channel ${displayName(ch)} created.`,
        h('dl', { class: 'facts' },
          h('dt', {}, 'ARN'), h('dd', { class: 'mono', id: 'created-channel-arn' }, ch.arn),
          h('dt', {}, 'Playback'), h('dd', {}, authBadge(ch.authorized)))),
      h('div', { class: 'save-step' },
        h('h3', {}, 'Stream configuration'),
        h('p', {}, 'A broadcasting tool needs the ingest server and the stream key. Copy the stream key now; it is a secret, so keep it out of screenshots and chats. The channel\'s page shows it again.'),
        h('dl', { class: 'facts facts-wide' },
          h('dt', {}, 'Ingest server'), h('dd', {}, copyValue(`${/^(\[.*\]|[^:]*):\d+$/.test(ch.ingestEndpoint) ? (ch.ingestEndpoint.endsWith(':1935') ? 'rtmp' : 'rtmps') + '://' + ch.ingestEndpoint : 'rtmps://' + ch.ingestEndpoint + ':443'}/app/`, 'ingest server', { id: 'created-ingest-server', copyId: 'copy-created-ingest' })),
          h('dt', {}, 'Stream key'), h('dd', {}, key && key.value
            ? copyValue(key.value, 'stream key', { id: 'created-stream-key', copyId: 'copy-created-stream-key' })
            : h('span', { class: 'muted' }, 'The server returned no stream key.')),
          h('dt', {}, 'Playback URL'), h('dd', {}, copyValue(ch.playbackUrl, 'playback URL', { id: 'created-playback-url', copyId: 'copy-created-playback-url' })))),
      ingestNote());
    clear(footer).append(close, view);
    dlg.querySelector('#copy-created-stream-key, #create-channel-close')?.focus();
  }

  openDialog(dlg, '#channel-name');
}

// ---- Details --------------------------------------------------------------------------

// resolveArn finds the ARN of channel id in the caller's region: from the channels seen,
// else by listing them all.
async function resolveArn(ctx, id) {
  const known = knownArns.get(arnKey(ctx, id));
  if (known) return known;
  const all = await ctx.client.listAll('ListChannels', 'channels', { maxResults: 100 });
  for (const ch of all) remember(ctx, ch.arn);
  return knownArns.get(arnKey(ctx, id)) || null;
}

function renderDetails(main, ctx, id) {
  const { client } = ctx;
  const heading = h('h1', { tabindex: '-1', id: 'channel-heading' }, id);
  const crumb = h('span', { id: 'channel-crumb' }, id);
  const deleteBtn = h('button', { type: 'button', id: 'delete-channel', class: 'danger', disabled: true, onclick: () => deleteDialog() }, 'Delete');
  const actions = h('div', { class: 'actions' }, deleteBtn);
  const status = h('div', { id: 'channel-status' });
  const content = h('div', { id: 'channel-details', 'aria-busy': 'true' },
    h('p', { class: 'loading', role: 'status' }, 'Loading the channel…'));

  main.append(
    h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumbs' }, 'Amazon IVS › Live streaming › ',
      h('a', { href: '#/channels' }, 'Channels'), ' › ', crumb),
    h('div', { class: 'page-header' }, heading, actions),
    status,
    content);

  let ch = null;
  let key = null; // the stream key, with its value, or null
  let keyError = null;
  let policy = null; // the policy, or {arn} if it could not be read
  let keyCount = null;
  let live = null; // the Live stream and Stream sessions sections, once the channel is known

  // The revocation form is built once: its status survives redraws of the rest.
  const viewerId = h('input', { type: 'text', id: 'revoke-viewer-id', maxlength: MAX_VIEWER_ID, autocomplete: 'off', spellcheck: 'false', required: true });
  const version = h('input', { type: 'number', id: 'revoke-version', min: 0, max: MAX_SESSION_VERSION, step: 1, value: '0', inputmode: 'numeric', required: true });
  const revokeStatus = h('div', { class: 'form-status', id: 'revoke-status' });
  const revokeBtn = h('button', { type: 'submit', class: 'primary', id: 'revoke-submit' }, 'Revoke viewer sessions');
  const revokeForm = h('form', { id: 'revoke-form', novalidate: true },
    field('Viewer ID', viewerId, `The aws:viewer-id claim of the viewer's tokens: 1 to ${MAX_VIEWER_ID} characters.`),
    field('Revoke session versions up to', version, 'Tokens whose aws:viewer-session-version is at most this number are refused; tokens without a version count as 0. Give the viewer new tokens with a higher version to let them back.'),
    revokeStatus,
    h('div', { class: 'form-actions' }, revokeBtn));
  revokeForm.addEventListener('submit', (e) => {
    e.preventDefault();
    revoke();
  });

  async function load() {
    let arn;
    try {
      arn = ID_PATTERN.test(id) ? await resolveArn(ctx, id) : null;
      if (arn) ch = (await client.operation('GetChannel', { arn })).channel;
    } catch (err) {
      if (!ctx.alive()) return;
      if (err instanceof ApiError && err.code === 'ResourceNotFoundException') {
        knownArns.delete(arnKey(ctx, id));
        arn = null;
      } else {
        content.removeAttribute('aria-busy');
        showIn(content, errorAlert(err, 'Loading the channel'));
        return;
      }
    }
    if (!ctx.alive()) return;
    if (!arn) {
      content.removeAttribute('aria-busy');
      heading.textContent = 'Channel not found';
      showIn(content, alertBox('error', `There is no channel ${id} in ${ctx.regionName} (${ctx.region}).`,
        h('p', {}, 'It may have been deleted, or it may be in another region: pick the region at the top. ',
          h('a', { href: '#/channels' }, 'Back to the channels'), '.')));
      return;
    }
    await Promise.all([loadStreamKey(), loadPolicy(), regionKeyCount(client).then((n) => { keyCount = n; })]);
    if (!ctx.alive()) return;
    content.removeAttribute('aria-busy');
    deleteBtn.disabled = false;
    live = liveDetails(ctx, () => ch, status);
    draw();
    live.start();
  }

  async function loadStreamKey() {
    key = null;
    keyError = null;
    try {
      const list = await client.operation('ListStreamKeys', { channelArn: ch.arn, maxResults: 50 });
      const first = (list.streamKeys || [])[0];
      if (first) key = (await client.operation('GetStreamKey', { arn: first.arn })).streamKey;
    } catch (err) {
      keyError = err;
    }
  }

  async function loadPolicy() {
    policy = null;
    if (!ch.playbackRestrictionPolicyArn) return;
    try {
      policy = (await client.operation('GetPlaybackRestrictionPolicy', { arn: ch.playbackRestrictionPolicyArn })).playbackRestrictionPolicy;
    } catch {
      policy = { arn: ch.playbackRestrictionPolicyArn };
    }
  }

  function fact(term, value, attrs = {}) {
    return [h('dt', {}, term), h('dd', attrs, value)];
  }

  function draw() {
    const name = displayName(ch);
    heading.textContent = name;
    crumb.textContent = name;
    ctx.setTitle(`${name} - Channels`);
    const none = (what) => h('span', { class: 'muted' }, what);
    const m = ch.multitrackInputConfiguration || {};
    const focusedId = document.activeElement?.id;

    const authToggle = h('button', {
      type: 'button', id: 'toggle-authorization', onclick: () => authorizationDialog(),
    }, ch.authorized ? 'Make public' : 'Make private');
    const tokenLink = h('a', { href: `#/token?channel=${encodeURIComponent(ch.arn)}`, id: 'test-token-link' }, 'Test a token for this channel');

    const general = h('section', { class: 'container', id: 'channel-general', 'aria-labelledby': 'general-heading' },
      h('h2', { id: 'general-heading' }, 'General configuration'),
      h('dl', { class: 'facts facts-wide' },
        fact('Name', ch.name || none('(no name)'), { id: 'channel-name-value' }),
        fact('ARN', copyValue(ch.arn, 'channel ARN', { id: 'channel-arn', copyId: 'copy-channel-arn' })),
        fact('Channel type', [label(TYPES, ch.type), ' ', h('code', { class: 'muted small' }, ch.type)], { id: 'channel-type-value', 'data-value': ch.type }),
        isAdvanced(ch.type) ? fact('Transcode preset', label(PRESETS, ch.preset), { id: 'channel-preset-value', 'data-value': ch.preset }) : null,
        fact('Latency mode', [label(LATENCY_MODES, ch.latencyMode), ' ', h('code', { class: 'muted small' }, ch.latencyMode)], { id: 'channel-latency-value', 'data-value': ch.latencyMode }),
        fact('Container format', ch.containerFormat === 'FRAGMENTED_MP4' ? 'Fragmented MP4' : 'MPEG-TS', { 'data-value': ch.containerFormat }),
        fact('Multitrack input', m.enabled ? `Enabled: ${m.policy}, up to ${m.maximumResolution}` : 'Disabled'),
        fact('Insecure ingest (RTMP)', ch.insecureIngest ? 'Enabled' : 'Disabled'),
        fact('Recording configuration', ch.recordingConfigurationArn || none('None (playkey has no recording configurations)')),
        fact('Ad configuration', ch.adConfigurationArn || none('None'))));

    const playback = h('section', { class: 'container', id: 'channel-playback', 'aria-labelledby': 'playback-heading' },
      h('h2', { id: 'playback-heading' }, 'Playback configuration'),
      h('dl', { class: 'facts facts-wide' },
        fact('Playback URL', copyValue(ch.playbackUrl, 'playback URL', { id: 'channel-playback-url', copyId: 'copy-playback-url' })),
        fact('Playback authorization', h('div', { class: 'auth-row' },
          authBadge(ch.authorized),
          h('span', { id: 'channel-auth-text' }, ch.authorized
            ? 'Token authorization is enabled: viewers need a playback token.'
            : 'Anyone with the playback URL can watch.'),
          authToggle), { id: 'channel-authorization' }),
        fact('Playback restriction policy', ch.playbackRestrictionPolicyArn
          ? h('span', { id: 'channel-policy-value' }, policy && policy.name ? [policy.name, ' '] : null, h('span', { class: 'mono small' }, ch.playbackRestrictionPolicyArn))
          : none('None'), {})),
      ch.authorized && keyCount === 0 ? noKeysWarning() : null,
      h('p', {}, 'On a private channel, players add ', h('code', {}, '?token='), ' and a token signed with a playback key of this region to the playback URL. ',
        tokenLink, '.'));

    let keyValue;
    if (key && key.value) {
      keyValue = [secretValue(key.value, 'stream key', { id: 'channel-stream-key', showId: 'show-stream-key', copyId: 'copy-stream-key' }),
        h('p', { class: 'hint mono small' }, key.arn)];
    } else if (keyError) {
      keyValue = errorAlert(keyError, 'Loading the stream key');
    } else {
      keyValue = h('div', { id: 'channel-stream-key-missing' },
        h('p', { class: 'muted' }, 'This channel has no stream key.'),
        h('button', { type: 'button', id: 'create-stream-key', onclick: (e) => createStreamKey(e.currentTarget) }, 'Create stream key'));
    }
    const stream = h('section', { class: 'container', id: 'channel-stream', 'aria-labelledby': 'stream-heading' },
      h('h2', { id: 'stream-heading' }, 'Stream configuration'),
      h('dl', { class: 'facts facts-wide' },
        fact('Ingest server', copyValue(`${/^(\[.*\]|[^:]*):\d+$/.test(ch.ingestEndpoint) ? (ch.ingestEndpoint.endsWith(':1935') ? 'rtmp' : 'rtmps') + '://' + ch.ingestEndpoint : 'rtmps://' + ch.ingestEndpoint + ':443'}/app/`, 'ingest server', { id: 'channel-ingest-server', copyId: 'copy-ingest-server' })),
        fact('Stream key', keyValue),
        ch.srt && ch.srt.endpoint ? fact('SRT endpoint', copyValue(`srt://${/^(\[.*\]|[^:]*):\d+$/.test(ch.srt.endpoint) ? ch.srt.endpoint : ch.srt.endpoint + ':9000'}`, 'SRT endpoint', { id: 'channel-srt-endpoint' })) : null,
        ch.srt && ch.srt.passphrase ? fact('SRT passphrase', secretValue(ch.srt.passphrase, 'SRT passphrase', { id: 'channel-srt-passphrase' })) : null),
      ingestNote());

    const revokeSection = h('section', { class: 'container', id: 'channel-revoke', 'aria-labelledby': 'revoke-heading' },
      h('h2', { id: 'revoke-heading' }, 'Revoke viewer sessions'),
      h('p', {}, 'Stops a viewer\'s playback tokens for this channel from being accepted, before they expire. It takes tokens with an aws:viewer-id claim; the revocation lasts as long as the channel.'),
      ch.authorized ? null : alertBox('info', 'This channel is public.', h('p', {}, 'Revocations are recorded, but a public channel needs no token, so they change nothing until it is private again.')),
      revokeForm);

    const tagsSection = h('section', { class: 'container', id: 'channel-tags', 'aria-labelledby': 'tags-heading' },
      h('div', { class: 'container-header' },
        h('h2', { id: 'tags-heading' }, 'Tags'),
        h('button', {
          type: 'button', id: 'manage-channel-tags',
          onclick: () => tagsDialog({ client, arn: ch.arn, name, onSaved: () => refreshChannel('Tags saved.', 'manage-channel-tags') }),
        }, 'Manage tags')),
      h('div', { id: 'channel-tag-list' }, tagList(ch.tags)));

    const [liveSection, sessionsSection] = live.sections;
    content.replaceChildren(liveSection, playback, general, stream, sessionsSection, revokeSection, tagsSection);
    if (focusedId && !document.activeElement?.id) document.getElementById(focusedId)?.focus();
  }

  // refreshChannel reads the channel again, redraws, shows a message and puts focus back.
  async function refreshChannel(message, focusId) {
    try {
      ch = (await client.operation('GetChannel', { arn: ch.arn })).channel;
    } catch (err) {
      showIn(status, errorAlert(err, 'Reading the channel again'));
      return;
    }
    await loadPolicy();
    if (!ctx.alive()) return;
    draw();
    if (message) showIn(status, alertBox('success', message));
    if (focusId) document.getElementById(focusId)?.focus();
  }

  async function createStreamKey(button) {
    await busy(button, 'Creating…', async () => {
      try {
        await client.operation('CreateStreamKey', { channelArn: ch.arn });
      } catch (err) {
        showIn(status, errorAlert(err, 'Creating the stream key'));
        return;
      }
      await loadStreamKey();
    });
    if (!ctx.alive()) return;
    draw();
    showIn(status, alertBox('success', 'Stream key created.'));
    document.getElementById('show-stream-key')?.focus();
  }

  async function revoke() {
    const why = checkRevocation(viewerId.value, version.value.trim());
    if (why) {
      showIn(revokeStatus, alertBox('error', why));
      (viewerId.value === '' || [...viewerId.value].length > MAX_VIEWER_ID ? viewerId : version).focus();
      return;
    }
    const input = {
      channelArn: ch.arn,
      viewerId: viewerId.value,
      viewerSessionVersionsLessThanOrEqualTo: Number(version.value.trim()),
    };
    clear(revokeStatus);
    await busy(revokeBtn, 'Revoking…', async () => {
      try {
        await client.operation('StartViewerSessionRevocation', input);
      } catch (err) {
        showIn(revokeStatus, errorAlert(err, 'Revoking the viewer sessions'));
        return;
      }
      const v = input.viewerSessionVersionsLessThanOrEqualTo;
      const done = alertBox('success', `Sessions of viewer ${input.viewerId} revoked.`,
        h('p', {}, `Tokens for ${displayName(ch)} with aws:viewer-id "${input.viewerId}" and an aws:viewer-session-version of ${v} or less`,
          v === 0 ? ' (or none)' : '', ' are refused from now on. A later revocation with a lower version changes nothing.'));
      done.id = 'revoke-done';
      showIn(revokeStatus, done);
      announce(`Sessions of viewer ${input.viewerId} revoked`);
    });
  }

  function authorizationDialog() {
    const makePrivate = !ch.authorized;
    const name = displayName(ch);
    const errors = h('div', { class: 'form-status', id: 'authorization-status' });
    const submit = h('button', { type: 'submit', class: makePrivate ? 'primary' : 'danger-primary', id: 'authorization-submit', form: 'authorization-form' },
      makePrivate ? 'Make private' : 'Make public');
    const cancel = h('button', { type: 'button', id: 'authorization-cancel', onclick: () => dlg.close() }, 'Cancel');
    const form = h('form', { id: 'authorization-form', novalidate: true },
      makePrivate
        ? [h('p', {}, 'Enable token authorization on ', h('strong', {}, name), '?'),
          h('p', {}, 'Viewers will need a playback token signed with one of this region\'s playback keys; players without one stop at the next request.'),
          keyCount === 0 ? noKeysWarning() : null]
        : [h('p', {}, 'Disable token authorization on ', h('strong', {}, name), '?'),
          h('p', {}, 'Anyone with the playback URL will be able to watch, without a token. Viewer-session revocations stay recorded but have no effect while the channel is public.')],
      errors);
    const dlg = dialogShell({
      title: makePrivate ? 'Make channel private' : 'Make channel public', idPrefix: 'authorization-dialog', body: form,
      footer: h('div', { class: 'footer-buttons' }, cancel, submit),
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      await busy(submit, 'Saving…', async () => {
        let out;
        try {
          // The member is sent either way: false must reach the server to make it public.
          out = await client.operation('UpdateChannel', { arn: ch.arn, authorized: makePrivate });
        } catch (err) {
          showIn(errors, errorAlert(err, 'Updating the channel'));
          return;
        }
        ch = out.channel;
        dlg.close();
        draw();
        const msg = `Channel ${name} is now ${ch.authorized ? 'private' : 'public'}.`;
        showIn(status, alertBox('success', msg));
        announce(msg);
        document.getElementById('toggle-authorization')?.focus();
      });
    });
    openDialog(dlg, '#authorization-cancel');
  }

  function deleteDialog() {
    const name = displayName(ch);
    confirmDeleteDialog({
      idPrefix: 'delete-channel', title: 'Delete channel', noun: 'channel', name, arn: ch.arn,
      consequence: 'Its stream key and viewer-session revocations are deleted with it, and its playback URL stops working. This cannot be undone.',
      doing: 'Deleting the channel',
      del: () => client.operation('DeleteChannel', { arn: ch.arn }),
      onDeleted: () => {
        knownArns.delete(arnKey(ctx, id));
        flash = alertBox('success', `Channel ${name} deleted.`);
        announce(`Channel ${name} deleted`);
        location.hash = '#/channels';
      },
    });
  }

  load();
}
