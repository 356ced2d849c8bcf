// A client for the IVS API served by playkey, signing each call with SigV4 in the page.
// It has no privileges the AWS CLI lacks: same operations, same signatures, same errors.

import { sign, uriEncode } from './sigv4.js';

const CONTENT_TYPE = 'application/json';

// ApiError is a failed call: code is the x-amzn-ErrorType (or a name for a failure
// before any answer), message the server's text, status the HTTP status (0: no answer),
// operation the IVS operation called, when known.
export class ApiError extends Error {
  constructor(code, message, status, operation = '') {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.operation = operation;
  }
}

// What each error means, in words, for the person reading it. A code whose meaning depends
// on the operation maps operation names to sentences, with a default.
const meanings = {
  ServiceQuotaExceededException: {
    ImportPlaybackKeyPair: 'The quota is reached: a region holds at most 3 playback keys. Delete one before adding another.',
    CreateStreamKey: 'A channel has one stream key at most. Delete the current one before creating another.',
    default: 'A quota of this account and region is reached.',
  },
  ConflictException: {
    ImportPlaybackKeyPair: 'This public key is already imported in this region.',
    DeletePlaybackRestrictionPolicy: 'A channel still uses this playback restriction policy.',
    default: 'The request conflicts with the current state of the resource.',
  },
  ValidationException: 'The server refused the input.',
  ResourceNotFoundException: 'It does not exist (any more) in this account and region.',
  AccessDeniedException: 'These credentials are not allowed to do that.',
  ThrottlingException: {
    PutMetadata: 'A channel takes at most 5 PutMetadata requests a second. Wait a moment, or send the data in fewer, larger pieces.',
    default: 'Too many requests at once. Wait a moment and try again.',
  },
  ChannelNotBroadcasting: 'The channel is not live: nothing is being broadcast to it now.',
  StreamUnavailable: 'The stream could not be reached right now. Try again.',
  InternalServerException: 'The server failed; its log has the details.',
  ServiceUnavailable: 'The server is unavailable right now.',
  UnrecognizedClientException: 'The access key ID is not known to this server.',
  InvalidSignatureException: 'The signature was refused: the secret access key does not match the access key ID, or this computer\'s clock is more than 15 minutes off.',
  IncompleteSignatureException: 'The request signature was incomplete.',
  MissingAuthenticationTokenException: 'The request was not signed.',
  UnknownOperationException: 'This server does not have that operation.',
  RequestEntityTooLargeException: 'The request is too large.',
  NetworkError: 'The server could not be reached. Is playkey still running?',
};

// meaningOf returns a sentence explaining an error code from an operation, or ''.
export function meaningOf(code, operation = '') {
  const m = meanings[code];
  if (!m) return '';
  if (typeof m === 'string') return m;
  return m[operation] || m.default;
}

export class Client {
  // credentials: {accessKeyId, secretAccessKey}; region: e.g. 'us-west-2'.
  constructor(credentials, region) {
    this.credentials = credentials;
    this.region = region;
  }

  // call sends a signed request. path is already percent-encoded; query is a list of
  // [name, value] pairs; body an object (sent as JSON) or undefined; op the operation's
  // name, for error messages.
  async call(method, path, { query = [], body, op = '' } = {}) {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const headers = await sign({
      method,
      host: location.host,
      path,
      query,
      contentType: CONTENT_TYPE,
      body: payload,
      region: this.region,
      accessKeyId: this.credentials.accessKeyId,
      secretAccessKey: this.credentials.secretAccessKey,
    });
    const qs = query.map(([k, v]) => uriEncode(k) + '=' + uriEncode(v)).join('&');
    let res;
    try {
      res = await fetch(path + (qs ? '?' + qs : ''), {
        method,
        headers,
        body: method === 'GET' || method === 'HEAD' ? undefined : payload,
        credentials: 'omit',
        cache: 'no-store',
        redirect: 'error',
      });
    } catch (e) {
      throw new ApiError('NetworkError', e.message || String(e), 0, op);
    }
    const text = await res.text();
    let json = {};
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = { message: text.slice(0, 300) };
      }
    }
    if (!res.ok) {
      // AWS may append ":http://internal.amazon.com/..." to the type.
      const code = (res.headers.get('x-amzn-ErrorType') || '').split(':')[0] || `HTTP ${res.status}`;
      const message = json.message || json.Message || json.exceptionMessage || res.statusText || '';
      throw new ApiError(code, message, res.status, op);
    }
    return json;
  }

  // operation calls POST /{name} with a JSON body, the form of every IVS operation but tags.
  operation(name, body = {}) {
    return this.call('POST', '/' + name, { body, op: name });
  }

  // listAll calls a paginated List operation until it has every item: key is the list's
  // member in the answer (e.g. 'channels').
  async listAll(name, key, body = {}) {
    const all = [];
    let nextToken;
    do {
      const out = await this.operation(name, nextToken ? { ...body, nextToken } : body);
      all.push(...(out[key] || []));
      nextToken = out.nextToken;
    } while (nextToken);
    return all;
  }

  listPlaybackKeyPairs() {
    return this.listAll('ListPlaybackKeyPairs', 'keyPairs');
  }

  async getPlaybackKeyPair(arn) {
    return (await this.operation('GetPlaybackKeyPair', { arn })).keyPair;
  }

  async importPlaybackKeyPair({ publicKeyMaterial, name, tags }) {
    const body = { publicKeyMaterial };
    if (name) body.name = name;
    if (tags && Object.keys(tags).length) body.tags = tags;
    return (await this.operation('ImportPlaybackKeyPair', body)).keyPair;
  }

  deletePlaybackKeyPair(arn) {
    return this.operation('DeletePlaybackKeyPair', { arn });
  }

  // The tags operations put the whole ARN, '/' included, in one path segment.
  async listTagsForResource(arn) {
    return (await this.call('GET', '/tags/' + uriEncode(arn), { op: 'ListTagsForResource' })).tags || {};
  }

  tagResource(arn, tags) {
    return this.call('POST', '/tags/' + uriEncode(arn), { body: { tags }, op: 'TagResource' });
  }

  untagResource(arn, tagKeys) {
    return this.call('DELETE', '/tags/' + uriEncode(arn), { query: tagKeys.map((k) => ['tagKeys', k]), op: 'UntagResource' });
  }

  // verifyPlaybackToken asks the server whether it would accept a token for a channel:
  // {valid, code, reason, claims}. Servers without it answer 404 UnknownOperationException.
  verifyPlaybackToken(token, channelArn) {
    return this.call('POST', '/playkey/VerifyPlaybackToken', { body: { token, channelArn }, op: 'VerifyPlaybackToken' });
  }
}
