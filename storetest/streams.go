package storetest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/playkey/playkey"
)

// NewStream returns a healthy stream of channel that starts now, with a fresh id.
func NewStream(channel playkey.ARN) *playkey.Stream {
	now := time.Now()
	return &playkey.Stream{Channel: channel, ID: playkey.NewStreamID(), StartTime: now, SeenAt: now,
		Health: playkey.HealthHealthy, Origin: "http://127.0.0.1:8888/" + channel.ID}
}

// startEvents are what an ingest records when a stream starts.
func startEvents(at time.Time) []playkey.StreamEvent {
	return []playkey.StreamEvent{
		{Name: playkey.EventSessionCreated, Type: playkey.EventTypeStateChange, Time: at},
		{Name: playkey.EventStreamStart, Type: playkey.EventTypeStateChange, Time: at.Add(time.Second)},
	}
}

// goLive creates a channel in scope and starts a stream on it.
func goLive(t *testing.T, s playkey.Store, scope playkey.Scope) (*playkey.Channel, *playkey.Stream) {
	t.Helper()
	ch := NewChannel(scope)
	createChannel(t, s, ch)
	st := NewStream(ch.ARN)
	if err := s.StartStream(context.Background(), st, startEvents(st.StartTime)...); err != nil {
		t.Fatalf("StartStream(%s): %v", ch.ARN, err)
	}
	return ch, st
}

func liveStream(t *testing.T, s playkey.Store, channel playkey.ARN) *playkey.Stream {
	t.Helper()
	st, err := s.LiveStream(context.Background(), channel)
	if err != nil {
		t.Fatalf("LiveStream(%s): %v", channel, err)
	}
	return st
}

func session(t *testing.T, s playkey.Store, channel playkey.ARN, id string) *playkey.StreamSession {
	t.Helper()
	ss, err := s.StreamSession(context.Background(), channel, id)
	if err != nil {
		t.Fatalf("StreamSession(%s, %q): %v", channel, id, err)
	}
	if ss.Events == nil || ss.Ingest.Video == nil || ss.Ingest.Audio == nil || ss.Channel == nil || ss.Channel.Tags == nil {
		t.Fatalf("StreamSession(%s, %q) has nil parts: %+v", channel, id, ss)
	}
	return ss
}

func sessions(t *testing.T, s playkey.Store, channel playkey.ARN, page playkey.Page) []*playkey.StreamSession {
	t.Helper()
	list, err := s.StreamSessions(context.Background(), channel, page)
	if err != nil {
		t.Fatalf("StreamSessions(%s, %+v): %v", channel, page, err)
	}
	if list == nil {
		t.Fatal("StreamSessions returned nil, want an empty slice")
	}
	return list
}

func liveStreams(t *testing.T, s playkey.Store, scope playkey.Scope, f playkey.StreamFilter, page playkey.Page) []*playkey.Stream {
	t.Helper()
	list, err := s.LiveStreams(context.Background(), scope, f, page)
	if err != nil {
		t.Fatalf("LiveStreams(%v, %+v, %+v): %v", scope, f, page, err)
	}
	if list == nil {
		t.Fatal("LiveStreams returned nil, want an empty slice")
	}
	return list
}

