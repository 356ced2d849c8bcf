// AWS Signature Version 4 for the IVS API, with WebCrypto.
//
// The canonical request is built as the AWS SDKs and botocore build it for rest-json
// services: the path as sent (its labels already percent-encoded, '/' in an ARN included)
// is percent-encoded once more; query names and values are encoded, then sorted; the
// signed headers are content-type, host and x-amz-date; the payload hash is the SHA-256
// of the body. The browser sets Host itself, so the signed host is location.host.

const encoder = new TextEncoder();
const ALGORITHM = 'AWS4-HMAC-SHA256';

// uriEncode percent-encodes every UTF-8 byte except the RFC 3986 unreserved characters,
// with upper-case hex, as SigV4 requires.
export function uriEncode(s) {
  let out = '';
  for (const b of encoder.encode(s)) {
    if ((b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) ||
        b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e) {
      out += String.fromCharCode(b);
    } else {
      out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
    }
  }
  return out;
}

// canonicalPath encodes a path as sent once more, keeping '/': "%2F" becomes "%252F".
export function canonicalPath(path) {
  return path.split('/').map(uriEncode).join('/');
}

// canonicalQuery encodes [name, value] pairs and sorts them by name, then value.
export function canonicalQuery(pairs) {
  return pairs
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => k + '=' + v)
    .join('&');
}

function hex(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function sha256Hex(data) {
  const bytes = typeof data === 'string' ? encoder.encode(data) : data;
  return hex(await crypto.subtle.digest('SHA-256', bytes));
}

async function hmac(key, data) {
  const k = await crypto.subtle.importKey('raw', typeof key === 'string' ? encoder.encode(key) : key,
    { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return crypto.subtle.sign('HMAC', k, encoder.encode(data));
}

// amzDate formats a Date as yyyymmddThhmmssZ.
export function amzDate(date) {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

// sign returns the headers to send with a request: content-type, x-amz-date and
// authorization. path must already be percent-encoded the way it is sent; query is a list
// of [name, value] pairs, not yet encoded; body is a string ('' for none).
export async function sign({ method, host, path, query = [], contentType, body = '', region,
  service = 'ivs', accessKeyId, secretAccessKey, date = new Date() }) {
  const timestamp = amzDate(date);
  const day = timestamp.slice(0, 8);
  const headers = { 'content-type': contentType, host, 'x-amz-date': timestamp };
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((n) => n + ':' + String(headers[n]).trim().replace(/ +/g, ' ') + '\n').join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    method,
    canonicalPath(path),
    canonicalQuery(query),
    canonicalHeaders,
    signedHeaders,
    await sha256Hex(body),
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, timestamp, scope, await sha256Hex(canonicalRequest)].join('\n');
  let key = await hmac('AWS4' + secretAccessKey, day);
  key = await hmac(key, region);
  key = await hmac(key, service);
  key = await hmac(key, 'aws4_request');
  const signature = hex(await hmac(key, stringToSign));
  return {
    'content-type': contentType,
    'x-amz-date': timestamp,
    authorization: `${ALGORITHM} Credential=${accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}
