package token_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/playkey/playkey/token"
)

// The fuzzers are seeded from testdata/vectors.json. Run one with, for example,
//
//	go test -run='^$' -fuzz='^FuzzVerify$' -fuzztime=30s ./token/

func seedTokens(f *testing.F) *vectors {
	vs := testVectors(f)
	for _, c := range vs.Cases {
		f.Add(c.Token)
	}
	return vs
}

// structural codes are the ones Parse can return.
var structural = map[token.Code]bool{
	token.Malformed: true, token.BadHeader: true, token.UnsupportedAlg: true,
	token.BadSignatureEncoding: true, token.BadPayload: true, token.BadClaim: true,
}

// FuzzParse: no panic; Parse and Diagnose agree; what parses is valid JSON to encoding/json
// and means the same to it; parsed claims re-encode by Sign to the same claims.
func FuzzParse(f *testing.F) {
	vs := seedTokens(f)
	key := privateKey(f, vs.Keys["a"].PrivatePEM)
	now := time.Unix(vs.Now, 0)
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := token.Parse(tok)
		_, diag := (&token.Verifier{}).Diagnose(tok, "", now)
		if err != nil {
			rej := rejection(t, err)
			if !structural[rej.Code] {
				t.Fatalf("Parse returned %s", rej.Code)
			}
			if len(diag) == 0 || diag[0].Code != rej.Code {
				t.Fatalf("Parse says %s, Diagnose says %v", rej.Code, diag)
			}
			return
		}
		for _, r := range diag {
			if structural[r.Code] {
				t.Fatalf("Parse accepted, Diagnose says %s: %s", r.Code, r.Reason)
			}
		}
		if p.Header.Alg != "ES384" || len(p.Signature) != 96 {
			t.Fatalf("parsed header %+v, %d-byte signature", p.Header, len(p.Signature))
		}
		// encoding/json as a second opinion on the payload (it is case-insensitive and
		// keeps the last duplicate, but Parse refused duplicates, so a map agrees).
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(p.RawPayload))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("encoding/json rejects a payload Parse accepted: %v", err)
		}
		if !json.Valid(p.RawHeader) {
			t.Fatal("encoding/json rejects a header Parse accepted")
		}
		if s, _ := m[token.ClaimChannelARN].(string); s != p.Claims.ChannelARN {
			t.Fatalf("channel: encoding/json %q, Parse %q", s, p.Claims.ChannelARN)
		}
		if s, _ := m[token.ClaimViewerID].(string); s != p.Claims.ViewerID {
			t.Fatalf("viewer: encoding/json %q, Parse %q", s, p.Claims.ViewerID)
		}
		if s, _ := m[token.ClaimSingleUseUUID].(string); s != p.Claims.SingleUseUUID {
			t.Fatalf("uuid: encoding/json %q, Parse %q", s, p.Claims.SingleUseUUID)
		}
		if b, _ := m[token.ClaimStrictOriginEnforcement].(bool); b != p.Claims.StrictOriginEnforcement {
			t.Fatal("strict-origin-enforcement differs")
		}
		if n, ok := m[token.ClaimViewerSessionVersion].(json.Number); ok && n.String() != big.NewInt(p.Claims.ViewerSessionVersion).String() {
			t.Fatalf("version: encoding/json %s, Parse %d", n, p.Claims.ViewerSessionVersion)
		}
		if len(m) != len(p.Claims.Extra)+countKnown(m) {
			t.Fatalf("%d claims, %d unknown kept", len(m), len(p.Claims.Extra))
		}
		// Re-encoding: what Sign writes parses to the same claims.
		tok2, err := token.Sign(p.Claims, key)
		if err != nil {
			return // claims that break a rule
		}
		p2, err := token.Parse(tok2)
		if err != nil {
			t.Fatalf("Parse(Sign(claims)): %v", err)
		}
		sameParsedClaims(t, p2.Claims, p.Claims)
	})
}

