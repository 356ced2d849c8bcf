package gate

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/playkey/playkey/token"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// liveOrigin makes the fixture's 360p playlist a live one: no EXT-X-ENDLIST.
func liveOrigin(h *harness) {
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/360p/index.m3u8") {
			return false
		}
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		w.Write([]byte("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:2.000,\nseg0.m4s\n#EXTINF:2.000,\nseg1.m4s\n"))
		return true
	})
}

func TestSessionCredentialsExpireAndRenew(t *testing.T) {
	clock := &testClock{t: time.Now()}
	h := newHarness(t, func(c *Config) { c.Now = clock.Now; c.CredentialLifetime = 2 * time.Minute })
	liveOrigin(h)
	// A single-use token that expires in a minute starts a session.
	mv := h.play(h.sign(token.Claims{SingleUseUUID: "u-renew", Exp: time.Now().Add(time.Minute).Unix()}))
	variant := find(t, mv.body, "360p/index.m3u8")
	seg := find(t, h.get(variant).body, "seg1.m4s")
	if r := h.get(seg); r.StatusCode != 200 {
		t.Fatalf("segment: %s", r.Status)
	}

	clock.Add(2*time.Minute + time.Second)
	wantRefused(t, h.get(seg), 403, ivsAuthError, CodeSessionExpired)
	// The player reloads its media playlist: the same URL, new segment credentials.
	reloaded := h.get(variant)
	if reloaded.StatusCode != 200 {
		t.Fatalf("reload after the segment credentials expired: %s %s", reloaded.Status, reloaded.body)
	}
	seg2 := find(t, reloaded.body, "seg1.m4s")
	if r := h.get(seg2); r.StatusCode != 200 {
		t.Fatalf("renewed segment: %s %s", r.Status, r.body)
	}

	// The session itself ends after SessionLifetime, reloads or not.
	clock.Add(24 * time.Hour)
	wantRefused(t, h.get(variant), 403, ivsAuthError, CodeSessionExpired)
}

func TestVODSegmentsLastTheSession(t *testing.T) {
	clock := &testClock{t: time.Now()}
	h := newHarness(t, func(c *Config) { c.Now = clock.Now; c.CredentialLifetime = 2 * time.Minute })
	mv := h.play(h.sign(token.Claims{}))
	vod := h.get(find(t, mv.body, "360p/index.m3u8")) // ends with EXT-X-ENDLIST
	seg := find(t, vod.body, "seg2.m4s")
	clock.Add(time.Hour)
	if r := h.get(seg); r.StatusCode != 200 {
		t.Fatalf("a VOD playlist's segment an hour later: %s %s", r.Status, r.body)
	}
}

func TestSessionBind(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.SessionBindIPv4 = 24; c.SessionBindIPv6 = 56; c.ClientIPHeader = "X-Real-IP" })
	mv := h.play(h.sign(token.Claims{}), "X-Real-IP", "198.51.100.7")
	variant := find(t, mv.body, "360p/index.m3u8")
	if r := h.get(variant, "X-Real-IP", "198.51.100.200"); r.StatusCode != 200 {
		t.Fatalf("same /24: %s %s", r.Status, r.body)
	}
	wantRefused(t, h.get(variant, "X-Real-IP", "198.51.101.7"), 403, ivsAuthError, CodeSessionElsewhere)
	wantRefused(t, h.get(variant, "X-Real-IP", "2001:db8::1"), 403, ivsAuthError, CodeSessionElsewhere)

	// Unbound (the default), the same URL plays from anywhere.
	h2 := newHarness(t, func(c *Config) { c.ClientIPHeader = "X-Real-IP" })
	mv = h2.play(h2.sign(token.Claims{}), "X-Real-IP", "198.51.100.7")
	if r := h2.get(find(t, mv.body, "360p/index.m3u8"), "X-Real-IP", "203.0.113.1"); r.StatusCode != 200 {
		t.Fatalf("unbound: %s", r.Status)
	}
}
