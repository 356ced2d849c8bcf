package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"fmt"
	"time"
	"unicode/utf8"
)

// header is the base64url of {"alg":"ES384","typ":"JWT"}, the header IVS documents.
const header = "eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCJ9"

// Sign returns c as a compact JWS signed with key, an ECDSA P-384 private key, in the form
// IVS documents: header {"alg":"ES384","typ":"JWT"}, signature r||s.
//
// Sign refuses claims that no verifier would accept at any time: no ChannelARN, no Exp, a
// ViewerID over MaxViewerIDLength, an unknown MaximumResolution, an entry of AllowedOrigins
// that is not an origin, too many origins with StrictOriginEnforcement, strings that are
// not UTF-8, and Extra entries that are not JSON or that name a claim with its own field.
// It does not compare Exp with the clock: a token with SingleUseUUID or ViewerID must
// expire within MaxRestrictedLifetime of its use, and that is the caller's to choose.
func Sign(c Claims, key *ecdsa.PrivateKey) (string, error) {
	if key == nil || key.Curve != elliptic.P384() {
		return "", errorf("the signing key must be an ECDSA P-384 private key")
	}
	for _, s := range append([]string{c.ChannelARN, c.SingleUseUUID, c.ViewerID, c.MaximumResolution}, c.AllowedOrigins...) {
		if !utf8.ValidString(s) {
			return "", errorf("cannot sign a claim that is not valid UTF-8")
		}
	}
	if rejs := checkClaims(&c, "", time.Time{}, 0, false, false); len(rejs) > 0 {
		return "", errorf("cannot sign: %s", rejs[0].Reason)
	}
	payload, err := c.marshal()
	if err != nil {
		return "", err
	}
	n := len(header) + 1 + b64.EncodedLen(len(payload))
	tok := make([]byte, n, n+1+b64.EncodedLen(sigSize))
	copy(tok, header)
	tok[len(header)] = '.'
	b64.Encode(tok[len(header)+1:], payload)
	hash := sha512.Sum384(tok)
	r, s, err := ecdsa.Sign(rand.Reader, key, hash[:])
	if err != nil {
		return "", errorf("signing: %v", err)
	}
	var sig [sigSize]byte
	r.FillBytes(sig[:48])
	s.FillBytes(sig[48:])
	tok = append(tok, '.')
	tok = b64.AppendEncode(tok, sig[:])
	return string(tok), nil
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("token: "+format, args...)
}
