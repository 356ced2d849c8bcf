// IVS playback authorization tokens in the page: decode, check against the IVS claim
// rules (the same rules and rejection codes as playkey's token package), explain, and
// sign test tokens with ES384 in WebCrypto. The signature itself can only be checked by
// the server, which holds the public keys.

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export const CLAIM = {
  channelArn: 'aws:channel-arn',
  exp: 'exp',
  allowOrigin: 'aws:access-control-allow-origin',
  strictOrigin: 'aws:strict-origin-enforcement',
  singleUse: 'aws:single-use-uuid',
  viewerId: 'aws:viewer-id',
  sessionVersion: 'aws:viewer-session-version',
  maxResolution: 'aws:maximum-resolution',
};

export const MAX_RESTRICTED_LIFETIME = 600; // seconds, with single-use-uuid or viewer-id
export const MAX_VIEWER_ID = 40;
export const MAX_STRICT_ORIGINS = 5;
export const RESOLUTIONS = { SD: '480p', HD: '720p', FULL_HD: '1080p' };

export function base64url(data) {
  const bytes = typeof data === 'string' ? encoder.encode(data) : new Uint8Array(data);
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// unbase64url decodes strict unpadded base64url, or returns null.
export function unbase64url(s) {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return null;
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function problem(code, reason, claim = '') {
  return { code, reason, claim };
}

function parseJSONObject(bytes, what, code) {
  let text;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { error: problem(code, `The ${what} is not UTF-8.`) };
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: problem(code, `The ${what} is not valid JSON.`) };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { error: problem(code, `The ${what} is not a JSON object.`) };
  }
  return { value, text };
}

// decodeToken splits and decodes a compact JWS. It returns {header, claims, signature,
// headerText, claimsText, problems}; header or claims are null when they cannot be read.
export function decodeToken(token) {
  const out = { header: null, claims: null, signature: null, headerText: '', claimsText: '', problems: [] };
  token = token.trim();
  const parts = token.split('.');
  if (parts.length !== 3) {
    out.problems.push(problem('malformed', `A token is three base64url parts separated by dots; this has ${parts.length} part${parts.length === 1 ? '' : 's'}.`));
    return out;
  }
  const [h, p, s] = parts.map(unbase64url);
  const names = ['header', 'payload', 'signature'];
  [h, p, s].forEach((v, i) => {
    if (v === null) out.problems.push(problem('malformed', `The ${names[i]} is not unpadded base64url.`));
  });
  if (h) {
    const r = parseJSONObject(h, 'header', 'bad_header');
    if (r.error) out.problems.push(r.error);
    else {
      out.header = r.value;
      out.headerText = r.text;
      if (!('alg' in r.value)) out.problems.push(problem('bad_header', 'The header has no alg.'));
      else if (r.value.alg !== 'ES384') {
        out.problems.push(problem('unsupported_alg', `The header's alg is ${JSON.stringify(r.value.alg)}; IVS accepts only ES384 (ECDSA P-384 with SHA-384).`));
      }
      for (const k of Object.keys(r.value)) {
        if (!['alg', 'typ', 'kid'].includes(k)) {
          out.problems.push(problem('bad_header', `The header has the parameter ${JSON.stringify(k)}; only alg, typ and kid are allowed.`));
        }
      }
    }
  }
  if (s) {
    out.signature = s;
    if (s.length !== 96) {
      const der = s[0] === 0x30 && s.length >= 8 && s.length <= 104;
      out.problems.push(problem('bad_signature_encoding', der
        ? `The signature is ${s.length} bytes of DER; JWS needs the raw 96-byte r||s form.`
        : `The signature is ${s.length} bytes; an ES384 signature is 96 bytes (r||s).`));
    }
  }
  if (p) {
    const r = parseJSONObject(p, 'payload', 'bad_payload');
    if (r.error) out.problems.push(r.error);
    else {
      out.claims = r.value;
      out.claimsText = r.text;
    }
  }
  return out;
}

