package playback

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/token"
)

// The decision's own refusal codes, beside the token package's rejection codes. They are
// stable: the gate sends them in X-Playkey-Code and VerifyPlaybackToken in its answer.
const (
	CodeMissingToken      = "missing_token"
	CodeChannelNotFound   = "channel_not_found"
	CodeRevoked           = "revoked"
	CodeAlreadyUsed       = "already_used"
	CodeOriginNotAllowed  = "origin_not_allowed"
	CodeCountryNotAllowed = "country_not_allowed"
)

// Refusal is why a viewer may not start playback.
type Refusal struct {
	// Code is one of the Code constants or a token.Code.
	Code string
	// Reason is a sentence for a person; it never contains the token.
	Reason string
	// Policy reports a refusal by a public channel's playback restriction policy, rather
	// than by a private channel's token or state.
	Policy bool
}

// ChannelNotFound refuses playback of a channel that does not exist.
func ChannelNotFound(arn playkey.ARN) *Refusal {
	return &Refusal{Code: CodeChannelNotFound, Reason: "channel " + arn.String() + " does not exist"}
}

// MissingToken refuses playback of a private channel without a token.
func MissingToken() *Refusal {
	return &Refusal{Code: CodeMissingToken, Reason: "this channel is private: its playback URL needs a playback authorization token (?token=...)"}
}

// Token verifies tok with v for playback of channel at now against keys, the playback keys
// of the channel's account and region. It returns the claims and the key that signed them,
// or a refusal; an error only when tok cannot be checked at all (more than token.MaxKeys
// keys, or a key that is not P-384). prepared, when not nil, holds keys' verification
// tables in the same order (token.NewPublicKey): a caller that keeps keys for long, as the
// gate does, prepares them once and verifies several times faster.
func Token(v *token.Verifier, tok string, keys []Key, prepared []*token.PublicKey, channel string, now time.Time) (*token.Claims, Key, *Refusal, error) {
	if tok == "" {
		return nil, Key{}, MissingToken(), nil
	}
	var c *token.Claims
	var i int
	var err error
	if prepared != nil && len(prepared) == len(keys) {
		c, i, err = v.VerifyKeys(tok, prepared, channel, now)
	} else {
		pubs := make([]*ecdsa.PublicKey, len(keys))
		for i, k := range keys {
			pubs[i] = k.PublicKey
		}
		c, i, err = v.Verify(tok, pubs, channel, now)
	}
	var rej *token.Rejection
	if errors.As(err, &rej) {
		return nil, Key{}, rejected(rej), nil
	}
	if err != nil {
		return nil, Key{}, nil, err
	}
	return c, keys[i], nil, nil
}

// Claims checks claims verified earlier again, at now: what Token checks after the
// signature.
func Claims(v *token.Verifier, c *token.Claims, channel string, now time.Time) *Refusal {
	if rejs := v.CheckClaims(c, channel, now); len(rejs) > 0 {
		return rejected(rejs[0])
	}
	return nil
}

func rejected(r *token.Rejection) *Refusal {
	return &Refusal{Code: string(r.Code), Reason: r.Reason}
}

// SessionRevoked is the revocation rule: a viewer session of version is revoked when its
// viewer has a revocation on the channel (ok) up to maxVersion at or above it. Tokens and
// sessions already playing are judged by it alike.
func SessionRevoked(version, maxVersion int64, ok bool) bool {
	return ok && version <= maxVersion
}

// Revoked checks the viewer session of verified claims against maxVersion, the highest
// revoked session version of its viewer on the channel (ok false: none revoked).
func Revoked(c *token.Claims, maxVersion int64, ok bool) *Refusal {
	if c.ViewerID == "" || !SessionRevoked(c.ViewerSessionVersion, maxVersion, ok) {
		return nil
	}
	return &Refusal{Code: CodeRevoked, Reason: "the sessions of viewer " + quote(c.ViewerID) + " are revoked up to version " + strconv.FormatInt(maxVersion, 10) +
		", and this token has version " + strconv.FormatInt(c.ViewerSessionVersion, 10) + "; a token with a higher " + token.ClaimViewerSessionVersion + " plays"}
}

// SingleUseExpires is when the single-use record of c may be forgotten: once c can no
// longer verify with leeway, the verifier's.
func SingleUseExpires(c *token.Claims, leeway time.Duration) time.Time {
	return c.ExpiresAt().Add(max(leeway, 0))
}

// SingleUse checks verified claims against the single-use records of scope: nil when c has
// no aws:single-use-uuid or it is still unused. With consume set it also records the use,
// atomically, so that only one playback starts; without, it only reads. An error means the
// records cannot be read, and the token must not play.
func SingleUse(ctx context.Context, s State, scope playkey.Scope, c *token.Claims, leeway time.Duration, consume bool) (*Refusal, error) {
	if c.SingleUseUUID == "" {
		return nil, nil
	}
	unused, err := s.SingleUse(ctx, scope, c.SingleUseUUID, SingleUseExpires(c, leeway), consume)
	if err != nil || unused {
		return nil, err
	}
	return &Refusal{Code: CodeAlreadyUsed, Reason: "this single-use token (" + token.ClaimSingleUseUUID + ") has already started playback"}, nil
}

// Country applies a public channel's allowed countries. header names the request header
// that holds the viewer's country ("" when none is configured), and country is its value.
func Country(p *Policy, header, country string) *Refusal {
	if p == nil || len(p.AllowedCountries) == 0 {
		return nil
	}
	refuse := func(reason string) *Refusal {
		return &Refusal{Code: CodeCountryNotAllowed, Reason: reason, Policy: true}
	}
	if header == "" {
		return refuse("the channel's playback restriction policy allows only some countries, and this gate has no country header configured (--country-header)")
	}
	c := strings.ToUpper(strings.TrimSpace(country))
	if c == "" {
		return refuse("the channel's playback restriction policy allows only some countries, and the request has no " + header + " header")
	}
	for _, a := range p.AllowedCountries {
		if strings.EqualFold(a, c) {
			return nil
		}
	}
	return refuse("playback from country " + quote(c) + " is not allowed by the channel's playback restriction policy")
}

// Origin applies strict origin enforcement to a request from origin (an Origin header
// value, maybe ""): allowed lists the origins allowed (nil: every one), from a private
// channel's token or a public channel's policy.
func Origin(allowed []string, strict, private bool, origin string) *Refusal {
	if !strict || (&token.Claims{AllowedOrigins: allowed}).OriginAllowed(origin) {
		return nil
	}
	why := "the channel's playback restriction policy"
	if private {
		why = "the token (" + token.ClaimStrictOriginEnforcement + ")"
	}
	r := &Refusal{Code: CodeOriginNotAllowed, Policy: !private}
	if origin == "" {
		r.Reason = "the request has no Origin header, and " + why + " requires a matching one on every request"
	} else {
		r.Reason = "origin " + quote(origin) + " is not allowed by " + why
	}
	return r
}

// quote quotes a value from a request or a token for a reason: ASCII, and bounded, since
// reasons also travel in headers.
func quote(s string) string {
	const limit = 100
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return strconv.QuoteToASCII(s)
}
