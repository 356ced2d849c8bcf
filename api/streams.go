package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/playkey/playkey"
)

// StreamStopper disconnects the publisher of a channel's live stream: the ingest, when it
// runs in the same process as the API. StopStream also marks the stream stopping in the
// store, which is how an ingest in another process (or on another node) learns of it; the
// stopper only makes the disconnection immediate.
type StreamStopper interface {
	StopStream(ctx context.Context, channel playkey.ARN) error
}

// The model's limits of the stream operations: maxResults 1-100, default 100, for both
// lists; PutMetadata carries at most 1 KB (its rate, playkey.MetadataPerSecond, is the
// store's to count, across API nodes).
var (
	streamResults        = resultLimits{def: 100, max: 100}
	streamSessionResults = resultLimits{def: 100, max: 100}
)

const maxMetadataBytes = 1024

// isoTime formats a timestamp of the model's iso8601 format, as the published responses
// show them (2020-05-05T21:55:38Z).
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// stream is the model's Stream, and with omitted members its StreamSummary.
type stream struct {
	ChannelARN  string `json:"channelArn"`
	StreamID    string `json:"streamId"`
	PlaybackURL string `json:"playbackUrl,omitempty"`
	StartTime   string `json:"startTime"`
	State       string `json:"state"`
	Health      string `json:"health"`
	ViewerCount int64  `json:"viewerCount"`
}

// channelPlaybackURL is a channel's playbackUrl: the gate's path for it on the gate's base
// URL.
func (s *Server) channelPlaybackURL(a playkey.ARN) string {
	return s.playbackURL + "/api/video/v1/" + a.Region + "." + a.Account + ".channel." + a.ID + ".m3u8"
}

// viewerCounts returns the viewer counts of the caller's channels; -1 for every channel
// when they cannot be read, which the model documents as "the request timed out; retry".
func (s *Server) viewerCounts(ctx context.Context, c Caller) func(playkey.ARN) int64 {
	counts, err := s.store.ViewerCounts(ctx, c.Scope(), s.now().Add(-playkey.ViewerWindow))
	if err != nil {
		s.log.Warn("viewer counts unavailable", "account", c.Account, "region", c.Region, "err", err)
		return func(playkey.ARN) int64 { return -1 }
	}
	return func(a playkey.ARN) int64 { return counts[a] }
}

func (s *Server) streamOut(st *playkey.Stream, viewers int64) stream {
	return stream{
		ChannelARN:  st.Channel.String(),
		StreamID:    st.ID,
		PlaybackURL: s.channelPlaybackURL(st.Channel),
		StartTime:   isoTime(st.StartTime),
		State:       playkey.StreamLive,
		Health:      st.Health,
		ViewerCount: viewers,
	}
}

// decodeChannelARN decodes the body of an operation that takes only a channelArn in the
// caller's scope.
func decodeChannelARN(c Caller, r *http.Request) (playkey.ARN, error) {
	var in struct {
		ChannelARN *string `json:"channelArn"`
	}
	if err := decode(r, &in); err != nil {
		return playkey.ARN{}, err
	}
	return ownedARN(c, "channelArn", deref(in.ChannelARN), playkey.TypeChannel)
}

// decodeChannelListing decodes the body of a List operation over one channel's resources:
// the paging members and a channelArn in the caller's scope.
func decodeChannelListing(c Caller, r *http.Request) (listInput, playkey.ARN, error) {
	var in struct {
		listInput
		ChannelARN *string `json:"channelArn"`
	}
	if err := decode(r, &in); err != nil {
		return listInput{}, playkey.ARN{}, err
	}
	channel, err := ownedARN(c, "channelArn", deref(in.ChannelARN), playkey.TypeChannel)
	return in.listInput, channel, err
}

func (s *Server) getStream(ctx context.Context, c Caller, r *http.Request) (any, error) {
	channel, err := decodeChannelARN(c, r)
	if err != nil {
		return nil, err
	}
	st, err := s.store.LiveStream(ctx, channel)
	if err != nil {
		return nil, err
	}
	return map[string]any{"stream": s.streamOut(st, s.viewerCounts(ctx, c)(channel))}, nil
}

