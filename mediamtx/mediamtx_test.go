package mediamtx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/ingest"
	"github.com/playkey/playkey/internal/testenv"
)

var channel = playkey.ARN{Region: "us-west-2", Account: "123456789012", Type: playkey.TypeChannel, ID: "abcdEFGH1234"}

// fakeAuthority takes the one key "sk_good" for channel, and records the calls.
type fakeAuthority struct {
	mu       sync.Mutex
	started  []*ingest.Stream
	origins  []string
	ended    map[string]error
	refused  []error
	checkErr error
	startErr error
}

func (f *fakeAuthority) Authorize(_ context.Context, key string) (ingest.Channel, error) {
	if key != "sk_good" {
		return ingest.Channel{}, errors.New("no such stream key")
	}
	return ingest.Channel{ARN: channel}, nil
}
func (f *fakeAuthority) Check(context.Context, ingest.Channel) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.checkErr
}
func (f *fakeAuthority) Started(context.Context, *ingest.Stream, string) {}
func (f *fakeAuthority) Ended(_ context.Context, s *ingest.Stream, reason error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ended == nil {
		f.ended = make(map[string]error)
	}
	f.ended[s.ID] = reason
}
func (f *fakeAuthority) Refused(_ context.Context, _ ingest.Channel, reason error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refused = append(f.refused, reason)
}
func (f *fakeAuthority) Start(_ context.Context, s *ingest.Stream, origin string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, s)
	f.origins = append(f.origins, origin)
	return f.startErr
}

// fakeAPI serves /v3/paths/list from paths, one item per page to exercise the paging,
// records kicks, and checks the basic authentication MediaMTX would forward to the hook.
type fakeAPI struct {
	mu    sync.Mutex
	paths []path
	kicks []string
	down  bool
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != "playkey" || p != "apisecret" {
		http.Error(w, "authentication error", http.StatusUnauthorized)
		return
	}
	switch {
	case f.down:
		http.Error(w, "down", http.StatusServiceUnavailable)
	case r.Method == http.MethodGet && r.URL.Path == "/v3/paths/list":
		page := 0
		if r.URL.Query().Get("page") == "1" {
			page = 1
		}
		list := map[string]any{"itemCount": len(f.paths), "pageCount": len(f.paths), "items": []path{}}
		if page < len(f.paths) {
			list["items"] = f.paths[page : page+1]
		}
		json.NewEncoder(w).Encode(list)
	case r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/kick/"):
		f.kicks = append(f.kicks, r.URL.Path)
		for i, p := range f.paths {
			if p.Source != nil && strings.HasSuffix(r.URL.Path, "/"+p.Source.ID) {
				f.paths = append(f.paths[:i], f.paths[i+1:]...)
				break
			}
		}
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeAPI) set(paths ...path) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paths = paths
}

func (f *fakeAPI) kicked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.kicks...)
}

