package gate

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/internal/testenv"
	"github.com/playkey/playkey/token"
)

// harness is a gate in front of a test origin, with one account holding one key, a private
// channel and a public one.
type harness struct {
	t       testing.TB
	state   *memState
	gate    *Gate
	srv     *httptest.Server
	origin  *httptest.Server
	key     *ecdsa.PrivateKey
	keyARN  string
	scope   playkey.Scope
	private playkey.ARN
	public  playkey.ARN
	logs    *testenv.SyncBuffer

	mu         sync.Mutex
	originHook func(w http.ResponseWriter, r *http.Request) bool // true: handled
	originLog  []string                                          // paths the origin served
}

// segmentBody is what the test origin serves for any non-playlist path: 20000 bytes that
// name the file.
func segmentBody(p string) []byte {
	return bytes.Repeat([]byte(p+";"), 20000/(len(p)+1)+1)[:20000]
}

var fixtureTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newHarness(t testing.TB, mods ...func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, state: newMemState(), logs: &testenv.SyncBuffer{}}
	h.origin = httptest.NewServer(http.HandlerFunc(h.serveOrigin))
	t.Cleanup(h.origin.Close)

	var err error
	h.key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h.scope = playkey.Scope{Account: "123456789012", Region: "us-west-2"}
	h.keyARN = "arn:aws:ivs:us-west-2:123456789012:playback-key/key1"
	h.state.addKey(h.scope, h.keyARN, &h.key.PublicKey)
	h.private = playkey.ARN{Region: "us-west-2", Account: "123456789012", Type: playkey.TypeChannel, ID: "privCHAN0001"}
	h.public = playkey.ARN{Region: "us-west-2", Account: "123456789012", Type: playkey.TypeChannel, ID: "publCHAN0001"}
	h.state.setChannel(h.private, Channel{Authorized: true})
	h.state.setChannel(h.public, Channel{})

	cfg := Config{
		State:          h.state,
		Origin:         h.origin.URL + "/{channel}/index.m3u8",
		Logger:         slog.New(slog.NewTextHandler(h.logs, nil)),
		StateRefresh:   100 * time.Millisecond,
		RevocationPoll: 50 * time.Millisecond,
		CountryHeader:  "CloudFront-Viewer-Country",
	}
	for _, m := range mods {
		m(&cfg)
	}
	h.gate, err = New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.gate.Close() })
	h.srv = httptest.NewServer(h.gate)
	t.Cleanup(h.srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gate log:\n%s", h.logs)
		}
	})
	return h
}

func (h *harness) serveOrigin(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	hook := h.originHook
	h.originLog = append(h.originLog, r.URL.Path)
	h.mu.Unlock()
	if hook != nil && hook(w, r) {
		return
	}
	// /{channel}/{file}: every channel has the fixture's files.
	_, file, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	var body []byte
	if strings.HasSuffix(file, ".m3u8") {
		b, err := os.ReadFile(path.Join("testdata/hls", path.Clean("/"+file)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		body = b
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		w.Header().Set("Cache-Control", "max-age=1")
	} else {
		body = segmentBody(file)
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("Cache-Control", "max-age=3600, public")
		w.Header().Set("ETag", `"`+file+`"`)
	}
	http.ServeContent(w, r, file, fixtureTime, bytes.NewReader(body))
}

func (h *harness) setOriginHook(f func(w http.ResponseWriter, r *http.Request) bool) {
	h.mu.Lock()
	h.originHook = f
	h.mu.Unlock()
}

func (h *harness) originPaths() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.originLog...)
}

