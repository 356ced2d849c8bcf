package playkey

import "context"

// StreamKeyFinder is kept by the stores beside Store: the lookup ingest needs.
type StreamKeyFinder interface {
	// StreamKeyByValue returns the stream key whose value is value, of any scope;
	// ResourceNotFound when there is none.
	StreamKeyByValue(ctx context.Context, value string) (*StreamKey, error)
}
