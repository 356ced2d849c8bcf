package metrics

// Every method of playkey.Store (and playkey.StreamKeyFinder), each measured the same way:
// a method added to the interface needs its line here and its op constant.

import (
	"context"
	"errors"
	"time"

	"github.com/playkey/playkey"
)

// The operations of the store, the label values of the store's metrics.
const (
	opCreateKeyPair = iota
	opKeyPair
	opKeyPairs
	opDeleteKeyPair
	opCreateChannel
	opChannel
	opChannels
	opUpdateChannel
	opDeleteChannel
	opCreateStreamKey
	opStreamKey
	opStreamKeys
	opDeleteStreamKey
	opCreatePlaybackRestrictionPolicy
	opPlaybackRestrictionPolicy
	opPlaybackRestrictionPolicies
	opUpdatePlaybackRestrictionPolicy
	opDeletePlaybackRestrictionPolicy
	opRevokeViewerSessions
	opViewerRevocation
	opRevocationsSince
	opStartStream
	opUpdateStream
	opEndStream
	opStopStream
	opLiveStream
	opLiveStreams
	opTimedOutStreams
	opStreamSession
	opStreamSessions
	opRecordViewers
	opViewerCounts
	opTags
	opTagResource
	opUntagResource
	opSecret
	opSingleUse
	opPing
	opStreamKeyByValue
	opRecordRefusedStream
	opQueueMetadata
	opPendingMetadata
	numOps
)

var opNames = [numOps]string{"CreateKeyPair", "KeyPair", "KeyPairs", "DeleteKeyPair", "CreateChannel", "Channel", "Channels", "UpdateChannel", "DeleteChannel", "CreateStreamKey", "StreamKey", "StreamKeys", "DeleteStreamKey", "CreatePlaybackRestrictionPolicy", "PlaybackRestrictionPolicy", "PlaybackRestrictionPolicies", "UpdatePlaybackRestrictionPolicy", "DeletePlaybackRestrictionPolicy", "RevokeViewerSessions", "ViewerRevocation", "RevocationsSince", "StartStream", "UpdateStream", "EndStream", "StopStream", "LiveStream", "LiveStreams", "TimedOutStreams", "StreamSession", "StreamSessions", "RecordViewers", "ViewerCounts", "Tags", "TagResource", "UntagResource", "Secret", "SingleUse", "Ping", "StreamKeyByValue", "RecordRefusedStream", "QueueMetadata", "PendingMetadata"}

func (s *Store) CreateKeyPair(ctx context.Context, kp *playkey.KeyPair) (err error) {
	defer s.observe(opCreateKeyPair, time.Now(), &err)
	return s.next.CreateKeyPair(ctx, kp)
}

func (s *Store) KeyPair(ctx context.Context, arn playkey.ARN) (_ *playkey.KeyPair, err error) {
	defer s.observe(opKeyPair, time.Now(), &err)
	return s.next.KeyPair(ctx, arn)
}

func (s *Store) KeyPairs(ctx context.Context, scope playkey.Scope, page playkey.Page) (_ []*playkey.KeyPair, err error) {
	defer s.observe(opKeyPairs, time.Now(), &err)
	return s.next.KeyPairs(ctx, scope, page)
}

func (s *Store) DeleteKeyPair(ctx context.Context, arn playkey.ARN) (err error) {
	defer s.observe(opDeleteKeyPair, time.Now(), &err)
	return s.next.DeleteKeyPair(ctx, arn)
}

func (s *Store) CreateChannel(ctx context.Context, ch *playkey.Channel, key *playkey.StreamKey) (err error) {
	defer s.observe(opCreateChannel, time.Now(), &err)
	return s.next.CreateChannel(ctx, ch, key)
}

func (s *Store) Channel(ctx context.Context, arn playkey.ARN) (_ *playkey.Channel, err error) {
	defer s.observe(opChannel, time.Now(), &err)
	return s.next.Channel(ctx, arn)
}

func (s *Store) Channels(ctx context.Context, scope playkey.Scope, filter playkey.ChannelFilter, page playkey.Page) (_ []*playkey.Channel, err error) {
	defer s.observe(opChannels, time.Now(), &err)
	return s.next.Channels(ctx, scope, filter, page)
}

func (s *Store) UpdateChannel(ctx context.Context, arn playkey.ARN, change func(*playkey.Channel) error) (_ *playkey.Channel, err error) {
	defer s.observe(opUpdateChannel, time.Now(), &err)
	return s.next.UpdateChannel(ctx, arn, change)
}