func (s *Server) listStreams(ctx context.Context, c Caller, r *http.Request) (any, error) {
	const op = "ListStreams"
	var in struct {
		listInput
		FilterBy *struct {
			Health *string `json:"health"`
		} `json:"filterBy"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var filter playkey.StreamFilter
	if in.FilterBy != nil && in.FilterBy.Health != nil {
		filter.Health = *in.FilterBy.Health
		if err := playkey.CheckEnum("filterBy.health", filter.Health, playkey.StreamHealths); err != nil {
			return nil, err
		}
	}
	streams, next, err := listPage(ctx, s, c, op, in.listInput, streamResults,
		func(page playkey.Page) ([]*playkey.Stream, error) {
			return s.store.LiveStreams(ctx, c.Scope(), filter, page)
		},
		func(st *playkey.Stream) string { return st.Channel.ID })
	if err != nil {
		return nil, err
	}
	out := struct {
		Streams   []stream `json:"streams"`
		NextToken string   `json:"nextToken,omitempty"`
	}{Streams: []stream{}, NextToken: next}
	viewers := func(playkey.ARN) int64 { return 0 }
	if len(streams) > 0 {
		viewers = s.viewerCounts(ctx, c)
	}
	for _, st := range streams {
		sum := s.streamOut(st, viewers(st.Channel))
		sum.PlaybackURL = "" // StreamSummary has none
		out.Streams = append(out.Streams, sum)
	}
	return out, nil
}

// StopStream marks the stream stopping in the store first, so that the stop holds whichever
// ingest serves it, then asks the ingest of this process, if any, to disconnect at once.
func (s *Server) stopStream(ctx context.Context, c Caller, r *http.Request) (any, error) {
	channel, err := decodeChannelARN(c, r)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.StopStream(ctx, channel); err != nil {
		return nil, err
	}
	if s.stopper != nil {
		if err := s.stopper.StopStream(ctx, channel); err != nil {
			var pe *playkey.Error
			if errors.As(err, &pe) {
				return nil, err
			}
			s.log.Warn("stop stream", "channel", channel.String(), "err", err)
			return nil, playkey.Errorf(playkey.ErrStreamUnavailable,
				"the stream of channel %s is marked to stop, but its ingest could not be told at once; try again", channel)
		}
	}
	return struct{}{}, nil
}

// streamSession is the model's StreamSession. playkey records no recording configuration,
// so recordingConfiguration is never present.
type streamSession struct {
	StreamID             string               `json:"streamId"`
	StartTime            string               `json:"startTime"`
	EndTime              string               `json:"endTime,omitempty"`
	Channel              channel              `json:"channel"`
	IngestConfiguration  *ingestConfiguration `json:"ingestConfiguration,omitempty"`
	IngestConfigurations ingestConfigurations `json:"ingestConfigurations"`
	TruncatedEvents      []streamEvent        `json:"truncatedEvents"`
}

// ingestConfiguration is the model's deprecated IngestConfiguration: the first track.
type ingestConfiguration struct {
	Video *videoConfiguration `json:"video,omitempty"`
	Audio *audioConfiguration `json:"audio,omitempty"`
}

type ingestConfigurations struct {
	VideoConfigurations []videoConfiguration `json:"videoConfigurations"`
	AudioConfigurations []audioConfiguration `json:"audioConfigurations"`
}

// videoConfiguration is the model's VideoConfiguration. avcProfile and avcLevel are filled
// only in the deprecated ingestConfiguration, as the model documents.
type videoConfiguration struct {
	AVCProfile      string `json:"avcProfile,omitempty"`
	AVCLevel        string `json:"avcLevel,omitempty"`
	Codec           string `json:"codec"`
	Encoder         string `json:"encoder"`
	TargetBitrate   int64  `json:"targetBitrate"`
	TargetFramerate int64  `json:"targetFramerate"`
	VideoHeight     int64  `json:"videoHeight"`
	VideoWidth      int64  `json:"videoWidth"`
	Level           string `json:"level"`
	Track           string `json:"track"`
	Profile         string `json:"profile"`
}

type audioConfiguration struct {
	Codec         string `json:"codec"`
	TargetBitrate int64  `json:"targetBitrate"`
	SampleRate    int64  `json:"sampleRate"`
	Channels      int64  `json:"channels"`
	Track         string `json:"track"`
}

type streamEvent struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	EventTime string `json:"eventTime"`
	Code      string `json:"code,omitempty"`
}

func videoOut(v playkey.VideoConfiguration) videoConfiguration {
	return videoConfiguration{Codec: v.Codec, Encoder: v.Encoder, TargetBitrate: v.TargetBitrate, TargetFramerate: v.TargetFramerate,
		VideoHeight: v.Height, VideoWidth: v.Width, Level: v.Level, Track: v.Track, Profile: v.Profile}
}

func audioOut(a playkey.AudioConfiguration) audioConfiguration {
	return audioConfiguration{Codec: a.Codec, TargetBitrate: a.TargetBitrate, SampleRate: a.SampleRate, Channels: a.Channels, Track: a.Track}
}

func (s *Server) streamSessionOut(ss *playkey.StreamSession) streamSession {
	out := streamSession{
		StreamID:  ss.ID,
		StartTime: isoTime(ss.StartTime),
		Channel:   s.channelOut(ss.Channel),
		IngestConfigurations: ingestConfigurations{
			VideoConfigurations: []videoConfiguration{}, AudioConfigurations: []audioConfiguration{}},
		TruncatedEvents: []streamEvent{},
	}
	if !ss.EndTime.IsZero() {
		out.EndTime = isoTime(ss.EndTime)
	}
	first := ingestConfiguration{}
	for i, v := range ss.Ingest.Video {
		out.IngestConfigurations.VideoConfigurations = append(out.IngestConfigurations.VideoConfigurations, videoOut(v))
		if i == 0 {
			w := videoOut(v)
			w.AVCProfile, w.AVCLevel = v.Profile, v.Level
			first.Video = &w
		}
	}
	for i, a := range ss.Ingest.Audio {
		out.IngestConfigurations.AudioConfigurations = append(out.IngestConfigurations.AudioConfigurations, audioOut(a))
		if i == 0 {
			w := audioOut(a)
			first.Audio = &w
		}
	}
	if first.Video != nil || first.Audio != nil {
		out.IngestConfiguration = &first
	}
	for _, e := range ss.Events {
		out.TruncatedEvents = append(out.TruncatedEvents, streamEvent{Name: e.Name, Type: e.Type, EventTime: isoTime(e.Time), Code: e.Code})
	}
	return out
}

func (s *Server) getStreamSession(ctx context.Context, c Caller, r *http.Request) (any, error) {
	var in struct {
		ChannelARN *string `json:"channelArn"`
		StreamID   *string `json:"streamId"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	channel, err := ownedARN(c, "channelArn", deref(in.ChannelARN), playkey.TypeChannel)
	if err != nil {
		return nil, err
	}
	if in.StreamID != nil {
		if err := playkey.ValidateStreamID("streamId", *in.StreamID); err != nil {
			return nil, err
		}
	}
	ss, err := s.store.StreamSession(ctx, channel, deref(in.StreamID))
	if err != nil {
		return nil, err
	}
	return map[string]any{"streamSession": s.streamSessionOut(ss)}, nil
}

func (s *Server) listStreamSessions(ctx context.Context, c Caller, r *http.Request) (any, error) {
	const op = "ListStreamSessions"
	paging, channel, err := decodeChannelListing(c, r)
	if err != nil {
		return nil, err
	}
	list, next, err := listPage(ctx, s, c, op, paging, streamSessionResults,
		func(page playkey.Page) ([]*playkey.StreamSession, error) {
			return s.store.StreamSessions(ctx, channel, page)
		},
		func(ss *playkey.StreamSession) string { return ss.ID })
	if err != nil {
		return nil, err
	}
	type summary struct {
		StreamID      string `json:"streamId"`
		StartTime     string `json:"startTime"`
		EndTime       string `json:"endTime,omitempty"`
		HasErrorEvent bool   `json:"hasErrorEvent"`
	}
	out := struct {
		StreamSessions []summary `json:"streamSessions"`
		NextToken      string    `json:"nextToken,omitempty"`
	}{StreamSessions: []summary{}, NextToken: next}
	for _, ss := range list {
		sum := summary{StreamID: ss.ID, StartTime: isoTime(ss.StartTime), HasErrorEvent: ss.HasErrorEvent}
		if !ss.EndTime.IsZero() {
			sum.EndTime = isoTime(ss.EndTime)
		}
		out.StreamSessions = append(out.StreamSessions, sum)
	}
	return out, nil
}

// putMetadata checks the request and queues the payload in the store, which checks that the
// channel is live and its rate (across API nodes), in that order; the ingest node holding the
// stream reads it there within its next check. The payload is never logged: the model marks
// it sensitive.
func (s *Server) putMetadata(ctx context.Context, c Caller, r *http.Request) (any, error) {
	var in struct {
		ChannelARN *string `json:"channelArn"`
		Metadata   *string `json:"metadata"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	channel, err := ownedARN(c, "channelArn", deref(in.ChannelARN), playkey.TypeChannel)
	if err != nil {
		return nil, err
	}
	switch n := len(deref(in.Metadata)); {
	case in.Metadata == nil:
		return nil, playkey.Errorf(playkey.ErrValidation, "metadata is required")
	case n == 0:
		return nil, playkey.Errorf(playkey.ErrValidation, "metadata must not be empty")
	case n > maxMetadataBytes:
		return nil, playkey.Errorf(playkey.ErrValidation, "metadata is %d bytes; the most PutMetadata takes is %d (1 KB)", n, maxMetadataBytes)
	}
	return nil, s.store.QueueMetadata(ctx, channel, *in.Metadata, s.now())
}
