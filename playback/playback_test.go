package playback_test

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/keypair"
	"github.com/playkey/playkey/playback"
	"github.com/playkey/playkey/sqlite"
	"github.com/playkey/playkey/token"
)

var channel = playkey.ARN{Region: "us-west-2", Account: "123456789012", Type: playkey.TypeChannel, ID: "abcdEFGH1234"}

func TestToken(t *testing.T) {
	k1, _ := keypair.Generate()
	k2, _ := keypair.Generate()
	keys := []playback.Key{{ARN: "arn:one", PublicKey: &k1.PublicKey}, {ARN: "arn:two", PublicKey: &k2.PublicKey}}
	now := time.Now()
	tok, err := token.Sign(token.Claims{ChannelARN: channel.String(), Exp: now.Add(time.Minute).Unix()}, k2)
	if err != nil {
		t.Fatal(err)
	}
	v := &token.Verifier{}
	c, k, ref, err := playback.Token(v, tok, keys, channel.String(), now)
	if err != nil || ref != nil || k.ARN != "arn:two" || c.ChannelARN != channel.String() {
		t.Fatalf("valid token: %v %+v %v %v", c, k, ref, err)
	}
	if ref := playback.Claims(v, c, channel.String(), now.Add(2*time.Minute)); ref == nil || ref.Code != string(token.Expired) {
		t.Errorf("claims checked after exp: %+v", ref)
	}
	if _, _, ref, _ := playback.Token(v, tok, keys[:1], channel.String(), now); ref == nil || ref.Code != string(token.UnknownKey) {
		t.Errorf("token of another key: %+v", ref)
	}
	if _, _, ref, _ := playback.Token(v, "", keys, channel.String(), now); ref == nil || ref.Code != playback.CodeMissingToken {
		t.Errorf("no token: %+v", ref)
	}
	if _, _, _, err := playback.Token(v, tok, append(keys, keys...), channel.String(), now); err == nil {
		t.Error("more keys than an account may hold: no error")
	}
}

func TestRevoked(t *testing.T) {
	c := &token.Claims{ViewerID: "v1", ViewerSessionVersion: 3}
	for _, tc := range []struct {
		max     int64
		ok      bool
		refused bool
	}{{3, true, true}, {4, true, true}, {2, true, false}, {9, false, false}} {
		ref := playback.Revoked(c, tc.max, tc.ok)
		if (ref != nil) != tc.refused || (ref != nil && (ref.Code != playback.CodeRevoked || !strings.Contains(ref.Reason, `"v1"`))) {
			t.Errorf("version 3, revoked up to %d (%v): %+v", tc.max, tc.ok, ref)
		}
	}
	if ref := playback.Revoked(&token.Claims{}, 9, true); ref != nil {
		t.Errorf("a token without a viewer: %+v", ref)
	}
}

func TestCountry(t *testing.T) {
	p := &playback.Policy{AllowedCountries: []string{"FR", "de"}}
	for _, tc := range []struct {
		header, value string
		refused       bool
	}{
		{"X-Country", "fr", false},
		{"X-Country", " DE ", false},
		{"X-Country", "US", true},
		{"X-Country", "", true},
		{"", "FR", true}, // no header configured: nobody is known to be allowed
	} {
		ref := playback.Country(p, tc.header, tc.value)
		if (ref != nil) != tc.refused || (ref != nil && (ref.Code != playback.CodeCountryNotAllowed || !ref.Policy)) {
			t.Errorf("%q: %q: %+v", tc.header, tc.value, ref)
		}
	}
	if ref := playback.Country(&playback.Policy{}, "", ""); ref != nil {
		t.Errorf("a policy without countries: %+v", ref)
	}
}

func TestOrigin(t *testing.T) {
	allowed := []string{"https://a.example"}
	if ref := playback.Origin(allowed, false, true, "https://b.example"); ref != nil {
		t.Errorf("not strict: %+v", ref)
	}
	if ref := playback.Origin(allowed, true, true, "https://a.example"); ref != nil {
		t.Errorf("allowed origin: %+v", ref)
	}
	if ref := playback.Origin(nil, true, false, ""); ref != nil {
		t.Errorf("every origin allowed: %+v", ref)
	}
	ref := playback.Origin(allowed, true, true, "")
	if ref == nil || ref.Code != playback.CodeOriginNotAllowed || ref.Policy || !strings.Contains(ref.Reason, "no Origin header") {
		t.Errorf("private, no origin: %+v", ref)
	}
	ref = playback.Origin(allowed, true, false, "https://b.example")
	if ref == nil || !ref.Policy || !strings.Contains(ref.Reason, `"https://b.example"`) {
		t.Errorf("public, other origin: %+v", ref)
	}
}