func countKnown(m map[string]any) int {
	n := 0
	for _, k := range []string{token.ClaimChannelARN, token.ClaimExp, token.ClaimAllowOrigin, token.ClaimStrictOriginEnforcement,
		token.ClaimSingleUseUUID, token.ClaimViewerID, token.ClaimViewerSessionVersion, token.ClaimMaximumResolution} {
		if _, ok := m[k]; ok {
			n++
		}
	}
	return n
}

// sameParsedClaims compares claims with unknown claims compared as compact JSON.
func sameParsedClaims(t *testing.T, got, want token.Claims) {
	t.Helper()
	compact := func(x map[string]json.RawMessage) map[string]string {
		out := map[string]string{}
		for k, v := range x {
			var b bytes.Buffer
			if err := json.Compact(&b, v); err != nil {
				t.Fatal(err)
			}
			out[k] = b.String()
		}
		return out
	}
	gx, wx := compact(got.Extra), compact(want.Extra)
	got.Extra, want.Extra = nil, nil
	if len(want.AllowedOrigins) == 0 {
		want.AllowedOrigins = nil
	}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gx, wx) {
		t.Fatalf("claims\n got %+v %v\nwant %+v %v", got, gx, want, wx)
	}
}

// acceptedByGoJose checks a token playkey accepted against go-jose, an ES384 verifier
// written by others, and against crypto/ecdsa's big-integer entry point.
func acceptedByGoJose(t *testing.T, tok string, key *ecdsa.PublicKey) {
	t.Helper()
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.ES384})
	if err != nil {
		t.Fatalf("playkey accepted a token go-jose cannot parse: %v", err)
	}
	payload, err := jws.Verify(key)
	if err != nil {
		t.Fatalf("playkey accepted a token go-jose does not verify: %v", err)
	}
	p, err := token.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(payload, p.RawPayload) {
		t.Fatal("go-jose verified another payload")
	}
	i := strings.LastIndexByte(tok, '.')
	h := sha512.Sum384([]byte(tok[:i]))
	r := new(big.Int).SetBytes(p.Signature[:48])
	s := new(big.Int).SetBytes(p.Signature[48:])
	if !ecdsa.Verify(key, h[:], r, s) {
		t.Fatal("ecdsa.Verify disagrees")
	}
}

// FuzzVerify mutates whole tokens: Verify and VerifyKeys agree, and whatever they accept,
// go-jose must accept too.
func FuzzVerify(f *testing.F) {
	vs := seedTokens(f)
	keys := vs.publicKeys(f, []string{"a", "b"})
	pre := prepare(f, keys)
	const channel = "arn:aws:ivs:us-west-2:123456789012:channel/AbCdEfGhIjKl"
	now := time.Unix(vs.Now, 0)
	f.Fuzz(func(t *testing.T, tok string) {
		claims, idx, err := verifyBoth(t, &token.Verifier{Leeway: time.Minute}, tok, keys, pre, channel, now)
		if err != nil {
			rejection(t, err)
			return
		}
		if claims.ChannelARN != channel || idx < 0 || idx >= len(keys) {
			t.Fatalf("accepted: channel %q, key %d", claims.ChannelARN, idx)
		}
		acceptedByGoJose(t, tok, keys[idx])
	})
}

