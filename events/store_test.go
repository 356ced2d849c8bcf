package events_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/events"
	"github.com/playkey/playkey/sqlite"
)

// TestEventShape: an event has exactly the members of IVS's documented EventBridge example
// ("Using Amazon EventBridge with IVS"), with IVS's values.
func TestEventShape(t *testing.T) {
	arn := playkey.ARN{Region: "us-east-1", Account: "123456789012", Type: playkey.TypeChannel, ID: "12345678-1a23-4567-a1bc-1a2b34567890"}
	at := time.Date(2017, 6, 12, 10, 23, 43, 250e6, time.FixedZone("", 3600))
	for _, tc := range []struct {
		e    playkey.StreamEvent
		want string
	}{
		{playkey.StreamEvent{Name: playkey.EventSessionCreated, Type: playkey.EventTypeStateChange, Time: at}, `{
			"version": "0", "id": "ID", "detail-type": "IVS Stream State Change", "source": "aws.ivs",
			"account": "123456789012", "time": "2017-06-12T09:23:43Z", "region": "us-east-1",
			"resources": ["arn:aws:ivs:us-east-1:123456789012:channel/12345678-1a23-4567-a1bc-1a2b34567890"],
			"detail": {"event_name": "Session Created", "channel_name": "Your Channel", "stream_id": "st-ABCDEfghij01234KLMN5678"}}`},
		{playkey.StreamEvent{Name: playkey.EventStarvationStart, Type: playkey.EventTypeHealthChange, Time: at}, `{
			"version": "0", "id": "ID", "detail-type": "IVS Stream Health Change", "source": "aws.ivs",
			"account": "123456789012", "time": "2017-06-12T09:23:43Z", "region": "us-east-1",
			"resources": ["arn:aws:ivs:us-east-1:123456789012:channel/12345678-1a23-4567-a1bc-1a2b34567890"],
			"detail": {"event_name": "Starvation Start", "channel_name": "Your Channel", "stream_id": "st-ABCDEfghij01234KLMN5678"}}`},
		{playkey.StreamEvent{Name: playkey.EventStreamFailure, Type: playkey.EventTypeStateChange, Code: "UnsupportedInput", Time: at}, `{
			"version": "0", "id": "ID", "detail-type": "IVS Stream State Change", "source": "aws.ivs",
			"account": "123456789012", "time": "2017-06-12T09:23:43Z", "region": "us-east-1",
			"resources": ["arn:aws:ivs:us-east-1:123456789012:channel/12345678-1a23-4567-a1bc-1a2b34567890"],
			"detail": {"event_name": "Stream Failure", "channel_name": "Your Channel", "stream_id": "st-ABCDEfghij01234KLMN5678", "code": "UnsupportedInput"}}`},
	} {
		var got, want map[string]any
		if err := json.Unmarshal(events.New(arn, "Your Channel", "st-ABCDEfghij01234KLMN5678", tc.e).Marshal(), &got); err != nil {
			t.Fatal(err)
		}
		json.Unmarshal([]byte(tc.want), &want)
		id, _ := got["id"].(string)
		if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
			t.Errorf("id %q is not a random UUID", id)
		}
		got["id"] = "ID"
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.e.Name, got, want)
		}
	}
}

type recorder struct {
	mu  sync.Mutex
	got []events.Event
}

func (r *recorder) Publish(es ...events.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, es...)
}

func (r *recorder) take() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

func names(es []events.Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Detail.EventName)
	}
	return out
}

