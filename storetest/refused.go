package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/playkey/playkey"
)

// refusedSession is what an ingest records of a publish refused before it went live.
func refusedSession(at time.Time, code string) *playkey.StreamSession {
	return &playkey.StreamSession{ID: playkey.NewStreamID(), StartTime: at, EndTime: at, Events: []playkey.StreamEvent{
		{Name: playkey.EventSessionCreated, Type: playkey.EventTypeStateChange, Time: at},
		{Name: playkey.EventStreamFailure, Type: playkey.EventTypeStateChange, Code: code, Time: at},
		{Name: playkey.EventSessionEnded, Type: playkey.EventTypeStateChange, Time: at},
	}}
}

var refusedStreamTests = []test{
	{"RecordedEndedNeverLive", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		ch := NewChannel(scopeA)
		createChannel(t, s, ch)
		at := time.Now().Add(-time.Second)
		ref := refusedSession(at, "UnsupportedInput")
		if err := s.RecordRefusedStream(ctx, ch.ARN, ref); err != nil {
			t.Fatalf("RecordRefusedStream: %v", err)
		}
		ss := session(t, s, ch.ARN, "")
		if ss.ID != ref.ID || ss.EndTime.IsZero() || ss.EndTime.Sub(at).Abs() >= time.Millisecond || !ss.HasErrorEvent {
			t.Errorf("latest session = %s from %v to %v (error %v), want the refused %s, ended at %v with an error", ss.ID, ss.StartTime, ss.EndTime, ss.HasErrorEvent, ref.ID, at)
		}
		if got := eventNames(ss.Events); !slices.Equal(got, []string{playkey.EventSessionEnded, playkey.EventStreamFailure, playkey.EventSessionCreated}) {
			t.Errorf("events = %v", got)
		}
		if ss.Events[1].Code != "UnsupportedInput" {
			t.Errorf("failure code %q", ss.Events[1].Code)
		}
		sameChannel(t, "the refused session's channel", ss.Channel, ch)
		_, err := s.LiveStream(ctx, ch.ARN)
		wantCode(t, err, playkey.ErrChannelNotBroadcasting, "LiveStream after a refusal")
		if list := liveStreams(t, s, scopeA, playkey.StreamFilter{}, playkey.Page{}); len(list) != 0 {
			t.Errorf("LiveStreams after a refusal: %d streams", len(list))
		}
		// It blocks no stream, and a live stream does not block it.
		st := NewStream(ch.ARN)
		if err := s.StartStream(ctx, st, startEvents(st.StartTime)...); err != nil {
			t.Fatalf("StartStream after a refusal: %v", err)
		}
		during := refusedSession(time.Now(), "NoMedia")
		if err := s.RecordRefusedStream(ctx, ch.ARN, during); err != nil {
			t.Fatalf("RecordRefusedStream beside a live stream: %v", err)
		}
		sameStream(t, "the live stream after a refusal beside it", liveStream(t, s, ch.ARN), st)
		if got := sessionIDs(sessions(t, s, ch.ARN, playkey.Page{})); !slices.Equal(got, []string{during.ID, st.ID, ref.ID}) {
			t.Errorf("sessions = %v, want %v", got, []string{during.ID, st.ID, ref.ID})
		}
	}},

	{"Refusals", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		ch := NewChannel(scopeA)
		createChannel(t, s, ch)
		missing := NewChannel(scopeA)
		wantCode(t, s.RecordRefusedStream(ctx, missing.ARN, refusedSession(time.Now(), "x")), playkey.ErrResourceNotFound, "a missing channel")
		ref := refusedSession(time.Now(), "x")
		if err := s.RecordRefusedStream(ctx, ch.ARN, ref); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.RecordRefusedStream(ctx, ch.ARN, ref), playkey.ErrConflict, "a taken id")
		bad := refusedSession(time.Now(), "x")
		bad.ID = "st-short"
		wantCode(t, s.RecordRefusedStream(ctx, ch.ARN, bad), playkey.ErrValidation, "a malformed id")
		if err := s.DeleteChannel(ctx, ch.ARN); err != nil {
			t.Fatalf("DeleteChannel with a refused session: %v", err)
		}
	}},

	{"Pruned", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		ch, st := goLive(t, s, scopeA)
		end := time.Now()
		if err := s.EndStream(ctx, ch.ARN, st.ID, end); err != nil {
			t.Fatal(err)
		}
		base := end.Add(time.Second)
		var ids []string
		for i := range playkey.MaxRefusedSessions + 5 {
			ref := refusedSession(base.Add(time.Duration(i)*time.Millisecond), fmt.Sprint(i))
			if err := s.RecordRefusedStream(ctx, ch.ARN, ref); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, ref.ID)
		}
		slices.Reverse(ids)
		want := append(ids[:playkey.MaxRefusedSessions], st.ID) // the stream that went live stays
		if got := sessionIDs(sessions(t, s, ch.ARN, playkey.Page{})); !slices.Equal(got, want) {
			t.Errorf("sessions after %d refusals: %d, want the latest %d refused and the stream", playkey.MaxRefusedSessions+5, len(got), playkey.MaxRefusedSessions)
		}
	}},
}

