package storetest

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/playkey/playkey"
)

// NewPolicy returns a playback restriction policy in scope with a fresh id, a name, two
// countries and an origin, and a creation time in the past.
func NewPolicy(scope playkey.Scope) *playkey.PlaybackRestrictionPolicy {
	id := playkey.NewID()
	return &playkey.PlaybackRestrictionPolicy{
		ARN:              PolicyARN(scope, id),
		Name:             "policy-" + id,
		AllowedCountries: []string{"US", "MX"},
		AllowedOrigins:   []string{"https://www.example.com"},
		Tags:             map[string]string{},
		CreatedAt:        time.Now().Add(-time.Duration(rand.Int64N(int64(1000 * time.Hour)))),
	}
}

// PolicyARN is the ARN of the playback restriction policy id in scope.
func PolicyARN(scope playkey.Scope, id string) playkey.ARN {
	return playkey.ARN{Region: scope.Region, Account: scope.Account, Type: playkey.TypePlaybackRestrictionPolicy, ID: id}
}

func createPolicy(t *testing.T, s playkey.Store, p *playkey.PlaybackRestrictionPolicy) *playkey.PlaybackRestrictionPolicy {
	t.Helper()
	if err := s.CreatePlaybackRestrictionPolicy(context.Background(), p); err != nil {
		t.Fatalf("CreatePlaybackRestrictionPolicy(%s): %v", p.ARN, err)
	}
	return p
}

func getPolicy(t *testing.T, s playkey.Store, arn playkey.ARN) *playkey.PlaybackRestrictionPolicy {
	t.Helper()
	p, err := s.PlaybackRestrictionPolicy(context.Background(), arn)
	if err != nil {
		t.Fatalf("PlaybackRestrictionPolicy(%s): %v", arn, err)
	}
	return p
}

func wantPolicyNotFound(t *testing.T, s playkey.Store, arn playkey.ARN) {
	t.Helper()
	_, err := s.PlaybackRestrictionPolicy(context.Background(), arn)
	wantCode(t, err, playkey.ErrResourceNotFound, "PlaybackRestrictionPolicy("+arn.String()+")")
}

// samePolicy compares every field; empty and nil lists are the same, but a store must
// return non-nil lists.
func samePolicy(t *testing.T, what string, got, want *playkey.PlaybackRestrictionPolicy) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil policy", what)
	}
	if got.ARN != want.ARN || got.Name != want.Name || got.EnableStrictOriginEnforcement != want.EnableStrictOriginEnforcement {
		t.Errorf("%s: %s %q strict=%v, want %s %q strict=%v", what, got.ARN, got.Name, got.EnableStrictOriginEnforcement,
			want.ARN, want.Name, want.EnableStrictOriginEnforcement)
	}
	if !slices.Equal(got.AllowedCountries, want.AllowedCountries) || got.AllowedCountries == nil {
		t.Errorf("%s: AllowedCountries = %#v, want %v", what, got.AllowedCountries, want.AllowedCountries)
	}
	if !slices.Equal(got.AllowedOrigins, want.AllowedOrigins) || got.AllowedOrigins == nil {
		t.Errorf("%s: AllowedOrigins = %#v, want %v", what, got.AllowedOrigins, want.AllowedOrigins)
	}
	if !maps.Equal(got.Tags, want.Tags) || got.Tags == nil {
		t.Errorf("%s: Tags = %v, want %v", what, got.Tags, want.Tags)
	}
	if d := got.CreatedAt.Sub(want.CreatedAt).Abs(); d >= time.Millisecond {
		t.Errorf("%s: CreatedAt = %v, want %v", what, got.CreatedAt, want.CreatedAt)
	}
}

