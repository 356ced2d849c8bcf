package token_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/playkey/playkey/token"
)

const testChannel = "arn:aws:ivs:us-west-2:123456789012:channel/AbCdEfGhIjKl"

var testNow = time.Date(2026, 1, 1, 12, 0, 0, 500_000_000, time.UTC)

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signRaw signs arbitrary header and payload JSON with crypto/ecdsa directly, to build
// tokens Sign would refuse to make.
func signRaw(t testing.TB, key *ecdsa.PrivateKey, header, payload string) string {
	t.Helper()
	enc := base64.RawURLEncoding
	in := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	h := sha512.Sum384([]byte(in))
	r, s, err := ecdsa.Sign(rand.Reader, key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 96)
	r.FillBytes(sig[:48])
	s.FillBytes(sig[48:])
	return in + "." + enc.EncodeToString(sig)
}

func rejection(t *testing.T, err error) *token.Rejection {
	t.Helper()
	var rej *token.Rejection
	if !errors.As(err, &rej) {
		t.Fatalf("got %v, want a *token.Rejection", err)
	}
	return rej
}

func TestSignVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	want := token.Claims{
		ChannelARN:              testChannel,
		Exp:                     testNow.Add(9 * time.Minute).Unix(),
		AllowedOrigins:          []string{"https://*.example.com", "http://localhost:8080", "*"},
		StrictOriginEnforcement: true,
		SingleUseUUID:           "0f8fad5b-d9cb-469f-a165-70867728950e",
		ViewerID:                `zoë "q" \ <x>`,
		ViewerSessionVersion:    -3,
		MaximumResolution:       token.ResolutionSD,
		Extra:                   map[string]json.RawMessage{"iat": json.RawMessage(`1`), "z": json.RawMessage(` { "a" : [ 1 , "é" ] } `)},
	}
	tok, err := token.Sign(want, key)
	if err != nil {
		t.Fatal(err)
	}
	other := newKey(t)
	keys := []*ecdsa.PublicKey{&other.PublicKey, &key.PublicKey}
	got, idx, err := (&token.Verifier{}).Verify(tok, keys, testChannel, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if idx != 1 {
		t.Errorf("key index %d, want 1", idx)
	}
	want.Extra["z"] = json.RawMessage(`{"a":[1,"é"]}`) // Sign writes compact JSON
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("claims\n got %+v\nwant %+v", *got, want)
	}
	p, err := token.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	if p.Header != (token.Header{Alg: "ES384", Typ: "JWT"}) || len(p.Signature) != 96 {
		t.Errorf("Parse: header %+v, %d-byte signature", p.Header, len(p.Signature))
	}
	if !reflect.DeepEqual(p.Claims, want) {
		t.Errorf("Parse claims %+v", p.Claims)
	}
}

