package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/playkey/playkey"
)

// messageTests pin the texts users see (the API returns them as they are), so that every
// store words its refusals the same; the other tests check only codes.
var messageTests = []test{
	{"KeyPairs", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		scope := playkey.Scope{Account: "123456789012", Region: "us-west-2"}
		var kps []*playkey.KeyPair
		for range playkey.MaxKeyPairs {
			kps = append(kps, create(t, s, NewKeyPair(scope)))
		}
		wantMessage(t, s.CreateKeyPair(ctx, NewKeyPair(scope)),
			"ServiceQuotaExceededException: this account already has 3 playback key pairs in us-west-2, the most IVS allows; delete one first")
		_, err := s.KeyPair(ctx, KeyPairARN(scope, "nope"))
		wantMessage(t, err, "ResourceNotFoundException: playback key pair arn:aws:ivs:us-west-2:123456789012:playback-key/nope not found")
		widget := playkey.ARN{Region: "us-west-2", Account: "123456789012", Type: "widget", ID: "x"}
		wantMessage(t, s.TagResource(ctx, widget, nil), "ResourceNotFoundException: resource arn:aws:ivs:us-west-2:123456789012:widget/x not found")

		if err := s.DeleteKeyPair(ctx, kps[1].ARN); err != nil {
			t.Fatal(err)
		}
		wantMessage(t, s.CreateKeyPair(ctx, NewKeyPairWithDER(scope, kps[0].PublicKeyDER)),
			fmt.Sprintf("ConflictException: a playback key pair with fingerprint %s already exists in this account and region (arn %s)",
				kps[0].Fingerprint, kps[0].ARN))
		tags := map[string]string{}
		for i := range 51 {
			tags[fmt.Sprint("k", i)] = "v"
		}
		wantMessage(t, s.TagResource(ctx, kps[0].ARN, tags),
			"ValidationException: the resource has 0 tags and would have 51; a resource has at most 50")
	}},
	{"Channels", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		scope := playkey.Scope{Account: "123456789012", Region: "us-west-2"}
		ch := NewChannel(scope)
		if err := s.CreateChannel(ctx, ch, playkey.NewStreamKey(ch.ARN, time.Now())); err != nil {
			t.Fatal(err)
		}
		wantMessage(t, s.CreateStreamKey(ctx, playkey.NewStreamKey(ch.ARN, time.Now())),
			"ServiceQuotaExceededException: channel "+ch.ARN.String()+" already has a stream key, the most IVS allows; delete it first to reset it")
		p := NewPolicy(scope)
		if err := s.CreatePlaybackRestrictionPolicy(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateChannel(ctx, ch.ARN, func(c *playkey.Channel) error { c.PlaybackRestrictionPolicy = p.ARN; return nil }); err != nil {
			t.Fatal(err)
		}
		wantMessage(t, s.DeletePlaybackRestrictionPolicy(ctx, p.ARN),
			"ConflictException: playback restriction policy "+p.ARN.String()+" is in use by channel "+ch.ARN.String()+"; remove it from every channel first")
		missing := PolicyARN(scope, "nope")
		_, err := s.UpdateChannel(ctx, ch.ARN, func(c *playkey.Channel) error { c.PlaybackRestrictionPolicy = missing; return nil })
		wantMessage(t, err, "ResourceNotFoundException: playback restriction policy "+missing.String()+" not found")
		_, err = s.Channel(ctx, ChannelARN(scope, "nope"))
		wantMessage(t, err, "ResourceNotFoundException: channel arn:aws:ivs:us-west-2:123456789012:channel/nope not found")
		// A change function's own error comes back as it is.
		mine := errors.New("mine")
		if _, err := s.UpdateChannel(ctx, ch.ARN, func(*playkey.Channel) error { return mine }); err != mine {
			t.Errorf("UpdateChannel returned %v, want the change function's error", err)
		}
	}},
}

func wantMessage(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
}
