// Package live is the registry of live streams, whichever engine receives them: it decides
// who may publish (the stream key, in the region served) and keeps the records every node and
// the API read: the live stream, where its HLS is served, its health and ingest
// configuration, and its session's events.
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/ingest"
)

// Registry decides publishes from the store: the stream key must exist, in the
// region this ingest serves, and keep existing while the stream is live. It records each
// live stream in the store (StartStream, UpdateStream, EndStream), which is where the API
// finds it and where every gate finds the packager serving it.
type Registry struct {
	store  playkey.Store
	finder playkey.StreamKeyFinder
	region string
	log    *slog.Logger
	// Stats reads what arrived of a live stream, and Inject adds timed metadata to it; both
	// are set once the ingest server exists. Stats is nil for an engine that does not tell
	// (a stream is then HEALTHY while connected), Inject for one that cannot carry metadata.
	Stats  func(playkey.ARN) (ingest.Stats, bool)
	Inject func(channel playkey.ARN, payload string) error
	now    func() time.Time

	mu   sync.Mutex
	live map[playkey.ARN]*reported // the streams this node recorded live
}

// reported is what Registry keeps of a live stream between its reports.
type reported struct {
	stream   *ingest.Stream
	origin   string
	recorded atomic.Bool // StartStream succeeded (set by Started or Check, read by Ended)
	health   string
	reported time.Time // the latest UpdateStream
	metadata int64     // the Seq of the latest queued metadata injected
}

// Reporting: the store hears of a live stream every streamReportInterval, well within
// playkey.StreamTimeout; between reports each Check reads the record, so that a StopStream
// made on another node disconnects the publisher within a second. A stream is STARVING
// when no media arrived for starvingAfter.
const (
	streamReportInterval = 3 * time.Second
	starvingAfter        = 3 * time.Second
)

var _ ingest.Authority = (*Registry)(nil)

// NewRegistry returns the registry of an ingest taking the stream keys of region
// ("" for every region); its Stats and Inject are set once the ingest server exists.
func NewRegistry(store playkey.Store, finder playkey.StreamKeyFinder, region string, log *slog.Logger) *Registry {
	return &Registry{store: store, finder: finder, region: region, log: log, now: time.Now, live: make(map[playkey.ARN]*reported)}
}

func (a *Registry) Authorize(ctx context.Context, value string) (ingest.Channel, error) {
	// sk_{region}_{id}_{secret}: the region is read before the store is asked.
	parts := strings.SplitN(value, "_", 4)
	if len(parts) != 4 || parts[0] != "sk" {
		return ingest.Channel{}, errors.New("not a stream key: IVS stream keys start sk_{region}_")
	}
	if a.region != "" && parts[1] != a.region {
		return ingest.Channel{}, fmt.Errorf("the stream key is for region %q; this ingest takes %q", parts[1], a.region)
	}
	key, err := a.finder.StreamKeyByValue(ctx, value)
	if playkey.IsCode(err, playkey.ErrResourceNotFound) {
		return ingest.Channel{}, errors.New("no such stream key: unknown or deleted")
	}
	if err != nil {
		return ingest.Channel{}, fmt.Errorf("the store cannot be read: %v", err)
	}
	ch, err := a.store.Channel(ctx, key.Channel)
	if playkey.IsCode(err, playkey.ErrResourceNotFound) {
		return ingest.Channel{}, fmt.Errorf("stream key %s: its channel was deleted", key.ARN)
	}
	if err != nil {
		return ingest.Channel{}, fmt.Errorf("the store cannot be read: %v", err)
	}
	return ingest.Channel{
		ARN:             ch.ARN,
		StreamKey:       key.ARN,
		LatencyMode:     ch.LatencyMode,
		Type:            ch.Type,
		ContainerFormat: ch.ContainerFormat,
		SRTPassphrase:   ch.SRTPassphrase,
	}, nil
}

func (a *Registry) Check(ctx context.Context, ch ingest.Channel) error {
	_, err := a.store.StreamKey(ctx, ch.StreamKey)
	if playkey.IsCode(err, playkey.ErrResourceNotFound) {
		return fmt.Errorf("stream key %s was deleted", ch.StreamKey)
	}
	a.mu.Lock()
	r := a.live[ch.ARN]
	a.mu.Unlock()
	if r == nil {
		return nil
	}
	if !r.recorded.Load() {
		// The store could not be written when the stream started: try again.
		if err := a.record(ctx, r); playkey.IsCode(err, playkey.ErrConflict) {
			return ingest.ErrAlreadyLive // on another ingest node
		} else if err != nil {
			return nil
		}
	}
	now := a.now()
	var st *playkey.Stream
	if now.Sub(r.reported) >= streamReportInterval {
		u := a.measure(r, now)
		st, err = a.store.UpdateStream(ctx, ch.ARN, r.stream.ID, u)
		if err == nil {
			r.reported = now
		}
	} else {
		st, err = a.store.LiveStream(ctx, ch.ARN)
		if err == nil && st.ID != r.stream.ID {
			err = playkey.NotBroadcasting(ch.ARN)
		}
	}
	switch {
	case playkey.IsCode(err, playkey.ErrChannelNotBroadcasting):
		// Another node's stream took the channel, or this one timed out in the store.
		return errors.New("the store no longer records the stream live")
	case playkey.IsCode(err, playkey.ErrResourceNotFound):
		return errors.New("the channel was deleted")
	case err != nil:
		// A store that cannot be read keeps the stream going: it ends when the key is seen
		// gone, or by its publisher.
		return nil
	case st.Stopping:
		return ingest.ErrStopped
	}
	a.injectMetadata(ctx, r)
	return nil
}

