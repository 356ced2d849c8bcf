package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/storetest"
)

// TestNodesRevocationFeed: nodes raise revocations concurrently while a poller follows
// RevocationsSince as a gate does, keeping only the last Seq it saw. Every revocation's
// final state must reach the poller: one that committed after a higher Seq, and so fell
// behind the poller's position, would be lost to it for good.
func TestNodesRevocationFeed(t *testing.T) {
	const nodes, writersPerNode = 3, 4
	raises := 1500
	if testing.Short() {
		raises = 200
	}
	ctx := context.Background()
	_, url := newSchema(t)
	stores := make([]playkey.Store, nodes)
	for i := range stores {
		stores[i] = open(t, url)
	}
	scope := playkey.Scope{Account: "123456789012", Region: "us-west-2"}
	var channels []playkey.ARN
	for range 4 {
		ch := storetest.NewChannel(scope)
		if err := stores[0].CreateChannel(ctx, ch, nil); err != nil {
			t.Fatal(err)
		}
		channels = append(channels, ch.ARN)
	}

	type key struct {
		channel playkey.ARN
		viewer  string
	}
	seen := map[key]int64{} // the Seq of each revocation's latest state the poller saw
	var last int64
	var polls int
	poll := func() error {
		rs, err := stores[polls%nodes].RevocationsSince(ctx, last, 50)
		polls++
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Seq <= last {
				return fmt.Errorf("RevocationsSince(%d) returned Seq %d", last, r.Seq)
			}
			last = r.Seq
			seen[key{r.Channel, r.ViewerID}] = r.Seq
		}
		return nil
	}

	stop := make(chan struct{})
	var poller sync.WaitGroup
	poller.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := poll(); err != nil {
				t.Errorf("poll: %v", err)
				return
			}
		}
	})
	var next atomic.Int64
	var wg sync.WaitGroup
	for n := range nodes {
		for range writersPerNode {
			wg.Go(func() {
				for next.Add(1) <= int64(raises) {
					ch := channels[rand.IntN(len(channels))]
					viewer := fmt.Sprintf("viewer-%d", rand.IntN(30))
					if err := stores[n].RevokeViewerSessions(ctx, ch, viewer, rand.Int64N(1000)); err != nil {
						t.Errorf("revoke: %v", err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(stop)
	poller.Wait()
	// Catch up with what committed after the last poll.
	for {
		before := last
		if err := poll(); err != nil {
			t.Fatal(err)
		}
		if last == before {
			break
		}
	}

	final, err := stores[0].RevocationsSince(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	missed := 0
	for _, r := range final {
		if got := seen[key{r.Channel, r.ViewerID}]; got != r.Seq {
			missed++
			if missed <= 5 {
				t.Errorf("the poller last saw %s %s at Seq %d; it is at Seq %d", r.Channel, r.ViewerID, got, r.Seq)
			}
		}
		if v, ok, err := stores[1].ViewerRevocation(ctx, r.Channel, r.ViewerID); err != nil || !ok || v != r.MaxVersion {
			t.Errorf("ViewerRevocation(%s, %s) = %d, %v, %v; the feed says %d", r.Channel, r.ViewerID, v, ok, err, r.MaxVersion)
		}
	}
	if missed > 0 {
		t.Errorf("the poller missed the latest state of %d of %d revocations", missed, len(final))
	}
	t.Logf("%d raises on %d nodes, %d revocations, %d polls, last Seq %d", raises, nodes, len(final), polls, last)
}