func (s *Store) DeleteChannel(ctx context.Context, arn playkey.ARN) (err error) {
	defer s.observe(opDeleteChannel, time.Now(), &err)
	return s.next.DeleteChannel(ctx, arn)
}

func (s *Store) CreateStreamKey(ctx context.Context, key *playkey.StreamKey) (err error) {
	defer s.observe(opCreateStreamKey, time.Now(), &err)
	return s.next.CreateStreamKey(ctx, key)
}

func (s *Store) StreamKey(ctx context.Context, arn playkey.ARN) (_ *playkey.StreamKey, err error) {
	defer s.observe(opStreamKey, time.Now(), &err)
	return s.next.StreamKey(ctx, arn)
}

func (s *Store) StreamKeys(ctx context.Context, channel playkey.ARN, page playkey.Page) (_ []*playkey.StreamKey, err error) {
	defer s.observe(opStreamKeys, time.Now(), &err)
	return s.next.StreamKeys(ctx, channel, page)
}

func (s *Store) DeleteStreamKey(ctx context.Context, arn playkey.ARN) (err error) {
	defer s.observe(opDeleteStreamKey, time.Now(), &err)
	return s.next.DeleteStreamKey(ctx, arn)
}

func (s *Store) CreatePlaybackRestrictionPolicy(ctx context.Context, p *playkey.PlaybackRestrictionPolicy) (err error) {
	defer s.observe(opCreatePlaybackRestrictionPolicy, time.Now(), &err)
	return s.next.CreatePlaybackRestrictionPolicy(ctx, p)
}

func (s *Store) PlaybackRestrictionPolicy(ctx context.Context, arn playkey.ARN) (_ *playkey.PlaybackRestrictionPolicy, err error) {
	defer s.observe(opPlaybackRestrictionPolicy, time.Now(), &err)
	return s.next.PlaybackRestrictionPolicy(ctx, arn)
}

func (s *Store) PlaybackRestrictionPolicies(ctx context.Context, scope playkey.Scope, page playkey.Page) (_ []*playkey.PlaybackRestrictionPolicy, err error) {
	defer s.observe(opPlaybackRestrictionPolicies, time.Now(), &err)
	return s.next.PlaybackRestrictionPolicies(ctx, scope, page)
}

func (s *Store) UpdatePlaybackRestrictionPolicy(ctx context.Context, arn playkey.ARN, change func(*playkey.PlaybackRestrictionPolicy) error) (_ *playkey.PlaybackRestrictionPolicy, err error) {
	defer s.observe(opUpdatePlaybackRestrictionPolicy, time.Now(), &err)
	return s.next.UpdatePlaybackRestrictionPolicy(ctx, arn, change)
}

func (s *Store) DeletePlaybackRestrictionPolicy(ctx context.Context, arn playkey.ARN) (err error) {
	defer s.observe(opDeletePlaybackRestrictionPolicy, time.Now(), &err)
	return s.next.DeletePlaybackRestrictionPolicy(ctx, arn)
}

func (s *Store) RevokeViewerSessions(ctx context.Context, channel playkey.ARN, viewerID string, upTo int64) (err error) {
	defer s.observe(opRevokeViewerSessions, time.Now(), &err)
	return s.next.RevokeViewerSessions(ctx, channel, viewerID, upTo)
}

func (s *Store) ViewerRevocation(ctx context.Context, channel playkey.ARN, viewerID string) (maxVersion int64, ok bool, err error) {
	defer s.observe(opViewerRevocation, time.Now(), &err)
	return s.next.ViewerRevocation(ctx, channel, viewerID)
}

func (s *Store) RevocationsSince(ctx context.Context, after int64, limit int) (_ []*playkey.Revocation, err error) {
	defer s.observe(opRevocationsSince, time.Now(), &err)
	return s.next.RevocationsSince(ctx, after, limit)
}

func (s *Store) StartStream(ctx context.Context, st *playkey.Stream, events ...playkey.StreamEvent) (err error) {
	defer s.observe(opStartStream, time.Now(), &err)
	return s.next.StartStream(ctx, st, events...)
}

func (s *Store) UpdateStream(ctx context.Context, channel playkey.ARN, id string, u playkey.StreamUpdate) (_ *playkey.Stream, err error) {
	defer s.observe(opUpdateStream, time.Now(), &err)
	return s.next.UpdateStream(ctx, channel, id, u)
}

func (s *Store) EndStream(ctx context.Context, channel playkey.ARN, id string, end time.Time, events ...playkey.StreamEvent) (err error) {
	defer s.observe(opEndStream, time.Now(), &err)
	return s.next.EndStream(ctx, channel, id, end, events...)
}

