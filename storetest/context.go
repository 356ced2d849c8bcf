package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/playkey/playkey"
)

// patience is how long a call may take before the suite calls it hung.
const patience = 10 * time.Second

var contextTests = []test{
	{"Ended", func(t *testing.T, s playkey.Store) {
		// A call with a context that has already ended fails at once with the context's
		// error (errors.Is), and changes nothing.
		kp := NewKeyPair(scopeA)
		kp.Tags = map[string]string{"a": "1"}
		create(t, s, kp)
		fresh := NewKeyPair(scopeA)
		ch := NewChannel(scopeA)
		key := createChannel(t, s, ch)
		revoke(t, s, ch.ARN, "v", 1)
		pol := createPolicy(t, s, NewPolicy(scopeA))
		freshCh := NewChannel(scopeA)
		freshPol := NewPolicy(scopeA)
		noop := func(*playkey.Channel) error { return nil }
		noopPolicy := func(*playkey.PlaybackRestrictionPolicy) error { return nil }

		canceled, cancel := context.WithCancel(context.Background())
		cancel()
		expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		for _, c := range []struct {
			ctx  context.Context
			want error
		}{{canceled, context.Canceled}, {expired, context.DeadlineExceeded}} {
			ctx := c.ctx
			for _, call := range []struct {
				name string
				f    func() error
			}{
				{"CreateKeyPair", func() error { return s.CreateKeyPair(ctx, fresh) }},
				{"KeyPair", func() error { _, err := s.KeyPair(ctx, kp.ARN); return err }},
				{"KeyPairs", func() error { _, err := s.KeyPairs(ctx, scopeA, playkey.Page{Limit: 10}); return err }},
				{"DeleteKeyPair", func() error { return s.DeleteKeyPair(ctx, kp.ARN) }},
				{"Tags", func() error { _, err := s.Tags(ctx, kp.ARN); return err }},
				{"TagResource", func() error { return s.TagResource(ctx, kp.ARN, map[string]string{"b": "2"}) }},
				{"UntagResource", func() error { return s.UntagResource(ctx, kp.ARN, []string{"a"}) }},
				{"CreateChannel", func() error { return s.CreateChannel(ctx, freshCh, playkey.NewStreamKey(freshCh.ARN, time.Now())) }},
				{"Channel", func() error { _, err := s.Channel(ctx, ch.ARN); return err }},
				{"Channels", func() error { _, err := s.Channels(ctx, scopeA, playkey.ChannelFilter{}, playkey.Page{}); return err }},
				{"UpdateChannel", func() error { _, err := s.UpdateChannel(ctx, ch.ARN, noop); return err }},
				{"DeleteChannel", func() error { return s.DeleteChannel(ctx, ch.ARN) }},
				{"CreateStreamKey", func() error { return s.CreateStreamKey(ctx, playkey.NewStreamKey(ch.ARN, time.Now())) }},
				{"StreamKey", func() error { _, err := s.StreamKey(ctx, key.ARN); return err }},
				{"StreamKeys", func() error { _, err := s.StreamKeys(ctx, ch.ARN, playkey.Page{}); return err }},
				{"DeleteStreamKey", func() error { return s.DeleteStreamKey(ctx, key.ARN) }},
				{"CreatePlaybackRestrictionPolicy", func() error { return s.CreatePlaybackRestrictionPolicy(ctx, freshPol) }},
				{"PlaybackRestrictionPolicy", func() error { _, err := s.PlaybackRestrictionPolicy(ctx, pol.ARN); return err }},
				{"PlaybackRestrictionPolicies", func() error { _, err := s.PlaybackRestrictionPolicies(ctx, scopeA, playkey.Page{}); return err }},
				{"UpdatePlaybackRestrictionPolicy", func() error { _, err := s.UpdatePlaybackRestrictionPolicy(ctx, pol.ARN, noopPolicy); return err }},
				{"DeletePlaybackRestrictionPolicy", func() error { return s.DeletePlaybackRestrictionPolicy(ctx, pol.ARN) }},
				{"RevokeViewerSessions", func() error { return s.RevokeViewerSessions(ctx, ch.ARN, "v", 9) }},
				{"ViewerRevocation", func() error { _, _, err := s.ViewerRevocation(ctx, ch.ARN, "v"); return err }},
				{"RevocationsSince", func() error { _, err := s.RevocationsSince(ctx, 0, 10); return err }},
				{"Secret", func() error { _, err := s.Secret(ctx, "s"); return err }},
				{"Ping", func() error { return s.Ping(ctx) }},
			} {
				err := within(t, call.name, call.f)
				if !errors.Is(err, c.want) {
					t.Errorf("%s with an ended context: %v, want an error wrapping %v", call.name, err, c.want)
				}
			}
		}
		wantNotFound(t, s, fresh.ARN)
		sameKeyPair(t, "the key pair", get(t, s, kp.ARN), kp)
		wantChannelNotFound(t, s, freshCh.ARN)
		wantPolicyNotFound(t, s, freshPol.ARN)
		sameChannel(t, "the channel", getChannel(t, s, ch.ARN), ch)
		sameStreamKey(t, "the stream key", getKey(t, s, key.ARN), key)
		samePolicy(t, "the policy", getPolicy(t, s, pol.ARN), pol)
		wantRevoked(t, s, ch.ARN, "v", 1, true)
	}},

	{"CancelledMidFlight", func(t *testing.T, s playkey.Store) {
		// Calls whose context ends while they run return promptly; the ones that succeeded
		// took effect; and the store keeps working afterwards.
		const rounds, perRound = 12, 6
		for r := range rounds {
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(r)*150*time.Microsecond)
			kps := make([]*playkey.KeyPair, perRound)
			errs := make([]error, perRound)
			var wg sync.WaitGroup
			for i := range perRound {
				kps[i] = NewKeyPair(playkey.Scope{Account: fmt.Sprintf("%012d", r*perRound+i), Region: "us-west-2"})
				wg.Go(func() {
					errs[i] = s.CreateKeyPair(ctx, kps[i])
					if errs[i] == nil {
						_, errs[i] = s.KeyPairs(ctx, kps[i].ARN.Scope(), playkey.Page{Limit: 10})
					}
				})
			}
			within(t, "cancelled calls", func() error { wg.Wait(); return nil })
			cancel()
			for i, kp := range kps {
				_, err := s.KeyPair(context.Background(), kp.ARN)
				switch {
				case err == nil:
				case playkey.IsCode(err, playkey.ErrResourceNotFound):
					if errs[i] == nil {
						t.Errorf("round %d: a create that returned no error did not store %s", r, kp.ARN)
					}
				default:
					t.Fatalf("KeyPair after cancellation: %v", err)
				}
			}
		}
		kp := create(t, s, NewKeyPair(scopeA))
		get(t, s, kp.ARN)
		if err := s.Ping(context.Background()); err != nil {
			t.Fatalf("Ping after cancellations: %v", err)
		}
	}},
}

// within runs f and fails the test if it has not returned after patience.
func within(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(patience):
		t.Fatalf("%s did not return within %v", what, patience)
		return nil
	}
}
