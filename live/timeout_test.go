package live_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/live"
	"github.com/playkey/playkey/sqlite"
	"github.com/playkey/playkey/storetest"
)

// TestEndTimedOut: a stream whose ingest stopped reporting is ended at its last report with
// Stream Failure (IngestLost), Stream End and Session Ended, once; a live stream is left.
func TestEndTimedOut(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "playkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	scope := playkey.Scope{Account: "000000000000", Region: "us-west-2"}
	var gone, stillLive *playkey.Stream
	for i, seen := range []time.Time{time.Now().Add(-playkey.StreamTimeout - time.Minute), time.Now()} {
		ch := storetest.NewChannel(scope)
		if err := s.CreateChannel(ctx, ch, nil); err != nil {
			t.Fatal(err)
		}
		st := storetest.NewStream(ch.ARN)
		st.SeenAt = seen
		if err := s.StartStream(ctx, st); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			gone = st
		} else {
			stillLive = st
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if n := live.EndTimedOut(ctx, s, log); n != 1 {
		t.Fatalf("ended %d streams, want 1", n)
	}
	if n := live.EndTimedOut(ctx, s, log); n != 0 {
		t.Errorf("a second pass ended %d streams, want none", n)
	}
	ss, err := s.StreamSession(ctx, gone.Channel, gone.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ss.Events {
		names = append(names, e.Name+"/"+e.Code)
	}
	// A session keeps its events newest first.
	if len(names) != 3 || names[0] != "Session Ended/" || names[1] != "Stream End/" || names[2] != "Stream Failure/IngestLost" {
		t.Errorf("events, newest first: %v", names)
	}
	if ss.EndTime.Sub(gone.SeenAt).Abs() >= time.Millisecond || !ss.HasErrorEvent {
		t.Errorf("session ends at %v (last report %v), error event %v", ss.EndTime, gone.SeenAt, ss.HasErrorEvent)
	}
	if _, err := s.LiveStream(ctx, stillLive.Channel); err != nil {
		t.Errorf("the live stream: %v", err)
	}
}
