// Live channels: what the Channels page and a channel's page show of its streams. The list
// polls ListStreams; a channel's page polls its stream sessions (and GetStream while the
// newest has not ended) and shows the current stream, Stop stream and Send metadata, and the channel's stream sessions with their events and ingest
// configuration, as the AWS console does. Polls run only while the page is open and
// visible (ui.js poll).

import { ApiError } from '../api.js';
import {
  h, clear, alertBox, errorAlert, showIn, openDialog, dialogShell, announce, field, busy, poll,
} from '../ui.js';

// STREAM_POLL_MS is how often an open page asks for the live streams again.
export const STREAM_POLL_MS = 4000;
// MAX_METADATA_BYTES is PutMetadata's limit. The page counts, but lets the server refuse.
export const MAX_METADATA_BYTES = 1024;
// SESSIONS_PAGE is how many stream sessions a page of them holds.
const SESSIONS_PAGE = 25;

const HEALTH = {
  HEALTHY: ['Healthy', 'The stream is received as it is sent.'],
  STARVING: ['Starving', 'The ingest receives less data than the stream needs: the broadcaster\'s network or encoder cannot keep up.'],
  UNKNOWN: ['Unknown', 'The health of the stream is not known yet.'],
};

export function healthLabel(health) {
  return (HEALTH[health] || [health || 'Unknown'])[0];
}

// formatTime shows an ISO 8601 time in the browser's locale, in a <time> element that
// keeps the server's value.
export function formatTime(iso, attrs = {}) {
  if (!iso) return h('span', { class: 'muted' }, '-');
  const d = new Date(iso);
  const text = Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  return h('time', { datetime: iso, ...attrs }, text);
}

