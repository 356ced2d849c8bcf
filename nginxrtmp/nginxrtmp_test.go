package nginxrtmp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/ingest"
)

// fakeAuthority takes the one key "sk_good" for one channel, and records the calls.
type fakeAuthority struct {
	started, ended []string
	checkErr       error
	startErr       error
}

var channel = playkey.ARN{Region: "us-west-2", Account: "123456789012", Type: playkey.TypeChannel, ID: "abcdEFGH1234"}

func (f *fakeAuthority) Authorize(_ context.Context, key string) (ingest.Channel, error) {
	if key != "sk_good" {
		return ingest.Channel{}, errors.New("no such stream key")
	}
	return ingest.Channel{ARN: channel}, nil
}
func (f *fakeAuthority) Check(context.Context, ingest.Channel) error     { return f.checkErr }
func (f *fakeAuthority) Started(context.Context, *ingest.Stream, string) {}
func (f *fakeAuthority) Ended(_ context.Context, s *ingest.Stream, _ error) {
	f.ended = append(f.ended, s.ID)
}
func (f *fakeAuthority) Refused(context.Context, ingest.Channel, error) {}
func (f *fakeAuthority) Start(_ context.Context, s *ingest.Stream, origin string) error {
	f.started = append(f.started, origin)
	return f.startErr
}

func post(h http.Handler, remote, query string, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/nginx-rtmp"+query, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = remote
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func publishForm(key, client string) url.Values {
	return url.Values{"call": {"publish"}, "app": {"app"}, "name": {key}, "clientid": {client}, "addr": {"192.0.2.7"}}
}

// TestCallbacks: a valid key is redirected to the channel's name (nginx-rtmp renames the
// stream), a wrong key, a wrong application and a second publisher are 403, updates check
// the stream and 403 once it must stop, done ends it, and RTMP playback is refused.
func TestCallbacks(t *testing.T) {
	a := &fakeAuthority{}
	h, err := New(Config{Authority: a, HLSBase: "http://127.0.0.1:8088/hls/"})
	if err != nil {
		t.Fatal(err)
	}
	const lo = "127.0.0.1:5000"
	w := post(h, lo, "", publishForm("sk_good", "7"))
	if w.Code != http.StatusFound || w.Header().Get("Location") != "us-west-2_123456789012_abcdEFGH1234" {
		t.Fatalf("publish: %d %q", w.Code, w.Header().Get("Location"))
	}
	if len(a.started) != 1 || a.started[0] != "http://127.0.0.1:8088/hls/us-west-2_123456789012_abcdEFGH1234/index.m3u8" {
		t.Errorf("recorded origin: %v", a.started)
	}
	for name, form := range map[string]url.Values{
		"wrong key":        publishForm("sk_bad", "8"),
		"second publisher": publishForm("sk_good", "9"),
		"other app":        {"call": {"publish"}, "app": {"live"}, "name": {"sk_good"}, "clientid": {"10"}},
		"play":             {"call": {"play"}, "app": {"app"}, "name": {"x"}, "clientid": {"11"}},
		"update of none":   {"call": {"update_publish"}, "clientid": {"12"}},
	} {
		if w := post(h, lo, "", form); w.Code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, w.Code)
		}
	}
	if w := post(h, lo, "", url.Values{"call": {"update_publish"}, "clientid": {"7"}}); w.Code/100 != 2 {
		t.Errorf("update of a good stream: %d", w.Code)
	}
	if w := post(h, lo, "", url.Values{"call": {"update"}, "clientid": {"99"}}); w.Code/100 != 2 {
		t.Errorf("update of nginx's own push session: %d", w.Code)
	}
	a.checkErr = ingest.ErrStopped
	if w := post(h, lo, "", url.Values{"call": {"update_publish"}, "clientid": {"7"}}); w.Code != http.StatusForbidden {
		t.Errorf("update of a stopped stream: %d, want 403", w.Code)
	}
	if w := post(h, lo, "", url.Values{"call": {"publish_done"}, "clientid": {"7"}}); w.Code/100 != 2 || len(a.ended) != 1 {
		t.Errorf("done: %d, ended %v", w.Code, a.ended)
	}
	// The channel is free again.
	a.checkErr = nil
	if w := post(h, lo, "", publishForm("sk_good", "13")); w.Code != http.StatusFound {
		t.Errorf("publish after done: %d", w.Code)
	}
}