func TestSignRefuses(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	ok := token.Claims{ChannelARN: testChannel, Exp: testNow.Unix()}
	for name, mutate := range map[string]func(*token.Claims){
		"no channel":         func(c *token.Claims) { c.ChannelARN = "" },
		"no exp":             func(c *token.Claims) { c.Exp = 0 },
		"long viewer id":     func(c *token.Claims) { c.ViewerID = strings.Repeat("v", 41) },
		"bad resolution":     func(c *token.Claims) { c.MaximumResolution = "UHD" },
		"bad origin":         func(c *token.Claims) { c.AllowedOrigins = []string{"https://a.com, https://b.com"} },
		"too many origins":   func(c *token.Claims) { c.AllowedOrigins = make([]string, 6); c.StrictOriginEnforcement = true },
		"invalid UTF-8":      func(c *token.Claims) { c.ViewerID = "\xff" },
		"extra not JSON":     func(c *token.Claims) { c.Extra = map[string]json.RawMessage{"x": json.RawMessage(`{`)} },
		"extra duplicate":    func(c *token.Claims) { c.Extra = map[string]json.RawMessage{"x": json.RawMessage(`{"a":1,"a":2}`)} },
		"extra known claim":  func(c *token.Claims) { c.Extra = map[string]json.RawMessage{"exp": json.RawMessage(`1`)} },
		"extra name invalid": func(c *token.Claims) { c.Extra = map[string]json.RawMessage{"\xff": json.RawMessage(`1`)} },
	} {
		c := ok
		mutate(&c)
		if _, err := token.Sign(c, key); err == nil {
			t.Errorf("%s: Sign accepted %+v", name, c)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := token.Sign(ok, p256); err == nil {
		t.Error("Sign accepted a P-256 key")
	}
	if _, err := token.Sign(ok, nil); err == nil {
		t.Error("Sign accepted a nil key")
	}
}

func TestVerifyMisuse(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	tok, err := token.Sign(token.Claims{ChannelARN: testChannel, Exp: testNow.Add(time.Minute).Unix()}, key)
	if err != nil {
		t.Fatal(err)
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub := &key.PublicKey
	v := &token.Verifier{}
	for name, c := range map[string]struct {
		keys    []*ecdsa.PublicKey
		channel string
	}{
		"no channel": {[]*ecdsa.PublicKey{pub}, ""},
		"four keys":  {[]*ecdsa.PublicKey{pub, pub, pub, pub}, testChannel},
		"nil key":    {[]*ecdsa.PublicKey{nil, pub}, testChannel},
		"P-256 key":  {[]*ecdsa.PublicKey{&p256.PublicKey, pub}, testChannel},
	} {
		_, idx, err := v.Verify(tok, c.keys, c.channel, testNow)
		var rej *token.Rejection
		if err == nil || errors.As(err, &rej) || idx != -1 {
			t.Errorf("%s: Verify = %d, %v; want a plain error", name, idx, err)
		}
	}
}

func TestExpiryBoundaries(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	keys := []*ecdsa.PublicKey{&key.PublicKey}
	now := testNow // half a second past a whole second
	for _, c := range []struct {
		name   string
		claims token.Claims
		leeway time.Duration
		want   token.Code // "" for valid
	}{
		{"exp is the current second", token.Claims{Exp: now.Unix()}, 0, token.Expired},
		{"exp next second", token.Claims{Exp: now.Unix() + 1}, 0, ""},
		{"exp a second ago, 2s leeway", token.Claims{Exp: now.Unix() - 1}, 2 * time.Second, ""},
		{"exp two seconds ago, 1s leeway", token.Claims{Exp: now.Unix() - 2}, time.Second, token.Expired},
		{"negative leeway is none", token.Claims{Exp: now.Unix() + 1}, -time.Hour, ""},
		{"viewer, exactly 10m", token.Claims{Exp: now.Unix() + 600, ViewerID: "v"}, 0, ""},
		{"viewer, 10m and 1s", token.Claims{Exp: now.Unix() + 601, ViewerID: "v"}, 0, token.ExpTooFar},
		{"viewer, 10m and 1s, 1s leeway", token.Claims{Exp: now.Unix() + 601, ViewerID: "v"}, time.Second, ""},
		{"single use, 1h", token.Claims{Exp: now.Unix() + 3600, SingleUseUUID: "u"}, 0, token.ExpTooFar},
		{"no restriction, year 3000", token.Claims{Exp: 32503680000}, 0, ""},
		{"no restriction, max int64", token.Claims{Exp: 1<<63 - 1}, 0, ""},
		{"min int64", token.Claims{Exp: -1 << 63}, 0, token.Expired},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.claims.ChannelARN = testChannel
			tok, err := token.Sign(c.claims, key)
			if err != nil {
				t.Fatal(err)
			}
			v := &token.Verifier{Leeway: c.leeway}
			_, _, err = v.Verify(tok, keys, testChannel, now)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if rej := rejection(t, err); rej.Code != c.want {
				t.Fatalf("code %s (%s), want %s", rej.Code, rej.Reason, c.want)
			} else {
				t.Log(rej.Reason)
			}
		})
	}
}

// TestHighS shows the malleability the single-use rule must survive: (r, n-s) verifies too,
// and it carries the same uuid.
func TestHighS(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	c := token.Claims{ChannelARN: testChannel, Exp: testNow.Add(time.Minute).Unix(), SingleUseUUID: "once"}
	tok, err := token.Sign(c, key)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndexByte(tok, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
	s := new(big.Int).SetBytes(sig[48:])
	s.Sub(elliptic.P384().Params().N, s)
	s.FillBytes(sig[48:])
	twin := tok[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
	if twin == tok {
		t.Fatal("no twin")
	}
	v := &token.Verifier{}
	keys := []*ecdsa.PublicKey{&key.PublicKey}
	a, _, err1 := v.Verify(tok, keys, testChannel, testNow)
	b, _, err2 := v.Verify(twin, keys, testChannel, testNow)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if a.SingleUseUUID != b.SingleUseUUID {
		t.Fatal("the twin has another uuid")
	}
}

func TestDiagnoseListsEveryProblem(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	tok := signRaw(t, key, `{"alg":"ES512","crit":["b64"]}`,
		`{"aws:channel-arn":"arn:aws:ivs:us-west-2:123456789012:channel/Other","exp":"later",`+
			`"aws:viewer-id":"`+strings.Repeat("v", 41)+`","aws:maximum-resolution":"8K",`+
			`"aws:access-control-allow-origin":"a,b,c,d,e,f","aws:strict-origin-enforcement":true}`)
	_, rejs := (&token.Verifier{}).Diagnose(tok, testChannel, testNow)
	var got []token.Code
	for _, r := range rejs {
		got = append(got, r.Code)
	}
	want := []token.Code{token.BadHeader, token.UnsupportedAlg, token.BadClaim, token.ChannelMismatch,
		token.ViewerIDTooLong, token.BadMaximumResolution, token.BadOrigin, token.TooManyOrigins}
	if !reflect.DeepEqual(got, want) {
		for _, r := range rejs {
			t.Log(r.Code, r.Claim, r.Reason)
		}
		t.Fatalf("codes %v, want %v", got, want)
	}
	// Verify agrees on the first.
	_, _, err := (&token.Verifier{}).Verify(tok, []*ecdsa.PublicKey{&key.PublicKey}, testChannel, testNow)
	if rej := rejection(t, err); rej.Code != token.BadHeader {
		t.Errorf("Verify: %s", rej.Code)
	}
	// Undecodable: one problem, no token.
	if tk, rejs := (&token.Verifier{}).Diagnose("abc", testChannel, testNow); tk != nil || len(rejs) != 1 || rejs[0].Code != token.Malformed {
		t.Errorf("Diagnose(abc) = %v, %v", tk, rejs)
	}
}

func TestCheckClaims(t *testing.T) {
	t.Parallel()
	v := &token.Verifier{}
	c := &token.Claims{ChannelARN: testChannel, Exp: testNow.Add(time.Hour).Unix()}
	if rejs := v.CheckClaims(c, testChannel, testNow); rejs != nil {
		t.Fatal(rejs)
	}
	if rejs := v.CheckClaims(c, "", testNow.Add(2*time.Hour)); len(rejs) != 1 || rejs[0].Code != token.Expired || rejs[0].Claim != token.ClaimExp {
		t.Fatal(rejs)
	}
	if rejs := v.CheckClaims(&token.Claims{}, testChannel, testNow); len(rejs) != 2 {
		t.Fatal(rejs)
	}
}

// TestReasonsHideTheToken checks that no rejection quotes the token, or a signature or
// payload part of it.
func TestReasonsHideTheToken(t *testing.T) {
	t.Parallel()
	vs := testVectors(t)
	now := time.Unix(vs.Now, 0)
	for _, c := range vs.Cases {
		_, rejs := (&token.Verifier{}).Diagnose(c.Token, c.ChannelARN, now)
		_, _, err := (&token.Verifier{}).Verify(c.Token, vs.publicKeys(t, c.Keys), c.ChannelARN, now)
		msgs := []string{}
		for _, r := range rejs {
			msgs = append(msgs, r.Reason)
		}
		if err != nil {
			msgs = append(msgs, err.Error())
		}
		for _, part := range strings.Split(c.Token, ".") {
			if len(part) < 12 {
				continue
			}
			for _, m := range msgs {
				if strings.Contains(m, part[:12]) {
					t.Errorf("%s: reason %q quotes the token", c.Name, m)
				}
			}
		}
	}
}

func TestOriginAllowed(t *testing.T) {
	t.Parallel()
	c := token.Claims{AllowedOrigins: []string{"https://*.example.com", "http://localhost:3000", "https://Player.Example.ORG", "not an origin"}}
	for origin, want := range map[string]bool{
		"https://a.example.com":      true,
		"https://a.b.example.com":    true,
		"https://A.EXAMPLE.COM":      true,
		"https://a.example.com:443":  true,
		"https://example.com":        false,
		"https://.example.com":       false,
		"https://evilexample.com":    false,
		"http://a.example.com":       false,
		"https://a.example.com:8443": false,
		"http://localhost:3000":      true,
		"http://localhost":           false,
		"https://player.example.org": true,
		"not an origin":              false,
		"null":                       false,
		"":                           false,
		// Not origins, though they end like one that is allowed.
		"https://x@a.example.com":     false,
		"https://*.example.com":       false,
		"https://a.example.com/":      false,
		"https://a.example.com:99999": false,
	} {
		if got := c.OriginAllowed(origin); got != want {
			t.Errorf("OriginAllowed(%q) = %v, want %v", origin, got, want)
		}
	}
	if !(&token.Claims{}).OriginAllowed("") || !(&token.Claims{}).OriginAllowed("https://x.com") {
		t.Error("no claim must allow every origin")
	}
	star := token.Claims{AllowedOrigins: []string{"*"}}
	if !star.OriginAllowed("https://x.com") || star.OriginAllowed("") {
		t.Error(`"*" must allow every origin but no origin`)
	}
}

func TestParseKeepsUnknownAndHeader(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	tok := signRaw(t, key, `{"kid":"k1","alg":"ES384"}`, `{"aws:channel-arn":"x","exp":1,"nbf":2,"Aws:Viewer-Id":"y"}`)
	p, err := token.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	if p.Header.Kid != "k1" || p.Header.Typ != "" {
		t.Errorf("header %+v", p.Header)
	}
	if p.Claims.ViewerID != "" || len(p.Claims.Extra) != 2 || string(p.Claims.Extra["Aws:Viewer-Id"]) != `"y"` {
		t.Errorf("claims %+v", p.Claims)
	}
	if _, err := token.Parse(signRaw(t, key, `{"alg":"RS256"}`, `{}`)); rejection(t, err).Code != token.UnsupportedAlg {
		t.Error(err)
	}
}

// TestClaimEdges pins the claim rules at their edges, with tokens signed by crypto/ecdsa
// directly and verdicts written from the IVS rules (ivs-notes.md).
func TestClaimEdges(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	keys := []*ecdsa.PublicKey{&key.PublicKey}
	const hdr = `{"alg":"ES384","typ":"JWT"}`
	ch := `"aws:channel-arn":"` + testChannel + `"`
	exp := `"exp":` + strconv.FormatInt(testNow.Add(5*time.Minute).Unix(), 10)
	origins := func(n int) string {
		o := make([]string, n)
		for i := range o {
			o[i] = "https://s" + strconv.Itoa(i) + ".example.com"
		}
		return strings.Join(o, ",")
	}
	for _, c := range []struct {
		name, payload string
		want          token.Code // "" for valid
		reason        string     // a part of the reason, when it matters
	}{
		{"exp zero", `{` + ch + `,"exp":0}`, token.BadClaim, "exp is zero"},
		{"exp rounds down to zero", `{` + ch + `,"exp":0.5}`, token.BadClaim, "exp is zero"},
		{"exp negative", `{` + ch + `,"exp":-1}`, token.Expired, "token expired"},
		{"channel empty", `{"aws:channel-arn":"",` + exp + `}`, token.BadClaim, "aws:channel-arn is empty"},
		{"channel null", `{"aws:channel-arn":null,` + exp + `}`, token.BadClaim, "JSON null"},
		{"resolution empty", `{` + ch + `,` + exp + `,"aws:maximum-resolution":""}`, token.BadClaim, "aws:maximum-resolution is empty"},
		{"resolution FULL_HD", `{` + ch + `,` + exp + `,"aws:maximum-resolution":"FULL_HD"}`, "", ""},
		{"resolution Full_HD", `{` + ch + `,` + exp + `,"aws:maximum-resolution":"Full_HD"}`, token.BadMaximumResolution, ""},
		{"version beyond int64", `{` + ch + `,` + exp + `,"aws:viewer-session-version":99999999999999999999}`, token.BadClaim, "64-bit"},
		{"version 1e2", `{` + ch + `,` + exp + `,"aws:viewer-session-version":1e2}`, token.BadClaim, "must be an integer"},
		{"version as a string", `{` + ch + `,` + exp + `,"aws:viewer-session-version":"3"}`, token.BadClaim, "JSON string"},
		{"five origins, strict", `{` + ch + `,` + exp + `,"aws:access-control-allow-origin":"` + origins(5) + `","aws:strict-origin-enforcement":true}`, "", ""},
		{"six origins, strict", `{` + ch + `,` + exp + `,"aws:access-control-allow-origin":"` + origins(6) + `","aws:strict-origin-enforcement":true}`, token.TooManyOrigins, "lists 6 origins"},
		{"six origins, strict false", `{` + ch + `,` + exp + `,"aws:access-control-allow-origin":"` + origins(6) + `","aws:strict-origin-enforcement":false}`, "", ""},
		{"wildcard with a port", `{` + ch + `,` + exp + `,"aws:access-control-allow-origin":"https://*.example.com:8443"}`, "", ""},
		{"wildcard inside the host", `{` + ch + `,` + exp + `,"aws:access-control-allow-origin":"https://a.*.example.com"}`, token.BadOrigin, "wildcard"},
		{"wildcard alone", `{` + ch + `,` + exp + `,"aws:access-control-allow-origin":"https://*"}`, token.BadOrigin, ""},
		{"wildcard without a scheme", `{` + ch + `,` + exp + `,"aws:access-control-allow-origin":"*.example.com"}`, token.BadOrigin, "no scheme"},
		{"viewer-id of 41 non-ASCII", `{` + ch + `,` + exp + `,"aws:viewer-id":"` + strings.Repeat("é", 41) + `"}`, token.ViewerIDTooLong, "41 characters"},
		{"unknown claims of every type", `{` + ch + `,` + exp + `,"iat":"x","nbf":[],"sub":null,"aws:other":{"a":1}}`, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok := signRaw(t, key, hdr, c.payload)
			_, _, err := (&token.Verifier{}).Verify(tok, keys, testChannel, testNow)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			rej := rejection(t, err)
			if rej.Code != c.want || !strings.Contains(rej.Reason, c.reason) {
				t.Fatalf("%s: %s; want %s with %q", rej.Code, rej.Reason, c.want, c.reason)
			}
		})
	}
}
