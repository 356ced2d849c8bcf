package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/api"
	"github.com/playkey/playkey/token"
)

type verifyResult struct {
	Valid      bool            `json:"valid"`
	Code       string          `json:"code"`
	Reason     string          `json:"reason"`
	Claims     json.RawMessage `json:"claims"`
	KeyPairARN string          `json:"keyPairArn"`
	ChannelARN string          `json:"channelArn"`
}

func verifyToken(t *testing.T, ts *testServer, tok, channel string) (int, verifyResult) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"token": tok, "channelArn": channel})
	resp, err := http.DefaultClient.Do(signedRequest(t, "POST", ts.url+"/playkey/VerifyPlaybackToken", string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out verifyResult
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	}
	return resp.StatusCode, out
}

func TestVerifyPlaybackToken(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)

	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	imp, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{
		PublicKeyMaterial: aws.String(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))),
	})
	if err != nil {
		t.Fatal(err)
	}
	private := createChannel(t, c, &ivs.CreateChannelInput{Authorized: true})
	private2 := createChannel(t, c, &ivs.CreateChannelInput{Authorized: true})
	public := createChannel(t, c, &ivs.CreateChannelInput{})
	arn := *private.Channel.Arn
	sign := func(cl token.Claims) string {
		if cl.ChannelARN == "" {
			cl.ChannelARN = arn
		}
		if cl.Exp == 0 {
			cl.Exp = time.Now().Add(5 * time.Minute).Unix()
		}
		tok, err := token.Sign(cl, key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	status, r := verifyToken(t, ts, sign(token.Claims{ViewerID: "v1"}), arn)
	if status != 200 || !r.Valid || r.KeyPairARN != *imp.KeyPair.Arn || r.ChannelARN != arn {
		t.Fatalf("valid token: %d %+v", status, r)
	}
	var claims map[string]any
	if err := json.Unmarshal(r.Claims, &claims); err != nil || claims["aws:viewer-id"] != "v1" {
		t.Errorf("claims %s", r.Claims)
	}
	// channelArn defaults to the token's own.
	if _, r := verifyToken(t, ts, sign(token.Claims{}), ""); !r.Valid {
		t.Errorf("without channelArn: %+v", r)
	}

	for _, tc := range []struct {
		name, tok, channel, code string
	}{
		{"expired", sign(token.Claims{Exp: time.Now().Add(-time.Hour).Unix()}), arn, string(token.Expired)},
		{"other channel", sign(token.Claims{}), *private2.Channel.Arn, string(token.ChannelMismatch)},
		{"malformed", "abc", arn, string(token.Malformed)},
		{"no such channel", sign(token.Claims{}), arn[:len(arn)-3] + "zzz", "channel_not_found"},
	} {
		if _, r := verifyToken(t, ts, tc.tok, tc.channel); r.Valid || r.Code != tc.code || r.Reason == "" {
			t.Errorf("%s: %+v, want code %s", tc.name, r, tc.code)
		}
	}
	other, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	foreign, _ := token.Sign(token.Claims{ChannelARN: arn, Exp: time.Now().Add(time.Minute).Unix()}, other)
	if _, r := verifyToken(t, ts, foreign, arn); r.Valid || r.Code != string(token.UnknownKey) {
		t.Errorf("another key: %+v", r)
	}

	// State: revocations and single use, read and never spent.
	if _, err := c.StartViewerSessionRevocation(ctx, &ivs.StartViewerSessionRevocationInput{ChannelArn: aws.String(arn), ViewerId: aws.String("v1"), ViewerSessionVersionsLessThanOrEqualTo: 2}); err != nil {
		t.Fatal(err)
	}
	if _, r := verifyToken(t, ts, sign(token.Claims{ViewerID: "v1", ViewerSessionVersion: 2}), arn); r.Valid || r.Code != "revoked" {
		t.Errorf("revoked: %+v", r)
	}
	if _, r := verifyToken(t, ts, sign(token.Claims{ViewerID: "v1", ViewerSessionVersion: 3}), arn); !r.Valid {
		t.Errorf("higher version: %+v", r)
	}
	once := sign(token.Claims{SingleUseUUID: "u-1"})
	for range 2 {
		if _, r := verifyToken(t, ts, once, arn); !r.Valid {
			t.Errorf("single use, unspent: %+v", r)
		}
	}
	scope := playkey.Scope{Account: accountOf(arn), Region: region}
	if _, err := ts.store.SingleUse(ctx, scope, "u-1", time.Now().Add(time.Minute), true); err != nil {
		t.Fatal(err)
	}
	if _, r := verifyToken(t, ts, once, arn); r.Valid || r.Code != "already_used" {
		t.Errorf("single use, spent: %+v", r)
	}

	// A public channel plays whatever the token says.
	if _, r := verifyToken(t, ts, "abc", *public.Channel.Arn); !r.Valid || r.Code != "public_channel" {
		t.Errorf("public channel: %+v", r)
	}
	// Other accounts' channels are not found; requests need a token.
	if status, _ := verifyToken(t, ts, sign(token.Claims{}), "arn:aws:ivs:us-west-2:999999999999:channel/abcdABCD1234"); status != 404 {
		t.Errorf("another account's channel: %d", status)
	}
	if status, _ := verifyToken(t, ts, "", arn); status != 400 {
		t.Errorf("no token: %d", status)
	}
}

// TestVerifyPlaybackTokenLeeway: the server judges exp with the gate's leeway, so that
// `token verify --endpoint-url` and the gate agree on a token just past its expiry.
func TestVerifyPlaybackTokenLeeway(t *testing.T) {
	ctx := context.Background()
	ts := newTestServerWith(t, func(c *api.Config) { c.TokenLeeway = 30 * time.Second })
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if _, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{
		PublicKeyMaterial: aws.String(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))),
	}); err != nil {
		t.Fatal(err)
	}
	arn := *createChannel(t, c, &ivs.CreateChannelInput{Authorized: true}).Channel.Arn
	for _, tc := range []struct {
		ago  time.Duration
		want bool
	}{{10 * time.Second, true}, {2 * time.Minute, false}} {
		tok, err := token.Sign(token.Claims{ChannelARN: arn, Exp: time.Now().Add(-tc.ago).Unix()}, key)
		if err != nil {
			t.Fatal(err)
		}
		status, got := verifyToken(t, ts, tok, arn)
		if status != 200 || got.Valid != tc.want {
			t.Errorf("expired %v ago with 30s leeway: status %d, %+v; want valid=%v", tc.ago, status, got, tc.want)
		}
	}
}

func accountOf(arn string) string {
	a, err := playkey.ParseARN("arn", arn)
	if err != nil {
		panic(err)
	}
	return a.Account
}
