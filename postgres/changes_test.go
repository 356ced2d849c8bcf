package postgres_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/postgres"
	"github.com/playkey/playkey/postgres/pgtest"
	"github.com/playkey/playkey/storetest"
)

// watcher runs Store.Watch for a test and hands over what it hears.
type watcher struct {
	changes chan playkey.Change
	at      chan time.Time // when each change was heard
}

func watch(t *testing.T, s *postgres.Store) *watcher {
	t.Helper()
	w := &watcher{changes: make(chan playkey.Change, 1000), at: make(chan time.Time, 1000)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- s.Watch(ctx, func(c playkey.Change) {
			w.at <- time.Now()
			w.changes <- c
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Watch returned %v, want context.Canceled", err)
		}
	})
	return w
}

// next returns the next change, or fails t after a while.
func (w *watcher) next(t *testing.T) (playkey.Change, time.Time) {
	t.Helper()
	select {
	case c := <-w.changes:
		return c, <-w.at
	case <-time.After(10 * time.Second):
		t.Fatal("no change announced within 10s")
	}
	panic("unreachable")
}

// quiet fails t if a change is announced within d.
func (w *watcher) quiet(t *testing.T, d time.Duration, after string) {
	t.Helper()
	select {
	case c := <-w.changes:
		<-w.at
		t.Errorf("after %s: announced %v %+v, want nothing", after, c.Kind, c)
	case <-time.After(d):
	}
}