// TestFromStore: the adapter's rules, over a real store.
func TestFromStore(t *testing.T) {
	ctx := t.Context()
	s, err := sqlite.Open(ctx, t.TempDir()+"/state.db")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	scope := channel.Scope()
	policy := &playkey.PlaybackRestrictionPolicy{
		ARN:              playkey.ARN{Region: scope.Region, Account: scope.Account, Type: playkey.TypePlaybackRestrictionPolicy, ID: "policy000001"},
		AllowedCountries: []string{"FR"}, AllowedOrigins: []string{"https://a.example"}, EnableStrictOriginEnforcement: true,
	}
	if err := s.CreatePlaybackRestrictionPolicy(ctx, policy); err != nil {
		t.Fatal(err)
	}
	public := &playkey.Channel{ARN: channel, PlaybackRestrictionPolicy: policy.ARN}
	private := &playkey.Channel{ARN: channel, PlaybackRestrictionPolicy: policy.ARN, Authorized: true}
	private.ARN.ID = "private00001"
	for _, ch := range []*playkey.Channel{public, private} {
		if err := s.CreateChannel(ctx, ch, nil); err != nil {
			t.Fatal(err)
		}
	}
	k, _ := keypair.Generate()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range [][]byte{der, []byte("not a key")} {
		kp := &playkey.KeyPair{ARN: playkey.ARN{Region: scope.Region, Account: scope.Account, Type: playkey.TypePlaybackKey, ID: "key00000000" + string(rune('1'+i))},
			PublicKeyDER: d, Fingerprint: keypair.Fingerprint(d)}
		if err := s.CreateKeyPair(ctx, kp); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeViewerSessions(ctx, channel, "v1", 4); err != nil {
		t.Fatal(err)
	}

	st := playback.FromStore(s)
	keys, err := playback.PublicKeys(ctx, st, scope)
	if err != nil || len(keys) != 1 || !keys[0].PublicKey.Equal(&k.PublicKey) {
		t.Errorf("keys (an undecodable one is left out): %v %v", keys, err)
	}
	ch, err := st.Channel(ctx, public.ARN)
	if err != nil || ch.Authorized || ch.Policy == nil || !ch.Policy.StrictOriginEnforcement || ch.Policy.AllowedCountries[0] != "FR" {
		t.Errorf("public channel: %+v %v", ch, err)
	}
	ch, err = st.Channel(ctx, private.ARN)
	if err != nil || !ch.Authorized || ch.Policy != nil {
		t.Errorf("private channel (its policy is ignored): %+v %v", ch, err)
	}
	missing := channel
	missing.ID = "missing00001"
	if _, err := st.Channel(ctx, missing); !playkey.IsCode(err, playkey.ErrResourceNotFound) {
		t.Errorf("missing channel: %v", err)
	}
	revs, cursor, err := st.RevocationsSince(ctx, 0)
	if err != nil || len(revs) != 1 || revs[0] != (playback.Revocation{ChannelARN: channel.String(), ViewerID: "v1", MaxVersion: 4}) || cursor == 0 {
		t.Errorf("revocations: %+v %d %v", revs, cursor, err)
	}
	if revs, next, err := st.RevocationsSince(ctx, cursor); err != nil || len(revs) != 0 || next != cursor {
		t.Errorf("no new revocations: %+v %d %v", revs, next, err)
	}

	c := &token.Claims{SingleUseUUID: "u1", Exp: time.Now().Add(time.Minute).Unix()}
	for i, want := range []string{"", "", playback.CodeAlreadyUsed} {
		consume := i > 0
		ref, err := playback.SingleUse(context.WithoutCancel(ctx), st, scope, c, time.Second, consume)
		if err != nil || (want == "") != (ref == nil) || (ref != nil && ref.Code != want) {
			t.Errorf("single use %d (consume %v): %+v %v", i, consume, ref, err)
		}
	}
}
