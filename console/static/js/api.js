// A client for the IVS API served by playkey, signing each call with SigV4 in the page.
// It has no privileges the AWS CLI lacks: same operations, same signatures, same errors.

import { sign, uriEncode } from './sigv4.js';

const CONTENT_TYPE = 'application/json';

// ApiError is a failed call: code is the x-amzn-ErrorType (or a name for a failure
// before any answer), message the server's text, status the HTTP status (0: no answer).
export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }
}

// What each error means, in words, for the person reading it.
const meanings = {
  ServiceQuotaExceededException: 'The quota is reached: a region holds at most 3 playback keys. Delete one before adding another.',
  ConflictException: 'This public key is already imported in this region.',
  ValidationException: 'The server refused the input.',
  ResourceNotFoundException: 'It does not exist (any more) in this account and region.',
  AccessDeniedException: 'These credentials are not allowed to do that.',
  ThrottlingException: 'Too many requests at once. Wait a moment and try again.',
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

// meaningOf returns a sentence explaining an error code, or ''.
export function meaningOf(code) {
  return meanings[code] || '';
}

export class Client {
  // credentials: {accessKeyId, secretAccessKey}; region: e.g. 'us-west-2'.
  constructor(credentials, region) {
    this.credentials = credentials;
    this.region = region;
  }

  // call sends a signed request. path is already percent-encoded; query is a list of
  // [name, value] pairs; body an object (sent as JSON) or undefined.
  async call(method, path, { query = [], body } = {}) {
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
      throw new ApiError('NetworkError', e.message || String(e), 0);
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
      throw new ApiError(code, message, res.status);
    }
    return json;
  }

  // operation calls POST /{name} with a JSON body, the form of every IVS operation but tags.
  operation(name, body = {}) {
    return this.call('POST', '/' + name, { body });
  }

  async listPlaybackKeyPairs() {
    const all = [];
    let nextToken;
    do {
      const out = await this.operation('ListPlaybackKeyPairs', nextToken ? { nextToken } : {});
      all.push(...(out.keyPairs || []));
      nextToken = out.nextToken;
    } while (nextToken);
    return all;
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
    return (await this.call('GET', '/tags/' + uriEncode(arn))).tags || {};
  }

  tagResource(arn, tags) {
    return this.call('POST', '/tags/' + uriEncode(arn), { body: { tags } });
  }

  untagResource(arn, tagKeys) {
    return this.call('DELETE', '/tags/' + uriEncode(arn), { query: tagKeys.map((k) => ['tagKeys', k]) });
  }

  // verifyPlaybackToken asks the server whether it would accept a token for a channel:
  // {valid, code, reason, claims}. Servers without it answer 404 UnknownOperationException.
  verifyPlaybackToken(token, channelArn) {
    return this.call('POST', '/playkey/VerifyPlaybackToken', { body: { token, channelArn } });
  }
}