// injectMetadata adds the PutMetadata payloads queued for the stream since the last check
// (from the API on any node) to the stream. A store that cannot be read delays them to the
// next check.
func (a *Registry) injectMetadata(ctx context.Context, r *reported) {
	if a.Inject == nil {
		return
	}
	ch := r.stream.Channel.ARN
	queued, err := a.store.PendingMetadata(ctx, ch, r.stream.ID, r.metadata)
	if err != nil {
		return
	}
	for _, m := range queued {
		if err := a.Inject(ch, m.Payload); err != nil {
			a.log.Warn("ingest: cannot add timed metadata to the stream", "channel", ch.String(), "err", err)
		}
		r.metadata = m.Seq
	}
}

// measure returns the report of a live stream: its health and its ingest configuration as
// measured, with an event when the health changed.
func (a *Registry) measure(r *reported, now time.Time) playkey.StreamUpdate {
	s := r.stream
	u := playkey.StreamUpdate{Health: playkey.HealthHealthy, Ingest: ingestConfiguration(s, ingest.Stats{}, 0)}
	if a.Stats == nil {
		return u // an engine that measures nothing: healthy while its publisher is connected
	}
	if stats, ok := a.Stats(s.Channel.ARN); ok {
		if now.Sub(stats.LastMedia) > starvingAfter {
			u.Health = playkey.HealthStarving
		}
		u.Ingest = ingestConfiguration(s, stats, now.Sub(s.StartTime))
	}
	if u.Health != r.health {
		name := playkey.EventStarvationStart
		if u.Health == playkey.HealthHealthy {
			name = playkey.EventStarvationEnd
		}
		u.Events = []playkey.StreamEvent{{Name: name, Type: playkey.EventTypeHealthChange, Time: now}}
		r.health = u.Health
	}
	return u
}

// ingestConfiguration is the model's ingest configuration of s: what its tracks declared,
// and bitrates averaged over elapsed.
func ingestConfiguration(s *ingest.Stream, stats ingest.Stats, elapsed time.Duration) *playkey.IngestConfiguration {
	if s.Video.Codec == "" && s.Audio.Codec == "" {
		return nil // an engine that does not say what it receives
	}
	rate := func(bytes int64) int64 {
		if elapsed <= 0 {
			return 0
		}
		return int64(float64(bytes*8) / elapsed.Seconds())
	}
	v := playkey.VideoConfiguration{
		Track:           "Track0",
		Codec:           s.Video.Codec,
		Profile:         s.Video.Profile,
		Level:           s.Video.Level,
		TargetBitrate:   rate(stats.VideoBytes),
		TargetFramerate: int64(s.Video.FrameRate + 0.5),
		Width:           int64(s.Video.Width),
		Height:          int64(s.Video.Height),
	}
	cfg := &playkey.IngestConfiguration{Video: []playkey.VideoConfiguration{v}}
	if s.Audio.Codec != "" {
		cfg.Audio = []playkey.AudioConfiguration{{
			Track:         "Track0",
			Codec:         s.Audio.Codec,
			TargetBitrate: rate(stats.AudioBytes),
			SampleRate:    int64(s.Audio.SampleRate),
			Channels:      int64(s.Audio.Channels),
		}}
	}
	return cfg
}

func (a *Registry) Started(ctx context.Context, s *ingest.Stream, origin string) {
	if err := a.Start(ctx, s, origin); err != nil {
		// The next Check ends the stream on Conflict (another node has the channel live),
		// and tries again otherwise: until then the stream plays on this node only.
		a.log.Error("ingest: cannot record the live stream; the API and other nodes do not see it yet", "channel", s.Channel.ARN.String(), "err", err)
	}
}

// Start is Started for an engine that can still refuse the publish: it returns why the
// store did not record the stream live (playkey.ErrConflict: the channel is live on
// another node), and the registry keeps the stream for its Checks and Ended either way.
func (a *Registry) Start(ctx context.Context, s *ingest.Stream, origin string) error {
	r := &reported{stream: s, origin: origin, health: playkey.HealthHealthy}
	a.mu.Lock()
	a.live[s.Channel.ARN] = r
	a.mu.Unlock()
	return a.record(ctx, r)
}