// FuzzSignedJWS signs arbitrary header and payload bytes with a real key, so that fuzzing
// reaches the header and claim checks behind a valid signature, and optionally respells the
// signature (high S, DER, truncated). Whatever Verify accepts, go-jose must accept, and the
// claims must be what encoding/json reads.
func FuzzSignedJWS(f *testing.F) {
	vs := testVectors(f)
	for _, c := range vs.Cases {
		parts := strings.Split(c.Token, ".")
		if len(parts) != 3 {
			continue
		}
		h, err1 := base64.RawURLEncoding.DecodeString(parts[0])
		p, err2 := base64.RawURLEncoding.DecodeString(parts[1])
		if err1 == nil && err2 == nil {
			f.Add(h, p, uint8(0))
			f.Add(h, p, uint8(1))
		}
	}
	key := privateKey(f, vs.Keys["a"].PrivatePEM)
	keys := []*ecdsa.PublicKey{&key.PublicKey}
	pre := prepare(f, keys)
	const channel = "arn:aws:ivs:us-west-2:123456789012:channel/AbCdEfGhIjKl"
	now := time.Unix(vs.Now, 0)
	enc := base64.RawURLEncoding
	n := key.Curve.Params().N
	f.Fuzz(func(t *testing.T, header, payload []byte, mode uint8) {
		in := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
		if len(in) > token.MaxTokenLength {
			return
		}
		hash := sha512.Sum384([]byte(in))
		der, err := ecdsa.SignASN1(rand.Reader, key, hash[:])
		if err != nil {
			t.Fatal(err)
		}
		r, s, _ := ecdsa.Sign(rand.Reader, key, hash[:])
		sig := make([]byte, 96)
		switch mode % 4 {
		case 1: // the high-S twin
			s.Sub(n, s)
		case 2:
			sig = der
		case 3:
			sig = sig[:95]
		}
		if len(sig) == 96 {
			r.FillBytes(sig[:48])
			s.FillBytes(sig[48:])
		}
		tok := in + "." + enc.EncodeToString(sig)
		claims, idx, err := verifyBoth(t, &token.Verifier{}, tok, keys, pre, channel, now)
		if err != nil {
			rejection(t, err)
			return
		}
		if mode%4 >= 2 {
			t.Fatal("accepted a DER or short signature")
		}
		acceptedByGoJose(t, tok, keys[idx])
		var m map[string]any
		if err := json.Unmarshal(payload, &m); err != nil {
			t.Fatalf("accepted a payload encoding/json rejects: %v", err)
		}
		if m[token.ClaimChannelARN] != claims.ChannelARN {
			t.Fatalf("encoding/json reads channel %v", m[token.ClaimChannelARN])
		}
		if _, ok := m[token.ClaimExp].(float64); !ok {
			t.Fatalf("encoding/json reads exp %v", m[token.ClaimExp])
		}
	})
}

// FuzzSignRoundTrip: what Sign produces parses back to the same claims, verifies, and
// verifies in go-jose.
func FuzzSignRoundTrip(f *testing.F) {
	f.Add("arn:aws:ivs:us-west-2:123456789012:channel/AbCdEfGhIjKl", int64(1767225900), "https://*.example.com,http://localhost:3000", true, "uuid", "viewer", int64(3), "HD", "iat", `1767225600`)
	f.Add("c", int64(1767225600000), "", false, "", "", int64(0), "", "", "")
	f.Add("é\"\\\x00", int64(-1), "*", true, "\u2028", "v", int64(-1<<63), "SD", "x", `{"a":[1,{"b":null}]}`)
	vs := testVectors(f)
	key := privateKey(f, vs.Keys["b"].PrivatePEM)
	keys := []*ecdsa.PublicKey{&key.PublicKey}
	f.Fuzz(func(t *testing.T, channel string, exp int64, origins string, strict bool, uuid, viewer string, version int64, res, extraKey, extraVal string) {
		c := token.Claims{
			ChannelARN: channel, Exp: exp, StrictOriginEnforcement: strict,
			SingleUseUUID: uuid, ViewerID: viewer, ViewerSessionVersion: version, MaximumResolution: res,
		}
		if origins != "" {
			c.AllowedOrigins = strings.Split(origins, ",")
		}
		if extraKey != "" {
			c.Extra = map[string]json.RawMessage{extraKey: json.RawMessage(extraVal)}
		}
		tok, err := token.Sign(c, key)
		if err != nil {
			return
		}
		p, err := token.Parse(tok)
		if err != nil {
			t.Fatalf("Parse(Sign(%+v)): %v", c, err)
		}
		sameParsedClaims(t, p.Claims, c)
		// Verify just before expiry, inside the restricted window.
		if exp > 1 && exp < 1<<40 {
			now := time.Unix(exp-1, 0)
			got, _, err := (&token.Verifier{}).Verify(tok, keys, channel, now)
			if err != nil {
				t.Fatalf("Verify(Sign(%+v)): %v", c, err)
			}
			sameParsedClaims(t, *got, c)
		}
		acceptedByGoJose(t, tok, keys[0])
	})
}
