package gate

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// viewers fetches each path from its own concurrent client and returns the bodies, all wanted 200.
func (h *harness) viewers(paths []string) []string {
	h.t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: len(paths), MaxConnsPerHost: 200}}
	defer client.CloseIdleConnections()
	bodies := make([]string, len(paths))
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Go(func() {
			resp, err := client.Get(h.srv.URL + p)
			if err != nil {
				h.t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 {
				h.t.Errorf("%s: %s %v", quotePath(p), resp.Status, err)
			}
			bodies[i] = string(b)
		})
	}
	wg.Wait()
	return bodies
}

func (h *harness) originCount(suffix string) int {
	n := 0
	for _, p := range h.originPaths() {
		if strings.HasSuffix(p, suffix) {
			n++
		}
	}
	return n
}

func TestViewersShareOriginPlaylists(t *testing.T) {
	const viewers = 1000
	clock := &testClock{t: time.Now()}
	// The rewrite slots are not under test: a generous wait keeps a busy machine from 503s.
	h := newHarness(t, func(c *Config) { c.Now = clock.Now; c.RewriteWait = time.Minute })
	var version atomic.Int64
	version.Store(1)
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/360p/index.m3u8") {
			return false
		}
		v := version.Load()
		// A live playlist with a 2 s target: the gate may reuse it for 1 s.
		fmt.Fprintf(w, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:%d\n#EXTINF:2.000,\nseg%d.m4s\n", v, v)
		return true
	})

	// A thousand viewers start at once: one read of the multivariant playlist.
	starts := h.viewers(repeat(playbackPath(h.public), viewers))
	if n := h.originCount("/publCHAN0001/index.m3u8"); n != 1 {
		t.Errorf("%d viewers starting read the multivariant playlist %d times", viewers, n)
	}
	variants := make([]string, viewers)
	for i, b := range starts {
		variants[i] = find(t, b, "360p/index.m3u8")
	}
	if variants[0] == variants[1] {
		t.Fatal("two viewers got the same session URL")
	}
	reload := func() []string { return h.viewers(variants) }
	for _, b := range reload() {
		if !strings.Contains(b, "seg1.m4s") {
			t.Fatalf("media playlist:\n%s", b)
		}
	}
	if n := h.originCount("/360p/index.m3u8"); n != 1 {
		t.Errorf("%d viewers loading the media playlist: %d origin reads", viewers, n)
	}

	// The origin's playlist changes. Within the reuse interval the viewers still get the
	// one read; once it has passed, the next reloads share one new read and see the change.
	version.Store(2)
	clock.Add(999 * time.Millisecond)
	for _, b := range reload() {
		if !strings.Contains(b, "seg1.m4s") {
			t.Fatalf("within the interval:\n%s", b)
		}
	}
	clock.Add(time.Millisecond)
	for _, b := range reload() {
		if !strings.Contains(b, "seg2.m4s") {
			t.Fatalf("after the interval the change is not seen:\n%s", b)
		}
	}
	if n := h.originCount("/360p/index.m3u8"); n != 2 {
		t.Errorf("two intervals of %d viewers: %d origin reads, want 2", viewers, n)
	}
	m := h.gate.Metrics()
	if m.PlaylistFetches != 3 || m.PlaylistReuses < 3*viewers {
		t.Errorf("metrics: %d fetches, %d reuses", m.PlaylistFetches, m.PlaylistReuses)
	}
}

func TestBlockingReloadsCoalesceByParameters(t *testing.T) {
	clock := &testClock{t: time.Now()}
	h := newHarness(t, func(c *Config) { c.Now = clock.Now; c.RewriteWait = time.Minute })
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/360p/index.m3u8") {
			return false
		}
		msn := r.URL.Query().Get("_HLS_msn")
		fmt.Fprintf(w, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PART-INF:PART-TARGET=0.5\n#EXTINF:2.000,\nseg%s.m4s\n", msn)
		return true
	})
	variant := find(t, h.get(playbackPath(h.public)).body, "360p/index.m3u8")
	var paths []string
	for range 50 {
		paths = append(paths, variant+"?_HLS_msn=5&_HLS_part=1", variant+"?_HLS_msn=6&_HLS_part=0")
	}
	for i, b := range h.viewers(paths) {
		want := []string{"seg5.m4s", "seg6.m4s"}[i%2]
		if !strings.Contains(b, want) {
			t.Fatalf("%s: got\n%s", paths[i%2], b)
		}
	}
	if n := h.originCount("/360p/index.m3u8"); n != 2 {
		t.Errorf("100 blocking reloads of two kinds: %d origin reads, want 2", n)
	}
}

