package storetest

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/playkey/playkey"
)

// RoundRobin returns a Store that sends each call to the next of stores in turn, as a load
// balancer in front of several playkey nodes on one database would; run the suite on it to
// check that the behaviour holds across nodes. Close closes none of them: their opener
// does.
func RoundRobin(stores ...playkey.Store) playkey.Store {
	return &roundRobin{all: stores}
}

type roundRobin struct {
	all []playkey.Store
	n   atomic.Uint64
}

func (s *roundRobin) next() playkey.Store { return s.all[s.n.Add(1)%uint64(len(s.all))] }

func (s *roundRobin) CreateKeyPair(ctx context.Context, kp *playkey.KeyPair) error {
	return s.next().CreateKeyPair(ctx, kp)
}
func (s *roundRobin) KeyPair(ctx context.Context, arn playkey.ARN) (*playkey.KeyPair, error) {
	return s.next().KeyPair(ctx, arn)
}
func (s *roundRobin) KeyPairs(ctx context.Context, scope playkey.Scope, page playkey.Page) ([]*playkey.KeyPair, error) {
	return s.next().KeyPairs(ctx, scope, page)
}
func (s *roundRobin) DeleteKeyPair(ctx context.Context, arn playkey.ARN) error {
	return s.next().DeleteKeyPair(ctx, arn)
}
func (s *roundRobin) CreateChannel(ctx context.Context, ch *playkey.Channel, key *playkey.StreamKey) error {
	return s.next().CreateChannel(ctx, ch, key)
}
func (s *roundRobin) Channel(ctx context.Context, arn playkey.ARN) (*playkey.Channel, error) {
	return s.next().Channel(ctx, arn)
}
func (s *roundRobin) Channels(ctx context.Context, scope playkey.Scope, f playkey.ChannelFilter, page playkey.Page) ([]*playkey.Channel, error) {
	return s.next().Channels(ctx, scope, f, page)
}
func (s *roundRobin) UpdateChannel(ctx context.Context, arn playkey.ARN, change func(*playkey.Channel) error) (*playkey.Channel, error) {
	return s.next().UpdateChannel(ctx, arn, change)
}
func (s *roundRobin) DeleteChannel(ctx context.Context, arn playkey.ARN) error {
	return s.next().DeleteChannel(ctx, arn)
}
func (s *roundRobin) CreateStreamKey(ctx context.Context, key *playkey.StreamKey) error {
	return s.next().CreateStreamKey(ctx, key)
}
func (s *roundRobin) StreamKey(ctx context.Context, arn playkey.ARN) (*playkey.StreamKey, error) {
	return s.next().StreamKey(ctx, arn)
}
func (s *roundRobin) StreamKeys(ctx context.Context, channel playkey.ARN, page playkey.Page) ([]*playkey.StreamKey, error) {
	return s.next().StreamKeys(ctx, channel, page)
}
func (s *roundRobin) DeleteStreamKey(ctx context.Context, arn playkey.ARN) error {
	return s.next().DeleteStreamKey(ctx, arn)
}
func (s *roundRobin) CreatePlaybackRestrictionPolicy(ctx context.Context, p *playkey.PlaybackRestrictionPolicy) error {
	return s.next().CreatePlaybackRestrictionPolicy(ctx, p)
}
func (s *roundRobin) PlaybackRestrictionPolicy(ctx context.Context, arn playkey.ARN) (*playkey.PlaybackRestrictionPolicy, error) {
	return s.next().PlaybackRestrictionPolicy(ctx, arn)
}
func (s *roundRobin) PlaybackRestrictionPolicies(ctx context.Context, scope playkey.Scope, page playkey.Page) ([]*playkey.PlaybackRestrictionPolicy, error) {
	return s.next().PlaybackRestrictionPolicies(ctx, scope, page)
}
func (s *roundRobin) UpdatePlaybackRestrictionPolicy(ctx context.Context, arn playkey.ARN, change func(*playkey.PlaybackRestrictionPolicy) error) (*playkey.PlaybackRestrictionPolicy, error) {
	return s.next().UpdatePlaybackRestrictionPolicy(ctx, arn, change)
}
func (s *roundRobin) DeletePlaybackRestrictionPolicy(ctx context.Context, arn playkey.ARN) error {
	return s.next().DeletePlaybackRestrictionPolicy(ctx, arn)
}
func (s *roundRobin) RevokeViewerSessions(ctx context.Context, channel playkey.ARN, viewerID string, upTo int64) error {
	return s.next().RevokeViewerSessions(ctx, channel, viewerID, upTo)
}
func (s *roundRobin) ViewerRevocation(ctx context.Context, channel playkey.ARN, viewerID string) (int64, bool, error) {
	return s.next().ViewerRevocation(ctx, channel, viewerID)
}
func (s *roundRobin) RevocationsSince(ctx context.Context, after int64, limit int) ([]*playkey.Revocation, error) {
	return s.next().RevocationsSince(ctx, after, limit)
}
func (s *roundRobin) SingleUse(ctx context.Context, scope playkey.Scope, uuid string, expires time.Time, consume bool) (bool, error) {
	return s.next().SingleUse(ctx, scope, uuid, expires, consume)
}
func (s *roundRobin) Tags(ctx context.Context, arn playkey.ARN) (map[string]string, error) {
	return s.next().Tags(ctx, arn)
}
func (s *roundRobin) TagResource(ctx context.Context, arn playkey.ARN, tags map[string]string) error {
	return s.next().TagResource(ctx, arn, tags)
}
func (s *roundRobin) UntagResource(ctx context.Context, arn playkey.ARN, keys []string) error {
	return s.next().UntagResource(ctx, arn, keys)
}
func (s *roundRobin) Secret(ctx context.Context, name string) ([]byte, error) {
	return s.next().Secret(ctx, name)
}
func (s *roundRobin) Ping(ctx context.Context) error { return s.next().Ping(ctx) }
func (s *roundRobin) Close() error                   { return nil } // the caller closes each store