// TestCallbacksTrust: without a secret only loopback callers are taken; with one, only
// callers that carry it, wherever they are. Bad requests get 4xx, never a stream.
func TestCallbacksTrust(t *testing.T) {
	a := &fakeAuthority{}
	open, _ := New(Config{Authority: a, HLSBase: "http://x/hls"})
	if w := post(open, "192.0.2.1:5000", "", publishForm("sk_good", "1")); w.Code != http.StatusForbidden {
		t.Errorf("a remote caller without a secret configured: %d", w.Code)
	}
	secret, _ := New(Config{Authority: a, HLSBase: "http://x/hls", Secret: "s3cret"})
	if w := post(secret, "127.0.0.1:5000", "?secret=wrong", publishForm("sk_good", "1")); w.Code != http.StatusForbidden {
		t.Errorf("a wrong secret: %d", w.Code)
	}
	if w := post(secret, "192.0.2.1:5000", "?secret=s3cret", publishForm("sk_good", "1")); w.Code != http.StatusFound {
		t.Errorf("the right secret from afar: %d", w.Code)
	}
	if len(a.started) != 1 {
		t.Errorf("streams started: %v", a.started)
	}
	big := httptest.NewRequest(http.MethodPost, "/nginx-rtmp", strings.NewReader("call=publish&name="+strings.Repeat("x", 2*maxForm)))
	big.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	big.RemoteAddr = "127.0.0.1:1"
	w := httptest.NewRecorder()
	open.ServeHTTP(w, big)
	if w.Code != http.StatusBadRequest {
		t.Errorf("an oversized form: %d", w.Code)
	}
	get := httptest.NewRequest(http.MethodGet, "/nginx-rtmp", nil)
	get.RemoteAddr = "127.0.0.1:1"
	w = httptest.NewRecorder()
	open.ServeHTTP(w, get)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", w.Code)
	}
	if w := post(open, "127.0.0.1:1", "", url.Values{"call": {"nonsense"}}); w.Code != http.StatusBadRequest {
		t.Errorf("an unknown call: %d", w.Code)
	}
}

// TestCallbacksConflict: a channel live on another node (the registry's Conflict) is 403.
func TestCallbacksConflict(t *testing.T) {
	a := &fakeAuthority{startErr: playkey.Errorf(playkey.ErrConflict, "live elsewhere")}
	h, _ := New(Config{Authority: a, HLSBase: "http://x/hls"})
	if w := post(h, "127.0.0.1:1", "", publishForm("sk_good", "1")); w.Code != http.StatusForbidden {
		t.Errorf("live elsewhere: %d", w.Code)
	}
	a.startErr = nil
	if w := post(h, "127.0.0.1:1", "", publishForm("sk_good", "2")); w.Code != http.StatusFound {
		t.Errorf("after the conflict, the local slot is free: %d", w.Code)
	}
}

// FuzzCallbacks: whatever a caller posts, the callbacks answer 2xx, 3xx or 4xx, never
// panic, and start a stream only for the good key.
func FuzzCallbacks(f *testing.F) {
	f.Add("call=publish&app=app&name=sk_good&clientid=1")
	f.Add("call=update_publish&clientid=1")
	f.Add("call=publish_done&clientid=1")
	f.Add("call=publish&app=app&name=%ff%00&clientid=")
	f.Fuzz(func(t *testing.T, body string) {
		a := &fakeAuthority{}
		h, _ := New(Config{Authority: a, HLSBase: "http://x/hls"})
		r := httptest.NewRequest(http.MethodPost, "/nginx-rtmp", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = "127.0.0.1:1"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%q: %d", body, w.Code)
		}
		if w.Code == http.StatusFound && !strings.Contains(body, "sk_good") {
			t.Fatalf("%q started a stream", body)
		}
	})
}
