package gate

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/playkey/playkey"
)

func TestRewrittenPlaylistIsBounded(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxRewrittenBytes = 2 << 20 })
	// 1.5 MB of short segment names: each grows by a credential of about 150 bytes.
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-TARGETDURATION:2\n")
	for i := 0; b.Len() < 1500_000; i++ {
		b.WriteString("#EXTINF:2,\ns.ts\n")
	}
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/360p/index.m3u8") {
			w.Write([]byte(b.String()))
			return true
		}
		return false
	})
	variant := find(t, h.get(playbackPath(h.public)).body, "360p/index.m3u8")
	r := h.get(variant)
	wantRefused(t, r, http.StatusBadGateway, "", CodeOriginError)
	if len(r.body) > 1000 {
		t.Errorf("a %d-byte refusal", len(r.body))
	}
}

func TestConcurrentRewritesAreBounded(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxConcurrentRewrites = 2; c.RewriteWait = 100 * time.Millisecond })
	release := make(chan struct{})
	var arrived sync.WaitGroup
	arrived.Add(2)
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/index.m3u8") && strings.Count(r.URL.Path, "/") == 2 {
			arrived.Done()
			<-release
		}
		return false
	})
	// Requests for one playlist share one origin read: two channels take two slots.
	other := h.public
	other.ID = "publCHAN0002"
	h.state.setChannel(other, Channel{})
	var wg sync.WaitGroup
	for _, arn := range []playkey.ARN{h.public, other} {
		wg.Go(func() {
			if r := h.get(playbackPath(arn)); r.StatusCode != 200 {
				t.Errorf("a rewrite in a slot: %s", r.Status)
			}
		})
	}
	arrived.Wait() // both slots are taken, each waiting for the origin
	third := h.public
	third.ID = "publCHAN0003"
	h.state.setChannel(third, Channel{})
	r := h.get(playbackPath(third))
	wantRefused(t, r, http.StatusServiceUnavailable, "", CodeBusy)
	if r.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	close(release)
	wg.Wait()
	h.setOriginHook(nil)
	if r := h.get(playbackPath(h.public)); r.StatusCode != 200 {
		t.Errorf("once the slots are free: %s", r.Status)
	}
}