func sameStream(t *testing.T, what string, got, want *playkey.Stream) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil stream", what)
	}
	g, w := *got, *want
	for _, tm := range []struct {
		name      string
		got, want time.Time
	}{{"StartTime", g.StartTime, w.StartTime}, {"SeenAt", g.SeenAt, w.SeenAt}} {
		if d := tm.got.Sub(tm.want).Abs(); d >= time.Millisecond {
			t.Errorf("%s: %s = %v, want %v", what, tm.name, tm.got, tm.want)
		}
	}
	g.StartTime, w.StartTime, g.SeenAt, w.SeenAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if g != w {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

func eventNames(events []playkey.StreamEvent) []string {
	var names []string
	for _, e := range events {
		names = append(names, e.Name)
	}
	return names
}

func streamIDs(list []*playkey.Stream) []string {
	var ids []string
	for _, st := range list {
		ids = append(ids, st.ID)
	}
	return ids
}

func sessionIDs(list []*playkey.StreamSession) []string {
	var ids []string
	for _, ss := range list {
		ids = append(ids, ss.ID)
	}
	return ids
}

var streamTests = []test{
	{"StartAndRead", func(t *testing.T, s playkey.Store) {
		ch, st := goLive(t, s, scopeA)
		sameStream(t, "LiveStream", liveStream(t, s, ch.ARN), st)
		list := liveStreams(t, s, scopeA, playkey.StreamFilter{}, playkey.Page{})
		if len(list) != 1 {
			t.Fatalf("LiveStreams = %d streams, want 1", len(list))
		}
		sameStream(t, "listed stream", list[0], st)

		ss := session(t, s, ch.ARN, "")
		if ss.ID != st.ID || !ss.EndTime.IsZero() || ss.StartTime.Sub(st.StartTime).Abs() >= time.Millisecond {
			t.Errorf("latest session = %s from %v to %v, want %s from %v, live", ss.ID, ss.StartTime, ss.EndTime, st.ID, st.StartTime)
		}
		sameChannel(t, "the session's channel", ss.Channel, ch)
		// Newest first.
		if got := eventNames(ss.Events); !slices.Equal(got, []string{playkey.EventStreamStart, playkey.EventSessionCreated}) {
			t.Errorf("events = %v", got)
		}
		if ss.HasErrorEvent {
			t.Error("HasErrorEvent on a clean start")
		}
		if got := session(t, s, ch.ARN, st.ID); got.ID != st.ID {
			t.Errorf("StreamSession by id = %s", got.ID)
		}
	}},

	{"OneLiveStreamPerChannel", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		ch, first := goLive(t, s, scopeA)
		second := NewStream(ch.ARN)
		wantCode(t, s.StartStream(ctx, second), playkey.ErrConflict, "a second live stream")
		sameStream(t, "the live stream after the refused start", liveStream(t, s, ch.ARN), first)

		end := time.Now()
		if err := s.EndStream(ctx, ch.ARN, first.ID, end,
			playkey.StreamEvent{Name: playkey.EventStreamEnd, Type: playkey.EventTypeStateChange, Time: end}); err != nil {
			t.Fatal(err)
		}
		_, err := s.LiveStream(ctx, ch.ARN)
		wantCode(t, err, playkey.ErrChannelNotBroadcasting, "LiveStream after the end")
		wantCode(t, s.EndStream(ctx, ch.ARN, first.ID, end), playkey.ErrChannelNotBroadcasting, "EndStream again")

		second.StartTime = end.Add(time.Second)
		if err := s.StartStream(ctx, second); err != nil {
			t.Fatalf("a new stream after the end: %v", err)
		}
		wantCode(t, s.StartStream(ctx, NewStream(ch.ARN)), playkey.ErrConflict, "a stream beside the second")
		list := sessions(t, s, ch.ARN, playkey.Page{})
		if got := sessionIDs(list); !slices.Equal(got, []string{second.ID, first.ID}) {
			t.Fatalf("sessions = %v, want newest first %v", got, []string{second.ID, first.ID})
		}
		if list[1].EndTime.Sub(end).Abs() >= time.Millisecond || !list[0].EndTime.IsZero() {
			t.Errorf("end times %v and %v, want live and %v", list[0].EndTime, list[1].EndTime, end)
		}

		// Every channel has its own stream; the same stream id is refused on one channel.
		other := NewChannel(scopeA)
		createChannel(t, s, other)
		if err := s.StartStream(ctx, NewStream(other.ARN)); err != nil {
			t.Fatalf("a stream on another channel: %v", err)
		}
		again := NewStream(ch.ARN)
		again.ID = first.ID
		if err := s.EndStream(ctx, ch.ARN, second.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.StartStream(ctx, again), playkey.ErrConflict, "a reused stream id")
	}},

	{"OfflineAndMissing", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		ch := NewChannel(scopeA)
		createChannel(t, s, ch)
		_, err := s.LiveStream(ctx, ch.ARN)
		wantCode(t, err, playkey.ErrChannelNotBroadcasting, "LiveStream of an offline channel")
		_, err = s.StopStream(ctx, ch.ARN)
		wantCode(t, err, playkey.ErrChannelNotBroadcasting, "StopStream of an offline channel")
		_, err = s.UpdateStream(ctx, ch.ARN, playkey.NewStreamID(), playkey.StreamUpdate{})
		wantCode(t, err, playkey.ErrChannelNotBroadcasting, "UpdateStream of an offline channel")
		_, err = s.StreamSession(ctx, ch.ARN, "")
		wantCode(t, err, playkey.ErrResourceNotFound, "the latest session of a channel that never went live")
		if list := sessions(t, s, ch.ARN, playkey.Page{}); len(list) != 0 {
			t.Errorf("sessions of a channel that never went live: %v", sessionIDs(list))
		}

		missing := ChannelARN(scopeA, playkey.NewID())
		wantCode(t, s.StartStream(ctx, NewStream(missing)), playkey.ErrResourceNotFound, "StartStream on a missing channel")
		_, err = s.LiveStream(ctx, missing)
		wantCode(t, err, playkey.ErrResourceNotFound, "LiveStream of a missing channel")
		_, err = s.StopStream(ctx, missing)
		wantCode(t, err, playkey.ErrResourceNotFound, "StopStream of a missing channel")
		_, err = s.StreamSessions(ctx, missing, playkey.Page{})
		wantCode(t, err, playkey.ErrResourceNotFound, "StreamSessions of a missing channel")
		_, err = s.StreamSession(ctx, missing, "")
		wantCode(t, err, playkey.ErrResourceNotFound, "StreamSession of a missing channel")

		// A live channel seen from another account or region is not found; its streams are
		// not listed there.
		live, st := goLive(t, s, scopeA)
		for _, scope := range []playkey.Scope{scopeOtherAccount, scopeOtherRegion} {
			arn := ChannelARN(scope, live.ARN.ID)
			_, err := s.LiveStream(ctx, arn)
			wantCode(t, err, playkey.ErrResourceNotFound, "LiveStream from another scope")
			_, err = s.StreamSession(ctx, arn, st.ID)
			wantCode(t, err, playkey.ErrResourceNotFound, "StreamSession from another scope")
			if list := liveStreams(t, s, scope, playkey.StreamFilter{}, playkey.Page{}); len(list) != 0 {
				t.Errorf("LiveStreams of %v = %v", scope, streamIDs(list))
			}
		}
		_, err = s.StreamSession(ctx, live.ARN, playkey.NewStreamID())
		wantCode(t, err, playkey.ErrResourceNotFound, "an unknown stream id")
		_, err = s.StreamSession(ctx, ch.ARN, st.ID)
		wantCode(t, err, playkey.ErrResourceNotFound, "another channel's stream id")
	}},

	{"UpdateStopEnd", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		ch, st := goLive(t, s, scopeA)
		ingest := playkey.IngestConfiguration{
			Video: []playkey.VideoConfiguration{{Track: "Track0", Codec: "avc1.64001F", Encoder: "Lavf61.7.100", Profile: "High",
				Level: "3.1", TargetBitrate: 2_500_000, TargetFramerate: 30, Width: 1280, Height: 720}},
			Audio: []playkey.AudioConfiguration{{Track: "Track0", Codec: "mp4a.40.2", TargetBitrate: 128_000, SampleRate: 48_000, Channels: 2}},
		}
		before := time.Now().Add(-time.Millisecond)
		got, err := s.UpdateStream(ctx, ch.ARN, st.ID, playkey.StreamUpdate{Health: playkey.HealthStarving, Origin: "http://10.0.0.2:8888/x",
			Ingest: &ingest, Events: []playkey.StreamEvent{{Name: playkey.EventStarvationStart, Type: playkey.EventTypeHealthChange, Time: time.Now()}}})
		if err != nil {
			t.Fatal(err)
		}
		if got.Health != playkey.HealthStarving || got.Origin != "http://10.0.0.2:8888/x" || got.Stopping || got.SeenAt.Before(before) {
			t.Errorf("UpdateStream returned %+v", got)
		}
		sameStream(t, "LiveStream after the update", liveStream(t, s, ch.ARN), got)
		ss := session(t, s, ch.ARN, st.ID)
		if fmt.Sprint(ss.Ingest) != fmt.Sprint(ingest) {
			t.Errorf("ingest = %+v, want %+v", ss.Ingest, ingest)
		}
		if ss.Events[0].Name != playkey.EventStarvationStart || len(ss.Events) != 3 {
			t.Errorf("events = %v", eventNames(ss.Events))
		}
		// An update without an ingest configuration keeps the one recorded.
		if _, err := s.UpdateStream(ctx, ch.ARN, st.ID, playkey.StreamUpdate{Health: playkey.HealthHealthy}); err != nil {
			t.Fatal(err)
		}
		if ss := session(t, s, ch.ARN, ""); fmt.Sprint(ss.Ingest) != fmt.Sprint(ingest) {
			t.Errorf("ingest after an update without one = %+v", ss.Ingest)
		}
		_, err = s.UpdateStream(ctx, ch.ARN, st.ID, playkey.StreamUpdate{Health: "GOOD"})
		wantCode(t, err, playkey.ErrValidation, "an unknown health")
		_, err = s.UpdateStream(ctx, ch.ARN, playkey.NewStreamID(), playkey.StreamUpdate{})
		wantCode(t, err, playkey.ErrChannelNotBroadcasting, "UpdateStream of another stream id")

		// StopStream marks the stream for its ingest, which learns it from its next report.
		stopped, err := s.StopStream(ctx, ch.ARN)
		if err != nil {
			t.Fatal(err)
		}
		if !stopped.Stopping || stopped.ID != st.ID {
			t.Errorf("StopStream returned %+v", stopped)
		}
		if got, err := s.UpdateStream(ctx, ch.ARN, st.ID, playkey.StreamUpdate{}); err != nil || !got.Stopping {
			t.Errorf("the ingest's next report: %+v, %v; want Stopping", got, err)
		}
		end := time.Now()
		failure := playkey.StreamEvent{Name: playkey.EventStreamFailure, Type: playkey.EventTypeStateChange, Code: "StreamStopped", Time: end.Truncate(time.Millisecond).UTC()}
		if err := s.EndStream(ctx, ch.ARN, st.ID, end, failure,
			playkey.StreamEvent{Name: playkey.EventSessionEnded, Type: playkey.EventTypeStateChange, Time: end}); err != nil {
			t.Fatal(err)
		}
		ss = session(t, s, ch.ARN, "")
		if !ss.HasErrorEvent || ss.Events[0].Name != playkey.EventSessionEnded || ss.Events[1] != failure {
			t.Errorf("ended session: error %v, events %+v", ss.HasErrorEvent, ss.Events[:2])
		}
		_, err = s.UpdateStream(ctx, ch.ARN, st.ID, playkey.StreamUpdate{})
		wantCode(t, err, playkey.ErrChannelNotBroadcasting, "UpdateStream after the end")
		_, err = s.StopStream(ctx, ch.ARN)
		wantCode(t, err, playkey.ErrChannelNotBroadcasting, "StopStream after the end")
	}},

	{"ChannelAsAtGoLive", func(t *testing.T, s playkey.Store) {
		// IVS refuses to update a live channel; settings changed after the stream apply to
		// the next one, and the session keeps the channel as it was.
		ctx := context.Background()
		ch, st := goLive(t, s, scopeA)
		rename := func(c *playkey.Channel) error {
			c.Name, c.LatencyMode, c.Authorized = "renamed", playkey.LatencyNormal, true
			return nil
		}
		_, err := s.UpdateChannel(ctx, ch.ARN, rename)
		wantCode(t, err, playkey.ErrConflict, "UpdateChannel of a live channel")
		sameChannel(t, "the channel after the refused update", getChannel(t, s, ch.ARN), ch)
		if err := s.EndStream(ctx, ch.ARN, st.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateChannel(ctx, ch.ARN, rename); err != nil {
			t.Fatalf("UpdateChannel after the stream ended: %v", err)
		}
		sameChannel(t, "the session's channel after an update", session(t, s, ch.ARN, st.ID).Channel, ch)
		next := NewStream(ch.ARN)
		if err := s.StartStream(ctx, next); err != nil {
			t.Fatal(err)
		}
		if got := session(t, s, ch.ARN, next.ID).Channel; got.Name != "renamed" || got.LatencyMode != playkey.LatencyNormal || !got.Authorized {
			t.Errorf("the next session's channel = %+v, want the updated settings", got)
		}
	}},

	{"EventsTruncated", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		ch, st := goLive(t, s, scopeA)
		at := time.Now()
		failure := playkey.StreamEvent{Name: playkey.EventStreamFailure, Type: playkey.EventTypeStateChange, Time: at}
		if _, err := s.UpdateStream(ctx, ch.ARN, st.ID, playkey.StreamUpdate{Events: []playkey.StreamEvent{failure}}); err != nil {
			t.Fatal(err)
		}
		var more []playkey.StreamEvent
		for i := range playkey.MaxStreamEvents + 20 {
			more = append(more, playkey.StreamEvent{Name: fmt.Sprint("Event ", i), Type: playkey.EventTypeHealthChange, Time: at.Add(time.Duration(i) * time.Millisecond)})
		}
		if _, err := s.UpdateStream(ctx, ch.ARN, st.ID, playkey.StreamUpdate{Events: more[:300]}); err != nil {
			t.Fatal(err)
		}
		if err := s.EndStream(ctx, ch.ARN, st.ID, time.Now(), more[300:]...); err != nil {
			t.Fatal(err)
		}
		ss := session(t, s, ch.ARN, st.ID)
		if len(ss.Events) != playkey.MaxStreamEvents {
			t.Fatalf("%d events kept, want %d", len(ss.Events), playkey.MaxStreamEvents)
		}
		if first, last := ss.Events[0].Name, ss.Events[len(ss.Events)-1].Name; first != fmt.Sprint("Event ", len(more)-1) || last != "Event 20" {
			t.Errorf("kept events %q ... %q, want the newest first", first, last)
		}
		if d := ss.Events[0].Time.Sub(more[len(more)-1].Time).Abs(); d >= time.Millisecond {
			t.Errorf("event time off by %v", d)
		}
		if !ss.HasErrorEvent {
			t.Error("HasErrorEvent forgot the failure that was cut from the list")
		}
		if !sessions(t, s, ch.ARN, playkey.Page{})[0].HasErrorEvent {
			t.Error("HasErrorEvent in the listing")
		}
	}},

	{"TimedOut", func(t *testing.T, s playkey.Store) {
		// An ingest that stops reporting (a crashed node) leaves no channel live for ever.
		ctx := context.Background()
		ch := NewChannel(scopeA)
		createChannel(t, s, ch)
		st := NewStream(ch.ARN)
		st.StartTime = time.Now().Add(-time.Hour)
		st.SeenAt = time.Now().Add(-playkey.StreamTimeout - time.Second)
		if err := s.StartStream(ctx, st); err != nil {
			t.Fatal(err)
		}
		_, err := s.LiveStream(ctx, ch.ARN)
		wantCode(t, err, playkey.ErrChannelNotBroadcasting, "LiveStream of a timed-out stream")
		if list := liveStreams(t, s, scopeA, playkey.StreamFilter{}, playkey.Page{}); len(list) != 0 {
			t.Errorf("LiveStreams lists a timed-out stream: %v", streamIDs(list))
		}
		_, err = s.UpdateStream(ctx, ch.ARN, st.ID, playkey.StreamUpdate{})
		wantCode(t, err, playkey.ErrChannelNotBroadcasting, "UpdateStream of a timed-out stream")
		if ss := session(t, s, ch.ARN, st.ID); ss.EndTime.Sub(st.SeenAt).Abs() >= time.Millisecond {
			t.Errorf("timed-out session ends at %v, want its last report %v", ss.EndTime, st.SeenAt)
		}
		next := NewStream(ch.ARN)
		if err := s.StartStream(ctx, next); err != nil {
			t.Fatalf("a new stream after a timed-out one: %v", err)
		}
		if ss := session(t, s, ch.ARN, st.ID); ss.EndTime.Sub(st.SeenAt).Abs() >= time.Millisecond {
			t.Errorf("the replaced session ends at %v, want %v", ss.EndTime, st.SeenAt)
		}
		if err := s.DeleteChannel(ctx, ch.ARN); !playkey.IsCode(err, playkey.ErrConflict) {
			t.Errorf("DeleteChannel of the live channel: %v, want Conflict", err)
		}
	}},

	{"TimedOutStreamsEnded", func(t *testing.T, s playkey.Store) {
		// A stream whose ingest is gone is listed for an ingest to end, with its events;
		// of concurrent ends, one succeeds, so its events are recorded (and sent) once.
		ctx := context.Background()
		ch := NewChannel(scopeA)
		createChannel(t, s, ch)
		st := NewStream(ch.ARN)
		st.SeenAt = time.Now().Add(-playkey.StreamTimeout - time.Second)
		if err := s.StartStream(ctx, st); err != nil {
			t.Fatal(err)
		}
		_, fresh := goLive(t, s, scopeA)
		listed := func() (gone, live bool) {
			t.Helper()
			list, err := s.TimedOutStreams(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range list {
				if i > 0 && x.SeenAt.Before(list[i-1].SeenAt) {
					t.Errorf("TimedOutStreams not oldest report first: %v after %v", x.SeenAt, list[i-1].SeenAt)
				}
				gone = gone || x.ID == st.ID && x.Channel == ch.ARN
				live = live || x.ID == fresh.ID
			}
			return gone, live
		}
		gone, live := listed()
		if !gone || live {
			t.Fatalf("TimedOutStreams: the timed-out stream listed %v, the live one %v", gone, live)
		}
		if list, err := s.TimedOutStreams(ctx, 1); err != nil || len(list) != 1 {
			t.Errorf("TimedOutStreams(1): %d streams, %v", len(list), err)
		}
		end := playkey.StreamEvent{Name: playkey.EventSessionEnded, Type: playkey.EventTypeStateChange, Time: st.SeenAt}
		errs := make(chan error, 4)
		for range 4 {
			go func() { errs <- s.EndStream(ctx, ch.ARN, st.ID, st.SeenAt, end) }()
		}
		ended := 0
		for range 4 {
			if err := <-errs; err == nil {
				ended++
			} else if !playkey.IsCode(err, playkey.ErrChannelNotBroadcasting) {
				t.Errorf("a concurrent EndStream: %v", err)
			}
		}
		if ended != 1 {
			t.Errorf("%d of 4 concurrent EndStreams of a timed-out stream succeeded, want 1", ended)
		}
		if gone, _ := listed(); gone {
			t.Error("an ended stream is still listed as timed out")
		}
		ss := session(t, s, ch.ARN, st.ID)
		if n := len(ss.Events); n != 1 || ss.Events[0].Name != playkey.EventSessionEnded {
			t.Errorf("events of the ended session: %+v", ss.Events)
		}
	}},

	{"DeleteChannel", func(t *testing.T, s playkey.Store) {
		// IVS refuses to delete a live channel; its sessions go with it.
		ctx := context.Background()
		ch, st := goLive(t, s, scopeA)
		wantCode(t, s.DeleteChannel(ctx, ch.ARN), playkey.ErrConflict, "DeleteChannel of a live channel")
		getChannel(t, s, ch.ARN)
		if err := s.EndStream(ctx, ch.ARN, st.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteChannel(ctx, ch.ARN); err != nil {
			t.Fatalf("DeleteChannel after the stream ended: %v", err)
		}
		_, err := s.StreamSessions(ctx, ch.ARN, playkey.Page{})
		wantCode(t, err, playkey.ErrResourceNotFound, "StreamSessions of a deleted channel")
		_, err = s.StreamSession(ctx, ch.ARN, st.ID)
		wantCode(t, err, playkey.ErrResourceNotFound, "StreamSession of a deleted channel")
		// A channel of the same id is new: no sessions.
		again := NewChannel(scopeA)
		again.ARN = ch.ARN
		createChannel(t, s, again)
		if list := sessions(t, s, ch.ARN, playkey.Page{}); len(list) != 0 {
			t.Errorf("a recreated channel has sessions %v", sessionIDs(list))
		}
	}},

	{"ListLiveStreams", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		var all []*playkey.Stream
		for i := range 5 {
			_, st := goLive(t, s, scopeA)
			if i%2 == 1 {
				var err error
				if st, err = s.UpdateStream(ctx, st.Channel, st.ID, playkey.StreamUpdate{Health: playkey.HealthStarving}); err != nil {
					t.Fatal(err)
				}
			}
			all = append(all, st)
		}
		goLive(t, s, scopeOtherAccount)
		sort.Slice(all, func(i, j int) bool { return all[i].Channel.ID < all[j].Channel.ID })
		var want, starving []string
		for _, st := range all {
			want = append(want, st.ID)
			if st.Health == playkey.HealthStarving {
				starving = append(starving, st.ID)
			}
		}
		if got := streamIDs(liveStreams(t, s, scopeA, playkey.StreamFilter{}, playkey.Page{})); !slices.Equal(got, want) {
			t.Errorf("LiveStreams = %v, want %v (in channel id order)", got, want)
		}
		if got := streamIDs(liveStreams(t, s, scopeA, playkey.StreamFilter{Health: playkey.HealthStarving}, playkey.Page{})); !slices.Equal(got, starving) {
			t.Errorf("STARVING streams = %v, want %v", got, starving)
		}
		if got := liveStreams(t, s, scopeA, playkey.StreamFilter{Health: playkey.HealthUnknown}, playkey.Page{}); len(got) != 0 {
			t.Errorf("UNKNOWN streams = %v", streamIDs(got))
		}
		var paged []string
		after := ""
		for range 10 {
			page := liveStreams(t, s, scopeA, playkey.StreamFilter{}, playkey.Page{After: after, Limit: 2})
			if len(page) == 0 {
				break
			}
			paged = append(paged, streamIDs(page)...)
			after = page[len(page)-1].Channel.ID
		}
		if !slices.Equal(paged, want) {
			t.Errorf("paged LiveStreams = %v, want %v", paged, want)
		}
	}},

	{"ListSessions", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		ch := NewChannel(scopeA)
		createChannel(t, s, ch)
		base := time.Now().Add(-time.Hour)
		var want []string
		for i := range 5 {
			st := NewStream(ch.ARN)
			st.StartTime = base.Add(time.Duration(i) * time.Minute)
			if i == 2 {
				st.StartTime = base.Add(time.Minute) // a tie, broken by id
			}
			if err := s.StartStream(ctx, st); err != nil {
				t.Fatal(err)
			}
			if i < 4 {
				if err := s.EndStream(ctx, ch.ARN, st.ID, st.StartTime.Add(30*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			want = append(want, st.ID)
		}
		all := sessions(t, s, ch.ARN, playkey.Page{})
		sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID }) // any order, to build want
		starts := map[string]time.Time{}
		for _, ss := range all {
			starts[ss.ID] = ss.StartTime
		}
		sort.Slice(want, func(i, j int) bool {
			a, b := starts[want[i]], starts[want[j]]
			if !a.Equal(b) {
				return a.After(b)
			}
			return want[i] > want[j]
		})
		if got := sessionIDs(sessions(t, s, ch.ARN, playkey.Page{})); !slices.Equal(got, want) {
			t.Errorf("StreamSessions = %v, want %v (newest first)", got, want)
		}
		if got := session(t, s, ch.ARN, ""); got.ID != want[0] {
			t.Errorf("latest session %s, want %s", got.ID, want[0])
		}
		var paged []string
		after := ""
		for range 10 {
			page := sessions(t, s, ch.ARN, playkey.Page{After: after, Limit: 2})
			if len(page) == 0 {
				break
			}
			paged = append(paged, sessionIDs(page)...)
			after = page[len(page)-1].ID
		}
		if !slices.Equal(paged, want) {
			t.Errorf("paged StreamSessions = %v, want %v", paged, want)
		}
	}},

	{"Viewers", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		a, b := NewChannel(scopeA), NewChannel(scopeA)
		createChannel(t, s, a)
		createChannel(t, s, b)
		now := time.Now()
		other := ChannelARN(scopeOtherRegion, a.ARN.ID)
		seen := []playkey.ViewerSighting{
			{Channel: a.ARN, Session: "s1", At: now.Add(-50 * time.Second)},
			{Channel: a.ARN, Session: "s1", At: now.Add(-10 * time.Second)}, // the same session again
			{Channel: a.ARN, Session: "s2", At: now},
			{Channel: a.ARN, Session: "s3", At: now.Add(-90 * time.Second)}, // before the window
			{Channel: b.ARN, Session: "s1", At: now},                        // the same id on another channel
			{Channel: other, Session: "s9", At: now},
		}
		if err := s.RecordViewers(ctx, seen); err != nil {
			t.Fatal(err)
		}
		// A later report of an older sighting keeps the latest.
		if err := s.RecordViewers(ctx, []playkey.ViewerSighting{{Channel: a.ARN, Session: "s1", At: now.Add(-55 * time.Second)}}); err != nil {
			t.Fatal(err)
		}
		counts, err := s.ViewerCounts(ctx, scopeA, now.Add(-playkey.ViewerWindow))
		if err != nil {
			t.Fatal(err)
		}
		if counts[a.ARN] != 2 || counts[b.ARN] != 1 || len(counts) != 2 {
			t.Errorf("counts in the last minute = %v, want 2 for %s, 1 for %s", counts, a.ARN.ID, b.ARN.ID)
		}
		counts, err = s.ViewerCounts(ctx, scopeA, now.Add(-20*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if counts[a.ARN] != 2 {
			t.Errorf("count in the last 20 s = %d, want 2 (s1 was seen again 10 s ago)", counts[a.ARN])
		}
		counts, err = s.ViewerCounts(ctx, scopeOtherRegion, now.Add(-playkey.ViewerWindow))
		if err != nil || counts[other] != 1 || len(counts) != 1 {
			t.Errorf("counts of the other region = %v, %v", counts, err)
		}
		// Sightings older than two windows are swept by the next report.
		old := []playkey.ViewerSighting{{Channel: b.ARN, Session: "old", At: now.Add(-3 * playkey.ViewerWindow)}}
		if err := s.RecordViewers(ctx, old); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordViewers(ctx, nil); err != nil {
			t.Fatal(err)
		}
		counts, err = s.ViewerCounts(ctx, scopeA, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if counts[b.ARN] != 1 || counts[a.ARN] != 3 {
			t.Errorf("counts since ever = %v, want the old sighting swept (b 1) and a 3", counts)
		}
	}},

	{"ConcurrentStarts", func(t *testing.T, s playkey.Store) {
		// Publishers racing to one channel, on any node: exactly one goes live.
		ctx := context.Background()
		for round := range 5 {
			ch := NewChannel(scopeA)
			createChannel(t, s, ch)
			const n = 8
			errs := make([]error, n)
			streams := make([]*playkey.Stream, n)
			race(t, n, func(i int) {
				streams[i] = NewStream(ch.ARN)
				errs[i] = s.StartStream(ctx, streams[i])
			})
			var won []string
			for i, err := range errs {
				if err == nil {
					won = append(won, streams[i].ID)
				}
				allowed(t, fmt.Sprint("start ", i), err, playkey.ErrConflict)
			}
			if len(won) != 1 {
				t.Fatalf("round %d: %d of %d concurrent starts succeeded, want 1", round, len(won), n)
			}
			if got := liveStream(t, s, ch.ARN); got.ID != won[0] {
				t.Errorf("round %d: live stream %s, want the winner %s", round, got.ID, won[0])
			}
			if list := sessions(t, s, ch.ARN, playkey.Page{}); len(list) != 1 {
				t.Errorf("round %d: %d sessions, want 1", round, len(list))
			}
		}
	}},

	{"StartVsDeleteChannel", func(t *testing.T, s playkey.Store) {
		// A start and a delete at once: either the channel is gone with no session left, or
		// it stays, live, and the delete was refused.
		ctx := context.Background()
		for round := range 8 {
			ch := NewChannel(scopeA)
			createChannel(t, s, ch)
			var startErr, deleteErr error
			race(t, 2, func(i int) {
				if i == 0 {
					startErr = s.StartStream(ctx, NewStream(ch.ARN))
				} else {
					deleteErr = s.DeleteChannel(ctx, ch.ARN)
				}
			})
			allowed(t, "start", startErr, playkey.ErrResourceNotFound)
			allowed(t, "delete", deleteErr, playkey.ErrConflict)
			switch {
			case deleteErr == nil:
				if startErr == nil {
					t.Fatalf("round %d: the stream started and the channel was deleted", round)
				}
				_, err := s.StreamSessions(ctx, ch.ARN, playkey.Page{})
				wantCode(t, err, playkey.ErrResourceNotFound, "sessions of the deleted channel")
			case startErr == nil:
				liveStream(t, s, ch.ARN)
			default:
				t.Fatalf("round %d: both failed: %v; %v", round, startErr, deleteErr)
			}
		}
	}},
}
