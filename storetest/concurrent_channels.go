package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/playkey/playkey"
)

// allowed fails the test unless err is nil or carries one of codes.
func allowed(t *testing.T, what string, err error, codes ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, c := range codes {
		if playkey.IsCode(err, c) {
			return
		}
	}
	t.Errorf("%s: %v, want success or one of %v", what, err, codes)
}

var concurrentChannelTests = []test{
	{"OneStreamKeyPerChannel", func(t *testing.T, s playkey.Store) {
		ch := NewChannel(scopeA)
		if err := s.CreateChannel(context.Background(), ch, nil); err != nil {
			t.Fatal(err)
		}
		const n = 20
		errs := make([]error, n)
		race(t, n, func(i int) {
			errs[i] = s.CreateStreamKey(context.Background(), playkey.NewStreamKey(ch.ARN, time.Now()))
		})
		won := 0
		for i, err := range errs {
			if err == nil {
				won++
			}
			allowed(t, fmt.Sprint("create ", i), err, playkey.ErrServiceQuotaExceeded)
		}
		if won != playkey.MaxStreamKeysPerChannel {
			t.Errorf("%d of %d concurrent CreateStreamKey calls succeeded, want %d", won, n, playkey.MaxStreamKeysPerChannel)
		}
		if keys := listKeys(t, s, ch.ARN); len(keys) != playkey.MaxStreamKeysPerChannel {
			t.Errorf("the channel has %d stream keys", len(keys))
		}
	}},

	{"StreamKeyVsChannelDelete", func(t *testing.T, s playkey.Store) {
		// A stream key is never left behind by a channel deleted while it was being created.
		ctx := context.Background()
		for round := range 8 {
			ch := NewChannel(scopeA)
			if err := s.CreateChannel(ctx, ch, nil); err != nil {
				t.Fatal(err)
			}
			const n = 8
			keys := make([]*playkey.StreamKey, n)
			race(t, n+1, func(i int) {
				if i == n {
					allowed(t, "delete channel", s.DeleteChannel(ctx, ch.ARN))
					return
				}
				keys[i] = playkey.NewStreamKey(ch.ARN, time.Now())
				allowed(t, "create stream key", s.CreateStreamKey(ctx, keys[i]),
					playkey.ErrResourceNotFound, playkey.ErrServiceQuotaExceeded)
			})
			wantChannelNotFound(t, s, ch.ARN)
			for _, k := range keys {
				if _, err := s.StreamKey(ctx, k.ARN); !playkey.IsCode(err, playkey.ErrResourceNotFound) {
					t.Fatalf("round %d: stream key %s of a deleted channel: %v", round, k.ARN, err)
				}
			}
		}
	}},

	{"PolicyDeleteVsUse", func(t *testing.T, s playkey.Store) {
		// Channels taking up a policy race its deletion: whoever wins, no channel is ever
		// left referring to a deleted policy.
		ctx := context.Background()
		deletedOnce := false
		for round := range 8 {
			p := createPolicy(t, s, NewPolicy(scopeA))
			const n = 6
			existing := make([]*playkey.Channel, n)
			for i := range existing {
				existing[i] = NewChannel(scopeA)
				if err := s.CreateChannel(ctx, existing[i], nil); err != nil {
					t.Fatal(err)
				}
			}
			race(t, 2*n+2, func(i int) {
				switch {
				case i < n:
					_, err := s.UpdateChannel(ctx, existing[i].ARN, func(c *playkey.Channel) error {
						c.PlaybackRestrictionPolicy = p.ARN
						return nil
					})
					allowed(t, "update channel", err, playkey.ErrResourceNotFound)
				case i < 2*n:
					ch := NewChannel(scopeA)
					ch.PlaybackRestrictionPolicy = p.ARN
					allowed(t, "create channel", s.CreateChannel(ctx, ch, playkey.NewStreamKey(ch.ARN, ch.CreatedAt)), playkey.ErrResourceNotFound)
				default:
					allowed(t, "delete policy", s.DeletePlaybackRestrictionPolicy(ctx, p.ARN),
						playkey.ErrConflict, playkey.ErrResourceNotFound)
				}
			})
			users := listChannels(t, s, scopeA, playkey.ChannelFilter{PlaybackRestrictionPolicy: p.ARN}, playkey.Page{})
			_, err := s.PlaybackRestrictionPolicy(ctx, p.ARN)
			switch {
			case playkey.IsCode(err, playkey.ErrResourceNotFound):
				deletedOnce = true
				if len(users) > 0 {
					t.Fatalf("round %d: the policy is gone but %d channels refer to it", round, len(users))
				}
			case err != nil:
				t.Fatal(err)
			}
			for _, ch := range listChannels(t, s, scopeA, playkey.ChannelFilter{}, playkey.Page{}) {
				if !ch.PlaybackRestrictionPolicy.IsZero() {
					getPolicy(t, s, ch.PlaybackRestrictionPolicy)
				}
			}
		}
		t.Logf("the delete won at least once: %v", deletedOnce)
	}},

	{"UpdatesNotLost", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		ch := NewChannel(scopeA)
		ch.Name = ""
		createChannel(t, s, ch)
		p := NewPolicy(scopeA)
		p.AllowedCountries = nil
		createPolicy(t, s, p)
		const n = 24
		race(t, 2*n, func(i int) {
			if i%2 == 0 {
				_, err := s.UpdateChannel(ctx, ch.ARN, func(c *playkey.Channel) error { c.Name += "x"; return nil })
				allowed(t, "update channel", err)
				return
			}
			_, err := s.UpdatePlaybackRestrictionPolicy(ctx, p.ARN, func(q *playkey.PlaybackRestrictionPolicy) error {
				q.AllowedCountries = append(q.AllowedCountries, "FR")
				return nil
			})
			allowed(t, "update policy", err)
		})
		if got := getChannel(t, s, ch.ARN).Name; got != strings.Repeat("x", n) {
			t.Errorf("after %d concurrent appends the name is %q", n, got)
		}
		if got := getPolicy(t, s, p.ARN).AllowedCountries; len(got) != n {
			t.Errorf("after %d concurrent appends the policy has %d countries", n, len(got))
		}
	}},

	{"RevocationsRiseOnly", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		ch := NewChannel(scopeA)
		createChannel(t, s, ch)
		const n = 30
		versions := rand.Perm(n * 3)[:n]
		top := int64(0)
		for _, v := range versions {
			top = max(top, int64(v))
		}
		race(t, 2*n, func(i int) {
			if i < n {
				allowed(t, "revoke", s.RevokeViewerSessions(ctx, ch.ARN, "same", int64(versions[i])))
			} else {
				allowed(t, "revoke", s.RevokeViewerSessions(ctx, ch.ARN, fmt.Sprint("viewer-", i), 1))
			}
		})
		wantRevoked(t, s, ch.ARN, "same", top, true)
		rs := since(t, s, 0, 0)
		if len(rs) != n+1 {
			t.Fatalf("RevocationsSince = %d rows, want %d (one per viewer)", len(rs), n+1)
		}
		for i := 1; i < len(rs); i++ {
			if rs[i].Seq <= rs[i-1].Seq {
				t.Fatalf("Seq %d after %d", rs[i].Seq, rs[i-1].Seq)
			}
		}
	}},

	{"RevocationVsChannelDelete", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		for range 6 {
			ch := NewChannel(scopeA)
			createChannel(t, s, ch)
			const n = 10
			var done [n]bool // the revocation was acknowledged
			race(t, n+1, func(i int) {
				if i == n {
					allowed(t, "delete channel", s.DeleteChannel(ctx, ch.ARN))
					return
				}
				err := s.RevokeViewerSessions(ctx, ch.ARN, fmt.Sprint("v", i), int64(i))
				allowed(t, "revoke", err, playkey.ErrResourceNotFound)
				done[i] = err == nil
			})
			// An acknowledged revocation outlives the channel; a refused one left nothing.
			for i := range n {
				want := int64(0)
				if done[i] {
					want = int64(i)
				}
				wantRevoked(t, s, ch.ARN, fmt.Sprint("v", i), want, done[i])
			}
		}
	}},
}
