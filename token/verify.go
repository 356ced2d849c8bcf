package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha512"
	"time"
)

// MaxKeys is the most candidate keys Verify takes: IVS allows 3 playback key pairs per
// account and region.
const MaxKeys = 3

// Verifier checks playback tokens the way IVS does when playback starts. The zero value is
// ready to use and allows no clock difference. A Verifier is safe for concurrent use.
type Verifier struct {
	// Leeway is the clock difference tolerated between the token's signer and the
	// verifier: a token counts as expired only Leeway after exp, and the 10-minute limit for
	// single-use and viewer tokens is stretched by Leeway. Negative counts as zero.
	Leeway time.Duration
}

// Verify checks tok for playback of channelARN at time now. keys are the public keys of
// the channel's account and region (at most MaxKeys, all P-384); tokens carry no key ID, so
// each is tried in turn. On success it returns the claims and the index in keys of the key
// whose signature matched.
//
// A token that must not start playback gets a *Rejection, whose Code says why. Checks run
// in this order, and the first failure is returned: structure, header, signature encoding,
// payload and claim types, signature (UnknownKey when no key matches, or when keys is
// empty), then the claim rules (missing claims, channel, expiry, restricted lifetime,
// viewer ID, resolution, origins). Any other error means the call itself is wrong: an empty
// channelARN, more than MaxKeys keys, or a key that is nil or not P-384.
//
// A token that passes may still be refused by the caller for reasons that need state:
// aws:single-use-uuid already used (key that record on Claims.SingleUseUUID, never on
// the token text, which ECDSA malleability lets a viewer respell), a revoked viewer
// session, or an origin that Claims.OriginAllowed refuses.
func (v *Verifier) Verify(tok string, keys []*ecdsa.PublicKey, channelARN string, now time.Time) (*Claims, int, error) {
	if channelARN == "" {
		return nil, -1, errorf("Verify needs the ARN of the channel being played")
	}
	if err := checkKeys(keys); err != nil {
		return nil, -1, err
	}
	t, rejs := parse(tok, false)
	if len(rejs) > 0 {
		return nil, -1, rejs[0]
	}
	i := verifySignature(t, keys)
	if i < 0 {
		if len(keys) == 0 {
			return nil, -1, reject(UnknownKey, "this account has no playback keys in this region, so no token can verify")
		}
		if len(keys) == 1 {
			return nil, -1, reject(UnknownKey, "signature does not match this account's playback key: the token was signed with another key, or changed after signing")
		}
		return nil, -1, reject(UnknownKey, "signature matches none of this account's %d playback keys: the token was signed with another key, or changed after signing", len(keys))
	}
	if rejs := checkClaims(&t.Claims, channelARN, now, v.Leeway, true, false); len(rejs) > 0 {
		return nil, -1, rejs[0]
	}
	return &t.Claims, i, nil
}

func checkKeys(keys []*ecdsa.PublicKey) error {
	if len(keys) > MaxKeys {
		return errorf("%d keys given; an account has at most %d playback keys per region", len(keys), MaxKeys)
	}
	for i, k := range keys {
		if k == nil {
			return errorf("key %d is nil", i)
		}
		if k.Curve != elliptic.P384() {
			return errorf("key %d is not a P-384 key", i)
		}
	}
	return nil
}

// verifySignature returns the index of the first key that verifies t's signature, or -1.
func verifySignature(t *Token, keys []*ecdsa.PublicKey) int {
	if len(keys) == 0 {
		return -1
	}
	hash := sha512.Sum384(t.signingInput)
	var buf [2 + 2*(2+49)]byte
	der := appendDER(buf[:0], t.Signature)
	for i, k := range keys {
		if ecdsa.VerifyASN1(k, hash[:], der) {
			return i
		}
	}
	return -1
}

// CheckClaims applies every claim rule to c and returns each rule it breaks, in a fixed
// order, or nil. With channelARN "" the channel is not compared (its presence still is).
// It is what Verify applies after the signature, so a caller holding verified claims can
// check them again later, and a tool can list every problem at once.
func (v *Verifier) CheckClaims(c *Claims, channelARN string, now time.Time) []*Rejection {
	return checkClaims(c, channelARN, now, v.Leeway, true, true)
}

// Diagnose lists everything that would make Verify reject tok for channelARN at now,
// except the signature, which needs the keys: all problems, not only the first. With
// channelARN "" the channel is not compared. It returns what could be decoded (nil when
// tok is not even three base64url parts) for display; its claims are unauthenticated.
func (v *Verifier) Diagnose(tok string, channelARN string, now time.Time) (*Token, []*Rejection) {
	t, rejs := parse(tok, true)
	if t == nil || t.RawPayload == nil {
		return t, rejs
	}
	badClaims := map[string]bool{}
	for _, r := range rejs {
		if r.Code == BadPayload {
			return t, rejs
		}
		if r.Code == BadClaim {
			badClaims[r.Claim] = true
		}
	}
	for _, r := range checkClaims(&t.Claims, channelARN, now, v.Leeway, true, true) {
		if !badClaims[r.Claim] { // "exp is a string" says more than "no exp"
			rejs = append(rejs, r)
		}
	}
	return t, rejs
}