// formatDuration shows the time between two ISO 8601 times (end: now when absent).
export function formatDuration(start, end) {
  const ms = (end ? new Date(end) : new Date()) - new Date(start);
  if (!(ms >= 0)) return '';
  const s = Math.floor(ms / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  if (hh > 0) return `${hh} h ${mm} min`;
  if (mm > 0) return `${mm} min ${ss} s`;
  return `${ss} s`;
}

// viewers shows a viewer count; the model's -1 means the count timed out.
export function viewers(n) {
  if (n === undefined || n === null) return h('span', { class: 'muted' }, '-');
  if (n < 0) return h('span', { class: 'muted', title: 'The count timed out; it is asked for again shortly.' }, 'Unavailable');
  return String(n);
}

// stateBadge is Live (with the stream's health) or Offline.
export function stateBadge(stream) {
  if (!stream) return h('span', { class: 'badge badge-offline', 'data-state': 'OFFLINE' }, 'Offline');
  const health = stream.health || 'UNKNOWN';
  return h('span', { class: 'stream-state', 'data-state': 'LIVE', 'data-health': health },
    h('span', { class: 'badge badge-live' }, 'Live'), ' ',
    h('span', { class: `health health-${health.toLowerCase()}` }, healthLabel(health)));
}

// watchStreams polls ListStreams (every page) while the page is open and calls
// onStreams(map of channel ARN to stream summary, when) after each answer, or onError(err).
export function watchStreams(ctx, onStreams, onError, indicator) {
  return poll(ctx, async () => {
    let streams;
    try {
      streams = await ctx.client.listAll('ListStreams', 'streams', { maxResults: 100 });
    } catch (err) {
      if (ctx.alive()) onError(err);
      return;
    }
    if (ctx.alive()) onStreams(new Map(streams.map((s) => [s.channelArn, s])), new Date());
  }, STREAM_POLL_MS, indicator);
}

// videoText and audioText describe one track's configuration in a stream session.
function videoText(v) {
  const parts = [v.codec];
  if (v.profile) parts.push(v.profile + (v.level ? ` ${v.level}` : ''));
  if (v.videoWidth && v.videoHeight) parts.push(`${v.videoWidth}×${v.videoHeight}`);
  if (v.targetFramerate) parts.push(`${v.targetFramerate} fps`);
  if (v.targetBitrate) parts.push(`${Math.round(v.targetBitrate / 1000)} kbit/s`);
  if (v.encoder) parts.push(`encoder ${v.encoder}`);
  return parts.filter(Boolean).join(', ');
}

function audioText(a) {
  const parts = [a.codec];
  if (a.channels) parts.push(a.channels === 1 ? 'mono' : a.channels === 2 ? 'stereo' : `${a.channels} channels`);
  if (a.sampleRate) parts.push(`${a.sampleRate} Hz`);
  if (a.targetBitrate) parts.push(`${Math.round(a.targetBitrate / 1000)} kbit/s`);
  return parts.filter(Boolean).join(', ');
}

// ingestFacts shows a session's ingest configurations, track by track.
function ingestFacts(session) {
  const c = session.ingestConfigurations || {};
  const video = c.videoConfigurations || [];
  const audio = c.audioConfigurations || [];
  if (video.length === 0 && audio.length === 0) {
    return h('p', { class: 'muted ingest-none' }, 'No ingest configuration measured yet: the ingest reports it a few seconds into a stream.');
  }
  const track = (t) => (t && (video.length + audio.length > 2) ? ` (${t})` : '');
  return h('dl', { class: 'facts facts-wide ingest-config' },
    video.map((v) => [h('dt', {}, 'Video' + track(v.track)), h('dd', { class: 'ingest-video', 'data-codec': v.codec, 'data-width': v.videoWidth, 'data-height': v.videoHeight }, videoText(v))]),
    audio.map((a) => [h('dt', {}, 'Audio' + track(a.track)), h('dd', { class: 'ingest-audio', 'data-codec': a.codec }, audioText(a))]));
}

// eventsTable shows a session's events, newest first as the API lists them.
function eventsTable(session) {
  const events = session.truncatedEvents || [];
  if (events.length === 0) return h('p', { class: 'muted' }, 'No events.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'session-events' },
    h('caption', { class: 'visually-hidden' }, `Events of stream ${session.streamId}, newest first`),
    h('thead', {}, h('tr', {}, ['Event', 'Type', 'Time', 'Code'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, events.map((e) => h('tr', { 'data-event': e.name, class: e.code ? 'event-error' : null },
      h('td', { 'data-label': 'Event', class: 'event-name' }, e.name),
      h('td', { 'data-label': 'Type', class: 'event-type' }, e.type),
      h('td', { 'data-label': 'Time' }, formatTime(e.eventTime)),
      h('td', { 'data-label': 'Code' }, e.code ? h('code', {}, e.code) : h('span', { class: 'muted' }, '-')))))));
}

// liveDetails builds a channel page's Live stream and Stream sessions sections. getChannel
// returns the channel as the page has it now; status is the page's message area. start()
// begins polling; the sections are stable nodes the page may move around.
export function liveDetails(ctx, getChannel, status) {
  const { client } = ctx;
  const arn = () => getChannel().arn;
  const name = () => getChannel().name || arn().slice(arn().lastIndexOf('/') + 1);

  let stream = null; // the live stream, or null when offline
  let known = false; // whether stream has been read at least once
  let lastId = null; // the stream id of the last answer, to see starts and ends
  let session = null; // the live stream's session, for its ingest configuration

  const facts = h('div', { id: 'live-state', 'aria-busy': 'true' }, h('p', { class: 'loading', role: 'status' }, 'Reading the stream…'));
  const liveError = h('div', { id: 'live-status' });
  const stopBtn = h('button', { type: 'button', id: 'stop-stream', class: 'danger', hidden: true, onclick: () => stopDialog() }, 'Stop stream');
  const refreshed = h('p', { class: 'hint refreshed', id: 'live-refreshed' });

  // The metadata form is built once: what the user types survives each refresh.
  const metadata = h('textarea', { id: 'metadata-input', rows: 3, spellcheck: 'false', autocomplete: 'off' });
  const size = h('span', { id: 'metadata-size' });
  const metadataStatus = h('div', { class: 'form-status', id: 'metadata-status' });
  const metadataBtn = h('button', { type: 'submit', class: 'primary', id: 'metadata-submit' }, 'Send metadata');
  const updateSize = () => {
    const n = new TextEncoder().encode(metadata.value).length;
    size.textContent = `${n} of ${MAX_METADATA_BYTES} bytes`;
    size.classList.toggle('over', n > MAX_METADATA_BYTES);
  };
  metadata.addEventListener('input', updateSize);
  updateSize();
  const metadataForm = h('form', { id: 'metadata-form', novalidate: true, hidden: true },
    h('h3', {}, 'Send metadata'),
    field('Timed metadata', metadata, h('span', {}, 'Text the players receive at this point of the stream (PutMetadata): up to 1 KB, at most 5 a second per channel. ', size)),
    metadataStatus,
    h('div', { class: 'form-actions' }, metadataBtn));
  metadataForm.addEventListener('submit', (e) => {
    e.preventDefault();
    sendMetadata();
  });

  const liveSection = h('section', { class: 'container', id: 'channel-live', 'aria-labelledby': 'live-heading' },
    h('div', { class: 'container-header' },
      h('h2', { id: 'live-heading', tabindex: '-1' }, 'Live stream'),
      h('div', { class: 'actions' }, stopBtn)),
    liveError, facts, refreshed, metadataForm);

  // Sessions: the channel's streams, newest first, and the one the user opened.
  let sessions = []; // what the table shows: newest, then older ones not in it
  let firstPage = []; // the first page, read at each refresh
  let older = []; // the pages after it, read when the user asks
  let sessionsNext;
  let selected = null; // the stream id whose session is shown
  const sessionsTable = h('div', { id: 'sessions-table', class: 'table-wrap', 'aria-busy': 'true' },
    h('p', { class: 'loading', role: 'status' }, 'Loading the sessions…'));
  const moreBtn = h('button', { type: 'button', id: 'more-sessions', hidden: true, onclick: (e) => busy(e.currentTarget, 'Loading…', () => loadMoreSessions()) }, 'Load more sessions');
  const sessionPanel = h('div', { id: 'session-details' });
  const sessionsSection = h('section', { class: 'container', id: 'channel-sessions', 'aria-labelledby': 'sessions-heading' },
    h('h2', { id: 'sessions-heading' }, 'Stream sessions'),
    h('p', {}, 'Each time a broadcaster goes live the channel has a new stream session: its events, and the ingest configuration measured from what was sent.'),
    sessionsTable, moreBtn, sessionPanel);

  let poller = null;

  // readStream reads the channel's newest sessions, and its stream when the newest has not
  // ended. The sessions say whether the channel is live without asking GetStream of an
  // offline channel, whose answer (ChannelNotBroadcasting, a 404) the browser would log as
  // a failed request at each refresh.
  async function readStream() {
    let first;
    try {
      first = await client.operation('ListStreamSessions', { channelArn: arn(), maxResults: SESSIONS_PAGE });
    } catch (err) {
      if (!ctx.alive()) return;
      showIn(liveError, errorAlert(err, 'Reading the stream sessions'));
      return;
    }
    const latest = (first.streamSessions || [])[0];
    let out = null;
    if (latest && !latest.endTime) {
      try {
        out = (await client.operation('GetStream', { channelArn: arn() })).stream;
      } catch (err) {
        if (!ctx.alive()) return;
        // It has just ended: the next refresh shows the session's end.
        if (!(err instanceof ApiError && err.code === 'ChannelNotBroadcasting')) {
          showIn(liveError, errorAlert(err, 'Reading the stream'));
          return;
        }
      }
    }
    if (!ctx.alive()) return;
    clear(liveError);
    const id = out ? out.streamId : null;
    const changed = !known || id !== lastId;
    // A start or an end seen while the page is open is told to screen readers too.
    if (known && changed) announce(out ? `${name()} is live` : `${name()} is offline`);
    stream = out;
    known = true;
    lastId = id;
    if (out) {
      // The session holds what the ingest measured: read it until it has a configuration.
      const c = session && session.streamId === id ? session.ingestConfigurations : null;
      if (!c || !(c.videoConfigurations || []).length) {
        try {
          session = (await client.operation('GetStreamSession', { channelArn: arn(), streamId: id })).streamSession;
        } catch {
          session = null;
        }
        if (!ctx.alive()) return;
      }
    } else {
      session = null;
    }
    drawLive(new Date());
    showSessions(first, false);
    // The open session may have changed (a live one ended): read it again.
    if (changed && selected) await openSession(selected, false);
  }

  function drawLive(when) {
    facts.removeAttribute('aria-busy');
    liveSection.dataset.state = stream ? 'LIVE' : 'OFFLINE';
    stopBtn.hidden = !stream;
    metadataForm.hidden = !stream;
    refreshed.textContent = `Refreshed at ${when.toLocaleTimeString()}; the page asks again every ${STREAM_POLL_MS / 1000} seconds while it is open.`;
    if (!stream) {
      showIn(facts,
        h('dl', { class: 'facts facts-wide' },
          h('dt', {}, 'State'), h('dd', { id: 'live-state-value' }, stateBadge(null))),
        h('p', { class: 'muted', id: 'live-offline' }, 'This channel is not broadcasting. A broadcaster goes live by sending to the ingest server with the channel\'s stream key (Stream configuration, below).'));
      return;
    }
    const s = stream;
    showIn(facts, h('dl', { class: 'facts facts-wide' },
      h('dt', {}, 'State'), h('dd', { id: 'live-state-value' }, stateBadge(s)),
      h('dt', {}, 'Health'), h('dd', { id: 'live-health', 'data-health': s.health }, healthLabel(s.health), ' ',
        h('span', { class: 'muted' }, (HEALTH[s.health] || ['', ''])[1])),
      h('dt', {}, 'Viewers'), h('dd', { id: 'live-viewers', 'data-count': s.viewerCount }, viewers(s.viewerCount)),
      h('dt', {}, 'Started'), h('dd', { id: 'live-start' }, formatTime(s.startTime), ' ', h('span', { class: 'muted' }, `(live for ${formatDuration(s.startTime)})`)),
      h('dt', {}, 'Stream ID'), h('dd', { id: 'live-stream-id', class: 'mono' }, s.streamId),
      h('dt', {}, 'Ingest'), h('dd', { id: 'live-ingest' }, session ? ingestFacts(session) : h('span', { class: 'muted' }, 'Not known yet.'))));
  }

  // showSessions shows a page of sessions: the first (refreshed) or the next one.
  function showSessions(page, more) {
    sessionsTable.removeAttribute('aria-busy');
    const list = page.streamSessions || [];
    if (more) {
      older = older.concat(list);
      sessionsNext = page.nextToken;
    } else {
      firstPage = list;
      if (older.length === 0) sessionsNext = page.nextToken;
    }
    const seen = new Set(firstPage.map((x) => x.streamId));
    sessions = firstPage.concat(older.filter((x) => !seen.has(x.streamId)));
    moreBtn.hidden = !sessionsNext;
    drawSessions();
  }

  async function loadMoreSessions() {
    let out;
    try {
      out = await client.operation('ListStreamSessions', { channelArn: arn(), maxResults: SESSIONS_PAGE, nextToken: sessionsNext });
    } catch (err) {
      if (ctx.alive()) showIn(sessionPanel, errorAlert(err, 'Loading more stream sessions'));
      return;
    }
    if (ctx.alive()) showSessions(out, true);
  }

  function drawSessions() {
    if (sessions.length === 0) {
      showIn(sessionsTable, h('div', { class: 'empty' }, h('p', {}, h('strong', {}, 'No stream sessions')),
        h('p', {}, 'This channel has not been live yet.')));
      return;
    }
    const focusedId = document.activeElement?.id;
    showIn(sessionsTable, h('table', { class: 'table', id: 'sessions' },
      h('caption', { class: 'visually-hidden' }, 'Stream sessions of the channel, newest first'),
      h('thead', {}, h('tr', {}, ['Stream ID', 'Started', 'Ended', 'Duration', 'Errors'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, sessions.map((s) => h('tr', { 'data-stream-id': s.streamId, 'data-ended': s.endTime ? 'true' : 'false', 'aria-current': s.streamId === selected ? 'true' : null },
        h('td', { 'data-label': 'Stream ID', class: 'session-id' },
          h('button', { type: 'button', class: 'link-button mono', id: `session-${s.streamId}`, 'aria-expanded': String(s.streamId === selected), 'aria-controls': 'session-details', onclick: () => openSession(s.streamId, true) }, s.streamId)),
        h('td', { 'data-label': 'Started', class: 'session-start' }, formatTime(s.startTime)),
        h('td', { 'data-label': 'Ended', class: 'session-end' }, s.endTime ? formatTime(s.endTime) : h('span', { class: 'badge badge-live' }, 'Live')),
        h('td', { 'data-label': 'Duration', class: 'session-duration' }, formatDuration(s.startTime, s.endTime)),
        h('td', { 'data-label': 'Errors', class: 'session-errors' }, s.hasErrorEvent
          ? h('span', { class: 'badge badge-error' }, 'Error events')
          : h('span', { class: 'muted' }, 'None')))))));
    if (focusedId && !document.activeElement?.id) document.getElementById(focusedId)?.focus();
  }

  // openSession shows the session of stream id with its events and ingest configuration.
  async function openSession(id, userAsked) {
    selected = id;
    for (const b of sessionsTable.querySelectorAll('button[aria-expanded]')) b.setAttribute('aria-expanded', String(b.id === `session-${id}`));
    for (const tr of sessionsTable.querySelectorAll('tr[data-stream-id]')) {
      if (tr.dataset.streamId === id) tr.setAttribute('aria-current', 'true');
      else tr.removeAttribute('aria-current');
    }
    if (userAsked) showIn(sessionPanel, h('p', { class: 'loading', role: 'status' }, 'Loading the session…'));
    let ss;
    try {
      ss = (await client.operation('GetStreamSession', { channelArn: arn(), streamId: id })).streamSession;
    } catch (err) {
      if (ctx.alive() && selected === id) showIn(sessionPanel, errorAlert(err, 'Loading the stream session'));
      return;
    }
    if (!ctx.alive() || selected !== id) return;
    const ch = ss.channel || {};
    showIn(sessionPanel, h('div', { class: 'session-panel', 'data-stream-id': ss.streamId, 'data-ended': ss.endTime ? 'true' : 'false' },
      h('h3', { id: 'session-heading', tabindex: '-1' }, 'Session ', h('span', { class: 'mono' }, ss.streamId)),
      h('dl', { class: 'facts facts-wide' },
        h('dt', {}, 'Started'), h('dd', { id: 'session-start' }, formatTime(ss.startTime)),
        h('dt', {}, 'Ended'), h('dd', { id: 'session-end' }, ss.endTime ? formatTime(ss.endTime) : 'Still live'),
        h('dt', {}, 'Channel at go-live'), h('dd', {}, [ch.type, ch.latencyMode, ch.authorized ? 'private' : 'public'].filter(Boolean).join(', '))),
      h('h4', {}, 'Ingest configuration'),
      h('div', { id: 'session-ingest' }, ingestFacts(ss)),
      h('h4', {}, 'Events'),
      eventsTable(ss)));
    if (userAsked) document.getElementById('session-heading')?.focus();
  }

  function stopDialog() {
    const errors = h('div', { class: 'form-status', id: 'stop-stream-status' });
    const submit = h('button', { type: 'submit', class: 'danger-primary', id: 'stop-stream-submit', form: 'stop-stream-form' }, 'Stop stream');
    const cancel = h('button', { type: 'button', id: 'stop-stream-cancel', onclick: () => dlg.close() }, 'Cancel');
    const form = h('form', { id: 'stop-stream-form', novalidate: true },
      h('p', {}, 'Stop the live stream of ', h('strong', {}, name()), '?'),
      h('p', {}, 'This disconnects the broadcaster and ends the stream for every viewer.'),
      alertBox('warning', 'The broadcaster may reconnect.',
        h('p', {}, 'Broadcasting software usually reconnects by itself with the same stream key, which starts a new stream. To keep the channel off the air, delete its stream key first (Stream configuration, on this page), then stop the stream.')),
      errors);
    const dlg = dialogShell({
      title: 'Stop stream', idPrefix: 'stop-stream-dialog', body: form,
      footer: h('div', { class: 'footer-buttons' }, cancel, submit),
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      await busy(submit, 'Stopping…', async () => {
        try {
          await client.operation('StopStream', { channelArn: arn() });
        } catch (err) {
          showIn(errors, errorAlert(err, 'Stopping the stream'));
          return;
        }
        // The button goes with the stream: focus goes to the section it was in, after the
        // dialog has put it back on the button (its close event comes later).
        dlg.addEventListener('close', () => document.getElementById('live-heading')?.focus(), { once: true });
        dlg.close();
        const msg = `The stream of ${name()} was stopped.`;
        showIn(status, alertBox('success', msg, h('p', {}, 'The broadcaster was disconnected. If it reconnects with the same stream key, the channel goes live again.')));
        announce(msg);
        poller?.now();
      });
    });
    openDialog(dlg, '#stop-stream-cancel');
  }

  async function sendMetadata() {
    if (metadata.value === '') {
      showIn(metadataStatus, alertBox('error', 'Enter the metadata to send.'));
      metadata.focus();
      return;
    }
    clear(metadataStatus);
    // Sent as typed, even over the limit: the server's refusal says why.
    const value = metadata.value;
    await busy(metadataBtn, 'Sending…', async () => {
      try {
        await client.operation('PutMetadata', { channelArn: arn(), metadata: value });
      } catch (err) {
        showIn(metadataStatus, errorAlert(err, 'Sending the metadata'));
        if (err instanceof ApiError && err.code === 'ChannelNotBroadcasting') poller?.now();
        return;
      }
      const done = alertBox('success', 'Metadata sent.',
        h('p', {}, `${new TextEncoder().encode(value).length} bytes were inserted into the stream at ${new Date().toLocaleTimeString()}; players receive them as timed metadata.`));
      done.id = 'metadata-done';
      showIn(metadataStatus, done);
      announce('Metadata sent');
    });
  }

  return {
    sections: [liveSection, sessionsSection],
    start() {
      if (!poller) poller = poll(ctx, readStream, STREAM_POLL_MS, refreshed);
    },
  };
}
