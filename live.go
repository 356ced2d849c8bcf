package playkey

import (
	"context"
	"time"
)

// LiveOrigin records where an ingest node serves a live channel's HLS, so that any gate
// sharing the store can proxy it.
type LiveOrigin struct {
	Channel   ARN
	StreamID  string // the live stream's id, st-...
	URL       string // the channel's multivariant playlist on the ingest node
	StartTime time.Time
}

// LiveOrigins is kept by the stores beside Store: where each live channel is served.
type LiveOrigins interface {
	// PutLiveOrigin records o, replacing any record of o.Channel.
	PutLiveOrigin(ctx context.Context, o *LiveOrigin) error
	// LiveOrigin returns the record of channel; ResourceNotFound when it is not live.
	LiveOrigin(ctx context.Context, channel ARN) (*LiveOrigin, error)
	// DeleteLiveOrigin removes the record of channel if it is still of streamID (a newer
	// stream's record stays); ResourceNotFound when there is none.
	DeleteLiveOrigin(ctx context.Context, channel ARN, streamID string) error
}

// StreamKeyFinder is kept by the stores beside Store: the lookup ingest needs.
type StreamKeyFinder interface {
	// StreamKeyByValue returns the stream key whose value is value, of any scope;
	// ResourceNotFound when there is none.
	StreamKeyByValue(ctx context.Context, value string) (*StreamKey, error)
}
