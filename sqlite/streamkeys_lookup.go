package sqlite

import (
	"context"

	"github.com/playkey/playkey"
)

var _ playkey.StreamKeyFinder = (*Store)(nil)

// StreamKeyByValue returns the stream key whose value is value, of any scope, or
// ResourceNotFound. Values are unique, so this reads the unique index.
func (s *Store) StreamKeyByValue(ctx context.Context, value string) (*playkey.StreamKey, error) {
	k, err := queryOne(ctx, s.read, "find stream key", playkey.ARN{Type: playkey.TypeStreamKey}, scanStreamKey,
		`SELECT `+streamKeyColumns+` FROM stream_keys WHERE value = ?`, value)
	if playkey.IsCode(err, playkey.ErrResourceNotFound) {
		// The zero ARN would name nothing useful; the value must not be quoted.
		return nil, playkey.Errorf(playkey.ErrResourceNotFound, "no stream key has this value")
	}
	return k, err
}
