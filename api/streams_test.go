package api_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivs/types"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/api"
)

// fakeIngest stands for the ingest: it starts streams through the store as an ingest node
// does, disconnects (ends the stream in the store) when the API stops one, and reads the
// metadata queued for it.
type fakeIngest struct {
	store playkey.Store

	mu      sync.Mutex
	stopped []playkey.ARN
}

var testIngest = playkey.IngestConfiguration{
	Video: []playkey.VideoConfiguration{{Track: "Track0", Codec: "avc1.64001F", Encoder: "Lavf61.7.100", Profile: "High", Level: "3.1",
		TargetBitrate: 2_500_000, TargetFramerate: 30, Width: 1280, Height: 720}},
	Audio: []playkey.AudioConfiguration{{Track: "Track0", Codec: "mp4a.40.2", TargetBitrate: 128_000, SampleRate: 48_000, Channels: 2}},
}

// publish starts a stream on the channel named by arn, as a publisher connecting would.
func (f *fakeIngest) publish(t *testing.T, arn string) *playkey.Stream {
	t.Helper()
	return f.publishAt(t, arn, time.Now())
}

// publishAt is publish with the stream's start time.
func (f *fakeIngest) publishAt(t *testing.T, arn string, start time.Time) *playkey.Stream {
	t.Helper()
	ctx := context.Background()
	channel, err := playkey.ParseTypedARN("arn", arn, playkey.TypeChannel)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	st := &playkey.Stream{Channel: channel, ID: playkey.NewStreamID(), StartTime: start, SeenAt: now, Health: playkey.HealthHealthy,
		Origin: "http://127.0.0.1:9/" + channel.ID}
	if err := f.store.StartStream(ctx, st,
		playkey.StreamEvent{Name: playkey.EventSessionCreated, Type: playkey.EventTypeStateChange, Time: now},
		playkey.StreamEvent{Name: playkey.EventStreamStart, Type: playkey.EventTypeStateChange, Time: now}); err != nil {
		t.Fatalf("StartStream: %v", err)
	}
	if _, err := f.store.UpdateStream(ctx, channel, st.ID, playkey.StreamUpdate{Ingest: &testIngest}); err != nil {
		t.Fatal(err)
	}
	// Report the stream every second, as an ingest does, until it ends or the test does.
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if _, err := f.store.UpdateStream(ctx, channel, st.ID, playkey.StreamUpdate{}); playkey.IsCode(err, playkey.ErrChannelNotBroadcasting) {
					return
				}
			}
		}
	}()
	t.Cleanup(func() { close(done); <-stopped })
	return st
}

func (f *fakeIngest) StopStream(ctx context.Context, channel playkey.ARN) error {
	st, err := f.store.LiveStream(ctx, channel)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.stopped = append(f.stopped, channel)
	f.mu.Unlock()
	now := time.Now()
	return f.store.EndStream(ctx, channel, st.ID, now,
		playkey.StreamEvent{Name: playkey.EventStreamEnd, Type: playkey.EventTypeStateChange, Time: now},
		playkey.StreamEvent{Name: playkey.EventSessionEnded, Type: playkey.EventTypeStateChange, Time: now})
}

// received returns the payloads queued in the store for the channel's latest stream, as
// the ingest holding it reads them.
func (f *fakeIngest) received(t *testing.T, channel playkey.ARN) []string {
	t.Helper()
	ctx := context.Background()
	ss, err := f.store.StreamSession(ctx, channel, "")
	if err != nil {
		t.Fatal(err)
	}
	queued, err := f.store.PendingMetadata(ctx, channel, ss.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range queued {
		out = append(out, m.Payload)
	}
	return out
}

// newStreamServer is the API with a fake ingest beside it; clock, when not nil, is its clock.
func newStreamServer(t *testing.T, clock func() time.Time) (*testServer, *fakeIngest) {
	t.Helper()
	ingest := &fakeIngest{}
	ts := newTestServerWith(t, func(cfg *api.Config) {
		cfg.StreamStopper, cfg.Now = ingest, clock
	})
	ingest.store = ts.store
	return ts, ingest
}

var streamIDPattern = regexp.MustCompile(`^st-[a-zA-Z0-9]{23}$`)

// wantStreamErrors wants GetStream, StopStream and PutMetadata on arn to fail with code (404).
func wantStreamErrors(t *testing.T, c *ivs.Client, arn *string, code string) {
	t.Helper()
	ctx := context.Background()
	_, err := c.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: arn})
	wantErr(t, err, code, 404)
	_, err = c.StopStream(ctx, &ivs.StopStreamInput{ChannelArn: arn})
	wantErr(t, err, code, 404)
	_, err = c.PutMetadata(ctx, &ivs.PutMetadataInput{ChannelArn: arn, Metadata: aws.String("x")})
	wantErr(t, err, code, 404)
}