// TestStorePublishesRecordedEvents: each successful write carrying stream events publishes
// them, in order, with the channel's name and the stream's id; a write that fails or carries
// none publishes nothing; the session then lists the same events.
func TestStorePublishesRecordedEvents(t *testing.T) {
	ctx := context.Background()
	inner, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "playkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	rec := &recorder{}
	store := events.Wrap(inner, rec)
	now := time.Now()
	arn := playkey.ARN{Region: "us-west-2", Account: "123456789012", Type: playkey.TypeChannel, ID: "chEvents1"}
	ch := playkey.NewChannel(arn, now)
	ch.Name = "launch"
	if err := store.CreateChannel(ctx, ch, nil); err != nil {
		t.Fatal(err)
	}
	ev := func(name, typ string) playkey.StreamEvent {
		now = now.Add(time.Second)
		return playkey.StreamEvent{Name: name, Type: typ, Time: now}
	}
	st := &playkey.Stream{Channel: arn, ID: playkey.NewStreamID(), StartTime: now, SeenAt: now, Health: playkey.HealthHealthy}
	if err := store.StartStream(ctx, st, ev(playkey.EventSessionCreated, playkey.EventTypeStateChange), ev(playkey.EventStreamStart, playkey.EventTypeStateChange)); err != nil {
		t.Fatal(err)
	}
	got := rec.take()
	if n := names(got); !reflect.DeepEqual(n, []string{"Session Created", "Stream Start"}) {
		t.Fatalf("StartStream published %v", n)
	}
	for _, e := range got {
		if e.Detail.ChannelName != "launch" || e.Detail.StreamID != st.ID || e.Resources[0] != arn.String() ||
			e.Account != arn.Account || e.Region != arn.Region || e.DetailType != playkey.EventTypeStateChange {
			t.Errorf("event %+v", e)
		}
	}

	// A second start conflicts: nothing is published.
	other := &playkey.Stream{Channel: arn, ID: playkey.NewStreamID(), StartTime: now, SeenAt: now, Health: playkey.HealthHealthy}
	if err := store.StartStream(ctx, other, ev(playkey.EventSessionCreated, playkey.EventTypeStateChange)); !playkey.IsCode(err, playkey.ErrConflict) {
		t.Fatalf("second StartStream: %v", err)
	}
	if _, err := store.UpdateStream(ctx, arn, st.ID, playkey.StreamUpdate{Health: playkey.HealthHealthy}); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("a refused start and an update without events published %v", names(got))
	}
	if _, err := store.UpdateStream(ctx, arn, st.ID, playkey.StreamUpdate{Health: playkey.HealthStarving,
		Events: []playkey.StreamEvent{ev(playkey.EventStarvationStart, playkey.EventTypeHealthChange)}}); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 1 || got[0].DetailType != "IVS Stream Health Change" || got[0].Detail.EventName != "Starvation Start" {
		t.Fatalf("the health report published %+v", got)
	}
	if err := store.EndStream(ctx, arn, st.ID, now, ev(playkey.EventStreamEnd, playkey.EventTypeStateChange), ev(playkey.EventSessionEnded, playkey.EventTypeStateChange)); err != nil {
		t.Fatal(err)
	}
	if n := names(rec.take()); !reflect.DeepEqual(n, []string{"Stream End", "Session Ended"}) {
		t.Fatalf("EndStream published %v", n)
	}
	// The stream is over: writes to it fail and publish nothing.
	if err := store.EndStream(ctx, arn, st.ID, now, ev(playkey.EventSessionEnded, playkey.EventTypeStateChange)); !playkey.IsCode(err, playkey.ErrChannelNotBroadcasting) {
		t.Fatalf("EndStream of an ended stream: %v", err)
	}
	if _, err := store.UpdateStream(ctx, arn, st.ID, playkey.StreamUpdate{Events: []playkey.StreamEvent{ev(playkey.EventStreamFailure, playkey.EventTypeStateChange)}}); err == nil {
		t.Fatal("UpdateStream of an ended stream succeeded")
	}
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("failed writes published %v", names(got))
	}

	ss, err := store.StreamSession(ctx, arn, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	var session []string
	for i := len(ss.Events) - 1; i >= 0; i-- {
		session = append(session, ss.Events[i].Name)
	}
	if want := []string{"Session Created", "Stream Start", "Starvation Start", "Stream End", "Session Ended"}; !reflect.DeepEqual(session, want) {
		t.Fatalf("the session's events, oldest first: %v, want %v", session, want)
	}

	// A publish refused before it went live has its session, and its events go out too.
	refused := &playkey.StreamSession{ID: playkey.NewStreamID(), StartTime: now, EndTime: now, Events: []playkey.StreamEvent{
		ev(playkey.EventSessionCreated, playkey.EventTypeStateChange),
		{Name: playkey.EventStreamFailure, Type: playkey.EventTypeStateChange, Code: "UnsupportedInput", Time: now},
		ev(playkey.EventSessionEnded, playkey.EventTypeStateChange),
	}}
	if err := store.RecordRefusedStream(ctx, arn, refused); err != nil {
		t.Fatal(err)
	}
	got = rec.take()
	if n := names(got); !reflect.DeepEqual(n, []string{"Session Created", "Stream Failure", "Session Ended"}) {
		t.Fatalf("RecordRefusedStream published %v", n)
	}
	if got[1].Detail.StreamID != refused.ID || got[1].Detail.Code != "UnsupportedInput" {
		t.Errorf("the failure event: %+v", got[1])
	}
}
