package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/playkey/playkey/internal/chromiumtest"
	"github.com/playkey/playkey/internal/testenv"
	"github.com/playkey/playkey/token"
)

// These tests play through the gate with a real player: hls.js in headless Chromium,
// against an HLS stream that ffmpeg makes. Without ffmpeg, Chromium or hls.js (npm ci in
// testdata/player, which .ci/setup runs) they skip, unless CI is set, where they fail.

const hlsJS = "testdata/player/node_modules/hls.js/dist/hls.min.js"

// makeStream writes a 20-second, three-rendition (1080p, 720p, 360p) HLS stream with
// one-second segments to a new directory, laid out as an origin serves it:
// {channel}/index.m3u8 and {channel}/{rendition}/seg000.ts...
func makeStream(t *testing.T, channel string) string {
	t.Helper()
	ffmpeg := testenv.Need(t, "ffmpeg")
	dir := t.TempDir()
	out := filepath.Join(dir, channel)
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc=size=1920x1080:rate=15:duration=20",
		"-filter_complex", "[0:v]split=3[a][b][c];[b]scale=1280:720[b2];[c]scale=640:360[c2]",
		"-map", "[a]", "-map", "[b2]", "-map", "[c2]",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-profile:v", "baseline",
		"-g", "15", "-keyint_min", "15", "-sc_threshold", "0",
		"-b:v:0", "1500k", "-b:v:1", "800k", "-b:v:2", "300k",
		"-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod",
		"-hls_segment_filename", "%v/seg%03d.ts", "-master_pl_name", "index.m3u8",
		"-var_stream_map", "v:0,name:1080p v:1,name:720p v:2,name:360p", "%v/index.m3u8")
	cmd.Dir = out
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	return dir
}

// playerEnv is a browser tab on a page (on its own origin) that plays with hls.js.
type playerEnv struct {
	h    *harness
	page *httptest.Server
	ctx  context.Context
	dir  string // the origin's files
}

const playerPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>playkey player test</title></head>
<body><video id="v" muted playsinline width="320"></video>
<script src="/hls.min.js"></script>
<script>
window.events = [];
window.levels = [];
window.start = function (src) {
  const hls = new Hls({maxBufferLength: 3, maxMaxBufferLength: 4, backBufferLength: 0,
    manifestLoadingMaxRetry: 0, levelLoadingMaxRetry: 0, fragLoadingMaxRetry: 0});
  window.hls = hls;
  hls.on(Hls.Events.MANIFEST_PARSED, (e, d) => {
    window.levels = d.levels.map(l => l.height);
    events.push({t: 'manifest', levels: window.levels});
  });
  hls.on(Hls.Events.LEVEL_LOADED, (e, d) => events.push({t: 'level', level: d.level, url: d.details.url}));
  hls.on(Hls.Events.FRAG_LOADED, (e, d) => events.push({t: 'frag', level: d.frag.level, height: hls.levels[d.frag.level].height, sn: d.frag.sn}));
  hls.on(Hls.Events.ERROR, (e, d) => events.push({t: 'error', details: d.details, fatal: d.fatal, code: d.response ? d.response.code : 0, reason: d.reason || (d.error ? d.error.message : '')}));
  hls.loadSource(src);
  hls.attachMedia(document.getElementById('v'));
  document.getElementById('v').play().catch(() => {});
};
</script></body></html>`

func newPlayerEnv(t *testing.T, mods ...func(*Config)) *playerEnv {
	t.Helper()
	chromium := chromiumtest.Path(t)
	if _, err := os.Stat(hlsJS); err != nil {
		testenv.Missing(t, "hls.js", "npm ci --prefix gate/testdata/player (bash .ci/setup does)", err)
	}
	dir := makeStream(t, "privCHAN0001")
	// The public channel's files are the same stream.
	if err := os.Symlink(filepath.Join(dir, "privCHAN0001"), filepath.Join(dir, "publCHAN0001")); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, append([]func(*Config){func(c *Config) { c.RevocationPoll = 200 * time.Millisecond }}, mods...)...)
	files := http.FileServer(http.Dir(dir))
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		files.ServeHTTP(w, r)
		return true
	})

	page := http.NewServeMux()
	page.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(playerPage))
	})
	page.HandleFunc("GET /hls.min.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, hlsJS)
	})
	e := &playerEnv{h: h, page: httptest.NewServer(page), dir: dir}
	t.Cleanup(e.page.Close)

	e.ctx = chromiumtest.Start(t, chromium, []chromedp.ExecAllocatorOption{
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	})
	return e
}

// playerEvent is one hls.js event the page recorded.
type playerEvent struct {
	T       string `json:"t"`
	Level   int    `json:"level"`
	Height  int    `json:"height"`
	SN      int    `json:"sn"`
	Details string `json:"details"`
	Fatal   bool   `json:"fatal"`
	Code    int    `json:"code"`
	Levels  []int  `json:"levels"`
	URL     string `json:"url"`
	Reason  string `json:"reason"`
}

// play opens the page in a new tab and starts playing src; it returns a function that
// reads the events so far.
func (e *playerEnv) play(t *testing.T, src string) func() []playerEvent {
	t.Helper()
	tab, cancel := chromedp.NewContext(e.ctx)
	t.Cleanup(cancel)
	// The first call opens the tab, whose life is that call's context: no timeout there.
	if err := chromedp.Do(tab); err != nil {
		t.Fatal(err)
	}
	ctx, c := context.WithTimeout(tab, 20*time.Second)
	defer c()
	if err := chromedp.Do(ctx, chromedp.Navigate(e.page.URL+"/")); err != nil {
		t.Fatal("navigate:", err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("start(%q)", src))); err != nil {
		t.Fatal("start:", err)
	}
	return func() []playerEvent {
		ctx, c := context.WithTimeout(tab, 20*time.Second)
		defer c()
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.events)`))
		if err != nil {
			t.Fatal(err)
		}
		var evs []playerEvent
		if err := json.Unmarshal([]byte(raw), &evs); err != nil {
			t.Fatal(err)
		}
		return evs
	}
}

