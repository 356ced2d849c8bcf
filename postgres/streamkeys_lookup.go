package postgres

import (
	"context"

	"github.com/playkey/playkey"
)

var _ playkey.StreamKeyFinder = (*Store)(nil)

// StreamKeyByValue returns the stream key whose value is value, of any scope, or
// ResourceNotFound. Values are unique, so this reads the unique index.
func (s *Store) StreamKeyByValue(ctx context.Context, value string) (*playkey.StreamKey, error) {
	var k *playkey.StreamKey
	err := s.do(ctx, "find stream key", func(ctx context.Context) error {
		var err error
		k, err = queryOne(ctx, s.pool, playkey.ARN{Type: playkey.TypeStreamKey}, scanStreamKey,
			`SELECT `+streamKeyColumns+` FROM stream_keys WHERE value = $1`, value)
		if playkey.IsCode(err, playkey.ErrResourceNotFound) {
			// The value must not be quoted.
			return playkey.Errorf(playkey.ErrResourceNotFound, "no stream key has this value")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}
