package gate

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/token"
)

// recordedViewers is a fake store's RecordViewers.
type recordedViewers struct {
	mu      sync.Mutex
	batches [][]playkey.ViewerSighting
	fail    error
}

func (r *recordedViewers) record(_ context.Context, batch []playkey.ViewerSighting) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.batches = append(r.batches, slices.Clone(batch))
	return nil
}

func (r *recordedViewers) all() []playkey.ViewerSighting {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []playkey.ViewerSighting
	for _, b := range r.batches {
		out = append(out, b...)
	}
	return out
}

func TestViewerReporterThrottles(t *testing.T) {
	ctx := context.Background()
	rec := &recordedViewers{}
	v := NewViewerReporter(rec.record, nil)
	a := playkey.ARN{Region: "us-west-2", Account: "123456789012", Type: playkey.TypeChannel, ID: "a"}
	b := playkey.ARN{Region: "us-west-2", Account: "123456789012", Type: playkey.TypeChannel, ID: "b"}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	// A session's requests within the interval make one sighting; another session or
	// channel makes its own.
	for i := range 10 {
		v.SessionSeen(a, "s1", t0.Add(time.Duration(i)*time.Second))
	}
	v.SessionSeen(a, "s2", t0)
	v.SessionSeen(b, "s1", t0)
	if err := v.Flush(ctx, t0.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := rec.all(); len(got) != 3 || got[0] != (playkey.ViewerSighting{Channel: a, Session: "s1", At: t0}) {
		t.Fatalf("first batch = %+v, want one sighting each of a/s1, a/s2, b/s1", got)
	}
	// Past the interval, the same session is reported again; an empty flush writes nothing.
	v.SessionSeen(a, "s1", t0.Add(14*time.Second))
	if err := v.Flush(ctx, t0.Add(14*time.Second)); err != nil {
		t.Fatal(err)
	}
	v.SessionSeen(a, "s1", t0.Add(playkey.ViewerReportInterval))
	if err := v.Flush(ctx, t0.Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.batches); n != 2 {
		t.Fatalf("%d batches written, want 2", n)
	}
	if got := rec.batches[1]; len(got) != 1 || !got[0].At.Equal(t0.Add(playkey.ViewerReportInterval)) {
		t.Errorf("second batch = %+v", got)
	}

	// A failing store loses that batch, and the next sighting queues the session again.
	rec.fail = errors.New("store down")
	v.SessionSeen(b, "s9", t0.Add(30*time.Second))
	if err := v.Flush(ctx, t0.Add(31*time.Second)); err == nil {
		t.Error("Flush hid the store's failure")
	}
	rec.fail = nil
	v.SessionSeen(b, "s9", t0.Add(32*time.Second))
	if err := v.Flush(ctx, t0.Add(50*time.Second)); err != nil {
		t.Fatal(err)
	}
	// The lost sighting still throttles s9 (queued at 30 s, so not again at 32 s) until
	// the interval has passed: then it is queued again.
	v.SessionSeen(b, "s9", t0.Add(51*time.Second))
	if err := v.Flush(ctx, t0.Add(51*time.Second)); err != nil {
		t.Fatal(err)
	}
	if last := rec.batches[len(rec.batches)-1]; len(last) != 1 || last[0].Session != "s9" {
		t.Errorf("last batch = %+v, want s9 again", last)
	}
}

func TestViewerReporterBounded(t *testing.T) {
	rec := &recordedViewers{}
	v := NewViewerReporter(rec.record, nil)
	ch := playkey.ARN{Region: "us-west-2", Account: "123456789012", Type: playkey.TypeChannel, ID: "a"}
	t0 := time.Now()
	for i := range maxTrackedViewers + 10 {
		v.SessionSeen(ch, strconv.Itoa(i), t0)
	}
	if len(v.pending) != maxTrackedViewers || v.dropped != 10 {
		t.Fatalf("%d queued and %d dropped, want %d and 10", len(v.pending), v.dropped, maxTrackedViewers)
	}
	if err := v.Flush(context.Background(), t0.Add(playkey.ViewerReportInterval)); err != nil {
		t.Fatal(err)
	}
	if len(v.reported) != 0 || len(v.pending) != 0 || v.dropped != 0 {
		t.Errorf("after the flush: %d remembered, %d queued, %d dropped", len(v.reported), len(v.pending), v.dropped)
	}
}

// fakeViewers records what the gate reports.
type fakeViewers struct {
	mu   sync.Mutex
	seen map[string][]playkey.ARN
}

func (f *fakeViewers) SessionSeen(channel playkey.ARN, session string, _ time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen = map[string][]playkey.ARN{}
	}
	f.seen[session] = append(f.seen[session], channel)
}

func TestGateReportsViewers(t *testing.T) {
	fv := &fakeViewers{}
	h := newHarness(t, func(c *Config) { c.Viewers = fv })
	mv := h.play(h.sign(token.Claims{}))
	variant := find(t, mv.body, "720p/index.m3u8")
	if r := h.get(variant); r.StatusCode != http.StatusOK {
		t.Fatalf("variant: %s", r.Status)
	}
	if r := h.get(playbackPath(h.public)); r.StatusCode != http.StatusOK {
		t.Fatalf("public channel: %s", r.Status)
	}
	// Refused requests are no viewers.
	h.get(playbackPath(h.private) + "?token=bad")

	fv.mu.Lock()
	defer fv.mu.Unlock()
	if len(fv.seen) != 2 {
		t.Fatalf("sessions seen: %v, want the private one and the public one", fv.seen)
	}
	for id, chs := range fv.seen {
		switch {
		case len(chs) == 2 && chs[0] == h.private && chs[1] == h.private:
		case len(chs) == 1 && chs[0] == h.public:
		default:
			t.Errorf("session %s seen on %v", id, chs)
		}
	}
}