// auth posts a callback as MediaMTX's authenticateHTTP does.
func auth(e *Engine, remote, query string, body map[string]any) int {
	b, _ := json.Marshal(body)
	r := httptest.NewRequest(http.MethodPost, "/mediamtx/auth"+query, bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = remote
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w.Code
}

func publish(path, pass, id string) map[string]any {
	return map[string]any{"ip": "192.0.2.7", "user": "", "password": pass, "token": "", "action": "publish",
		"path": path, "protocol": "rtmp", "id": id, "query": "pass=" + pass, "userAgent": "FMLE/3.0"}
}

func h264AAC(name, conn string, inbound uint64) path {
	return path{Name: name, Available: true, Source: &pathSource{Type: "rtmpConn", ID: conn}, Inbound: inbound, Tracks: []track{
		{Codec: "H264", Props: json.RawMessage(`{"width":640,"height":360,"profile":"High","level":"3"}`)},
		{Codec: "MPEG-4 Audio", Props: json.RawMessage(`{"sampleRate":44100,"channelCount":1}`)},
	}}
}

const lo = "127.0.0.1:5000"

func newEngine(t *testing.T, a *fakeAuthority, api *fakeAPI, logs *testenv.SyncBuffer) *Engine {
	t.Helper()
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	cfg := Config{Authority: a, API: strings.Replace(srv.URL, "http://", "http://playkey:apisecret@", 1), HLSBase: "http://127.0.0.1:8888/"}
	if logs != nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestAuthCallback: a publish is allowed on app/{channel id} with its key as the password
// and refused otherwise; viewers' reads are refused; the API only with playkey's own
// credentials; nothing from another machine without the secret.
func TestAuthCallback(t *testing.T) {
	a := &fakeAuthority{}
	var logs testenv.SyncBuffer
	e := newEngine(t, a, &fakeAPI{}, &logs)
	for _, c := range []struct {
		name   string
		remote string
		body   map[string]any
		want   int
	}{
		{"the channel's key", lo, publish("app/abcdEFGH1234", "sk_good", "u1"), 204},
		{"a wrong key", lo, publish("app/abcdEFGH1234", "sk_bad", "u2"), 403},
		{"another channel's path", lo, publish("app/zzzzEFGH1234", "sk_good", "u3"), 403},
		{"the key as the path", lo, publish("app/sk_good", "", "u4"), 403},
		{"no password: asked for", lo, publish("app/abcdEFGH1234", "", "u5"), 401},
		{"another application", lo, publish("live/abcdEFGH1234", "sk_good", "u6"), 403},
		{"no connection id", lo, publish("app/abcdEFGH1234", "sk_good", ""), 400},
		{"a viewer's read", lo, map[string]any{"action": "read", "path": "app/abcdEFGH1234", "protocol": "hls"}, 403},
		{"playback", lo, map[string]any{"action": "playback", "path": "app/abcdEFGH1234"}, 403},
		{"the API with playkey's credentials", lo, map[string]any{"action": "api", "user": "playkey", "password": "apisecret"}, 204},
		{"the API with others", lo, map[string]any{"action": "api", "user": "admin", "password": ""}, 403},
		{"metrics without credentials", lo, map[string]any{"action": "metrics"}, 403},
		{"an unknown action", lo, map[string]any{"action": "delete"}, 403},
		{"from another machine", "192.0.2.9:5000", publish("app/abcdEFGH1234", "sk_good", "u7"), 403},
	} {
		if got := auth(e, c.remote, "", c.body); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	if strings.Contains(logs.String(), "sk_good") {
		t.Errorf("a stream key reached the log:\n%s", logs.String())
	}
	for name, r := range map[string]*http.Request{
		"GET":      httptest.NewRequest(http.MethodGet, "/mediamtx/auth", nil),
		"not JSON": httptest.NewRequest(http.MethodPost, "/mediamtx/auth", strings.NewReader("user=x")),
		"too big":  httptest.NewRequest(http.MethodPost, "/mediamtx/auth", strings.NewReader(`{"user":"`+strings.Repeat("x", 1<<20)+`"}`)),
	} {
		r.RemoteAddr = lo
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		if w.Code != http.StatusMethodNotAllowed && w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 405 or 400", name, w.Code)
		}
	}

	// With a secret, it is what is trusted, from anywhere.
	s, err := New(Config{Authority: a, API: "http://127.0.0.1:9997", HLSBase: "http://127.0.0.1:8888", Secret: "hooksecret"})
	if err != nil {
		t.Fatal(err)
	}
	if got := auth(s, "192.0.2.9:5000", "?secret=hooksecret", publish("app/abcdEFGH1234", "sk_good", "u8")); got != 204 {
		t.Errorf("with the secret: %d", got)
	}
	if got := auth(s, lo, "?secret=wrong", publish("app/abcdEFGH1234", "sk_good", "u9")); got != 403 {
		t.Errorf("with a wrong secret: %d", got)
	}
	// Without credentials in its URL, nobody may use the API.
	if got := auth(s, "192.0.2.9:5000", "?secret=hooksecret", map[string]any{"action": "api"}); got != 403 {
		t.Errorf("the API with no credentials configured: %d", got)
	}
}

// TestPoll: an allowed publish goes live once its path is available, measured from its
// tracks; its bytes tell when media last arrived; a second publisher is refused; a check
// that fails kicks the publisher and ends the stream; a path gone ends it; a publisher
// nobody let in and input that is not H.264/AAC are kicked.
func TestPoll(t *testing.T) {
	ctx := context.Background()
	a := &fakeAuthority{}
	api := &fakeAPI{}
	e := newEngine(t, a, api, nil)

	if got := auth(e, lo, "", publish("app/abcdEFGH1234", "sk_good", "conn-1")); got != 204 {
		t.Fatalf("publish: %d", got)
	}
	notYet := h264AAC("app/abcdEFGH1234", "conn-1", 0)
	notYet.Available = false
	api.set(path{Name: "other", Available: true}, notYet)
	e.Poll(ctx)
	if len(a.started) != 0 {
		t.Fatalf("started before its path was available: %v", a.origins)
	}
	api.set(path{Name: "other", Available: true}, h264AAC("app/abcdEFGH1234", "conn-1", 1000))
	e.Poll(ctx)
	if len(a.started) != 1 || a.origins[0] != "http://127.0.0.1:8888/app/abcdEFGH1234/index.m3u8" {
		t.Fatalf("started %d, origins %v", len(a.started), a.origins)
	}
	s := a.started[0]
	if s.Protocol != "rtmp" || s.Video.Codec != "avc1" || s.Video.Width != 640 || s.Video.Profile != "High" || s.Audio.Codec != "mp4a.40.2" || s.Audio.SampleRate != 44100 || s.Audio.Channels != 1 {
		t.Errorf("measured %+v", s)
	}
	st, ok := e.Stats(channel)
	if !ok || st.VideoBytes != 1000 {
		t.Errorf("Stats = %+v, %v", st, ok)
	}
	first := st.LastMedia
	e.Poll(ctx) // no new bytes
	if st, _ := e.Stats(channel); !st.LastMedia.Equal(first) {
		t.Error("media counted as arrived while the path's bytes stood still")
	}
	api.set(h264AAC("app/abcdEFGH1234", "conn-1", 2000))
	e.Poll(ctx)
	if st, _ := e.Stats(channel); st.VideoBytes != 2000 || st.LastMedia.Before(first) {
		t.Errorf("after more bytes: %+v", st)
	}

	if got := auth(e, lo, "", publish("app/abcdEFGH1234", "sk_good", "conn-2")); got != 403 {
		t.Errorf("a second publisher: %d, want 403", got)
	}
	if len(a.refused) != 1 || !errors.Is(a.refused[0], ingest.ErrAlreadyLive) {
		t.Errorf("refusals: %v", a.refused)
	}

	a.mu.Lock()
	a.checkErr = ingest.ErrStopped
	a.mu.Unlock()
	e.Poll(ctx)
	if k := api.kicked(); len(k) != 1 || k[0] != "/v3/rtmpconns/kick/conn-1" {
		t.Errorf("kicks: %v", k)
	}
	if r, ok := a.ended[s.ID]; !ok || !errors.Is(r, ingest.ErrStopped) {
		t.Errorf("ended with %v, %v", r, ok)
	}
	a.mu.Lock()
	a.checkErr = nil
	a.mu.Unlock()

	// It comes back, and leaves: the path is gone.
	auth(e, lo, "", publish("app/abcdEFGH1234", "sk_good", "conn-3"))
	api.set(h264AAC("app/abcdEFGH1234", "conn-3", 10))
	e.Poll(ctx)
	if len(a.started) != 2 {
		t.Fatalf("the publisher that came back did not go live")
	}
	api.set()
	e.Poll(ctx)
	if _, ok := a.ended[a.started[1].ID]; !ok {
		t.Error("a stream whose path is gone did not end")
	}
	if _, ok := e.Stats(channel); ok {
		t.Error("Stats of an ended stream")
	}

	// Nobody let conn-4 in (playkey restarted since): kicked. H.265 is refused and kicked.
	api.set(h264AAC("app/abcdEFGH1234", "conn-4", 10))
	e.Poll(ctx)
	auth(e, lo, "", publish("app/abcdEFGH1234", "sk_good", "conn-5"))
	hevc := h264AAC("app/abcdEFGH1234", "conn-5", 10)
	hevc.Source.Type = "srtConn"
	hevc.Tracks[0].Codec = "H265"
	api.set(hevc)
	e.Poll(ctx)
	if k := api.kicked(); len(k) != 3 || k[1] != "/v3/rtmpconns/kick/conn-4" || k[2] != "/v3/srtconns/kick/conn-5" {
		t.Errorf("kicks: %v", k)
	}
	if len(a.started) != 2 || len(a.refused) != 2 || !errors.Is(a.refused[1], ingest.ErrUnsupported) {
		t.Errorf("H.265: started %d, refusals %v", len(a.started), a.refused)
	}
}

// TestAPIDown: MediaMTX's API not answering is one log line, not one a second, and does
// not end a stream: it ends by its record timing out, or once the API answers.
func TestAPIDown(t *testing.T) {
	ctx := context.Background()
	a := &fakeAuthority{}
	api := &fakeAPI{}
	var logs testenv.SyncBuffer
	e := newEngine(t, a, api, &logs)
	auth(e, lo, "", publish("app/abcdEFGH1234", "sk_good", "conn-1"))
	api.set(h264AAC("app/abcdEFGH1234", "conn-1", 10))
	e.Poll(ctx)
	api.mu.Lock()
	api.down = true
	api.mu.Unlock()
	for range 5 {
		e.Poll(ctx)
	}
	if n := strings.Count(logs.String(), "cannot read MediaMTX's paths"); n != 1 {
		t.Errorf("%d log lines for one outage, want 1:\n%s", n, logs.String())
	}
	if len(a.ended) != 0 {
		t.Error("a stream ended because the API did not answer")
	}
	api.mu.Lock()
	api.down = false
	api.paths = nil
	api.mu.Unlock()
	e.Poll(ctx)
	if len(a.ended) != 1 || !strings.Contains(logs.String(), "can be read again") {
		t.Errorf("after the outage: ended %d\n%s", len(a.ended), logs.String())
	}
}