func TestStreamLifecycle(t *testing.T) {
	ctx := context.Background()
	ts, ingest := newStreamServer(t, nil)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	created := createChannel(t, c, &ivs.CreateChannelInput{Name: aws.String("live"), LatencyMode: types.ChannelLatencyModeNormalLatency})
	arn := created.Channel.Arn
	channel, _ := playkey.ParseARN("arn", aws.ToString(arn))

	// Offline: every stream operation says so, as IVS does.
	wantStreamErrors(t, c, arn, "ChannelNotBroadcasting")
	_, err := c.GetStreamSession(ctx, &ivs.GetStreamSessionInput{ChannelArn: arn})
	wantErr(t, err, "ResourceNotFoundException", 404)
	sessions, err := c.ListStreamSessions(ctx, &ivs.ListStreamSessionsInput{ChannelArn: arn})
	if err != nil || len(sessions.StreamSessions) != 0 || sessions.NextToken != nil {
		t.Fatalf("ListStreamSessions of a channel never live: %+v, %v", sessions, err)
	}
	list, err := c.ListStreams(ctx, &ivs.ListStreamsInput{})
	if err != nil || len(list.Streams) != 0 {
		t.Fatalf("ListStreams with nothing live: %+v, %v", list, err)
	}

	st := ingest.publish(t, aws.ToString(arn))
	got, err := c.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	s := got.Stream
	if aws.ToString(s.ChannelArn) != aws.ToString(arn) || aws.ToString(s.StreamId) != st.ID || !streamIDPattern.MatchString(st.ID) ||
		aws.ToString(s.PlaybackUrl) != aws.ToString(created.Channel.PlaybackUrl) || s.State != types.StreamStateStreamLive ||
		s.Health != types.StreamHealthStreamHealthy || s.ViewerCount != 0 {
		t.Errorf("GetStream = %+v", s)
	}
	if d := aws.ToTime(s.StartTime).Sub(st.StartTime).Abs(); d > time.Second {
		t.Errorf("startTime %v, want %v", aws.ToTime(s.StartTime), st.StartTime)
	}

	// Viewers the gates saw in the last minute.
	now := time.Now()
	if err := ts.store.RecordViewers(ctx, []playkey.ViewerSighting{
		{Channel: channel, Session: "a", At: now}, {Channel: channel, Session: "b", At: now.Add(-30 * time.Second)},
		{Channel: channel, Session: "gone", At: now.Add(-90 * time.Second)},
	}); err != nil {
		t.Fatal(err)
	}
	got, err = c.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: arn})
	if err != nil || got.Stream.ViewerCount != 2 {
		t.Errorf("viewerCount = %d (%v), want 2", got.Stream.ViewerCount, err)
	}
	list, err = c.ListStreams(ctx, &ivs.ListStreamsInput{})
	if err != nil || len(list.Streams) != 1 {
		t.Fatalf("ListStreams: %+v, %v", list, err)
	}
	if sum := list.Streams[0]; aws.ToString(sum.StreamId) != st.ID || sum.ViewerCount != 2 || sum.State != types.StreamStateStreamLive ||
		sum.Health != types.StreamHealthStreamHealthy || sum.StartTime == nil {
		t.Errorf("ListStreams summary = %+v", sum)
	}

	// A live channel cannot be updated (IVS: ConflictException).
	_, err = c.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: arn, Name: aws.String("renamed")})
	wantErr(t, err, "ConflictException", 409)

	// The live session: the channel as it was at go-live, what the ingest measured, events.
	sess, err := c.GetStreamSession(ctx, &ivs.GetStreamSessionInput{ChannelArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	ss := sess.StreamSession
	if aws.ToString(ss.StreamId) != st.ID || ss.EndTime != nil || aws.ToString(ss.Channel.Name) != "live" ||
		ss.Channel.LatencyMode != types.ChannelLatencyModeNormalLatency || aws.ToString(ss.Channel.Arn) != aws.ToString(arn) {
		t.Errorf("GetStreamSession = id %s, end %v, channel %+v", aws.ToString(ss.StreamId), ss.EndTime, ss.Channel)
	}
	v := ss.IngestConfiguration.Video
	if aws.ToString(v.Codec) != "avc1.64001F" || aws.ToString(v.AvcProfile) != "High" || aws.ToString(v.AvcLevel) != "3.1" ||
		v.VideoWidth != 1280 || v.VideoHeight != 720 || v.TargetFramerate != 30 ||
		v.TargetBitrate != 2_500_000 || aws.ToString(v.Track) != "Track0" || aws.ToString(v.Encoder) != "Lavf61.7.100" {
		t.Errorf("ingestConfiguration.video = %+v", v)
	}
	a := ss.IngestConfigurations.AudioConfigurations
	if len(a) != 1 || aws.ToString(a[0].Codec) != "mp4a.40.2" || a[0].Channels != 2 || a[0].SampleRate != 48_000 ||
		a[0].TargetBitrate != 128_000 || len(ss.IngestConfigurations.VideoConfigurations) != 1 ||
		aws.ToString(ss.IngestConfigurations.VideoConfigurations[0].AvcProfile) != "" {
		t.Errorf("ingestConfigurations = %+v", ss.IngestConfigurations)
	}
	var names []string
	for _, e := range ss.TruncatedEvents {
		names = append(names, aws.ToString(e.Name))
		if aws.ToString(e.Type) != "IVS Stream State Change" || e.EventTime == nil {
			t.Errorf("event %+v", e)
		}
	}
	if !slices.Equal(names, []string{"Stream Start", "Session Created"}) {
		t.Errorf("truncatedEvents = %v, want newest first", names)
	}
	byID, err := c.GetStreamSession(ctx, &ivs.GetStreamSessionInput{ChannelArn: arn, StreamId: aws.String(st.ID)})
	if err != nil || aws.ToString(byID.StreamSession.StreamId) != st.ID {
		t.Errorf("GetStreamSession by id: %v", err)
	}

	// PutMetadata reaches the ingest, through the store, as sent.
	if _, err := c.PutMetadata(ctx, &ivs.PutMetadataInput{ChannelArn: arn, Metadata: aws.String(`{"my": "metadata"}`)}); err != nil {
		t.Fatal(err)
	}
	if got := ingest.received(t, channel); !slices.Equal(got, []string{`{"my": "metadata"}`}) {
		t.Errorf("the ingest received %q", got)
	}

	// A live channel cannot be deleted (IVS: ConflictException).
	_, err = c.DeleteChannel(ctx, &ivs.DeleteChannelInput{Arn: arn})
	wantErr(t, err, "ConflictException", 409)

	// StopStream: the ingest disconnects the publisher; the session stays.
	if _, err := c.StopStream(ctx, &ivs.StopStreamInput{ChannelArn: arn}); err != nil {
		t.Fatal(err)
	}
	if ingest.stopped == nil {
		t.Fatal("StopStream did not reach the ingest")
	}
	_, err = c.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: arn})
	wantErr(t, err, "ChannelNotBroadcasting", 404)
	sessions, err = c.ListStreamSessions(ctx, &ivs.ListStreamSessionsInput{ChannelArn: arn})
	if err != nil || len(sessions.StreamSessions) != 1 {
		t.Fatalf("ListStreamSessions after the stop: %+v, %v", sessions, err)
	}
	if sum := sessions.StreamSessions[0]; aws.ToString(sum.StreamId) != st.ID || sum.EndTime == nil || sum.StartTime == nil || sum.HasErrorEvent {
		t.Errorf("session summary = %+v", sum)
	}
	sess, err = c.GetStreamSession(ctx, &ivs.GetStreamSessionInput{ChannelArn: arn})
	if err != nil || sess.StreamSession.EndTime == nil || aws.ToString(sess.StreamSession.TruncatedEvents[0].Name) != "Session Ended" {
		t.Errorf("the ended session: %+v, %v", sess, err)
	}

	// Sessions go with their channel: a deleted channel is not found.
	if _, err := c.DeleteChannel(ctx, &ivs.DeleteChannelInput{Arn: arn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListStreamSessions(ctx, &ivs.ListStreamSessionsInput{ChannelArn: arn})
	wantErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: arn})
	wantErr(t, err, "ResourceNotFoundException", 404)
}