// TestWatch makes every kind of change on one node and hears it on another, once each,
// and hears nothing of changes that are not made (refused, rolled back), that a cache of
// keys and channels does not care about (tags), or that another schema's deployment makes.
// When the listening connection is lost, Watch resumes by itself and says ChangeAll.
func TestWatch(t *testing.T) {
	app := "playkey_watch_" + strings.ToLower(playkey.RandomString(8))
	name, url := newSchema(t, "application_name", app)
	a, b := open(t, url), open(t, url)
	_, otherURL := newSchema(t)
	other := open(t, otherURL)
	w := watch(t, a)
	if c, _ := w.next(t); c.Kind != playkey.ChangeAll {
		t.Fatalf("first change %v, want ChangeAll", c.Kind)
	}
	ctx := context.Background()
	scope := playkey.Scope{Account: "123456789012", Region: "us-west-2"}

	var latencies []time.Duration
	expect := func(what string, want playkey.Change, do func() error) {
		t.Helper()
		if err := do(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		committed := time.Now()
		got, at := w.next(t)
		if got != want {
			t.Fatalf("%s: announced %+v, want %+v", what, got, want)
		}
		latencies = append(latencies, at.Sub(committed))
		w.quiet(t, 50*time.Millisecond, what) // once only
	}
	keys := playkey.Change{Kind: playkey.ChangeKeyPairs, Scope: scope}
	kp := storetest.NewKeyPair(scope)
	expect("CreateKeyPair", keys, func() error { return b.CreateKeyPair(ctx, kp) })
	if err := b.TagResource(ctx, kp.ARN, map[string]string{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	w.quiet(t, 200*time.Millisecond, "tagging a key pair")
	if err := b.CreateKeyPair(ctx, storetest.NewKeyPairWithDER(scope, kp.PublicKeyDER)); !playkey.IsCode(err, playkey.ErrConflict) {
		t.Fatalf("duplicate: %v", err)
	}
	w.quiet(t, 200*time.Millisecond, "a refused import")
	expect("DeleteKeyPair", keys, func() error { return b.DeleteKeyPair(ctx, kp.ARN) })

	p := storetest.NewPolicy(scope)
	if err := b.CreatePlaybackRestrictionPolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	w.quiet(t, 200*time.Millisecond, "creating a policy no channel uses")
	policy := playkey.Change{Kind: playkey.ChangePolicy, Scope: scope, ARN: p.ARN}
	expect("UpdatePlaybackRestrictionPolicy", policy, func() error {
		_, err := b.UpdatePlaybackRestrictionPolicy(ctx, p.ARN, func(p *playkey.PlaybackRestrictionPolicy) error {
			p.AllowedCountries = []string{"FR"}
			return nil
		})
		return err
	})

	ch := storetest.NewChannel(scope)
	channel := playkey.Change{Kind: playkey.ChangeChannel, Scope: scope, ARN: ch.ARN}
	expect("CreateChannel", channel, func() error { return b.CreateChannel(ctx, ch, playkey.NewStreamKey(ch.ARN, time.Now())) })
	expect("UpdateChannel", channel, func() error {
		_, err := b.UpdateChannel(ctx, ch.ARN, func(c *playkey.Channel) error { c.Authorized = true; return nil })
		return err
	})
	refused := errors.New("changed my mind")
	if _, err := b.UpdateChannel(ctx, ch.ARN, func(c *playkey.Channel) error { c.Authorized = false; return refused }); err != refused {
		t.Fatalf("UpdateChannel: %v", err)
	}
	w.quiet(t, 200*time.Millisecond, "an update rolled back")
	revs := playkey.Change{Kind: playkey.ChangeRevocations, Scope: scope}
	expect("RevokeViewerSessions", revs, func() error { return b.RevokeViewerSessions(ctx, ch.ARN, "viewer", 2) })
	if err := b.RevokeViewerSessions(ctx, ch.ARN, "viewer", 1); err != nil {
		t.Fatal(err)
	}
	w.quiet(t, 200*time.Millisecond, "a revocation that changes nothing")
	// A stream's start, stop and end are announced; its reports in between, and a refused
	// publish's session, are not.
	stream := playkey.Change{Kind: playkey.ChangeStream, Scope: scope, ARN: ch.ARN}
	st := storetest.NewStream(ch.ARN)
	expect("StartStream", stream, func() error { return b.StartStream(ctx, st) })
	if _, err := b.UpdateStream(ctx, ch.ARN, st.ID, playkey.StreamUpdate{Health: playkey.HealthStarving}); err != nil {
		t.Fatal(err)
	}
	w.quiet(t, 200*time.Millisecond, "a stream's report")
	expect("StopStream", stream, func() error { _, err := b.StopStream(ctx, ch.ARN); return err })
	expect("EndStream", stream, func() error { return b.EndStream(ctx, ch.ARN, st.ID, time.Now()) })
	if err := b.RecordRefusedStream(ctx, ch.ARN, &playkey.StreamSession{ID: playkey.NewStreamID(), StartTime: time.Now(), EndTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	w.quiet(t, 200*time.Millisecond, "a refused publish")
	expect("DeleteChannel", channel, func() error { return b.DeleteChannel(ctx, ch.ARN) })
	expect("DeletePlaybackRestrictionPolicy", policy, func() error { return b.DeletePlaybackRestrictionPolicy(ctx, p.ARN) })

	// Another deployment, in another schema of the same database.
	if err := other.CreateKeyPair(ctx, storetest.NewKeyPair(scope)); err != nil {
		t.Fatal(err)
	}
	w.quiet(t, 200*time.Millisecond, "a change in another schema")

	// The connection is lost (here: the server ends every connection of this test's
	// stores): Watch says ChangeAll when it listens again, and hears changes as before.
	pgtest.Exec(t, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app)
	lost := time.Now()
	if c, at := w.next(t); c.Kind != playkey.ChangeAll {
		t.Fatalf("after the connection was lost: %+v, want ChangeAll", c)
	} else {
		t.Logf("listening again %v after the connection was ended", at.Sub(lost).Round(time.Millisecond))
	}
	expect("CreateKeyPair after reconnecting", keys, func() error {
		for {
			// b's connections were ended too: it may take a call or two to notice.
			err := b.CreateKeyPair(ctx, storetest.NewKeyPair(scope))
			if !playkey.IsCode(err, playkey.ErrServiceUnavailable) {
				return err
			}
		}
	})

	slices.Sort(latencies)
	t.Logf("schema %s: %d changes announced, commit to announcement: median %v, max %v", name,
		len(latencies), latencies[len(latencies)/2].Round(time.Microsecond), latencies[len(latencies)-1].Round(time.Microsecond))
}
