package gate

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestProbes: /livez answers while the process serves; /readyz says why new viewers
// cannot be admitted: the store does not answer, or the revocations are stale.
func TestProbes(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	h := newHarness(t, func(c *Config) {
		c.RevocationStaleAfter = 300 * time.Millisecond
		c.Ping = func(context.Context) error {
			if down.Load() {
				return errors.New("dial tcp db.internal:5432: connection refused")
			}
			return nil
		}
	})
	want := func(path string, status int, body string) {
		t.Helper()
		r := h.get(path)
		if r.StatusCode != status || r.body != body {
			t.Errorf("GET %s: %d %q, want %d %q", path, r.StatusCode, r.body, status, body)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: Cache-Control %q", path, r.Header.Get("Cache-Control"))
		}
	}
	want("/livez", 200, "ok\n")
	want("/readyz", 200, "ok\n")

	down.Store(true)
	want("/readyz", 503, "store unavailable\n") // not the error, which names the host
	want("/livez", 200, "ok\n")
	down.Store(false)
	want("/readyz", 200, "ok\n")

	h.state.setBroken(true)
	eventually(t, "readyz 503 once revocations are stale", func() bool { return h.get("/readyz").StatusCode == 503 })
	want("/readyz", 503, "revocations not read recently\n")
	want("/livez", 200, "ok\n")
	h.state.setBroken(false)
	eventually(t, "ready again", func() bool { return h.get("/readyz").StatusCode == 200 })
}
