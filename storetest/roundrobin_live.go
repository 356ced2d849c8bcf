package storetest

import (
	"context"

	"github.com/playkey/playkey"
)

// The round robin passes on the lookups beside Store to stores that have them.

func (s *roundRobin) StreamKeyByValue(ctx context.Context, value string) (*playkey.StreamKey, error) {
	return s.next().(playkey.StreamKeyFinder).StreamKeyByValue(ctx, value)
}
func (s *roundRobin) PutLiveOrigin(ctx context.Context, o *playkey.LiveOrigin) error {
	return s.next().(playkey.LiveOrigins).PutLiveOrigin(ctx, o)
}
func (s *roundRobin) LiveOrigin(ctx context.Context, channel playkey.ARN) (*playkey.LiveOrigin, error) {
	return s.next().(playkey.LiveOrigins).LiveOrigin(ctx, channel)
}
func (s *roundRobin) DeleteLiveOrigin(ctx context.Context, channel playkey.ARN, streamID string) error {
	return s.next().(playkey.LiveOrigins).DeleteLiveOrigin(ctx, channel, streamID)
}
