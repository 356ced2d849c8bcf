package postgres_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/storetest"
)

// TestNodesKeyPairInvariants hammers one schema from several Stores, each with its own
// pool as separate playkey nodes would have, with imports and deletes in a few scopes. A
// small pool of keys per scope makes duplicate imports common and the quota always near
// full. Two observers count violations: one after every successful create, one looping on
// its own connection the whole time. Both must count zero, for:
//   - more than playkey.MaxKeyPairs key pairs in a scope;
//   - one public key (fingerprint) twice in a scope.
func TestNodesKeyPairInvariants(t *testing.T) {
	const nodes, workersPerNode = 4, 4
	attempts := 4000
	if testing.Short() {
		attempts = 400
	}
	_, url := newSchema(t)
	stores := make([]playkey.Store, nodes)
	for i := range stores {
		stores[i] = open(t, url)
	}
	scopes := []playkey.Scope{
		{Account: "111111111111", Region: "us-west-2"},
		{Account: "111111111111", Region: "eu-central-1"},
		{Account: "222222222222", Region: "us-west-2"},
	}
	// Six keys per scope for three slots: imports collide with each other and with the quota.
	keys := map[playkey.Scope][][]byte{}
	for _, sc := range scopes {
		for range 6 {
			keys[sc] = append(keys[sc], storetest.FakeDER())
		}
	}

	ctx := context.Background()
	watcher := conn(t, url)
	type counts struct{ rows, distinct int }
	look := func(sc playkey.Scope) (counts, error) {
		var c counts
		err := watcher.QueryRow(ctx,
			`SELECT count(*), count(DISTINCT fingerprint) FROM playback_key_pairs WHERE account = $1 AND region = $2`,
			sc.Account, sc.Region).Scan(&c.rows, &c.distinct)
		return c, err
	}
	var watchMu sync.Mutex // one connection, shared by the workers' checks

	var (
		overQuota, duplicates, checks            atomic.Int64
		created, conflicts, quota, deleted, gone atomic.Int64
		next                                     atomic.Int64
	)
	record := func(c counts) {
		checks.Add(1)
		if c.rows > playkey.MaxKeyPairs {
			overQuota.Add(1)
		}
		if c.rows != c.distinct {
			duplicates.Add(1)
		}
	}

	// The looping observer, on its own connection.
	stop := make(chan struct{})
	var observer sync.WaitGroup
	var observations atomic.Int64
	obs := conn(t, url)
	observer.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			rows, err := obs.Query(ctx,
				`SELECT count(*), count(DISTINCT fingerprint) FROM playback_key_pairs GROUP BY account, region`)
			if err != nil {
				t.Errorf("observer: %v", err)
				return
			}
			for rows.Next() {
				var c counts
				if err := rows.Scan(&c.rows, &c.distinct); err != nil {
					t.Errorf("observer: %v", err)
					return
				}
				record(c)
			}
			rows.Close()
			observations.Add(1)
		}
	})

	start := time.Now()
	var wg sync.WaitGroup
	for n := range nodes {
		s := stores[n]
		for range workersPerNode {
			wg.Go(func() {
				for next.Add(1) <= int64(attempts) {
					sc := scopes[rand.IntN(len(scopes))]
					if rand.IntN(3) == 0 {
						// Delete whatever this node lists; other nodes race for the same.
						kps, err := s.KeyPairs(ctx, sc, playkey.Page{Limit: 100})
						if err != nil {
							t.Errorf("list: %v", err)
							return
						}
						if len(kps) == 0 {
							continue
						}
						switch err := s.DeleteKeyPair(ctx, kps[rand.IntN(len(kps))].ARN); {
						case err == nil:
							deleted.Add(1)
						case playkey.IsCode(err, playkey.ErrResourceNotFound):
							gone.Add(1)
						default:
							t.Errorf("delete: %v", err)
							return
						}
						continue
					}
					kp := storetest.NewKeyPairWithDER(sc, keys[sc][rand.IntN(len(keys[sc]))])
					switch err := s.CreateKeyPair(ctx, kp); {
					case err == nil:
						created.Add(1)
						watchMu.Lock()
						c, err := look(sc)
						watchMu.Unlock()
						if err != nil {
							t.Errorf("count: %v", err)
							return
						}
						record(c)
					case playkey.IsCode(err, playkey.ErrConflict):
						conflicts.Add(1)
					case playkey.IsCode(err, playkey.ErrServiceQuotaExceeded):
						quota.Add(1)
					default:
						t.Errorf("create: %v", err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(stop)
	observer.Wait()
	elapsed := time.Since(start)

	left := 0
	for _, sc := range scopes {
		c, err := look(sc)
		if err != nil {
			t.Fatal(err)
		}
		record(c)
		left += c.rows
	}
	t.Logf("%d attempts on %d nodes in %v: %d created, %d conflicts, %d over quota, %d deleted, %d already gone; %d checks (%d observer passes)",
		attempts, nodes, elapsed.Round(time.Millisecond), created.Load(), conflicts.Load(), quota.Load(), deleted.Load(), gone.Load(),
		checks.Load(), observations.Load())
	if v := overQuota.Load(); v != 0 {
		t.Errorf("%d of %d checks saw more than %d key pairs in a scope", v, checks.Load(), playkey.MaxKeyPairs)
	}
	if v := duplicates.Load(); v != 0 {
		t.Errorf("%d of %d checks saw the same key twice in a scope", v, checks.Load())
	}
	if c, d := created.Load(), deleted.Load(); c-d != int64(left) {
		t.Errorf("%d created - %d deleted != %d left", c, d, left)
	}
	// The run must have exercised every outcome, or it proved little.
	for name, n := range map[string]int64{"created": created.Load(), "conflict": conflicts.Load(),
		"quota": quota.Load(), "deleted": deleted.Load()} {
		if n == 0 {
			t.Errorf("no attempt ended %s", name)
		}
	}
}
