package mediamtx

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzAuthCallback: whatever MediaMTX (or whoever reaches the callback) posts, the answer
// is an allow or a refusal, never a panic or a server error, and only a publish with the
// channel's key on its path is allowed.
func FuzzAuthCallback(f *testing.F) {
	for _, seed := range []string{
		`{"ip":"127.0.0.1","user":"","password":"sk_good","token":"","action":"publish","path":"app/abcdEFGH1234","protocol":"rtmp","id":"0b6c8a4e-2c43-4f1e-9d0e-5b1f2f3c4d5e","query":"pass=sk_good","userAgent":""}`,
		`{"action":"read","path":"app/abcdEFGH1234","protocol":"hls"}`,
		`{"action":"api","user":"playkey","password":"apisecret"}`,
		`{"action":"publish","path":"app/sk_good","id":null}`,
		`{"action":"publish","path":"app//x","password":"sk_good","id":"1"}`,
		`{"action":7}`, `[]`, `null`, ``, `{"action":"publish"`,
	} {
		f.Add([]byte(seed))
	}
	e, err := New(Config{Authority: &fakeAuthority{}, API: "http://playkey:apisecret@127.0.0.1:9", HLSBase: "http://127.0.0.1:8888"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/mediamtx/auth", bytes.NewReader(body))
		r.RemoteAddr = "127.0.0.1:5000"
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusNoContent:
			// Allowed: the API with playkey's credentials, or the channel's publish with its
			// key. Publishes let in are forgotten, so that the next input is judged alone.
			var req authRequest
			json.NewDecoder(bytes.NewReader(body)).Decode(&req)
			api := req.Action == "api" || req.Action == "metrics" || req.Action == "pprof"
			key := req.Password
			if key == "" {
				key = req.Token
			}
			if !(api && req.User == "playkey" && req.Password == "apisecret") && !(req.Action == "publish" && req.Path == "app/abcdEFGH1234" && key == "sk_good") {
				t.Fatalf("%q was allowed", body)
			}
			e.mu.Lock()
			clear(e.pending)
			e.mu.Unlock()
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		default:
			t.Fatalf("%q: status %d", body, w.Code)
		}
	})
}