func TestPlaylistReuseFollowsTheOrigin(t *testing.T) {
	g := &Gate{cfg: Config{PlaylistReuse: time.Second}}
	live := []byte("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\na.ts\n")
	ll := []byte("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PART-INF:PART-TARGET=1.002\n#EXTINF:4,\na.ts\n")
	vod := []byte("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\na.ts\n#EXT-X-ENDLIST\n")
	for _, c := range []struct {
		body []byte
		cc   string
		age  time.Duration
		want time.Duration
	}{
		{live, "", 0, 3 * time.Second},
		{live, "max-age=2", 0, 2 * time.Second},
		{live, "max-age=2", 2 * time.Second, 0},
		{live, "public, s-maxage=1, max-age=10", 0, time.Second},
		{live, "no-cache", 0, 0},
		{live, "no-store", 0, 0},
		{live, "private, max-age=5", 0, 0},
		{live, "max-age=x", 0, 0},
		{ll, "", 0, 501 * time.Millisecond},
		{vod, "", 0, time.Second},
		{[]byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n"), "max-age=60", 0, time.Second},
	} {
		if got := g.reuseFor(c.body, c.cc, c.age); got != c.want && !(c.want == 0 && got <= 0) {
			t.Errorf("%q with %q, age %v: reused for %v, want %v", c.body, c.cc, c.age, got, c.want)
		}
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func FuzzPlaylistReuse(f *testing.F) {
	f.Add([]byte("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-PART-INF:PART-TARGET=1.0\n"), "public, s-maxage=2, max-age=10", int64(1))
	f.Add([]byte("#EXTM3U\n#EXT-X-TARGETDURATION:1e9\n"), `max-age="5", no-cache`, int64(0))
	g := &Gate{cfg: Config{PlaylistReuse: time.Second}}
	f.Fuzz(func(t *testing.T, body []byte, cc string, ageSeconds int64) {
		age := time.Duration(min(max(ageSeconds, 0), 3600)) * time.Second
		d := g.reuseFor(body, cc, age)
		if d > 1800*time.Second {
			t.Errorf("reused for %v", d)
		}
		if maxAge, ok := allowedAge(cc); ok && d > maxAge-age {
			t.Errorf("reused for %v, past the origin's %v (age %v)", d, maxAge, age)
		}
	})
}

// TestRenderIsTheRewrite checks a session's playlist rendered from a shared template
// against rewriting the origin's playlist URI by URI for that session.
func TestRenderIsTheRewrite(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	g := &Gate{cfg: Config{MaxRewrittenBytes: 8 << 20, CredentialLifetime: time.Minute}, sign: newSigner([]byte("k")), now: func() time.Time { return now }}
	co, err := originTemplate("http://o.example/{channel}/index.m3u8").channel("us-west-2", "123456789012", "abcDEF123456")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"index.m3u8", "360p/index.m3u8"} {
		body, err := os.ReadFile("testdata/hls/" + file)
		if err != nil {
			t.Fatal(err)
		}
		from, _ := co.url(file, "")
		for _, maxHeight := range []int{0, 480, 720} {
			sess := &session{ID: [8]byte{1}, End: now.Add(time.Hour).Unix(), Region: "us-west-2", Account: "123456789012", ChannelID: "abcDEF123456", MaxHeight: maxHeight}
			playlists, resources := g.credentials(sess, isFinalPlaylist(body))
			want, _, err := rewritePlaylist(body, maxHeight, func(ref string) (string, error) {
				rel, err := co.relative(from, ref)
				if err != nil {
					return ref, nil
				}
				enc := resources
				if p, _, _ := strings.Cut(rel, "?"); isPlaylistPath(p) {
					enc = playlists
				}
				return sessionPrefix + g.sign.credential(enc, rel) + "/" + rel, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			e := &cachedPlaylist{body: body, templates: make(map[templateKey]compiled)}
			for range 2 { // parsed, then from the template
				got, f := g.rewrite(e, sess, co, from)
				if f != nil {
					t.Fatalf("%s at %d: %s", file, maxHeight, f.reason)
				}
				if string(got) != string(want) {
					t.Errorf("%s at %d lines:\n%s\nwant\n%s", file, maxHeight, got, want)
				}
			}
		}
	}
}
