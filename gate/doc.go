// Package gate is playkey's data plane: it stands where Amazon IVS's playback endpoint
// stands, decides whether a viewer may play a channel, and serves the stream from the
// operator's own HLS origin.
//
// A player asks for a channel's playback URL,
//
//	GET /api/video/v1/{region}.{account}.channel.{id}.m3u8[?token=JWT]
//
// and the gate answers with the channel's multivariant playlist, fetched from the origin
// (Config.Origin, a URL template) and rewritten so that every variant playlist, rendition,
// key, map and segment URI goes back through the gate:
//
//	/api/video/v1/s/{session}.{mac}/{path under the channel's origin directory}
//
// {session} is a small credential minted when playback starts: the channel, the viewer,
// the session version, the resolution limit, the allowed origins, the session's end and the
// credential's own expiry, minutes after the session started; past it, the URI works while
// the session is in use, within minutes of its last request (see renew.go). {mac} is an
// HMAC-SHA256 (truncated to 128 bits) over the session and that one path, under a secret
// every gate node shares (State.Secret). A later request therefore costs one HMAC and a map
// lookup and a cached channel read (a deleted channel, or a public channel made private,
// ends its sessions), never an ECDSA verification, and it can only name a URI that the
// gate itself put in a playlist: a rendition removed by aws:maximum-resolution is refused if
// asked for directly, and no path outside the channel's origin directory is reachable.
// Players may append LL-HLS delivery directives (_HLS_msn, _HLS_part, _HLS_skip) to a
// signed URI; every other change to its query is refused.
//
// # Decisions
//
// On a private channel (authorized) the token is checked with token.Verifier against the
// public keys of the channel's account and region, then against state the verifier leaves
// to its caller: revoked viewer sessions, a single-use token already used, strict origin
// enforcement. On a public channel the playback restriction policy applies: allowed
// origins (CORS, and Origin on every request when strict) and allowed countries, read
// from a header that a trusted proxy sets (Config.CountryHeader), since playkey has no geo
// database: with a country restriction, a request without that header is refused. Private
// channels ignore the policy, as IVS does.
//
// Refusals of the multivariant playlist are 403 with IVS's JSON body,
//
//	[{"url":"/api/video/v1/...m3u8","error":"<reason>","error_code":"invalid_playback_auth_token","type":"error"}]
//
// (error_code playback_auth_error for a valid token refused by state: single use, revoked
// viewer, origin). Every refusal also carries X-Playkey-Code (a stable code: the token
// package's rejection codes and the gate's own) and X-Playkey-Reason.
//
// # Propagation
//
// Keys and channels are cached per account and region, and per channel, for
// Config.StateRefresh (1s); revocations are mirrored in memory from State.RevocationsSince,
// polled every Config.RevocationPoll (1s). So a deleted key pair refuses new tokens, a
// channel switched between public and private applies to new sessions, and a revocation
// refuses the next request of a live session, within about two seconds. A store that
// announces its changes can say so sooner: KeysChanged, ChannelChanged, PoliciesChanged,
// RevocationsChanged and AllChanged drop the affected entries at once. If revocations
// cannot be read for Config.RevocationStaleAfter (15s), sessions of viewers with an
// aws:viewer-id are refused with 503 rather than served unchecked.
//
// # Bounded work
//
// A verified token is cached (by its SHA-256) until it expires, so a player that reloads
// the playlist costs no second verification; a rejected one is remembered for a minute.
// Each client address has a token bucket of failed verifications (Config.FailureBurst,
// Config.FailureRate): once it is empty, further unknown tokens from that address are
// answered 403 rate_limited with Retry-After before any ECDSA work (not 429, which IVS
// players read as too many viewers). The client address comes from Config.ClientIPHeader
// only when the peer is one of Config.TrustedProxies. Origin requests have connect,
// header and idle timeouts (502 and 504 with a generic reason; the details go to the log);
// playlists are read whole up to Config.MaxPlaylistBytes, rewritten up to
// Config.MaxRewrittenBytes, at most Config.MaxConcurrentRewrites at once; segments are
// streamed without buffering, with Range and conditional requests passed through, and
// each write to a client must finish within Config.WriteTimeout. bounds.go holds the
// limits on what anonymous requests can make the gate keep.
//
// # nginx
//
// An operator who keeps nginx as the HLS server sends playlist requests to the gate
// (they must be rewritten) and serves segments from disk with auth_request:
// GET /_playkey/auth checks the URI in X-Original-URI exactly as the proxy would and answers
// 200 with X-Playkey-Path (the file's path under the origin), 401 or 403. See docs/nginx.md.
package gate