var policyTests = []test{
	{"CreateGetList", func(t *testing.T, s playkey.Store) {
		full := NewPolicy(scopeA)
		full.EnableStrictOriginEnforcement = true
		full.AllowedOrigins = []string{"https://a.example.com", "http://localhost:8080", "null"}
		full.Tags = map[string]string{"k": "v"}
		empty := NewPolicy(scopeA)
		empty.Name, empty.AllowedCountries, empty.AllowedOrigins, empty.Tags = "", nil, nil, nil
		for _, p := range []*playkey.PlaybackRestrictionPolicy{full, empty} {
			createPolicy(t, s, p)
		}
		samePolicy(t, "the full policy", getPolicy(t, s, full.ARN), full)
		samePolicy(t, "the empty policy", getPolicy(t, s, empty.ARN), empty)
		createPolicy(t, s, NewPolicy(scopeOtherAccount))

		got, err := s.PlaybackRestrictionPolicies(context.Background(), scopeA, playkey.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		want := []*playkey.PlaybackRestrictionPolicy{full, empty}
		slices.SortFunc(want, func(a, b *playkey.PlaybackRestrictionPolicy) int { return strings.Compare(a.ARN.ID, b.ARN.ID) })
		if len(got) != 2 {
			t.Fatalf("PlaybackRestrictionPolicies = %d policies, want 2", len(got))
		}
		for i := range got {
			samePolicy(t, "listed policy", got[i], want[i])
		}
		page, err := s.PlaybackRestrictionPolicies(context.Background(), scopeA, playkey.Page{After: want[0].ARN.ID, Limit: 1})
		if err != nil || len(page) != 1 || page[0].ARN != want[1].ARN {
			t.Fatalf("second page: %v %v", page, err)
		}
	}},

	{"MissingAndOtherScopes", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		p := createPolicy(t, s, NewPolicy(scopeA))
		for _, scope := range []playkey.Scope{scopeOtherAccount, scopeOtherRegion} {
			arn := PolicyARN(scope, p.ARN.ID)
			wantPolicyNotFound(t, s, arn)
			wantCode(t, s.DeletePlaybackRestrictionPolicy(ctx, arn), playkey.ErrResourceNotFound, "DeletePlaybackRestrictionPolicy")
			_, err := s.UpdatePlaybackRestrictionPolicy(ctx, arn, func(*playkey.PlaybackRestrictionPolicy) error { return nil })
			wantCode(t, err, playkey.ErrResourceNotFound, "UpdatePlaybackRestrictionPolicy")
		}
		dup := NewPolicy(scopeA)
		dup.ARN = p.ARN
		wantCode(t, s.CreatePlaybackRestrictionPolicy(ctx, dup), playkey.ErrConflict, "a second policy with the same ARN")
		samePolicy(t, "the policy", getPolicy(t, s, p.ARN), p)
	}},

	{"Update", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		p := NewPolicy(scopeA)
		p.Tags = map[string]string{"keep": "me"}
		createPolicy(t, s, p)
		want := *p
		want.Name, want.AllowedCountries, want.AllowedOrigins, want.EnableStrictOriginEnforcement = "renamed", []string{"DE"}, nil, true
		got, err := s.UpdatePlaybackRestrictionPolicy(ctx, p.ARN, func(q *playkey.PlaybackRestrictionPolicy) error {
			samePolicy(t, "the policy given to change", q, p)
			q.Name, q.AllowedCountries, q.AllowedOrigins, q.EnableStrictOriginEnforcement = "renamed", []string{"DE"}, nil, true
			q.ARN, q.Tags, q.CreatedAt = PolicyARN(scopeA, "other"), map[string]string{"x": "y"}, time.Now() // not settings
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		samePolicy(t, "UpdatePlaybackRestrictionPolicy's result", got, &want)
		samePolicy(t, "the updated policy", getPolicy(t, s, p.ARN), &want)

		sentinel := errors.New("no thanks")
		_, err = s.UpdatePlaybackRestrictionPolicy(ctx, p.ARN, func(q *playkey.PlaybackRestrictionPolicy) error {
			q.Name = "again"
			return sentinel
		})
		if !errors.Is(err, sentinel) {
			t.Fatalf("update with a failing change: %v", err)
		}
		samePolicy(t, "the policy after a failed update", getPolicy(t, s, p.ARN), &want)
	}},

	{"DeleteInUse", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		p := createPolicy(t, s, NewPolicy(scopeA))
		users := []*playkey.Channel{NewChannel(scopeA), NewChannel(scopeA)}
		for _, ch := range users {
			ch.PlaybackRestrictionPolicy = p.ARN
			createChannel(t, s, ch)
		}
		wantCode(t, s.DeletePlaybackRestrictionPolicy(ctx, p.ARN), playkey.ErrConflict, "deleting a policy in use")
		getPolicy(t, s, p.ARN)

		// One user stops using it, then the other is deleted: the policy is free.
		if _, err := s.UpdateChannel(ctx, users[0].ARN, func(c *playkey.Channel) error {
			c.PlaybackRestrictionPolicy = playkey.ARN{}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.DeletePlaybackRestrictionPolicy(ctx, p.ARN), playkey.ErrConflict, "deleting a policy still in use")
		if err := s.DeleteChannel(ctx, users[1].ARN); err != nil {
			t.Fatal(err)
		}
		if err := s.DeletePlaybackRestrictionPolicy(ctx, p.ARN); err != nil {
			t.Fatalf("deleting a policy no longer in use: %v", err)
		}
		wantPolicyNotFound(t, s, p.ARN)
		wantCode(t, s.DeletePlaybackRestrictionPolicy(ctx, p.ARN), playkey.ErrResourceNotFound, "second delete")
	}},
}
