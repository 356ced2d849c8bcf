package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/playkey/playkey"
)

// claim calls SingleUse and fails the test on error.
func claim(t *testing.T, s playkey.Store, scope playkey.Scope, uuid string, consume bool) bool {
	t.Helper()
	unused, err := s.SingleUse(context.Background(), scope, uuid, time.Now().Add(10*time.Minute), consume)
	if err != nil {
		t.Fatalf("SingleUse(%v, %q, consume=%v): %v", scope, uuid, consume, err)
	}
	return unused
}

var singleUseTests = []test{
	{"ConsumeOnce", func(t *testing.T, s playkey.Store) {
		const id = "2b1b3f5e-1c39-4a7e-9a4e-4a4a0d9f6d11"
		if !claim(t, s, scopeA, id, false) {
			t.Fatal("a new uuid looks used")
		}
		if !claim(t, s, scopeA, id, true) {
			t.Fatal("the first consuming call reported the uuid used")
		}
		if claim(t, s, scopeA, id, true) {
			t.Fatal("the second consuming call reported the uuid unused")
		}
		if claim(t, s, scopeA, id, false) {
			t.Fatal("a consumed uuid looks unused")
		}
	}},

	{"LookingDoesNotConsume", func(t *testing.T, s playkey.Store) {
		for range 3 {
			if !claim(t, s, scopeA, "u1", false) {
				t.Fatal("looking at a uuid consumed it")
			}
		}
		if !claim(t, s, scopeA, "u1", true) {
			t.Fatal("the first consuming call, after looks, reported the uuid used")
		}
	}},

	{"Scoped", func(t *testing.T, s playkey.Store) {
		// A uuid is single within its account and region; other uuids are independent.
		claim(t, s, scopeA, "same", true)
		for _, scope := range []playkey.Scope{scopeOtherAccount, scopeOtherRegion} {
			if !claim(t, s, scope, "same", true) {
				t.Errorf("a uuid consumed in %v is used in %v too", scopeA, scope)
			}
		}
		if !claim(t, s, scopeA, "other", true) {
			t.Error("consuming one uuid consumed another")
		}
		if !claim(t, s, scopeA, "SAME", true) {
			t.Error("uuids compare case-insensitively; they are opaque strings")
		}
	}},

	{"ExpiredRecordsDoNotDisturb", func(t *testing.T, s playkey.Store) {
		// Records past their expiry may be forgotten (lazily); live ones never are.
		ctx := context.Background()
		past := time.Now().Add(-time.Hour)
		for _, id := range []string{"old-1", "old-2", "old-3"} {
			if _, err := s.SingleUse(ctx, scopeA, id, past, true); err != nil {
				t.Fatal(err)
			}
		}
		claim(t, s, scopeA, "live", true)
		for range 5 {
			claim(t, s, scopeA, playkey.NewID(), true)
		}
		if claim(t, s, scopeA, "live", true) {
			t.Error("a live record was forgotten")
		}
	}},

	{"Concurrent", func(t *testing.T, s playkey.Store) {
		// 50 consuming calls for one uuid at once: exactly one wins, none fails.
		const n = 50
		won := make([]bool, n)
		errs := make([]error, n)
		race(t, n, func(i int) {
			won[i], errs[i] = s.SingleUse(context.Background(), scopeA, "contested", time.Now().Add(time.Minute), true)
		})
		wins := 0
		for i := range n {
			if errs[i] != nil {
				t.Errorf("call %d: %v", i, errs[i])
			}
			if won[i] {
				wins++
			}
		}
		if wins != 1 {
			t.Errorf("%d of %d concurrent consuming calls reported the uuid unused, want exactly 1", wins, n)
		}
	}},

	{"ContextEnded", func(t *testing.T, s playkey.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for _, consume := range []bool{false, true} {
			_, err := s.SingleUse(ctx, scopeA, "ctx", time.Now().Add(time.Minute), consume)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("SingleUse(consume=%v) with a canceled context: %v, want context.Canceled", consume, err)
			}
		}
		if !claim(t, s, scopeA, "ctx", false) {
			t.Error("a call with a canceled context consumed the uuid")
		}
	}},
}
