package gate

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestAnonymousFloodIsBounded sends what an anonymous attacker can: huge playback paths,
// tens of thousands of well-formed paths of channels that do not exist, huge session
// paths and bad tokens, each different, and checks that neither the heap nor the log keeps
// what they sent.
func TestAnonymousFloodIsBounded(t *testing.T) {
	var logged countingWriter
	h := newHarness(t, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&logged, nil)) })
	before := heapInUse()
	long := strings.Repeat("a", 60_000)
	n := 0
	// Each request must be refused; whether as a missing thing or a bad session is not
	// the point here.
	send := func(p string, wantStatus int) {
		t.Helper()
		n++
		if rec := httptestGet(h.gate, p); rec.Code != wantStatus && rec.Code != http.StatusNotFound {
			t.Fatalf("%.80s...: %d, want %d: %.300s", p, rec.Code, wantStatus, rec.Body)
		}
	}
	for i := range 400 {
		send(fmt.Sprintf("/api/video/v1/%s%d.000000000000.channel.x.m3u8", long, i), http.StatusNotFound)
		send(fmt.Sprintf("/api/video/v1/us-west-2.123456789012.channel.%s%d.m3u8", long, i), http.StatusNotFound)
		send(fmt.Sprintf("/api/video/v1/s/%s%d/x.ts", long, i), http.StatusForbidden)
		send(fmt.Sprintf("/nothing/%s%d", long, i), http.StatusNotFound)
	}
	for i := range 25_000 {
		send(fmt.Sprintf("/api/video/v1/us-west-2.%012d.channel.A%011d.m3u8", i%7, i), http.StatusNotFound)
	}
	for i := range 5_000 {
		// Refused as malformed, or by the failure limiter: either way, nothing may stay.
		p := playbackPath(h.private) + fmt.Sprintf("?token=%s%d", strings.Repeat("x", 7000), i)
		n++
		if rec := httptestGet(h.gate, p); rec.Code != http.StatusForbidden && rec.Code != http.StatusTooManyRequests {
			t.Fatalf("bad token: %d", rec.Code)
		}
	}
	after := heapInUse()
	grew := int64(after) - int64(before)
	logBytes := int(logged.n.Load())
	t.Logf("%d requests: heap %d -> %d bytes (%+.1f MB), log %d bytes (%d per request)", n, before, after, float64(grew)/(1<<20), logBytes, logBytes/n)
	if grew > 24<<20 {
		t.Errorf("the heap grew by %.1f MB and kept it; the bound is 24 MB", float64(grew)/(1<<20))
	}
	if logBytes/n > 600 {
		t.Errorf("%d log bytes per request; a log line must bound what it quotes", logBytes/n)
	}
}

// countingWriter counts what is written to it and keeps none of it.
type countingWriter struct{ n atomic.Int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return len(p), nil
}
