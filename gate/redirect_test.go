package gate

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/playkey/playkey/token"
)

// mediaMTXOrigin answers as MediaMTX's HLS server does since v1.18
// (internal/servers/hls/http_server.go): a multivariant playlist request without
// cookieCheck=1 gets a Secure cookie and a 302 to the same path with ?cookieCheck=1; that
// request opens a reader session whose secret the playlists carry as ?session=, and media
// playlists and segments without it are 404. A request with "Authorization: Bearer
// {hlsCDNSecret}" is a CDN's, answered without the redirect or a session.
func mediaMTXOrigin(cdnSecret string) func(w http.ResponseWriter, r *http.Request) bool {
	const session = "4f1c2b9e-9a6e-4d4b-8f5e-0a1b2c3d4e5f"
	return func(w http.ResponseWriter, r *http.Request) bool {
		cdn := cdnSecret != "" && r.Header.Get("Authorization") == "Bearer "+cdnSecret
		q := r.URL.Query()
		if strings.HasSuffix(r.URL.Path, "/index.m3u8") {
			query := ""
			if !cdn {
				if q.Get("cookieCheck") != "1" {
					http.SetCookie(w, &http.Cookie{Name: "cookieCheck", Value: "1", SameSite: http.SameSiteNoneMode, Secure: true, Partitioned: true, HttpOnly: true})
					q.Set("cookieCheck", "1")
					w.Header().Set("Location", r.URL.Path+"?"+q.Encode())
					w.WriteHeader(http.StatusFound)
					return true
				}
				query = "?session=" + session
			}
			w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
			w.Write([]byte("#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-INDEPENDENT-SEGMENTS\n" +
				"#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=1280x720,CODECS=\"avc1.64001f\"\n720p/index.m3u8" + query + "\n"))
			return true
		}
		if !cdn && q.Get("session") != session {
			http.NotFound(w, r)
			return true
		}
		return false // the fixture's files
	}
}

// TestOriginRedirects: MediaMTX's cookieCheck redirect is followed, since it stays on the
// origin, and the session it opens carries through the rewritten playlists; with its
// hlsCDNSecret in OriginHeader there is no redirect at all; a redirect to another port or
// host is still refused.
func TestOriginRedirects(t *testing.T) {
	t.Parallel()
	play := func(t *testing.T, h *harness) string {
		t.Helper()
		tok := h.sign(token.Claims{})
		mv := h.play(tok)
		media := h.get(find(t, mv.body, "720p/index.m3u8"))
		if media.StatusCode != http.StatusOK {
			t.Fatalf("media playlist through the gate: %s %s", media.Status, media.body)
		}
		return media.body
	}
	t.Run("cookieCheck", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.setOriginHook(mediaMTXOrigin(""))
		play(t, h)
		n := 0
		for _, p := range h.originPaths() {
			if strings.HasSuffix(p, "/index.m3u8") && !strings.Contains(p, "720p") {
				n++
			}
		}
		if n != 2 {
			t.Errorf("origin requests %v: want the multivariant playlist asked twice, the 302 and the followed redirect", h.originPaths())
		}
	})
	t.Run("hlsCDNSecret", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, func(c *Config) {
			c.OriginHeader = http.Header{"Authorization": {"Bearer cdn-s3cret"}}
		})
		h.setOriginHook(mediaMTXOrigin("cdn-s3cret"))
		body := play(t, h)
		if strings.Contains(body, "session=") {
			t.Errorf("a CDN request got a reader session:\n%s", body)
		}
		if strings.Contains(h.logs.String(), "cdn-s3cret") {
			t.Error("the origin header's secret reached the log")
		}
	})
	for _, target := range []string{"http://127.0.0.1:1/x/index.m3u8", "http://elsewhere.example/x/index.m3u8", "https://HOST/x/index.m3u8"} {
		t.Run("elsewhere "+target, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			host := strings.TrimPrefix(h.origin.URL, "http://")
			h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
				http.Redirect(w, r, strings.Replace(target, "HOST", host, 1), http.StatusFound)
				return true
			})
			r := h.get(playbackPath(h.public))
			wantRefused(t, r, http.StatusBadGateway, "", CodeOriginError)
			for _, p := range h.originPaths() {
				if p != "/"+h.public.ID+"/index.m3u8" {
					t.Errorf("the gate followed a redirect off the origin: %s", p)
				}
			}
		})
	}
	t.Run("loop", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
			u := url.URL{Path: r.URL.Path, RawQuery: r.URL.RawQuery + "x"}
			http.Redirect(w, r, u.String(), http.StatusFound)
			return true
		})
		r := h.get(playbackPath(h.public))
		wantRefused(t, r, http.StatusBadGateway, "", CodeOriginError)
		if n := len(h.originPaths()); n != maxOriginRedirects+1 {
			t.Errorf("origin asked %d times: want %d (the first and its redirects)", n, maxOriginRedirects+1)
		}
	})
}