func TestStreamRequestValidation(t *testing.T) {
	ctx := context.Background()
	ts, ingest := newStreamServer(t, nil)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	arn := createChannel(t, c, nil).Channel.Arn
	ingest.publish(t, aws.ToString(arn))

	// Another account's channel is not found, live or not.
	other := ts.client("AKIABBBBBBBBBBBBBBBB", region)
	wantStreamErrors(t, other, arn, "ResourceNotFoundException")
	if list, err := other.ListStreams(ctx, &ivs.ListStreamsInput{}); err != nil || len(list.Streams) != 0 {
		t.Errorf("another account lists %+v, %v", list, err)
	}
	wantStreamErrors(t, c, aws.String("arn:aws:ivs:us-west-2:"+accountA+":channel/abcdABCDefgh"), "ResourceNotFoundException")

	for name, call := range map[string]func() error{
		"a stream key ARN": func() error {
			_, err := c.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: aws.String("arn:aws:ivs:us-west-2:" + accountA + ":stream-key/abcdABCDefgh")})
			return err
		},
		"a short streamId": func() error {
			_, err := c.GetStreamSession(ctx, &ivs.GetStreamSessionInput{ChannelArn: arn, StreamId: aws.String("st-abc")})
			return err
		},
		"a streamId without st-": func() error {
			_, err := c.GetStreamSession(ctx, &ivs.GetStreamSessionInput{ChannelArn: arn, StreamId: aws.String(strings.Repeat("a", 26))})
			return err
		},
		"health GOOD": func() error {
			_, err := c.ListStreams(ctx, &ivs.ListStreamsInput{FilterBy: &types.StreamFilters{Health: "GOOD"}})
			return err
		},
		"maxResults 0": func() error {
			_, err := c.ListStreams(ctx, &ivs.ListStreamsInput{MaxResults: aws.Int32(0)})
			return err
		},
		"maxResults 101": func() error {
			_, err := c.ListStreamSessions(ctx, &ivs.ListStreamSessionsInput{ChannelArn: arn, MaxResults: aws.Int32(101)})
			return err
		},
		"a forged nextToken": func() error {
			_, err := c.ListStreamSessions(ctx, &ivs.ListStreamSessionsInput{ChannelArn: arn, NextToken: aws.String("AAAA")})
			return err
		},
		"empty metadata": func() error {
			_, err := c.PutMetadata(ctx, &ivs.PutMetadataInput{ChannelArn: arn, Metadata: aws.String("")})
			return err
		},
		"1025 bytes of metadata": func() error {
			_, err := c.PutMetadata(ctx, &ivs.PutMetadataInput{ChannelArn: arn, Metadata: aws.String(strings.Repeat("é", 512) + "x")})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) { wantErr(t, call(), "ValidationException", 400) })
	}
	if _, err := c.PutMetadata(ctx, &ivs.PutMetadataInput{ChannelArn: arn, Metadata: aws.String(strings.Repeat("é", 512))}); err != nil {
		t.Errorf("1024 bytes of metadata: %v", err)
	}
	_, err := c.GetStreamSession(ctx, &ivs.GetStreamSessionInput{ChannelArn: arn, StreamId: aws.String(playkey.NewStreamID())})
	wantErr(t, err, "ResourceNotFoundException", 404)
}

