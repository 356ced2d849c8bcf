package playkey

import (
	"regexp"
	"strings"
	"time"
)

// Stream is a channel's live stream, as the ingest that receives it records it. A store
// holds at most one per channel (IVS allows one stream per channel); a Stream a store
// returns is live. Its playback URL and viewer count are not kept here: the playback URL
// follows from the channel's ARN and the gate's address, and viewers are counted apart
// (RecordViewers, ViewerCounts).
type Stream struct {
	Channel   ARN
	ID        string // NewStreamID's form: "st-" and 23 letters and digits
	StartTime time.Time
	Health    string // one of StreamHealths
	// Origin is the URL of the channel's multivariant playlist on the packager serving the
	// stream, recorded by the ingest node so that any gate can find it.
	Origin string
	// Stopping is set by StopStream: the ingest receiving the stream must disconnect its
	// publisher and end the stream.
	Stopping bool
	// SeenAt is when the ingest last reported the stream (StartStream, UpdateStream). A
	// stream not reported for StreamTimeout is over: its ingest is gone.
	SeenAt time.Time
}

// StreamTimeout is how long a live stream lasts without a report from its ingest. An ingest
// reports each live stream (UpdateStream) well within it, every few seconds; past it the
// stream is taken to have ended when its ingest was last heard from, so that a crashed
// ingest node never leaves a channel live forever.
const StreamTimeout = 30 * time.Second

// Values of the model's StreamState and StreamHealth.
const (
	StreamLive    = "LIVE"
	StreamOffline = "OFFLINE"

	HealthHealthy  = "HEALTHY"
	HealthStarving = "STARVING"
	HealthUnknown  = "UNKNOWN"
)

// StreamHealths are the values of the model's StreamHealth, in its order.
var StreamHealths = []string{HealthHealthy, HealthStarving, HealthUnknown}

// Error codes of the stream operations, beyond the common ones (see ErrValidation...).
const (
	ErrChannelNotBroadcasting = "ChannelNotBroadcasting"
	ErrStreamUnavailable      = "StreamUnavailable"
)

// NotBroadcasting returns the ChannelNotBroadcasting error for channel.
func NotBroadcasting(channel ARN) error {
	return Errorf(ErrChannelNotBroadcasting, "channel %s is not broadcasting", channel)
}

const streamIDLength = 26

var streamIDPattern = regexp.MustCompile(`^st-[a-zA-Z0-9]+$`)

// NewStreamID returns a fresh stream id: "st-" and 23 letters and digits, 26 characters as
// the model's StreamId requires (for example st-ABCDEfghij01234KLMN5678).
func NewStreamID() string {
	return "st-" + RandomString(streamIDLength-3)
}

// ValidateStreamID checks a streamId member against the model: 26 characters, "st-" and
// letters and digits.
func ValidateStreamID(member, id string) error {
	if len(id) != streamIDLength || !streamIDPattern.MatchString(id) {
		return Errorf(ErrValidation, "%s %q is not a stream id: expected st- and 23 letters and digits", member, id)
	}
	return nil
}

// StreamSession is the record of one stream, kept after it ends, for as long as its channel.
type StreamSession struct {
	ID string // the stream's id
	// Channel is the channel as it was when the stream started.
	Channel   *Channel
	StartTime time.Time
	EndTime   time.Time // zero while the stream is live
	// Ingest is what the ingest measured of the incoming stream (zero until it reports).
	Ingest IngestConfiguration
	// Events are the stream's latest events, newest first, at most MaxStreamEvents.
	Events []StreamEvent
	// HasErrorEvent is whether any event of the stream, kept or dropped from Events, was an
	// error (StreamEvent.IsError).
	HasErrorEvent bool
}

// IngestConfiguration is the model's IngestConfigurations: one entry per video and audio
// track of the incoming stream (one of each without multitrack input, both named Track0).
type IngestConfiguration struct {
	Video []VideoConfiguration
	Audio []AudioConfiguration
}

// VideoConfiguration is one incoming video track as measured. Codec is the RFC 6381 form
// (avc1.42C02A); Profile and Level are H.264's names (Baseline, Main, High; 4.2).
type VideoConfiguration struct {
	Track           string
	Codec           string
	Encoder         string // the publisher's encoder, as it names itself (Lavf58.45.100, OBS...)
	Profile         string
	Level           string
	TargetBitrate   int64 // bits per second
	TargetFramerate int64
	Width, Height   int64
}

// AudioConfiguration is one incoming audio track as measured. Codec is the RFC 6381 form
// (mp4a.40.2).
type AudioConfiguration struct {
	Track         string
	Codec         string
	TargetBitrate int64 // bits per second
	SampleRate    int64
	Channels      int64
}

// StreamEvent is one event of a stream, with IVS's EventBridge names.
type StreamEvent struct {
	Name string // EventSessionCreated...
	Type string // EventTypeStateChange...
	Code string // more detail, for some failures; "" for none
	Time time.Time
}

// IsError reports whether the event counts as the quota breach or failure that a session
// summary's hasErrorEvent reports: a failure, or any event with a code (IVS gives codes only
// to failures and to sessions ended by a refusal).
func (e StreamEvent) IsError() bool {
	return strings.HasSuffix(e.Name, "Failure") || e.Code != ""
}

