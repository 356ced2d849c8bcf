package storetest

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/playkey/playkey"
)

func getKey(t *testing.T, s playkey.Store, arn playkey.ARN) *playkey.StreamKey {
	t.Helper()
	k, err := s.StreamKey(context.Background(), arn)
	if err != nil {
		t.Fatalf("StreamKey(%s): %v", arn, err)
	}
	return k
}

func listKeys(t *testing.T, s playkey.Store, channel playkey.ARN) []*playkey.StreamKey {
	t.Helper()
	keys, err := s.StreamKeys(context.Background(), channel, playkey.Page{Limit: 100})
	if err != nil {
		t.Fatalf("StreamKeys(%s): %v", channel, err)
	}
	if keys == nil {
		t.Fatal("StreamKeys returned nil, want an empty slice")
	}
	return keys
}

func sameStreamKey(t *testing.T, what string, got, want *playkey.StreamKey) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil stream key", what)
	}
	if got.ARN != want.ARN || got.Channel != want.Channel || got.Value != want.Value {
		t.Errorf("%s: %s of %s value %q, want %s of %s value %q", what, got.ARN, got.Channel, got.Value, want.ARN, want.Channel, want.Value)
	}
	if !maps.Equal(got.Tags, want.Tags) || got.Tags == nil {
		t.Errorf("%s: Tags = %v, want %v", what, got.Tags, want.Tags)
	}
	if d := got.CreatedAt.Sub(want.CreatedAt).Abs(); d >= time.Millisecond {
		t.Errorf("%s: CreatedAt = %v, want %v", what, got.CreatedAt, want.CreatedAt)
	}
}

var streamKeyTests = []test{
	{"CreatedWithChannel", func(t *testing.T, s playkey.Store) {
		ch := NewChannel(scopeA)
		key := createChannel(t, s, ch)
		sameStreamKey(t, "StreamKey", getKey(t, s, key.ARN), key)
		keys := listKeys(t, s, ch.ARN)
		if len(keys) != 1 {
			t.Fatalf("StreamKeys = %d keys, want 1", len(keys))
		}
		sameStreamKey(t, "listed stream key", keys[0], key)
	}},

	{"OnePerChannel", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		ch := NewChannel(scopeA)
		first := createChannel(t, s, ch)
		second := playkey.NewStreamKey(ch.ARN, time.Now())
		wantCode(t, s.CreateStreamKey(ctx, second), playkey.ErrServiceQuotaExceeded, "a second stream key")
		_, err := s.StreamKey(ctx, second.ARN)
		wantCode(t, err, playkey.ErrResourceNotFound, "the refused stream key")

		// Deleting the key makes room for exactly one new one.
		if err := s.DeleteStreamKey(ctx, first.ARN); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.DeleteStreamKey(ctx, first.ARN), playkey.ErrResourceNotFound, "second DeleteStreamKey")
		if keys := listKeys(t, s, ch.ARN); len(keys) != 0 {
			t.Fatalf("StreamKeys after delete = %d keys", len(keys))
		}
		second.Tags = map[string]string{"a": "b"}
		if err := s.CreateStreamKey(ctx, second); err != nil {
			t.Fatal(err)
		}
		sameStreamKey(t, "the new stream key", getKey(t, s, second.ARN), second)
		wantCode(t, s.CreateStreamKey(ctx, playkey.NewStreamKey(ch.ARN, time.Now())), playkey.ErrServiceQuotaExceeded, "a second stream key again")

		// Every channel has its own quota.
		other := NewChannel(scopeA)
		if err := s.CreateChannel(ctx, other, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateStreamKey(ctx, playkey.NewStreamKey(other.ARN, time.Now())); err != nil {
			t.Fatalf("a stream key for another channel: %v", err)
		}
	}},

	{"MissingChannel", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		missing := ChannelARN(scopeA, playkey.NewID())
		key := playkey.NewStreamKey(missing, time.Now())
		wantCode(t, s.CreateStreamKey(ctx, key), playkey.ErrResourceNotFound, "CreateStreamKey for a missing channel")
		_, err := s.StreamKeys(ctx, missing, playkey.Page{})
		wantCode(t, err, playkey.ErrResourceNotFound, "StreamKeys of a missing channel")

		// A channel of another scope, under the key's scope: not found either.
		ch := NewChannel(scopeOtherAccount)
		createChannel(t, s, ch)
		key = playkey.NewStreamKey(ChannelARN(scopeA, ch.ARN.ID), time.Now())
		wantCode(t, s.CreateStreamKey(ctx, key), playkey.ErrResourceNotFound, "CreateStreamKey for another account's channel id")
	}},

	{"OtherScopesAndTypes", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		ch := NewChannel(scopeA)
		key := createChannel(t, s, ch)
		for _, scope := range []playkey.Scope{scopeOtherAccount, scopeOtherRegion} {
			arn := key.ARN
			arn.Account, arn.Region = scope.Account, scope.Region
			_, err := s.StreamKey(ctx, arn)
			wantCode(t, err, playkey.ErrResourceNotFound, "StreamKey")
			wantCode(t, s.DeleteStreamKey(ctx, arn), playkey.ErrResourceNotFound, "DeleteStreamKey")
		}
		asChannel := key.ARN
		asChannel.Type = playkey.TypeChannel
		wantCode(t, s.DeleteStreamKey(ctx, asChannel), playkey.ErrResourceNotFound, "DeleteStreamKey of a channel ARN")
		_, err := s.StreamKey(ctx, asChannel)
		wantCode(t, err, playkey.ErrResourceNotFound, "StreamKey of a channel ARN")
		sameStreamKey(t, "the stream key", getKey(t, s, key.ARN), key)
	}},

	{"ListPaging", func(t *testing.T, s playkey.Store) {
		// With one key per channel a page holds at most one; paging past it ends.
		ch := NewChannel(scopeA)
		key := createChannel(t, s, ch)
		page, err := s.StreamKeys(context.Background(), ch.ARN, playkey.Page{Limit: 1})
		if err != nil || len(page) != 1 {
			t.Fatalf("first page: %v %v", page, err)
		}
		page, err = s.StreamKeys(context.Background(), ch.ARN, playkey.Page{After: key.ARN.ID, Limit: 1})
		if err != nil || len(page) != 0 {
			t.Fatalf("page after the only key: %v %v", page, err)
		}
		keys := []string{}
		for _, k := range listKeys(t, s, ch.ARN) {
			keys = append(keys, k.ARN.ID)
		}
		if !slices.Equal(keys, []string{key.ARN.ID}) {
			t.Errorf("StreamKeys = %v", keys)
		}
	}},
}
