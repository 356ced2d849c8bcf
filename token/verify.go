package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha512"
	"time"

	"github.com/playkey/playkey/token/internal/ecdsap384"
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
	if err := checkKeys(keys); err != nil {
		return nil, -1, err
	}
	return v.verify(tok, len(keys), channelARN, now, func(hash, sig []byte) int {
		for i, k := range keys {
			// Without a table: about a third cheaper than ecdsa.VerifyASN1, and as strict.
			if point, err := k.Bytes(); err == nil {
				if pk, err := ecdsap384.NewPublicKey(point); err == nil && ecdsap384.Verify(pk, hash, sig) {
					return i
				}
			}
		}
		return -1
	})
}

// PublicKey is a P-384 playback public key with the tables that make each signature check
// cost about a sixth of an ecdsa.VerifyASN1. It is immutable and safe for concurrent use.
type PublicKey struct {
	pub *ecdsa.PublicKey
	k   *ecdsap384.PublicKey
}

// NewPublicKey precomputes pub for VerifyKeys. It costs about as much as ten signature
// checks and holds about 128 KiB, so keep the result for as long as the key is in use. It
// fails when pub is nil, not on P-384, or not a valid point.
func NewPublicKey(pub *ecdsa.PublicKey) (*PublicKey, error) {
	if pub == nil || pub.Curve != elliptic.P384() {
		return nil, errorf("a playback key must be an ECDSA P-384 key")
	}
	point, err := pub.Bytes()
	if err != nil {
		return nil, errorf("invalid P-384 public key: %v", err)
	}
	k, err := ecdsap384.NewPrecomputedPublicKey(point)
	if err != nil {
		return nil, errorf("invalid P-384 public key: %v", err)
	}
	return &PublicKey{pub: pub, k: k}, nil
}

// ECDSA returns the key as given to NewPublicKey.
func (k *PublicKey) ECDSA() *ecdsa.PublicKey { return k.pub }

// VerifyKeys is Verify with keys precomputed by NewPublicKey: the same checks, the same
// results, at a fraction of the cost of the signature check. A nil key is an error.
func (v *Verifier) VerifyKeys(tok string, keys []*PublicKey, channelARN string, now time.Time) (*Claims, int, error) {
	if len(keys) > MaxKeys {
		return nil, -1, tooManyKeys(len(keys))
	}
	for i, k := range keys {
		if k == nil || k.k == nil {
			return nil, -1, errorf("key %d is nil", i)
		}
	}
	return v.verify(tok, len(keys), channelARN, now, func(hash, sig []byte) int {
		var ks [MaxKeys]*ecdsap384.PublicKey
		for i, k := range keys {
			ks[i] = k.k
		}
		return ecdsap384.VerifyAny(ks[:len(keys)], hash, sig)
	})
}

// verify is Verify given n valid keys and match, which returns the index of the key whose
// signature sig of hash is, or -1.
func (v *Verifier) verify(tok string, n int, channelARN string, now time.Time, match func(hash, sig []byte) int) (*Claims, int, error) {
	if channelARN == "" {
		return nil, -1, errorf("Verify needs the ARN of the channel being played")
	}
	t, rejs := parse(tok, false)
	if len(rejs) > 0 {
		return nil, -1, rejs[0]
	}
	i := -1
	if n > 0 {
		hash := sha512.Sum384(t.signingInput)
		i = match(hash[:], t.Signature)
	}
	if i < 0 {
		if n == 0 {
			return nil, -1, reject(UnknownKey, "this account has no playback keys in this region, so no token can verify")
		}
		if n == 1 {
			return nil, -1, reject(UnknownKey, "signature does not match this account's playback key: the token was signed with another key, or changed after signing")
		}
		return nil, -1, reject(UnknownKey, "signature matches none of this account's %d playback keys: the token was signed with another key, or changed after signing", n)
	}
	if rejs := checkClaims(&t.Claims, channelARN, now, v.Leeway, true, false); len(rejs) > 0 {
		return nil, -1, rejs[0]
	}
	return &t.Claims, i, nil
}

func tooManyKeys(n int) error {
	return errorf("%d keys given; an account has at most %d playback keys per region", n, MaxKeys)
}

func checkKeys(keys []*ecdsa.PublicKey) error {
	if len(keys) > MaxKeys {
		return tooManyKeys(len(keys))
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