// sign returns a token for the private channel, valid for 5 minutes, with c's other claims.
func (h *harness) sign(c token.Claims) string {
	h.t.Helper()
	if c.ChannelARN == "" {
		c.ChannelARN = h.private.String()
	}
	if c.Exp == 0 {
		c.Exp = time.Now().Add(5 * time.Minute).Unix()
	}
	tok, err := token.Sign(c, h.key)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// playbackPath is a channel's playback URL path.
func playbackPath(arn playkey.ARN) string {
	return "/api/video/v1/" + arn.Region + "." + arn.Account + ".channel." + arn.ID + ".m3u8"
}

// response is a finished response.
type response struct {
	*http.Response
	body string
}

// get fetches a gate path (with its query) and reads the whole body. headers alternate
// names and values.
func (h *harness) get(p string, headers ...string) *response {
	h.t.Helper()
	return h.do(http.MethodGet, p, headers...)
}

func (h *harness) do(method, p string, headers ...string) *response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+p, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return &response{Response: resp, body: string(b)}
}

// play fetches the private channel's multivariant playlist with tok and wants 200.
func (h *harness) play(tok string, headers ...string) *response {
	h.t.Helper()
	r := h.get(playbackPath(h.private)+"?token="+tok, headers...)
	if r.StatusCode != http.StatusOK {
		h.t.Fatalf("multivariant playlist: %s %s", r.Status, r.body)
	}
	return r
}

// wantRefused checks a refusal: status, IVS body shape and codes.
func wantRefused(t *testing.T, r *response, status int, ivsCode, code string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %s, want %d; body %s", r.Status, status, r.body)
	}
	var body []errorItem
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || len(body) != 1 {
		t.Fatalf("body %q is not IVS's one-element error array: %v", r.body, err)
	}
	if body[0].Type != "error" || body[0].Error == "" || !strings.HasPrefix(body[0].URL, "/api/video/v1/") && !strings.HasPrefix(body[0].URL, "/_playkey/") {
		t.Errorf("body %+v: want type error, a reason and the URL path", body[0])
	}
	if ivsCode != "" && body[0].ErrorCode != ivsCode {
		t.Errorf("error_code %q, want %q (%s)", body[0].ErrorCode, ivsCode, body[0].Error)
	}
	if got := r.Header.Get("X-Playkey-Code"); got != code {
		t.Errorf("X-Playkey-Code %q, want %q (%s)", got, code, body[0].Error)
	}
	if strings.Contains(body[0].URL, "token=") {
		t.Errorf("the refusal echoes the token: %s", body[0].URL)
	}
}

var uriAttr = regexp.MustCompile(`URI="([^"]*)"`)

// uris lists the URIs of a playlist: non-tag lines and URI attributes.
func uris(playlist string) []string {
	var out []string
	for line := range strings.SplitSeq(playlist, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			for _, m := range uriAttr.FindAllStringSubmatch(line, -1) {
				out = append(out, m[1])
			}
		default:
			out = append(out, line)
		}
	}
	return out
}

// find returns the URI of a playlist whose path ends with suffix.
func find(t testing.TB, playlist, suffix string) string {
	t.Helper()
	for _, u := range uris(playlist) {
		if strings.HasSuffix(strings.SplitN(u, "?", 2)[0], suffix) {
			return u
		}
	}
	t.Fatalf("no URI ending in %q in:\n%s", suffix, playlist)
	return ""
}

// eventually polls cond for up to 5 seconds.
// failAfter bounds every wait for an event: it only turns a hang into a failure, so it is
// long enough for a loaded machine and nothing waits for it to pass.
const failAfter = 20 * time.Second

func eventually(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < failAfter {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v", what, failAfter)
	return 0
}

// httptestGet serves one GET on handler, in memory.
func httptestGet(handler http.Handler, p string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
	return rec
}

// highS respells a token with the other valid signature (r, n-s), which every ECDSA
// verifier accepts.
func highS(t *testing.T, tok string) string {
	t.Helper()
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil || len(sig) != 96 {
		t.Fatalf("signature: %v", err)
	}
	n := elliptic.P384().Params().N
	s := new(big.Int).SetBytes(sig[48:])
	s.Sub(n, s).FillBytes(sig[48:])
	return tok[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}
