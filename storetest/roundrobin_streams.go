package storetest

import (
	"context"
	"time"

	"github.com/playkey/playkey"
)

// The stream methods of RoundRobin.

func (s *roundRobin) StartStream(ctx context.Context, st *playkey.Stream, events ...playkey.StreamEvent) error {
	return s.next().StartStream(ctx, st, events...)
}
func (s *roundRobin) UpdateStream(ctx context.Context, channel playkey.ARN, id string, u playkey.StreamUpdate) (*playkey.Stream, error) {
	return s.next().UpdateStream(ctx, channel, id, u)
}
func (s *roundRobin) EndStream(ctx context.Context, channel playkey.ARN, id string, end time.Time, events ...playkey.StreamEvent) error {
	return s.next().EndStream(ctx, channel, id, end, events...)
}
func (s *roundRobin) StopStream(ctx context.Context, channel playkey.ARN) (*playkey.Stream, error) {
	return s.next().StopStream(ctx, channel)
}
func (s *roundRobin) LiveStream(ctx context.Context, channel playkey.ARN) (*playkey.Stream, error) {
	return s.next().LiveStream(ctx, channel)
}
func (s *roundRobin) TimedOutStreams(ctx context.Context, limit int) ([]*playkey.Stream, error) {
	return s.next().TimedOutStreams(ctx, limit)
}
func (s *roundRobin) LiveStreams(ctx context.Context, scope playkey.Scope, f playkey.StreamFilter, page playkey.Page) ([]*playkey.Stream, error) {
	return s.next().LiveStreams(ctx, scope, f, page)
}
func (s *roundRobin) StreamSession(ctx context.Context, channel playkey.ARN, id string) (*playkey.StreamSession, error) {
	return s.next().StreamSession(ctx, channel, id)
}
func (s *roundRobin) StreamSessions(ctx context.Context, channel playkey.ARN, page playkey.Page) ([]*playkey.StreamSession, error) {
	return s.next().StreamSessions(ctx, channel, page)
}
func (s *roundRobin) RecordViewers(ctx context.Context, seen []playkey.ViewerSighting) error {
	return s.next().RecordViewers(ctx, seen)
}
func (s *roundRobin) ViewerCounts(ctx context.Context, scope playkey.Scope, since time.Time) (map[playkey.ARN]int64, error) {
	return s.next().ViewerCounts(ctx, scope, since)
}
func (s *roundRobin) RecordRefusedStream(ctx context.Context, channel playkey.ARN, ss *playkey.StreamSession) error {
	return s.next().RecordRefusedStream(ctx, channel, ss)
}
func (s *roundRobin) QueueMetadata(ctx context.Context, channel playkey.ARN, payload string, at time.Time) error {
	return s.next().QueueMetadata(ctx, channel, payload, at)
}
func (s *roundRobin) PendingMetadata(ctx context.Context, channel playkey.ARN, id string, after int64) ([]playkey.QueuedMetadata, error) {
	return s.next().PendingMetadata(ctx, channel, id, after)
}
