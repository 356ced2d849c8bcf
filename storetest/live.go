package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/playkey/playkey"
)

// What ingest and the gates need beside Store: finding a stream key by its value, and
// where each live channel is served.
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
	{"LiveOrigins", func(t *testing.T, s playkey.Store) {
		lo, ok := s.(playkey.LiveOrigins)
		if !ok {
			t.Fatal("the store does not implement playkey.LiveOrigins")
		}
		ctx := context.Background()
		ch := NewChannel(scopeA)
		createChannel(t, s, ch)
		if _, err := lo.LiveOrigin(ctx, ch.ARN); !playkey.IsCode(err, playkey.ErrResourceNotFound) {
			t.Fatalf("LiveOrigin of an offline channel = %v, want ResourceNotFound", err)
		}
		start := time.Now().UTC().Truncate(time.Millisecond)
		first := &playkey.LiveOrigin{Channel: ch.ARN, StreamID: "st-1", URL: "http://10.0.0.1:8890/a/index.m3u8", StartTime: start}
		if err := lo.PutLiveOrigin(ctx, first); err != nil {
			t.Fatalf("PutLiveOrigin: %v", err)
		}
		got, err := lo.LiveOrigin(ctx, ch.ARN)
		if err != nil || got.StreamID != "st-1" || got.URL != first.URL || !got.StartTime.Equal(start) {
			t.Fatalf("LiveOrigin = %+v, %v; want %+v", got, err, first)
		}
		second := &playkey.LiveOrigin{Channel: ch.ARN, StreamID: "st-2", URL: "http://10.0.0.2:8890/a/index.m3u8", StartTime: start.Add(time.Second)}
		if err := lo.PutLiveOrigin(ctx, second); err != nil {
			t.Fatalf("PutLiveOrigin (replace): %v", err)
		}
		// The first stream's end must not remove the second's record.
		if err := lo.DeleteLiveOrigin(ctx, ch.ARN, "st-1"); !playkey.IsCode(err, playkey.ErrResourceNotFound) {
			t.Errorf("DeleteLiveOrigin of a replaced stream = %v, want ResourceNotFound", err)
		}
		if got, err := lo.LiveOrigin(ctx, ch.ARN); err != nil || got.StreamID != "st-2" || got.URL != second.URL {
			t.Fatalf("LiveOrigin = %+v, %v; want the second stream", got, err)
		}
		if err := lo.DeleteLiveOrigin(ctx, ch.ARN, "st-2"); err != nil {
			t.Fatalf("DeleteLiveOrigin: %v", err)
		}
		if _, err := lo.LiveOrigin(ctx, ch.ARN); !playkey.IsCode(err, playkey.ErrResourceNotFound) {
			t.Errorf("LiveOrigin after DeleteLiveOrigin = %v, want ResourceNotFound", err)
		}
		missing := NewChannel(scopeA)
		if err := lo.PutLiveOrigin(ctx, &playkey.LiveOrigin{Channel: missing.ARN, StreamID: "st-3", URL: "http://x/", StartTime: start}); !playkey.IsCode(err, playkey.ErrResourceNotFound) {
			t.Errorf("PutLiveOrigin of a missing channel = %v, want ResourceNotFound", err)
		}
		// A record goes with its channel.
		if err := lo.PutLiveOrigin(ctx, first); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteChannel(ctx, ch.ARN); err != nil {
			t.Fatal(err)
		}
		if _, err := lo.LiveOrigin(ctx, ch.ARN); !playkey.IsCode(err, playkey.ErrResourceNotFound) {
			t.Errorf("LiveOrigin after DeleteChannel = %v, want ResourceNotFound", err)
		}
	}},
}