// IVS's event names and types (EventBridge's detail-type and event_name).
const (
	EventTypeStateChange  = "IVS Stream State Change"
	EventTypeHealthChange = "IVS Stream Health Change"

	EventSessionCreated  = "Session Created"
	EventStreamStart     = "Stream Start"
	EventStreamEnd       = "Stream End"
	EventSessionEnded    = "Session Ended"
	EventStreamFailure   = "Stream Failure"
	EventStarvationStart = "Starvation Start"
	EventStarvationEnd   = "Starvation End"
)

// MaxStreamEvents is the most events a stream session keeps (the model's truncatedEvents);
// older ones are dropped.
const MaxStreamEvents = 500

// MaxRefusedSessions is how many sessions of refused publishes (RecordRefusedStream) a
// channel keeps: enough to see why a broadcaster keeps failing, bounded however often it
// retries.
const MaxRefusedSessions = 50

// QueuedMetadata is a PutMetadata payload on its way to the ingest holding the stream.
type QueuedMetadata struct {
	Seq     int64 // increases with each payload queued for a channel
	At      time.Time
	Payload string
}

// PutMetadata's limits: MetadataPerSecond calls per channel, across every API node; a queued
// payload is kept MetadataKeep, long enough for the ingest's checks (twice a second) to
// read it, or MetadataMaxQueued per channel at most.
const (
	MetadataPerSecond = 5
	MetadataKeep      = 10 * time.Second
	MetadataMaxQueued = 60
)

// MetadataThrottled is the Throttling error of a PutMetadata beyond MetadataPerSecond.
func MetadataThrottled() error {
	return Errorf(ErrThrottling,
		"PutMetadata allows at most %d requests per second per channel; batch the data into fewer calls", MetadataPerSecond)
}

// StreamUpdate is what an ingest reports of a live stream. Zero fields leave the stream as
// it is; every update counts as a report (Stream.SeenAt).
type StreamUpdate struct {
	Health string               // one of StreamHealths, or "" to keep it
	Origin string               // "" to keep it
	Ingest *IngestConfiguration // nil to keep it
	Events []StreamEvent        // appended to the session's events, in order
}

// StreamFilter narrows a listing of live streams; zero fields match everything.
type StreamFilter struct {
	Health string
}

// ViewerSighting is a playback session of a channel seen by a gate at a time.
type ViewerSighting struct {
	Channel ARN
	Session string // the gate's playback session id
	At      time.Time
}

// ViewerWindow is how far back viewers are counted: a playback session counts as a viewer
// for a minute after a gate last saw it, as IVS's viewerCount drops a view "within 1
// minute" of the end of playback. A gate reports each session at most every
// ViewerReportInterval, so that a new view counts within about 15 seconds, as on IVS.
const (
	ViewerWindow         = time.Minute
	ViewerReportInterval = 15 * time.Second
)

// appendStreamEvents returns events (newest first) with more (oldest first, as they
// happened) added in front, their times kept to the millisecond, cut to the newest
// MaxStreamEvents. It is the one rule both stores keep a session's events by.
func appendStreamEvents(events []StreamEvent, more ...StreamEvent) []StreamEvent {
	out := make([]StreamEvent, 0, min(len(events)+len(more), MaxStreamEvents))
	for i := len(more) - 1; i >= 0 && len(out) < MaxStreamEvents; i-- {
		e := more[i]
		e.Time = e.Time.Truncate(time.Millisecond).UTC()
		out = append(out, e)
	}
	for _, e := range events {
		if len(out) == MaxStreamEvents {
			break
		}
		out = append(out, e)
	}
	return out
}

// anyError reports whether any of events is an error.
func anyError(events []StreamEvent) bool {
	for _, e := range events {
		if e.IsError() {
			return true
		}
	}
	return false
}

// AddStreamEvents appends events to the session as appendStreamEvents does and keeps
// HasErrorEvent.
func (ss *StreamSession) AddStreamEvents(events ...StreamEvent) {
	ss.Events = appendStreamEvents(ss.Events, events...)
	ss.HasErrorEvent = ss.HasErrorEvent || anyError(events)
}

// Check enforces what a store relies on in a stream it is asked to start: a channel ARN, a
// stream id of NewStreamID's form, a health of StreamHealths.
func (st *Stream) Check() error {
	if st.Channel.Type != TypeChannel {
		return Errorf(ErrValidation, "%s is not a channel ARN", st.Channel)
	}
	if err := ValidateStreamID("streamId", st.ID); err != nil {
		return err
	}
	return CheckEnum("health", st.Health, StreamHealths)
}

// NonNil replaces the session's nil slices and maps with empty ones, as the Store contract
// wants of what it returns.
func (ss *StreamSession) NonNil() {
	if ss.Events == nil {
		ss.Events = []StreamEvent{}
	}
	if ss.Ingest.Video == nil {
		ss.Ingest.Video = []VideoConfiguration{}
	}
	if ss.Ingest.Audio == nil {
		ss.Ingest.Audio = []AudioConfiguration{}
	}
	if ss.Channel != nil && ss.Channel.Tags == nil {
		ss.Channel.Tags = map[string]string{}
	}
}

// NoStreamSession returns the ResourceNotFound error for a missing session of channel: the
// stream id's, or any (the latest) when id is "".
func NoStreamSession(channel ARN, id string) error {
	if id == "" {
		return Errorf(ErrResourceNotFound, "channel %s has no stream sessions", channel)
	}
	return Errorf(ErrResourceNotFound, "stream session %s of channel %s not found", id, channel)
}

// LiveChannelConflict is the error for a change IVS refuses while a channel is live.
func LiveChannelConflict(channel ARN, what string) error {
	return Errorf(ErrConflict, "channel %s is live; stop its stream (StopStream) before you %s it", channel, what)
}
