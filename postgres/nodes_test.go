package postgres_test

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/postgres"
)

// nodes is a playkey.Store that sends each call to the next of several Stores on one
// schema, as a load balancer in front of several playkey nodes would. Methods it does not
// spread go to the first store (the embedded interface), so it keeps compiling as the
// interface grows.
type nodes struct {
	playkey.Store
	all []*postgres.Store
	n   atomic.Uint64
}

func newNodes(stores ...*postgres.Store) *nodes {
	return &nodes{Store: stores[0], all: stores}
}

func (s *nodes) next() *postgres.Store { return s.all[s.n.Add(1)%uint64(len(s.all))] }

func (s *nodes) CreateKeyPair(ctx context.Context, kp *playkey.KeyPair) error {
	return s.next().CreateKeyPair(ctx, kp)
}
func (s *nodes) KeyPair(ctx context.Context, arn playkey.ARN) (*playkey.KeyPair, error) {
	return s.next().KeyPair(ctx, arn)
}
func (s *nodes) KeyPairs(ctx context.Context, scope playkey.Scope, page playkey.Page) ([]*playkey.KeyPair, error) {
	return s.next().KeyPairs(ctx, scope, page)
}
func (s *nodes) DeleteKeyPair(ctx context.Context, arn playkey.ARN) error {
	return s.next().DeleteKeyPair(ctx, arn)
}
func (s *nodes) CreateChannel(ctx context.Context, ch *playkey.Channel, key *playkey.StreamKey) error {
	return s.next().CreateChannel(ctx, ch, key)
}
func (s *nodes) Channel(ctx context.Context, arn playkey.ARN) (*playkey.Channel, error) {
	return s.next().Channel(ctx, arn)
}
func (s *nodes) Channels(ctx context.Context, scope playkey.Scope, f playkey.ChannelFilter, page playkey.Page) ([]*playkey.Channel, error) {
	return s.next().Channels(ctx, scope, f, page)
}
func (s *nodes) UpdateChannel(ctx context.Context, arn playkey.ARN, change func(*playkey.Channel) error) (*playkey.Channel, error) {
	return s.next().UpdateChannel(ctx, arn, change)
}
func (s *nodes) DeleteChannel(ctx context.Context, arn playkey.ARN) error {
	return s.next().DeleteChannel(ctx, arn)
}
func (s *nodes) CreateStreamKey(ctx context.Context, key *playkey.StreamKey) error {
	return s.next().CreateStreamKey(ctx, key)
}
func (s *nodes) StreamKey(ctx context.Context, arn playkey.ARN) (*playkey.StreamKey, error) {
	return s.next().StreamKey(ctx, arn)
}
func (s *nodes) StreamKeys(ctx context.Context, channel playkey.ARN, page playkey.Page) ([]*playkey.StreamKey, error) {
	return s.next().StreamKeys(ctx, channel, page)
}
func (s *nodes) DeleteStreamKey(ctx context.Context, arn playkey.ARN) error {
	return s.next().DeleteStreamKey(ctx, arn)
}
func (s *nodes) CreatePlaybackRestrictionPolicy(ctx context.Context, p *playkey.PlaybackRestrictionPolicy) error {
	return s.next().CreatePlaybackRestrictionPolicy(ctx, p)
}
func (s *nodes) PlaybackRestrictionPolicy(ctx context.Context, arn playkey.ARN) (*playkey.PlaybackRestrictionPolicy, error) {
	return s.next().PlaybackRestrictionPolicy(ctx, arn)
}
func (s *nodes) PlaybackRestrictionPolicies(ctx context.Context, scope playkey.Scope, page playkey.Page) ([]*playkey.PlaybackRestrictionPolicy, error) {
	return s.next().PlaybackRestrictionPolicies(ctx, scope, page)
}
func (s *nodes) UpdatePlaybackRestrictionPolicy(ctx context.Context, arn playkey.ARN, change func(*playkey.PlaybackRestrictionPolicy) error) (*playkey.PlaybackRestrictionPolicy, error) {
	return s.next().UpdatePlaybackRestrictionPolicy(ctx, arn, change)
}
func (s *nodes) DeletePlaybackRestrictionPolicy(ctx context.Context, arn playkey.ARN) error {
	return s.next().DeletePlaybackRestrictionPolicy(ctx, arn)
}
func (s *nodes) RevokeViewerSessions(ctx context.Context, channel playkey.ARN, viewerID string, upTo int64) error {
	return s.next().RevokeViewerSessions(ctx, channel, viewerID, upTo)
}
func (s *nodes) ViewerRevocation(ctx context.Context, channel playkey.ARN, viewerID string) (int64, bool, error) {
	return s.next().ViewerRevocation(ctx, channel, viewerID)
}
func (s *nodes) RevocationsSince(ctx context.Context, after int64, limit int) ([]*playkey.Revocation, error) {
	return s.next().RevocationsSince(ctx, after, limit)
}
func (s *nodes) SingleUse(ctx context.Context, scope playkey.Scope, uuid string, expires time.Time, consume bool) (bool, error) {
	return s.next().SingleUse(ctx, scope, uuid, expires, consume)
}
func (s *nodes) Tags(ctx context.Context, arn playkey.ARN) (map[string]string, error) {
	return s.next().Tags(ctx, arn)
}
func (s *nodes) TagResource(ctx context.Context, arn playkey.ARN, tags map[string]string) error {
	return s.next().TagResource(ctx, arn, tags)
}
func (s *nodes) UntagResource(ctx context.Context, arn playkey.ARN, keys []string) error {
	return s.next().UntagResource(ctx, arn, keys)
}
func (s *nodes) Secret(ctx context.Context, name string) ([]byte, error) {
	return s.next().Secret(ctx, name)
}
func (s *nodes) Ping(ctx context.Context) error { return s.next().Ping(ctx) }
func (s *nodes) Close() error                   { return nil } // each store closes in its own Cleanup