func TestPutMetadataRate(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ts, ingest := newStreamServer(t, clock)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	a := createChannel(t, c, nil).Channel.Arn
	b := createChannel(t, c, nil).Channel.Arn
	ingest.publish(t, aws.ToString(a))
	ingest.publish(t, aws.ToString(b))
	put := func(arn *string) error {
		_, err := c.PutMetadata(ctx, &ivs.PutMetadataInput{ChannelArn: arn, Metadata: aws.String("m")})
		return err
	}
	for i := range 5 {
		if err := put(a); err != nil {
			t.Fatalf("call %d of 5 in a second: %v", i+1, err)
		}
	}
	wantErr(t, put(a), "ThrottlingException", 429)
	if err := put(b); err != nil {
		t.Errorf("another channel is throttled too: %v", err)
	}
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	for i := range 5 {
		if err := put(a); err != nil {
			t.Fatalf("call %d of 5 in the next second: %v", i+1, err)
		}
	}
	wantErr(t, put(a), "ThrottlingException", 429)
	channel, _ := playkey.ParseARN("arn", aws.ToString(a))
	if n := len(ingest.received(t, channel)); n != 10 {
		t.Errorf("the ingest received %d payloads, want the 10 accepted", n)
	}
}

func TestListStreamsAndSessionsPaging(t *testing.T) {
	ctx := context.Background()
	ts, ingest := newStreamServer(t, nil)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	var live []string
	var starving string
	for i := range 3 {
		arn := aws.ToString(createChannel(t, c, nil).Channel.Arn)
		st := ingest.publish(t, arn)
		live = append(live, st.ID)
		if i == 1 {
			if _, err := ts.store.UpdateStream(ctx, st.Channel, st.ID, playkey.StreamUpdate{Health: playkey.HealthStarving}); err != nil {
				t.Fatal(err)
			}
			starving = st.ID
		}
	}
	var paged []string
	p := ivs.NewListStreamsPaginator(c, &ivs.ListStreamsInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Streams) > 1 {
			t.Fatalf("a page of %d streams with maxResults 1", len(page.Streams))
		}
		for _, s := range page.Streams {
			paged = append(paged, aws.ToString(s.StreamId))
		}
	}
	slices.Sort(paged)
	slices.Sort(live)
	if !slices.Equal(paged, live) {
		t.Errorf("paged ListStreams = %v, want %v", paged, live)
	}
	out, err := c.ListStreams(ctx, &ivs.ListStreamsInput{FilterBy: &types.StreamFilters{Health: types.StreamHealthStarving}})
	if err != nil || len(out.Streams) != 1 || aws.ToString(out.Streams[0].StreamId) != starving || out.Streams[0].Health != types.StreamHealthStarving {
		t.Errorf("ListStreams filterBy STARVING = %+v, %v", out, err)
	}

	// Sessions, newest first, across pages.
	arn := aws.ToString(createChannel(t, c, nil).Channel.Arn)
	var want []string
	base := time.Now().Add(-time.Hour)
	for i := range 3 {
		st := ingest.publishAt(t, arn, base.Add(time.Duration(i)*time.Minute))
		if err := ingest.StopStream(ctx, st.Channel); err != nil {
			t.Fatal(err)
		}
		want = append([]string{st.ID}, want...)
	}
	var got []string
	input := &ivs.ListStreamSessionsInput{ChannelArn: aws.String(arn), MaxResults: aws.Int32(2)}
	for {
		page, err := c.ListStreamSessions(ctx, input)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.StreamSessions {
			got = append(got, aws.ToString(s.StreamId))
		}
		if page.NextToken == nil {
			break
		}
		input.NextToken = page.NextToken
	}
	if !slices.Equal(got, want) {
		t.Errorf("ListStreamSessions = %v, want newest first %v", got, want)
	}
}

