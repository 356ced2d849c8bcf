package gate

import (
	"fmt"
	"net/http"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/playkey/playkey/token"
)

// liveFrom serves the renditions of an ffmpeg VOD stream (one-second segments
// seg000.ts... seg019.ts) as a live stream that starts at the first playlist request: a
// sliding window of the segments published so far, EXT-X-ENDLIST after the last one.
func liveFrom(dir string) func(w http.ResponseWriter, r *http.Request) bool {
	files := http.FileServer(http.Dir(dir))
	var once sync.Once
	var start time.Time
	return func(w http.ResponseWriter, r *http.Request) bool {
		// /{channel}/{rendition}/index.m3u8; the multivariant playlist and segments are files.
		if path.Base(r.URL.Path) != "index.m3u8" || strings.Count(r.URL.Path, "/") != 3 {
			files.ServeHTTP(w, r)
			return true
		}
		once.Do(func() { start = time.Now() })
		last := min(int(time.Since(start)/time.Second)+3, 19)
		first := max(0, last-5)
		var b strings.Builder
		fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:%d\n", first)
		for i := first; i <= last; i++ {
			fmt.Fprintf(&b, "#EXTINF:1.000000,\nseg%03d.ts\n", i)
		}
		if last == 19 {
			b.WriteString("#EXT-X-ENDLIST\n")
		}
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write([]byte(b.String()))
		return true
	}
}

// TestPlayerKeepsPlayingLive plays a live stream for more than five credential lifetimes:
// hls.js reloads the same media playlist URL every second and never sees a refusal. Once
// the player has stopped, that URL stops working a lifetime later.
func TestPlayerKeepsPlayingLive(t *testing.T) {
	if testing.Short() {
		t.Skip("plays video in a browser")
	}
	const lifetime = 3 * time.Second
	e := newPlayerEnv(t, func(c *Config) { c.CredentialLifetime = lifetime })
	h := e.h
	h.setOriginHook(liveFrom(e.dir))
	events := e.play(t, h.srv.URL+playbackPath(h.private)+"?token="+h.sign(token.Claims{}))

	// The stream lasts 17 s from its first playlist request; failAfter*3 only bounds a hang.
	deadline := time.Now().Add(3 * failAfter)
	var evs []playerEvent
	for {
		evs = events()
		if count(evs, func(e playerEvent) bool { return isFrag(e) && e.SN == 19 }) > 0 {
			break
		}
		if count(evs, func(e playerEvent) bool { return isError(e) && (e.Fatal || e.Code == 403) }) > 0 || time.Now().After(deadline) {
			t.Fatalf("the live stream did not play to its end: %+v", evs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := count(evs, func(e playerEvent) bool { return isError(e) && e.Code >= 400 }); n > 0 {
		t.Errorf("%d refused requests while playing: %+v", n, evs)
	}
	// hls.js reloads the URL the multivariant playlist gave it, the same one every time.
	loads := map[string]int{}
	urls := map[int]map[string]bool{}
	for _, ev := range evs {
		if ev.T != "level" {
			continue
		}
		loads[ev.URL]++
		if urls[ev.Level] == nil {
			urls[ev.Level] = map[string]bool{}
		}
		urls[ev.Level][ev.URL] = true
	}
	reloaded, most := "", 0
	for u, n := range loads {
		if n > most {
			reloaded, most = u, n
		}
	}
	if most < 8 {
		t.Fatalf("the most reloaded media playlist was loaded %d times, want 8 or more: %+v", most, evs)
	}
	for level, set := range urls {
		if len(set) != 1 {
			t.Errorf("level %d was loaded from %d URLs", level, len(set))
		}
	}
	t.Logf("played 17 s of live stream with %v credentials; its media playlist URL loaded %d times", lifetime, most)

	// The stream has ended: the player asks for nothing more. A lifetime later, the URL it
	// reloaded is refused.
	time.Sleep(lifetime + 2*time.Second)
	rel, ok := strings.CutPrefix(reloaded, h.srv.URL)
	if !ok {
		t.Fatalf("level URL %q is not the gate's", reloaded)
	}
	wantRefused(t, h.get(rel), 403, ivsAuthError, CodeSessionExpired)
}
