package token

import (
	"bytes"
	"crypto/elliptic"
	"encoding/base64"
	"strings"
)

// MaxTokenLength is the longest token, in bytes, that is parsed at all. A token with every
// IVS claim and five long origins is well under 2 KiB.
const MaxTokenLength = 8192

// sigSize is the size of an ES384 JWS signature: r and s, 48 bytes each, big-endian.
const sigSize = 96

// b64 is unpadded base64url that refuses non-zero trailing bits. It still skips CR and LF,
// so the token's alphabet is checked before decoding.
var b64 = base64.RawURLEncoding.Strict()

// p384Order is n, the order of P-384, big-endian in 48 bytes.
var p384Order = elliptic.P384().Params().N.FillBytes(make([]byte, 48))

// Header is the decoded JOSE header of a token.
type Header struct {
	Alg string // always "ES384" in a token that parsed
	Typ string // "JWT" or absent
	Kid string // ignored: IVS tokens carry no key ID, every key of the account is tried
}

// Token is a decoded token whose signature has not been checked.
type Token struct {
	Header Header
	Claims Claims
	// RawHeader and RawPayload are the decoded JSON of the first two parts.
	RawHeader, RawPayload []byte
	// Signature is the decoded third part: r||s for a token that parsed.
	Signature []byte

	signingInput []byte // header "." payload, as sent
}

// Parse decodes tok without verifying its signature or comparing its claims with a channel
// or a time. It fails with a *Rejection for anything that no key, channel or clock could
// make valid: a malformed token, a header other than ES384, a signature that is not 96
// bytes of r||s, a payload that is not a JSON object, or a known claim of the wrong type.
// Claims from an unverified token are unauthenticated: use them for display and lookups,
// never for a decision.
func Parse(tok string) (*Token, error) {
	t, rejs := parse(tok, false)
	if len(rejs) > 0 {
		return nil, rejs[0]
	}
	return t, nil
}

// parse decodes tok, collecting rejections: all of them (as far as decoding gets) if all is
// set, else stopping at the first. The token returned may be partial when all is set.
func parse(tok string, all bool) (*Token, []*Rejection) {
	var rejs []*Rejection
	stop := func(r *Rejection) bool {
		rejs = append(rejs, r)
		return !all
	}
	if len(tok) > MaxTokenLength {
		return nil, []*Rejection{reject(Malformed, "token is %d bytes long; the limit is %d", len(tok), MaxTokenLength)}
	}
	if tok == "" {
		return nil, []*Rejection{reject(Malformed, "token is empty")}
	}
	dots := 0
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		case c == '.':
			dots++
		default:
			return nil, []*Rejection{badChar(c, i)}
		}
	}
	if dots != 2 {
		msg := "token has %d parts separated by dots; a signed token (compact JWS) has 3"
		if dots == 4 {
			msg += " (5 parts is an encrypted JWE, which IVS does not use)"
		}
		return nil, []*Rejection{reject(Malformed, msg, dots+1)}
	}
	h, rest, _ := strings.Cut(tok, ".")
	p, s, _ := strings.Cut(rest, ".")
	if h == "" || p == "" {
		part := "header"
		if h != "" {
			part = "payload"
		}
		return nil, []*Rejection{reject(Malformed, "the %s part of the token is empty", part)}
	}

	// One buffer for the token bytes (hashed as the signing input) and the decoded parts.
	buf := make([]byte, len(tok)+b64.DecodedLen(len(h))+b64.DecodedLen(len(p))+b64.DecodedLen(len(s)))
	raw := buf[:copy(buf, tok)]
	free := buf[len(raw):]
	decode := func(part string, src []byte) ([]byte, bool) {
		n, err := b64.Decode(free, src)
		if err != nil {
			rejs = append(rejs, reject(Malformed, "the %s part of the token is not valid base64url (unpadded, no stray bits)", part))
			return nil, false
		}
		out := free[:n:n]
		free = free[n:]
		return out, true
	}
	t := &Token{signingInput: raw[:len(h)+1+len(p)]}
	hb, hok := decode("header", raw[:len(h)])
	if !hok && !all {
		return nil, rejs
	}
	pb, pok := decode("payload", raw[len(h)+1:len(h)+1+len(p)])
	if !pok && !all {
		return nil, rejs
	}
	sb, sok := decode("signature", raw[len(h)+1+len(p)+1:])
	if !sok && !all {
		return nil, rejs
	}
	t.RawHeader, t.RawPayload, t.Signature = hb, pb, sb

	if hok {
		for _, r := range parseHeader(hb, &t.Header, all) {
			if stop(r) {
				return nil, rejs
			}
		}
	}
	if sok {
		if r := checkSignatureEncoding(sb); r != nil && stop(r) {
			return nil, rejs
		}
	}
	if pok {
		var buf [16]member
		members, err := parseObject(pb, buf[:0])
		if err != nil {
			if stop(reject(BadPayload, "the payload is not a usable JSON object: %v", err)) {
				return nil, rejs
			}
		} else {
			var crejs []*Rejection
			t.Claims, crejs = decodeClaims(members, all)
			for _, r := range crejs {
				if stop(r) {
					return nil, rejs
				}
			}
		}
	}
	return t, rejs
}

