package storetest

import (
	"context"

	"github.com/playkey/playkey"
)

// The round robin passes on the lookups beside Store to stores that have them.

func (s *roundRobin) StreamKeyByValue(ctx context.Context, value string) (*playkey.StreamKey, error) {
	return s.next().(playkey.StreamKeyFinder).StreamKeyByValue(ctx, value)
}
