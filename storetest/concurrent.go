package storetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/playkey/playkey"
)

// race runs f(0) ... f(n-1) in n goroutines released at the same moment, and waits for them.
func race(t *testing.T, n int, f func(i int)) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	within(t, "concurrent calls", func() error { wg.Wait(); return nil })
}

var concurrentTests = []test{
	{"CreateQuota", func(t *testing.T, s playkey.Store) {
		// Many creates at once in one scope: exactly MaxKeyPairs win, the rest are told the
		// quota is full, and nothing else goes wrong (no busy or deadlock errors).
		const n = 50
		kps := make([]*playkey.KeyPair, n)
		errs := make([]error, n)
		race(t, n, func(i int) {
			kps[i] = NewKeyPair(scopeA)
			errs[i] = s.CreateKeyPair(context.Background(), kps[i])
		})
		var won []string
		for i, err := range errs {
			switch {
			case err == nil:
				won = append(won, kps[i].ARN.ID)
			case !playkey.IsCode(err, playkey.ErrServiceQuotaExceeded):
				t.Errorf("create %d: %v, want success or %s", i, err, playkey.ErrServiceQuotaExceeded)
			}
		}
		if len(won) != playkey.MaxKeyPairs {
			t.Errorf("%d of %d concurrent creates succeeded, want %d", len(won), n, playkey.MaxKeyPairs)
		}
		slices.Sort(won)
		if got := ids(listAll(t, s, scopeA)); !slices.Equal(got, won) {
			t.Errorf("stored %v, want the winners %v", got, won)
		}
	}},

	{"CreateQuotaManyScopes", func(t *testing.T, s playkey.Store) {
		scopes := []playkey.Scope{scopeA, scopeOtherAccount, scopeOtherRegion,
			{Account: "333333333333", Region: "ap-northeast-1"}}
		const perScope = 12
		n := len(scopes) * perScope
		errs := make([]error, n)
		race(t, n, func(i int) {
			errs[i] = s.CreateKeyPair(context.Background(), NewKeyPair(scopes[i%len(scopes)]))
		})
		for i, err := range errs {
			if err != nil && !playkey.IsCode(err, playkey.ErrServiceQuotaExceeded) {
				t.Errorf("create %d: %v", i, err)
			}
		}
		for _, scope := range scopes {
			if got := listAll(t, s, scope); len(got) != playkey.MaxKeyPairs {
				t.Errorf("%v holds %d key pairs, want %d", scope, len(got), playkey.MaxKeyPairs)
			}
		}
	}},

	{"CreateDeleteInterleaved", func(t *testing.T, s playkey.Store) {
		// Creators churn key pairs while reapers delete whatever they see and an observer
		// lists the scope. The scope never holds more than MaxKeyPairs, no key pair is
		// deleted twice, and the books balance: creates - deletes = what is left.
		ctx := context.Background()
		const creators, reapers, rounds = 6, 2, 15
		var created, deleted, observations, violations atomic.Int64

		stop := make(chan struct{})
		var obs sync.WaitGroup
		obs.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				kps, err := s.KeyPairs(ctx, scopeA, playkey.Page{Limit: 100})
				if err != nil {
					t.Errorf("observer: %v", err)
					return
				}
				observations.Add(1)
				if len(kps) > playkey.MaxKeyPairs {
					violations.Add(1)
				}
			}
		})

		del := func(arn playkey.ARN) {
			switch err := s.DeleteKeyPair(ctx, arn); {
			case err == nil:
				deleted.Add(1)
			case !playkey.IsCode(err, playkey.ErrResourceNotFound):
				t.Errorf("delete: %v", err)
			}
		}
		race(t, creators+reapers, func(w int) {
			for r := range rounds {
				if w >= creators {
					kps, err := s.KeyPairs(ctx, scopeA, playkey.Page{Limit: 100})
					if err != nil {
						t.Errorf("reaper: %v", err)
						return
					}
					for _, kp := range kps {
						del(kp.ARN)
					}
					continue
				}
				kp := NewKeyPair(scopeA)
				switch err := s.CreateKeyPair(ctx, kp); {
				case err == nil:
					created.Add(1)
					if r%2 == 0 {
						del(kp.ARN)
					}
				case !playkey.IsCode(err, playkey.ErrServiceQuotaExceeded):
					t.Errorf("create: %v", err)
				}
			}
		})
		close(stop)
		obs.Wait()

		left := listAll(t, s, scopeA)
		if v := violations.Load(); v != 0 {
			t.Errorf("the observer saw more than %d key pairs %d times out of %d", playkey.MaxKeyPairs, v, observations.Load())
		}
		if c, d := created.Load(), deleted.Load(); c-d != int64(len(left)) {
			t.Errorf("%d created - %d deleted != %d left", c, d, len(left))
		}
		if created.Load() < playkey.MaxKeyPairs {
			t.Errorf("only %d creates succeeded", created.Load())
		}
		for _, kp := range left {
			get(t, s, kp.ARN)
		}
	}},

	{"DeleteSame", func(t *testing.T, s playkey.Store) {
		kp := create(t, s, NewKeyPair(scopeA))
		const n = 20
		errs := make([]error, n)
		race(t, n, func(i int) { errs[i] = s.DeleteKeyPair(context.Background(), kp.ARN) })
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !playkey.IsCode(err, playkey.ErrResourceNotFound):
				t.Errorf("delete: %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d concurrent deletes of one key pair succeeded, want 1", ok)
		}
		wantNotFound(t, s, kp.ARN)
	}},

	{"SameFingerprint", func(t *testing.T, s playkey.Store) {
		// The same key imported many times at once into one scope: one wins, the rest
		// conflict. Into different scopes: all win.
		der := FakeDER()
		const n = 20
		kps := make([]*playkey.KeyPair, n)
		errs := make([]error, n)
		race(t, n, func(i int) {
			kps[i] = NewKeyPairWithDER(scopeA, der)
			errs[i] = s.CreateKeyPair(context.Background(), kps[i])
		})
		var won []string
		for i, err := range errs {
			switch {
			case err == nil:
				won = append(won, kps[i].ARN.ID)
			case !playkey.IsCode(err, playkey.ErrConflict):
				t.Errorf("create %d: %v, want success or %s", i, err, playkey.ErrConflict)
			}
		}
		if len(won) != 1 {
			t.Errorf("%d concurrent imports of one key succeeded, want 1", len(won))
		}
		if got := ids(listAll(t, s, scopeA)); !slices.Equal(got, won) {
			t.Errorf("stored %v, want %v", got, won)
		}

		race(t, n, func(i int) {
			scope := playkey.Scope{Account: fmt.Sprintf("%012d", i+1), Region: "sa-east-1"}
			if err := s.CreateKeyPair(context.Background(), NewKeyPairWithDER(scope, der)); err != nil {
				t.Errorf("import into %v: %v", scope, err)
			}
		})
	}},

	{"Tagging", func(t *testing.T, s playkey.Store) {
		// Tags added concurrently are all kept (no lost updates) up to the limit, and the
		// limit holds.
		kp := create(t, s, NewKeyPair(scopeA))
		const n = playkey.MaxTags + 10
		errs := make([]error, n)
		race(t, n, func(i int) {
			errs[i] = s.TagResource(context.Background(), kp.ARN, map[string]string{fmt.Sprintf("k%d", i): fmt.Sprint(i)})
		})
		want := map[string]string{}
		for i, err := range errs {
			switch {
			case err == nil:
				want[fmt.Sprintf("k%d", i)] = fmt.Sprint(i)
			case !playkey.IsCode(err, playkey.ErrValidation):
				t.Errorf("tag %d: %v", i, err)
			}
		}
		if len(want) != playkey.MaxTags {
			t.Errorf("%d concurrent tag calls succeeded, want %d", len(want), playkey.MaxTags)
		}
		if got := tagsOf(t, s, kp.ARN); !maps.Equal(got, want) {
			t.Errorf("tags = %v, want the %d that succeeded: %v", got, len(want), want)
		}

		// Concurrent untags of different keys all take effect.
		keys := slices.Collect(maps.Keys(want))
		const untaggers = 10
		race(t, untaggers, func(i int) {
			var mine []string
			for j := i; j < len(keys); j += untaggers {
				mine = append(mine, keys[j])
			}
			if err := s.UntagResource(context.Background(), kp.ARN, mine); err != nil {
				t.Errorf("untag: %v", err)
			}
		})
		if got := tagsOf(t, s, kp.ARN); len(got) != 0 {
			t.Errorf("tags after untagging all = %v", got)
		}
	}},

	{"Secret", func(t *testing.T, s playkey.Store) {
		const n = 20
		vals := make([][]byte, n)
		race(t, n, func(i int) {
			v, err := s.Secret(context.Background(), "shared")
			if err != nil {
				t.Errorf("Secret: %v", err)
			}
			vals[i] = v
		})
		for i, v := range vals {
			if len(v) != 32 || string(v) != string(vals[0]) {
				t.Fatalf("concurrent first calls disagree: %x and %x", vals[0], vals[i])
			}
		}
	}},
}