// TestStopStreamThroughTheStore: with the ingest in another process, StopStream reaches it
// through the store: its next report of the stream says Stopping.
func TestStopStreamThroughTheStore(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t)
	ingest := &fakeIngest{store: ts.store}
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	arn := createChannel(t, c, nil).Channel.Arn
	st := ingest.publish(t, aws.ToString(arn))
	if _, err := c.StopStream(ctx, &ivs.StopStreamInput{ChannelArn: arn}); err != nil {
		t.Fatal(err)
	}
	got, err := ts.store.UpdateStream(ctx, st.Channel, st.ID, playkey.StreamUpdate{})
	if err != nil || !got.Stopping {
		t.Fatalf("the ingest's next report: %+v, %v; want Stopping", got, err)
	}
	// PutMetadata goes the same way: queued in the store for the ingest holding the stream.
	if _, err := c.PutMetadata(ctx, &ivs.PutMetadataInput{ChannelArn: arn, Metadata: aws.String("m")}); err != nil {
		t.Fatal(err)
	}
	if got := ingest.received(t, st.Channel); !slices.Equal(got, []string{"m"}) {
		t.Errorf("queued for the ingest: %q", got)
	}
}

// failingStopper is an ingest that cannot be reached.
type failingStopper struct{}

func (failingStopper) StopStream(context.Context, playkey.ARN) error {
	return errors.New("ingest unreachable")
}

// TestStopStreamIngestUnreachable: when the ingest of this process cannot be told, StopStream
// answers StreamUnavailable (503), and the stop is still marked for the ingest to find.
func TestStopStreamIngestUnreachable(t *testing.T) {
	ctx := context.Background()
	ts := newTestServerWith(t, func(cfg *api.Config) { cfg.StreamStopper = failingStopper{} })
	ingest := &fakeIngest{store: ts.store}
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	arn := createChannel(t, c, nil).Channel.Arn
	st := ingest.publish(t, aws.ToString(arn))
	_, err := c.StopStream(ctx, &ivs.StopStreamInput{ChannelArn: arn})
	wantErr(t, err, "StreamUnavailable", 503)
	if got, err := ts.store.LiveStream(ctx, st.Channel); err != nil || !got.Stopping {
		t.Errorf("after the failed StopStream: %+v, %v; want the stream marked Stopping", got, err)
	}
}