func (s *Store) StopStream(ctx context.Context, channel playkey.ARN) (_ *playkey.Stream, err error) {
	defer s.observe(opStopStream, time.Now(), &err)
	return s.next.StopStream(ctx, channel)
}

func (s *Store) LiveStream(ctx context.Context, channel playkey.ARN) (_ *playkey.Stream, err error) {
	defer s.observe(opLiveStream, time.Now(), &err)
	return s.next.LiveStream(ctx, channel)
}

func (s *Store) TimedOutStreams(ctx context.Context, limit int) (_ []*playkey.Stream, err error) {
	defer s.observe(opTimedOutStreams, time.Now(), &err)
	return s.next.TimedOutStreams(ctx, limit)
}

func (s *Store) LiveStreams(ctx context.Context, scope playkey.Scope, filter playkey.StreamFilter, page playkey.Page) (_ []*playkey.Stream, err error) {
	defer s.observe(opLiveStreams, time.Now(), &err)
	return s.next.LiveStreams(ctx, scope, filter, page)
}

func (s *Store) StreamSession(ctx context.Context, channel playkey.ARN, id string) (_ *playkey.StreamSession, err error) {
	defer s.observe(opStreamSession, time.Now(), &err)
	return s.next.StreamSession(ctx, channel, id)
}

func (s *Store) StreamSessions(ctx context.Context, channel playkey.ARN, page playkey.Page) (_ []*playkey.StreamSession, err error) {
	defer s.observe(opStreamSessions, time.Now(), &err)
	return s.next.StreamSessions(ctx, channel, page)
}

func (s *Store) RecordViewers(ctx context.Context, seen []playkey.ViewerSighting) (err error) {
	defer s.observe(opRecordViewers, time.Now(), &err)
	return s.next.RecordViewers(ctx, seen)
}

func (s *Store) ViewerCounts(ctx context.Context, scope playkey.Scope, since time.Time) (_ map[playkey.ARN]int64, err error) {
	defer s.observe(opViewerCounts, time.Now(), &err)
	return s.next.ViewerCounts(ctx, scope, since)
}

func (s *Store) Tags(ctx context.Context, arn playkey.ARN) (_ map[string]string, err error) {
	defer s.observe(opTags, time.Now(), &err)
	return s.next.Tags(ctx, arn)
}

func (s *Store) TagResource(ctx context.Context, arn playkey.ARN, tags map[string]string) (err error) {
	defer s.observe(opTagResource, time.Now(), &err)
	return s.next.TagResource(ctx, arn, tags)
}

func (s *Store) UntagResource(ctx context.Context, arn playkey.ARN, keys []string) (err error) {
	defer s.observe(opUntagResource, time.Now(), &err)
	return s.next.UntagResource(ctx, arn, keys)
}

func (s *Store) Secret(ctx context.Context, name string) (_ []byte, err error) {
	defer s.observe(opSecret, time.Now(), &err)
	return s.next.Secret(ctx, name)
}

func (s *Store) SingleUse(ctx context.Context, scope playkey.Scope, uuid string, expires time.Time, consume bool) (unused bool, err error) {
	defer s.observe(opSingleUse, time.Now(), &err)
	return s.next.SingleUse(ctx, scope, uuid, expires, consume)
}

func (s *Store) Ping(ctx context.Context) (err error) {
	defer s.observe(opPing, time.Now(), &err)
	return s.next.Ping(ctx)
}

func (s *Store) StreamKeyByValue(ctx context.Context, value string) (_ *playkey.StreamKey, err error) {
	defer s.observe(opStreamKeyByValue, time.Now(), &err)
	f, ok := s.next.(playkey.StreamKeyFinder)
	if !ok {
		return nil, errors.New("this store cannot look up stream keys")
	}
	return f.StreamKeyByValue(ctx, value)
}

func (s *Store) RecordRefusedStream(ctx context.Context, channel playkey.ARN, ss *playkey.StreamSession) (err error) {
	defer s.observe(opRecordRefusedStream, time.Now(), &err)
	return s.next.RecordRefusedStream(ctx, channel, ss)
}

func (s *Store) QueueMetadata(ctx context.Context, channel playkey.ARN, payload string, at time.Time) (err error) {
	defer s.observe(opQueueMetadata, time.Now(), &err)
	return s.next.QueueMetadata(ctx, channel, payload, at)
}

func (s *Store) PendingMetadata(ctx context.Context, channel playkey.ARN, id string, after int64) (_ []playkey.QueuedMetadata, err error) {
	defer s.observe(opPendingMetadata, time.Now(), &err)
	return s.next.PendingMetadata(ctx, channel, id, after)
}
