// Package playback is playkey's playback decision: whether a viewer may start playing a
// channel. The gate applies it to every playback request and the API's
// VerifyPlaybackToken applies it to a token on request, so it is written once, here.
//
// A decision reads state through State (FromStore adapts a playkey.Store to it) and is
// made of checks, each returning nil or a *Refusal with a stable code and a reason for a
// person: the channel (ChannelNotFound), the token (MissingToken, Token, Claims), the
// revocations (Revocation), single use (SingleUse), and a public channel's playback
// restriction policy (Country, Origin). The package does no caching, limiting or HTTP:
// those are the callers' concerns.
package playback