func badChar(c byte, i int) *Rejection {
	var hint string
	switch c {
	case '=':
		hint = " (base64 padding is not allowed in a token)"
	case '%':
		hint = " (is it still URL-encoded?)"
	case '+', '/':
		hint = " (a token is base64url, which uses - and _ instead of + and /)"
	case ' ', '\t', '\r', '\n':
		hint = " (blank space; copy the token alone)"
	}
	if c >= 0x80 || c < 0x20 {
		return reject(Malformed, "token has byte 0x%02x at offset %d; a token has only base64url characters and two dots%s", c, i, hint)
	}
	return reject(Malformed, "token has %q at offset %d; a token has only base64url characters and two dots%s", c, i, hint)
}

// parseHeader checks the JOSE header: a JSON object with alg exactly "ES384" and at most
// typ and kid besides, all strings.
func parseHeader(hb []byte, h *Header, all bool) []*Rejection {
	var buf [4]member
	members, err := parseObject(hb, buf[:0])
	if err != nil {
		return []*Rejection{reject(BadHeader, "the header is not a usable JSON object: %v", err)}
	}
	var rejs []*Rejection
	add := func(r *Rejection) bool {
		rejs = append(rejs, r)
		return !all
	}
	hasAlg, algOK := false, false
	for _, m := range members {
		var dst *string
		switch string(m.key) {
		case "alg":
			dst, hasAlg = &h.Alg, true
		case "typ":
			dst = &h.Typ
		case "kid":
			dst = &h.Kid
		default:
			if add(reject(BadHeader, "header parameter %s is not allowed; an IVS token header has only alg, typ and kid", quoteShort(string(m.key)))) {
				return rejs
			}
			continue
		}
		if kindOf(m.val) != "string" {
			if add(reject(BadHeader, "header parameter %s is a JSON %s; it must be a string", m.key, kindOf(m.val))) {
				return rejs
			}
			continue
		}
		*dst = decodeString(m.val)
		algOK = algOK || dst == &h.Alg
	}
	switch {
	case !hasAlg:
		add(reject(BadHeader, "the header has no alg; IVS tokens are signed with ES384"))
	case !algOK, h.Alg == "ES384":
		// a non-string alg is reported above
	case h.Alg == "none":
		add(reject(UnsupportedAlg, `alg is "none", an unsigned token; IVS tokens are signed with ES384`))
	default:
		add(reject(UnsupportedAlg, "alg is %s; IVS tokens are signed with ES384 (ECDSA P-384, SHA-384)", quoteShort(h.Alg)))
	}
	return rejs
}

// checkSignatureEncoding checks that sig is 96 bytes of r||s with 0 < r, s < n, and
// explains the usual mistakes.
func checkSignatureEncoding(sig []byte) *Rejection {
	switch {
	case len(sig) == 0:
		return reject(BadSignatureEncoding, "the token has no signature")
	case len(sig) != sigSize && isDERSignature(sig):
		return reject(BadSignatureEncoding, "signature is DER-encoded; JWS needs the %d-byte r||s form", sigSize)
	case len(sig) == 64:
		return reject(BadSignatureEncoding, "signature is 64 bytes, the size of an ES256 (P-256) signature; ES384 needs %d", sigSize)
	case len(sig) == 132:
		return reject(BadSignatureEncoding, "signature is 132 bytes, the size of an ES512 (P-521) signature; ES384 needs %d", sigSize)
	case len(sig) != sigSize:
		return reject(BadSignatureEncoding, "signature is %d bytes; ES384 needs %d (r||s)", len(sig), sigSize)
	}
	r, s := sig[:48], sig[48:]
	if isZero(r) || isZero(s) || bytes.Compare(r, p384Order) >= 0 || bytes.Compare(s, p384Order) >= 0 {
		return reject(BadSignatureEncoding, "signature's r or s is out of range for P-384 (zero, or not below the group order)")
	}
	return nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// isDERSignature reports whether b is an ASN.1 DER SEQUENCE of two INTEGERs, the form
// ecdsa.SignASN1, openssl dgst and Java produce.
func isDERSignature(b []byte) bool {
	if len(b) < 8 || b[0] != 0x30 {
		return false
	}
	body, ok := derBody(b[1:])
	if !ok {
		return false
	}
	for range 2 {
		if len(body) < 3 || body[0] != 0x02 {
			return false
		}
		n := int(body[1])
		if n == 0 || n > 0x7f || len(body) < 2+n {
			return false
		}
		body = body[2+n:]
	}
	return len(body) == 0
}

// derBody reads a DER length (short form, or long form with one byte) and the body it
// announces.
func derBody(b []byte) ([]byte, bool) {
	if len(b) == 0 {
		return nil, false
	}
	n, b := int(b[0]), b[1:]
	if n == 0x81 {
		if len(b) == 0 {
			return nil, false
		}
		n, b = int(b[0]), b[1:]
	} else if n > 0x7f {
		return nil, false
	}
	if len(b) != n {
		return nil, false
	}
	return b, true
}