// originSyntax explains why s is not an allowed-origin entry, or returns ''.
export function originSyntax(s) {
  if (s === '*') return '';
  if (s === '') return 'it is empty (a stray comma?)';
  const i = s.indexOf('://');
  if (i < 0) return 'it has no scheme; write it as https://host';
  const scheme = s.slice(0, i);
  const rest = s.slice(i + 3);
  if (!/^[A-Za-z][A-Za-z0-9+.-]*$/.test(scheme)) return 'the scheme is not valid';
  if (/[/?#]/.test(rest)) return 'an origin has no path, query or trailing slash';
  let host = rest;
  let port = '';
  const colon = rest.lastIndexOf(':');
  if (colon >= 0 && rest.lastIndexOf(']') < colon) {
    host = rest.slice(0, colon);
    port = rest.slice(colon + 1);
  }
  if (port !== '') {
    if (!/^[0-9]{1,5}$/.test(port)) return 'the port is not a number';
    if (Number(port) > 65535) return 'the port is out of range';
  }
  if (host.startsWith('*.')) host = host.slice(2);
  if (host === '') return 'the host is empty';
  if (host[0] === '[') {
    return /^\[[0-9a-fA-F:.]+\]$/.test(host) ? '' : 'the IPv6 address is not valid';
  }
  if (host.includes('*')) return 'a wildcard may only be the first label of the host, as in https://*.example.com';
  if (!/^[A-Za-z0-9._-]+$/.test(host)) return 'the host has a character hosts do not have';
  return '';
}

export function splitOrigins(s) {
  return s.split(',').map((o) => o.trim());
}

// checkClaims applies the IVS claim rules and returns every problem found. channelArn ''
// skips the channel comparison. now is in seconds.
export function checkClaims(c, { channelArn = '', now = Date.now() / 1000 } = {}) {
  const out = [];
  const kind = (name, want, ok) => {
    if (name in c && !ok(c[name])) {
      out.push(problem('bad_claim', `${name} must be ${want}, not ${JSON.stringify(c[name])}.`, name));
      return false;
    }
    return name in c;
  };
  const nonEmpty = (v) => typeof v === 'string' && v !== '';
  const hasArn = kind(CLAIM.channelArn, 'a non-empty string', nonEmpty);
  const hasExp = kind(CLAIM.exp, 'a number (seconds since 1970)', (v) => typeof v === 'number' && Number.isFinite(v));
  const hasOrigins = kind(CLAIM.allowOrigin, 'a string of comma-separated origins', (v) => typeof v === 'string');
  kind(CLAIM.strictOrigin, 'true or false', (v) => typeof v === 'boolean');
  const single = kind(CLAIM.singleUse, 'a non-empty string', nonEmpty);
  const viewer = kind(CLAIM.viewerId, 'a non-empty string', nonEmpty);
  kind(CLAIM.sessionVersion, 'a whole number', (v) => Number.isInteger(v));
  const hasRes = kind(CLAIM.maxResolution, 'a string', (v) => typeof v === 'string');

  if (!(CLAIM.channelArn in c)) {
    out.push(problem('missing_claim', `The token has no ${CLAIM.channelArn} claim; it must name the channel it plays.`, CLAIM.channelArn));
  } else if (hasArn && channelArn && c[CLAIM.channelArn] !== channelArn) {
    out.push(problem('channel_mismatch', `${CLAIM.channelArn} is for channel ${c[CLAIM.channelArn]}, not ${channelArn}.`, CLAIM.channelArn));
  }
  if (!(CLAIM.exp in c)) {
    out.push(problem('missing_claim', 'The token has no exp claim; IVS requires an expiry.', CLAIM.exp));
  } else if (hasExp) {
    const exp = Math.floor(c[CLAIM.exp]);
    if (now >= exp) {
      out.push(problem('expired', `The token expired ${duration(now - exp)} ago.`, CLAIM.exp));
    } else if ((single || viewer) && exp > now + MAX_RESTRICTED_LIFETIME) {
      const by = single && viewer ? `${CLAIM.singleUse} and ${CLAIM.viewerId}` : single ? CLAIM.singleUse : CLAIM.viewerId;
      const ms = exp > 100000000000 ? ' (is it in milliseconds?)' : '';
      out.push(problem('exp_too_far', `exp is ${duration(exp - now)} from now${ms}; a token with ${by} must expire within 10 minutes.`, CLAIM.exp));
    }
  }
  if (viewer) {
    const n = [...c[CLAIM.viewerId]].length;
    if (n > MAX_VIEWER_ID) {
      out.push(problem('viewer_id_too_long', `${CLAIM.viewerId} is ${n} characters; at most ${MAX_VIEWER_ID} are allowed.`, CLAIM.viewerId));
    }
  }
  if (hasRes && !(c[CLAIM.maxResolution] in RESOLUTIONS)) {
    out.push(problem('bad_maximum_resolution', `${CLAIM.maxResolution} is ${JSON.stringify(c[CLAIM.maxResolution])}; it must be SD, HD or FULL_HD.`, CLAIM.maxResolution));
  }
  if (hasOrigins) {
    const origins = splitOrigins(c[CLAIM.allowOrigin]);
    for (const o of origins) {
      const why = originSyntax(o);
      if (why) {
        out.push(problem('bad_origin', `${CLAIM.allowOrigin} entry ${JSON.stringify(o)} is not an origin: ${why}.`, CLAIM.allowOrigin));
        break;
      }
    }
    if (c[CLAIM.strictOrigin] === true && origins.length > MAX_STRICT_ORIGINS) {
      out.push(problem('too_many_origins', `${CLAIM.allowOrigin} lists ${origins.length} origins; with ${CLAIM.strictOrigin} at most ${MAX_STRICT_ORIGINS} are allowed.`, CLAIM.allowOrigin));
    }
  }
  return out;
}

// duration writes a span of seconds the way a person says it: 42s, 3m12s, 5h3m, 17d5h.
export function duration(sec) {
  sec = Math.abs(Math.floor(sec));
  const m = 60, h = 3600, d = 86400, y = 31557600;
  if (sec < m) return `${sec}s`;
  if (sec < h) return `${Math.floor(sec / m)}m${sec % m}s`;
  if (sec < 2 * d) return `${Math.floor(sec / h)}h${Math.floor((sec % h) / m)}m`;
  if (sec < 2 * y) return `${Math.floor(sec / d)}d${Math.floor((sec % d) / h)}h`;
  return `${Math.floor(sec / y)} years`;
}

// expiry describes exp: the local time and how far it is from now.
export function expiry(exp, now = Date.now() / 1000) {
  const ms = Math.floor(exp) * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
    return { local: 'beyond the dates a browser can show', relative: `${duration(exp - now)} from now` };
  }
  const local = new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'long' });
  const delta = Math.floor(exp) - now;
  const relative = delta > 0 ? `in ${duration(delta)}` : `${duration(delta)} ago`;
  return { local, relative };
}