// record starts the stream's record in the store, with Session Created and Stream Start.
// The first report (measure) follows at the next Check.
func (a *Registry) record(ctx context.Context, r *reported) error {
	s, now := r.stream, a.now()
	st := &playkey.Stream{Channel: s.Channel.ARN, ID: s.ID, StartTime: s.StartTime, Health: playkey.HealthHealthy, Origin: r.origin, SeenAt: now}
	err := a.store.StartStream(ctx, st,
		playkey.StreamEvent{Name: playkey.EventSessionCreated, Type: playkey.EventTypeStateChange, Time: s.StartTime},
		playkey.StreamEvent{Name: playkey.EventStreamStart, Type: playkey.EventTypeStateChange, Time: now})
	if err == nil {
		r.recorded.Store(true)
	}
	return err
}

func (a *Registry) Ended(ctx context.Context, s *ingest.Stream, reason error) {
	a.mu.Lock()
	r := a.live[s.Channel.ARN]
	if r != nil && r.stream.ID == s.ID {
		delete(a.live, s.Channel.ARN)
	}
	a.mu.Unlock()
	if r == nil || !r.recorded.Load() {
		return
	}
	now := a.now()
	var events []playkey.StreamEvent
	if failure := streamFailureCode(reason); failure != "" {
		events = append(events, playkey.StreamEvent{Name: playkey.EventStreamFailure, Type: playkey.EventTypeStateChange, Code: failure, Time: now})
	}
	events = append(events,
		playkey.StreamEvent{Name: playkey.EventStreamEnd, Type: playkey.EventTypeStateChange, Time: now},
		playkey.StreamEvent{Name: playkey.EventSessionEnded, Type: playkey.EventTypeStateChange, Time: now})
	err := a.store.EndStream(ctx, s.Channel.ARN, s.ID, now, events...)
	if err != nil && !playkey.IsCode(err, playkey.ErrChannelNotBroadcasting) && !playkey.IsCode(err, playkey.ErrResourceNotFound) {
		// The record times out in the store (playkey.StreamTimeout) if it cannot be ended.
		a.log.Error("ingest: cannot record the end of the stream", "channel", s.Channel.ARN.String(), "err", err)
	}
}

// streamFailureCode is the Stream Failure code of why a stream ended (the codes are
// playkey's: IVS does not publish its own), or "" when it ended as streams do: its
// publisher left, StopStream, the key or the channel deleted, the server closing.
func streamFailureCode(reason error) string {
	var ne net.Error
	switch {
	case errors.Is(reason, ingest.ErrUnsupported):
		return "UnsupportedInput"
	case errors.As(reason, &ne) && ne.Timeout():
		return "IngestTimeout" // the publisher stopped sending
	}
	return ""
}

// Refused records a refusal of a valid key. A second publisher (AlreadyLive) is a Stream
// Failure of the channel's live stream; any other refusal (input that is not H.264/AAC, no
// media, a wrong SRT passphrase) is a session of its own, ended as it began, with Session
// Created, Stream Failure and Session Ended: the channel never went live, and the
// broadcaster finds why in GetStreamSession and ListStreamSessions.
func (a *Registry) Refused(ctx context.Context, ch ingest.Channel, reason error) {
	code := refusalCode(reason)
	now := a.now()
	failure := playkey.StreamEvent{Name: playkey.EventStreamFailure, Type: playkey.EventTypeStateChange, Code: code, Time: now}
	switch {
	case errors.Is(reason, ingest.ErrServerClosing):
		return
	case errors.Is(reason, ingest.ErrAlreadyLive):
		st, err := a.store.LiveStream(ctx, ch.ARN)
		if err != nil {
			return // on this node, its record is being started
		}
		if _, err := a.store.UpdateStream(ctx, ch.ARN, st.ID, playkey.StreamUpdate{Events: []playkey.StreamEvent{failure}}); err != nil {
			a.log.Warn("ingest: cannot record the refusal in the live stream's session", "channel", ch.ARN.String(), "err", err)
		}
		return
	}
	ss := &playkey.StreamSession{ID: playkey.NewStreamID(), StartTime: now, EndTime: now, Events: []playkey.StreamEvent{
		{Name: playkey.EventSessionCreated, Type: playkey.EventTypeStateChange, Time: now},
		failure,
		{Name: playkey.EventSessionEnded, Type: playkey.EventTypeStateChange, Time: now},
	}}
	if err := a.store.RecordRefusedStream(ctx, ch.ARN, ss); err != nil {
		a.log.Warn("ingest: cannot record the refused publish as a stream session", "channel", ch.ARN.String(), "err", err)
		return
	}
	a.log.Info("ingest: refused publish recorded", "channel", ch.ARN.String(), "stream_id", ss.ID, "code", code)
}

// refusalCode is the Stream Failure code of a refused publish (playkey's codes: IVS does not
// publish its own).
func refusalCode(reason error) string {
	switch {
	case errors.Is(reason, ingest.ErrAlreadyLive):
		return "AlreadyLive"
	case errors.Is(reason, ingest.ErrUnsupported):
		return "UnsupportedInput"
	case errors.Is(reason, ingest.ErrNoMedia):
		return "NoMedia"
	case errors.Is(reason, ingest.ErrPassphrase):
		return "BadPassphrase"
	}
	return "StreamRefused"
}
