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

// Every URL of a live session is the same in every reload (hls.js stops playing when a
// segment's path changes between reloads) and works while the session is in use; a session
// idle for CredentialLifetime closes, and no use outlives SessionLifetime.
func TestSessionCredentialsExpireAndRenew(t *testing.T) {
	clock := &testClock{t: time.Now()}
	h := newHarness(t, func(c *Config) { c.Now = clock.Now; c.CredentialLifetime = 2 * time.Minute })
	liveOrigin(h)
	// A single-use token that expires in a minute starts a session.
	mv := h.play(h.sign(token.Claims{SingleUseUUID: "u-renew", Exp: time.Now().Add(time.Minute).Unix()}))
	variant := find(t, mv.body, "360p/index.m3u8")
	first := h.get(variant).body
	seg := find(t, first, "seg1.m4s")
	if r := h.get(seg); r.StatusCode != 200 {
		t.Fatalf("segment: %s", r.Status)
	}

	clock.Add(time.Minute)
	if r := h.get(variant); r.StatusCode != 200 || r.body != first {
		t.Fatalf("reload: %s, same playlist %v:\n%s\nthen\n%s", r.Status, r.body == first, first, r.body)
	}
	// Past the credentials' own expiry, the session is open: it was used a minute ago.
	clock.Add(time.Minute + time.Second)
	if r := h.get(seg); r.StatusCode != 200 {
		t.Fatalf("segment of an open session past its credential's expiry: %s %s", r.Status, r.body)
	}
	// Idle for the lifetime, it closes: segment and playlist URLs alike.
	clock.Add(2*time.Minute + time.Second)
	wantRefused(t, h.get(seg), 403, ivsAuthError, CodeSessionExpired)
	wantRefused(t, h.get(variant), 403, ivsAuthError, CodeSessionExpired)

	// A session in use ends after SessionLifetime all the same.
	mv = h.play(h.sign(token.Claims{Exp: clock.Now().Add(time.Hour).Unix()}))
	variant = find(t, mv.body, "360p/index.m3u8")
	started := clock.Now()
	for range 24*60 + 1 {
		if r := h.get(variant); r.StatusCode != 200 {
			wantRefused(t, r, 403, ivsAuthError, CodeSessionExpired)
			if d := clock.Now().Sub(started); d < 24*time.Hour-time.Minute {
				t.Errorf("a session in use ended after %v, before SessionLifetime", d)
			}
			return
		}
		clock.Add(time.Minute)
	}
	t.Fatal("a session reloaded every minute outlived SessionLifetime")
}

// A playlist URL is a credential like the others: it plays while its viewer keeps
// reloading it (hls.js and Safari reload the same URL for the whole session), and stops
// working CredentialLifetime after the session was last used, wherever it leaked.
func TestPlaylistURLsCloseWithTheirSession(t *testing.T) {
	clock := &testClock{t: time.Now()}
	h := newHarness(t, func(c *Config) { c.Now = clock.Now; c.CredentialLifetime = 2 * time.Minute })
	liveOrigin(h)
	mv := h.play(h.sign(token.Claims{}))
	v360, v720, audio := find(t, mv.body, "360p/index.m3u8"), find(t, mv.body, "720p/index.m3u8"), find(t, mv.body, "audio/index.m3u8")

	// The viewer plays for ten minutes, five credential lifetimes, reloading every 30 s.
	for i := range 20 {
		r := h.get(v360)
		if r.StatusCode != 200 {
			t.Fatalf("reload %d, %v into the session: %s %s", i, time.Duration(i)*30*time.Second, r.Status, r.body)
		}
		if s := h.get(find(t, r.body, "seg1.m4s")); s.StatusCode != 200 {
			t.Fatalf("segment of reload %d: %s %s", i, s.Status, s.body)
		}
		clock.Add(30 * time.Second)
	}
	// Switching rendition loads a playlist URL the multivariant playlist gave ten minutes
	// ago: the session is in use, so it plays.
	if r := h.get(v720); r.StatusCode != 200 {
		t.Fatalf("another rendition's playlist in an open session: %s %s", r.Status, r.body)
	}

	// The viewer stops. Within the lifetime the URLs still work (a player may pause
	// between reloads); past it, none of them does.
	clock.Add(2*time.Minute - time.Second)
	if r := h.get(audio); r.StatusCode != 200 {
		t.Fatalf("audio playlist just within the lifetime: %s %s", r.Status, r.body)
	}
	clock.Add(2*time.Minute + time.Second)
	for _, u := range []string{v360, v720, audio} {
		wantRefused(t, h.get(u), 403, ivsAuthError, CodeSessionExpired)
	}
	// A fresh session of another viewer is not affected.
	mv = h.play(h.sign(token.Claims{Exp: clock.Now().Add(time.Hour).Unix()}))
	if r := h.get(find(t, mv.body, "360p/index.m3u8")); r.StatusCode != 200 {
		t.Fatalf("a new session: %s %s", r.Status, r.body)
	}
}

// A VOD-like playlist is loaded once: its segments' credentials last the session, and
// fetching them keeps the session open, so a viewer who pauses for an hour and plays on
// can still switch rendition; a leaked playlist URL of an idle VOD session does not play.
func TestVODSegmentsLastTheSession(t *testing.T) {
	clock := &testClock{t: time.Now()}
	h := newHarness(t, func(c *Config) { c.Now = clock.Now; c.CredentialLifetime = 2 * time.Minute })
	mv := h.play(h.sign(token.Claims{}))
	vod := h.get(find(t, mv.body, "360p/index.m3u8")) // ends with EXT-X-ENDLIST
	seg := find(t, vod.body, "seg2.m4s")
	v720 := find(t, mv.body, "720p/index.m3u8")
	clock.Add(time.Hour)
	wantRefused(t, h.get(v720), 403, ivsAuthError, CodeSessionExpired)
	if r := h.get(seg); r.StatusCode != 200 {
		t.Fatalf("a VOD playlist's segment an hour later: %s %s", r.Status, r.body)
	}
	if r := h.get(v720); r.StatusCode != 200 {
		t.Fatalf("another rendition after playing on: %s %s", r.Status, r.body)
	}
}

func TestOpenSessionsBounded(t *testing.T) {
	o := newOpenSessions(3, time.Minute)
	id := func(n byte) [8]byte { return [8]byte{n} }
	for n := range byte(3) {
		if o.extend(id(n), nil, 160, 100) {
			t.Fatalf("session %d reported dropped", n)
		}
	}
	if !o.extend(id(3), nil, 160, 100) {
		t.Error("the first session past the bound was not reported")
	}
	if o.extend(id(4), nil, 160, 100) {
		t.Error("a second dropped session was reported again")
	}
	if o.isOpen(id(3), 101) || !o.isOpen(id(0), 101) || o.isOpen(id(0), 160) {
		t.Error("open: want the first three until 160, not the dropped one")
	}
	if o.extend(id(0), nil, 200, 101) || !o.isOpen(id(0), 199) {
		t.Error("a known session was not extended while the table is full")
	}
	// Once the first ones close, a sweep makes room.
	if o.extend(id(3), nil, 220, 161) || !o.isOpen(id(3), 219) {
		t.Error("a new session after the others closed was not remembered")
	}
	if n := o.len(); n != 2 {
		t.Errorf("%d sessions remembered, want 2 (0 and 3)", n)
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