var metadataTests = []test{
	{"QueuedForTheLiveStream", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		ch := NewChannel(scopeA)
		createChannel(t, s, ch)
		now := time.Now()
		wantCode(t, s.QueueMetadata(ctx, ch.ARN, "x", now), playkey.ErrChannelNotBroadcasting, "QueueMetadata offline")
		wantCode(t, s.QueueMetadata(ctx, NewChannel(scopeA).ARN, "x", now), playkey.ErrResourceNotFound, "QueueMetadata on a missing channel")
		st := NewStream(ch.ARN)
		if err := s.StartStream(ctx, st); err != nil {
			t.Fatal(err)
		}
		if got, err := s.PendingMetadata(ctx, ch.ARN, st.ID, 0); err != nil || len(got) != 0 {
			t.Fatalf("PendingMetadata before any = %v, %v", got, err)
		}
		for i, p := range []string{"one", `{"two": "é\n"}`} {
			if err := s.QueueMetadata(ctx, ch.ARN, p, now.Add(time.Duration(i)*time.Millisecond)); err != nil {
				t.Fatalf("QueueMetadata %d: %v", i, err)
			}
		}
		got, err := s.PendingMetadata(ctx, ch.ARN, st.ID, 0)
		if err != nil || len(got) != 2 || got[0].Payload != "one" || got[1].Payload != `{"two": "é\n"}` || got[1].Seq <= got[0].Seq ||
			got[0].At.Sub(now).Abs() >= time.Millisecond {
			t.Fatalf("PendingMetadata = %+v, %v", got, err)
		}
		if more, err := s.PendingMetadata(ctx, ch.ARN, st.ID, got[0].Seq); err != nil || len(more) != 1 || more[0] != got[1] {
			t.Errorf("PendingMetadata after the first = %+v, %v", more, err)
		}
		if more, err := s.PendingMetadata(ctx, ch.ARN, st.ID, got[1].Seq); err != nil || len(more) != 0 {
			t.Errorf("PendingMetadata after the last = %+v, %v", more, err)
		}
		// A later stream of the channel does not receive its predecessor's payloads.
		if err := s.EndStream(ctx, ch.ARN, st.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		next := NewStream(ch.ARN)
		if err := s.StartStream(ctx, next); err != nil {
			t.Fatal(err)
		}
		if more, err := s.PendingMetadata(ctx, ch.ARN, next.ID, 0); err != nil || len(more) != 0 {
			t.Errorf("PendingMetadata of the next stream = %+v, %v", more, err)
		}
	}},

	{"ThrottledPerChannel", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		ch, st := goLive(t, s, scopeA)
		other, _ := goLive(t, s, scopeA)
		at := time.Now()
		for i := range playkey.MetadataPerSecond {
			if err := s.QueueMetadata(ctx, ch.ARN, fmt.Sprint(i), at.Add(time.Duration(i)*10*time.Millisecond)); err != nil {
				t.Fatalf("QueueMetadata %d: %v", i, err)
			}
		}
		wantCode(t, s.QueueMetadata(ctx, ch.ARN, "over", at.Add(100*time.Millisecond)), playkey.ErrThrottling, "a sixth payload within a second")
		if err := s.QueueMetadata(ctx, other.ARN, "other", at.Add(100*time.Millisecond)); err != nil {
			t.Errorf("another channel's payload: %v", err)
		}
		if err := s.QueueMetadata(ctx, ch.ARN, "later", at.Add(time.Second+10*time.Millisecond)); err != nil {
			t.Errorf("a payload a second later: %v", err)
		}
		got, err := s.PendingMetadata(ctx, ch.ARN, st.ID, 0)
		if err != nil || len(got) != playkey.MetadataPerSecond+1 || got[len(got)-1].Payload != "later" {
			t.Errorf("PendingMetadata = %d payloads, %v; want %d, the throttled one left out", len(got), err, playkey.MetadataPerSecond+1)
		}
		// Old payloads go: a queue stays bounded however long the stream.
		if err := s.QueueMetadata(ctx, ch.ARN, "much later", at.Add(playkey.MetadataKeep+2*time.Second)); err != nil {
			t.Fatal(err)
		}
		if got, err := s.PendingMetadata(ctx, ch.ARN, st.ID, 0); err != nil || len(got) != 1 || got[0].Payload != "much later" {
			t.Errorf("PendingMetadata after MetadataKeep = %+v, %v; want the latest only", got, err)
		}
	}},
}