func count(evs []playerEvent, f func(playerEvent) bool) int {
	n := 0
	for _, e := range evs {
		if f(e) {
			n++
		}
	}
	return n
}

func isFrag(e playerEvent) bool  { return e.T == "frag" }
func isError(e playerEvent) bool { return e.T == "error" }

// waitEvents polls the page's events until cond holds, for up to 20 seconds.
func waitEvents(t *testing.T, events func() []playerEvent, what string, cond func([]playerEvent) bool) []playerEvent {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		evs := events()
		if cond(evs) {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s; events: %+v", what, evs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestPlayer(t *testing.T) {
	if testing.Short() {
		t.Skip("plays video in a browser")
	}
	e := newPlayerEnv(t)
	h := e.h
	url := func(tok string) string { return h.srv.URL + playbackPath(h.private) + "?token=" + tok }

	// First, so that nothing above 360p has been asked for yet: the SD session must not
	// make the player, nor the gate, touch the 720p or 1080p renditions.
	t.Run("MaximumResolutionSD", func(t *testing.T) {
		events := e.play(t, url(h.sign(token.Claims{MaximumResolution: "SD"})))
		evs := waitEvents(t, events, "fragments loaded", func(evs []playerEvent) bool { return count(evs, isFrag) >= 5 })
		for _, ev := range evs {
			if ev.T == "manifest" && (len(ev.Levels) != 1 || ev.Levels[0] != 360) {
				t.Errorf("levels offered %v, want only 360", ev.Levels)
			}
			if ev.T == "frag" && ev.Height != 360 {
				t.Errorf("loaded a %dp fragment", ev.Height)
			}
		}
		segs := 0
		for _, p := range h.originPaths() {
			if strings.Contains(p, "/1080p/") || strings.Contains(p, "/720p/") {
				t.Errorf("the gate fetched %s for an SD session", p)
			}
			if strings.Contains(p, "/360p/seg") {
				segs++
			}
		}
		if segs < 5 {
			t.Errorf("the gate fetched %d 360p segments, want at least 5", segs)
		}
		for _, line := range strings.Split(h.logs.String(), "\n") {
			if strings.Contains(line, "msg=playback") && (strings.Contains(line, "/1080p/") || strings.Contains(line, "/720p/")) {
				t.Errorf("the player asked for a higher rendition: %s", line)
			}
		}
	})

	t.Run("ValidToken", func(t *testing.T) {
		events := e.play(t, url(h.sign(token.Claims{})))
		evs := waitEvents(t, events, "fragments loaded", func(evs []playerEvent) bool { return count(evs, isFrag) >= 3 })
		if n := count(evs, func(e playerEvent) bool { return isError(e) && e.Fatal }); n > 0 {
			t.Errorf("fatal errors: %+v", evs)
		}
	})

	t.Run("BadToken", func(t *testing.T) {
		events := e.play(t, url(h.sign(token.Claims{})[:200]+"x"))
		waitEvents(t, events, "an error", func(evs []playerEvent) bool { return count(evs, isError) > 0 })
		time.Sleep(time.Second)
		evs := events()
		if count(evs, isFrag) > 0 {
			t.Errorf("fragments loaded with a bad token: %+v", evs)
		}
		if evs[0].Details != "manifestLoadError" || evs[0].Code != 403 {
			t.Errorf("first event %+v, want manifestLoadError 403", evs[0])
		}
	})

	t.Run("Revocation", func(t *testing.T) {
		events := e.play(t, url(h.sign(token.Claims{ViewerID: "mallory", ViewerSessionVersion: 3})))
		waitEvents(t, events, "playing", func(evs []playerEvent) bool { return count(evs, isFrag) >= 2 })
		h.state.revoke(h.private.String(), "mallory", 3)
		revokedAt := time.Now()
		evs := waitEvents(t, events, "refused after revocation", func(evs []playerEvent) bool {
			return count(evs, func(e playerEvent) bool { return isError(e) && e.Code == 403 }) > 0
		})
		t.Logf("the player was refused %v after the revocation", time.Since(revokedAt).Round(10*time.Millisecond))
		frags := count(evs, isFrag)
		time.Sleep(2 * time.Second)
		if after := count(events(), isFrag); after > frags {
			t.Errorf("%d fragments loaded after the refusal", after-frags)
		}
		// A new session of the same token is refused too.
		r := h.get(playbackPath(h.private) + "?token=" + h.sign(token.Claims{ViewerID: "mallory", ViewerSessionVersion: 3}))
		wantRefused(t, r, 403, ivsAuthError, CodeRevoked)
	})
}
