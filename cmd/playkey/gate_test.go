package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivs"

	"github.com/playkey/playkey/token"
)

// testOrigin serves a small HLS stream for any channel: a multivariant playlist of two
// renditions, their media playlists and segments.
func testOrigin(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case strings.HasSuffix(p, "p/index.m3u8"):
			io.WriteString(w, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg0.ts\n#EXTINF:2,\nseg1.ts\n#EXT-X-ENDLIST\n")
		case strings.HasSuffix(p, "/index.m3u8"):
			io.WriteString(w, "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720\n720p/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n360p/index.m3u8\n")
		case strings.HasSuffix(p, ".ts"):
			w.Header().Set("Content-Type", "video/mp2t")
			io.WriteString(w, strings.Repeat("segment ", 1000))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

var gateLine = regexp.MustCompile(`playkey gate listening on (https?://\S+)`)

// sdkClient is the AWS SDK for Go v2 client for the credentials serve printed.
func sdkClient(s *server) *ivs.Client {
	env := map[string]string{}
	for _, kv := range s.env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return ivs.New(ivs.Options{
		Region:           "us-west-2",
		BaseEndpoint:     aws.String(s.endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], ""),
		RetryMaxAttempts: 1,
		HTTPClient:       testHTTP,
	})
}

// startGateProcess runs `playkey gate` and returns its base URL.
func startGateProcess(t *testing.T, args ...string) string {
	t.Helper()
	return startGate(t, args...).url
}

func httpGet(t *testing.T, u string, headers ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := testHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// firstURI returns the first URI line of a playlist whose path contains part.
func firstURI(t *testing.T, playlist, part string) string {
	t.Helper()
	for l := range strings.SplitSeq(playlist, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") && strings.Contains(l, part) {
			return l
		}
	}
	t.Fatalf("no URI with %q in\n%s", part, playlist)
	return ""
}

// TestGateWithServe runs `playkey serve --origin`, manages keys, channels and revocations
// with the AWS SDK, and plays through the gate it starts; then a separate `playkey gate`
// on the same data directory.
func TestGateWithServe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	origin := testOrigin(t)
	data := t.TempDir()
	template := origin.URL + "/{channel}/index.m3u8"
	s := startServer(t, data, "--playback-addr", "127.0.0.1:0", "--origin", template)
	m := gateLine.FindStringSubmatch(s.Stdout.String())
	if m == nil {
		t.Fatalf("serve did not say where the gate listens:\n%s", s.Stdout)
	}
	gateURL := m[1]
	if code, body, _ := httpGet(t, gateURL+"/healthz"); code != 200 {
		t.Fatalf("gate healthz: %d %s", code, body)
	}

	c := sdkClient(s)
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	kp, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := c.CreateChannel(ctx, &ivs.CreateChannelInput{Authorized: true})
	if err != nil {
		t.Fatal(err)
	}
	arn, playbackURL := *ch.Channel.Arn, *ch.Channel.PlaybackUrl
	if !strings.HasPrefix(playbackURL, gateURL+"/api/video/v1/") {
		t.Fatalf("playbackUrl %s does not point at the gate %s", playbackURL, gateURL)
	}
	sign := func(cl token.Claims) string {
		cl.ChannelARN = arn
		cl.Exp = time.Now().Add(5 * time.Minute).Unix()
		tok, err := token.Sign(cl, key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	if code, _, h := httpGet(t, playbackURL); code != 403 || h.Get("X-Playkey-Code") != "missing_token" {
		t.Fatalf("no token: %d %q", code, h.Get("X-Playkey-Code"))
	}
	tok := sign(token.Claims{ViewerID: "erin"})
	code, mv, _ := httpGet(t, playbackURL+"?token="+tok)
	if code != 200 {
		t.Fatalf("multivariant: %d %s", code, mv)
	}
	variant := gateURL + firstURI(t, mv, "360p/index.m3u8")
	code, media, _ := httpGet(t, variant)
	if code != 200 {
		t.Fatalf("variant: %d", code)
	}
	if code, body, _ := httpGet(t, gateURL+firstURI(t, media, "seg1.ts")); code != 200 || !strings.HasPrefix(body, "segment ") {
		t.Fatalf("segment: %d", code)
	}

	// token verify asks the server, signing with the printed credentials.
	env := append(awsEnv(t, s.env), "PLAYKEY_ENDPOINT_URL=")
	out, errOut, exit := runCmd(t, env, playkeyBin, "token", "verify", "--endpoint-url", s.endpoint, "--region", "us-west-2", "--channel-arn", arn, tok)
	if exit != 0 || !strings.Contains(out, *kp.KeyPair.Arn) {
		t.Errorf("token verify --endpoint-url: exit %d\n%s%s", exit, out, errOut)
	}

	// A revocation through the API ends the live session within seconds.
	if _, err := c.StartViewerSessionRevocation(ctx, &ivs.StartViewerSessionRevocationInput{ChannelArn: aws.String(arn), ViewerId: aws.String("erin")}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		code, _, h := httpGet(t, variant)
		if code == 403 && h.Get("X-Playkey-Code") == "revoked" {
			break
		}
		if time.Since(start) > 20*time.Second { // a hang, not a slow machine
			t.Fatalf("the revoked session still plays after 20s: %d", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("revocation through the API ended the session after %v", time.Since(start).Round(time.Millisecond))
	_, errOut, exit = runCmd(t, env, playkeyBin, "token", "verify", "--endpoint-url", s.endpoint, "--region", "us-west-2", "--channel-arn", arn, tok)
	if exit != 1 || !strings.Contains(errOut, "revoked") {
		t.Errorf("token verify of a revoked token: exit %d, %s", exit, errOut)
	}
	if code, _, _ := httpGet(t, playbackURL+"?token="+sign(token.Claims{ViewerID: "erin", ViewerSessionVersion: 1})); code != 200 {
		t.Errorf("a higher session version: %d", code)
	}

	// Single use holds across gates: a second process on the same store refuses a spent
	// token, as a restarted gate would.
	once := sign(token.Claims{SingleUseUUID: "5d9b1b77-8f33-4c59-a5d4-63c4bfa4b7e2"})
	if code, _, _ := httpGet(t, playbackURL+"?token="+once); code != 200 {
		t.Fatalf("single-use token, first use: %d", code)
	}
	other := startGateProcess(t, "--data", data, "--origin", template)
	otherURL := strings.Replace(playbackURL, gateURL, other, 1)
	if code, _, h := httpGet(t, otherURL+"?token="+once); code != 403 || h.Get("X-Playkey-Code") != "already_used" {
		t.Errorf("single-use token on another gate: %d %q", code, h.Get("X-Playkey-Code"))
	}
	if code, _, _ := httpGet(t, otherURL+"?token="+sign(token.Claims{})); code != 200 {
		t.Errorf("the standalone gate: %d", code)
	}
	// Sessions are signed with the store's shared secret: a session from one gate plays on
	// the other.
	if code, _, _ := httpGet(t, other+firstURI(t, mv, "720p/index.m3u8")); code != 403 {
		t.Errorf("a revoked session on the other gate: %d", code)
	}
	_, mv2, _ := httpGet(t, playbackURL+"?token="+sign(token.Claims{}))
	if code, _, _ := httpGet(t, other+firstURI(t, mv2, "720p/index.m3u8")); code != 200 {
		t.Errorf("a session of one gate on the other: %d", code)
	}

	// Deleting the key pair refuses its tokens within seconds, on both gates.
	fresh := sign(token.Claims{})
	if _, err := c.DeletePlaybackKeyPair(ctx, &ivs.DeletePlaybackKeyPairInput{Arn: kp.KeyPair.Arn}); err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{playbackURL, otherURL} {
		start := time.Now()
		for {
			code, _, h := httpGet(t, base+"?token="+fresh)
			if code == 403 && h.Get("X-Playkey-Code") == "unknown_key" {
				break
			}
			if time.Since(start) > 20*time.Second { // a hang, not a slow machine
				t.Fatalf("%s: a deleted key's token still plays after 20s: %d", base, code)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// Switching the channel to public takes effect for new sessions.
	// (The SDK's UpdateChannelInput cannot send authorized=false: it omits a false bool.)
	opts := c.Options()
	creds, _ := opts.Credentials.Retrieve(ctx)
	body := `{"arn":"` + arn + `","authorized":false}`
	req, _ := http.NewRequest(http.MethodPost, s.endpoint+"/UpdateChannel", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ivs", "us-west-2", time.Now()); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("UpdateChannel: %v %v", resp, err)
	}
	start = time.Now()
	for {
		if code, _, _ := httpGet(t, playbackURL); code == 200 {
			break
		}
		if time.Since(start) > 20*time.Second { // a hang, not a slow machine
			t.Fatal("the channel switched to public still needs a token after 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