// explainClaim says what a claim means and what this value does.
export function explainClaim(name, value, now = Date.now() / 1000) {
  switch (name) {
    case CLAIM.channelArn:
      return 'Required. The channel this token plays: it must be the ARN of the channel whose playback URL carries the token.';
    case CLAIM.exp: {
      if (typeof value !== 'number') return 'Required. The expiry, in seconds since 1970-01-01 UTC.';
      const e = expiry(value, now);
      let s = `Required. Expires ${e.local} (${e.relative}). Checked when playback starts, not during the session.`;
      if (value > 100000000000) {
        s += ' This looks like milliseconds: read as seconds it is far in the future, which IVS accepts unless the token is single-use or has a viewer ID.';
      }
      return s;
    }
    case CLAIM.allowOrigin:
      return `Origins allowed to play (comma-separated; a host may start with *.): ${typeof value === 'string' ? splitOrigins(value).join(', ') : value}. Without this claim every origin may play.`;
    case CLAIM.strictOrigin:
      return value === true
        ? 'Every playback request (playlists and segments) must carry a matching Origin header, browsers or not. At most 5 origins.'
        : 'Not strict: the origin list is left to browsers\' CORS checks.';
    case CLAIM.singleUse:
      return 'Single use: this token can start playback once. Needs exp within 10 minutes.';
    case CLAIM.viewerId:
      return 'The viewer, so that their sessions can be revoked (StartViewerSessionRevocation). At most 40 characters; needs exp within 10 minutes.';
    case CLAIM.sessionVersion:
      return `Session version ${value} (default 0). Revoking this viewer up to version N ends sessions whose version is N or lower; a token with a higher version still plays.`;
    case CLAIM.maxResolution:
      return value in RESOLUTIONS
        ? `Renditions above ${RESOLUTIONS[value]} are removed from the playlist.`
        : 'Must be SD (480p), HD (720p) or FULL_HD (1080p).';
    default:
      return 'Not an IVS claim: ignored.';
  }
}

// explainHeader says what a header parameter means.
export function explainHeader(name, value) {
  switch (name) {
    case 'alg':
      return value === 'ES384' ? 'ECDSA with P-384 and SHA-384: the only algorithm IVS accepts.' : 'IVS accepts only ES384.';
    case 'typ':
      return 'The token type; optional.';
    case 'kid':
      return 'Key ID: ignored. The server tries every playback key of the channel\'s account and region.';
    default:
      return 'Not allowed in an IVS token header.';
  }
}

// signToken signs claims with a P-384 private key given as PKCS#8 DER and returns the
// compact token. WebCrypto's ECDSA signature is already the raw r||s form JWS uses.
export async function signToken(pkcs8, claims) {
  const key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign']);
  const input = base64url(JSON.stringify({ alg: 'ES384', typ: 'JWT' })) + '.' + base64url(JSON.stringify(claims));
  const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-384' }, key, encoder.encode(input));
  return input + '.' + base64url(sig);
}
