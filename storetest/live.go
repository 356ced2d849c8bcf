package storetest

import (
	"context"
	"testing"

	"github.com/playkey/playkey"
)

// What ingest needs beside Store: finding a stream key by its value. (Where each live
// channel is served is the live Stream's Origin: see the stream tests.)
var liveTests = []test{
	{"StreamKeyByValue", func(t *testing.T, s playkey.Store) {
		f, ok := s.(playkey.StreamKeyFinder)
		if !ok {
			t.Fatal("the store does not implement playkey.StreamKeyFinder")
		}
		ctx := context.Background()
		ch := NewChannel(scopeA)
		key := createChannel(t, s, ch)
		other := createChannel(t, s, NewChannel(scopeOtherRegion))
		got, err := f.StreamKeyByValue(ctx, key.Value)
		if err != nil {
			t.Fatalf("StreamKeyByValue: %v", err)
		}
		sameStreamKey(t, "StreamKeyByValue", got, key)
		got, err = f.StreamKeyByValue(ctx, other.Value)
		if err != nil {
			t.Fatalf("StreamKeyByValue(other region): %v", err)
		}
		sameStreamKey(t, "StreamKeyByValue(other region)", got, other)
		for _, v := range []string{"", key.Value + "x", key.Value[:len(key.Value)-1], "' OR 1=1 --"} {
			if _, err := f.StreamKeyByValue(ctx, v); !playkey.IsCode(err, playkey.ErrResourceNotFound) {
				t.Errorf("StreamKeyByValue(%q) = %v, want ResourceNotFound", v, err)
			}
		}
		if err := s.DeleteStreamKey(ctx, key.ARN); err != nil {
			t.Fatal(err)
		}
		if _, err := f.StreamKeyByValue(ctx, key.Value); !playkey.IsCode(err, playkey.ErrResourceNotFound) {
			t.Errorf("StreamKeyByValue after DeleteStreamKey = %v, want ResourceNotFound", err)
		}
	}},
}
