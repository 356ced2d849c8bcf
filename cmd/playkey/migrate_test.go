package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/postgres"
	"github.com/playkey/playkey/postgres/pgtest"
	"github.com/playkey/playkey/sqlite"
	"github.com/playkey/playkey/storetest"
)

var (
	migScopeA = playkey.Scope{Account: "111111111111", Region: "us-west-2"}
	migScopeB = playkey.Scope{Account: "222222222222", Region: "us-west-2"}
	migScopeC = playkey.Scope{Account: "111111111111", Region: "eu-central-1"}
	migEmpty  = playkey.Scope{Account: "333333333333", Region: "us-west-2"}
)

// fill puts some of every kind of resource into s, in several scopes, and returns what
// view needs to find the resources the Store interface cannot list.
func fill(t *testing.T, s playkey.Store) (uuids map[playkey.Scope][]string, secrets []string) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	arn := func(sc playkey.Scope, typ string) playkey.ARN {
		return playkey.ARN{Region: sc.Region, Account: sc.Account, Type: typ, ID: playkey.NewID()}
	}
	now := time.Now()

	for sc, n := range map[playkey.Scope]int{migScopeA: 3, migScopeB: 1, migScopeC: 2} {
		for i := range n {
			kp := storetest.NewKeyPair(sc)
			kp.Tags = map[string]string{"env": "prod", "n": fmt.Sprint(i), "名前": "値 ✓"}
			if i == 0 {
				kp.Name, kp.Tags = "", nil
			}
			must(s.CreateKeyPair(ctx, kp))
		}
	}

	pA := &playkey.PlaybackRestrictionPolicy{ARN: arn(migScopeA, playkey.TypePlaybackRestrictionPolicy), Name: "geo",
		AllowedCountries: []string{"US", "DE"}, AllowedOrigins: []string{"https://a.example.com", "null"},
		EnableStrictOriginEnforcement: true, Tags: map[string]string{"p": "1"}, CreatedAt: now.Add(-time.Hour)}
	pA2 := &playkey.PlaybackRestrictionPolicy{ARN: arn(migScopeA, playkey.TypePlaybackRestrictionPolicy), CreatedAt: now}
	pC := &playkey.PlaybackRestrictionPolicy{ARN: arn(migScopeC, playkey.TypePlaybackRestrictionPolicy), Name: "eu",
		AllowedCountries: []string{"FR"}, CreatedAt: now}
	for _, p := range []*playkey.PlaybackRestrictionPolicy{pA, pA2, pC} {
		must(s.CreatePlaybackRestrictionPolicy(ctx, p))
	}

	ch1 := playkey.NewChannel(arn(migScopeA, playkey.TypeChannel), now.Add(-2*time.Hour))
	ch1.Name, ch1.Authorized, ch1.PlaybackRestrictionPolicy = "main", true, pA.ARN
	ch1.Tags = map[string]string{"team": "video"}
	must(s.CreateChannel(ctx, ch1, playkey.NewStreamKey(ch1.ARN, now)))
	ch2 := playkey.NewChannel(arn(migScopeA, playkey.TypeChannel), now)
	ch2.Type, ch2.Preset, ch2.LatencyMode = playkey.ChannelAdvancedHD, playkey.PresetHigherBandwidth, playkey.LatencyNormal
	key2 := playkey.NewStreamKey(ch2.ARN, now)
	must(s.CreateChannel(ctx, ch2, key2))
	must(s.DeleteStreamKey(ctx, key2.ARN)) // reset: a second key, newer
	key2b := playkey.NewStreamKey(ch2.ARN, now.Add(time.Minute))
	key2b.Tags = map[string]string{"rotated": "yes"}
	must(s.CreateStreamKey(ctx, key2b))
	ch3 := playkey.NewChannel(arn(migScopeA, playkey.TypeChannel), now)
	ch3.ContainerFormat = playkey.ContainerFragmentedMP4
	ch3.Multitrack = playkey.Multitrack{Enabled: true, Policy: playkey.MultitrackRequire, MaximumResolution: playkey.ResolutionHD}
	must(s.CreateChannel(ctx, ch3, nil))
	chC := playkey.NewChannel(arn(migScopeC, playkey.TypeChannel), now)
	chC.PlaybackRestrictionPolicy = pC.ARN
	must(s.CreateChannel(ctx, chC, playkey.NewStreamKey(chC.ARN, now)))
	gone := playkey.NewChannel(arn(migScopeB, playkey.TypeChannel), now)
	must(s.CreateChannel(ctx, gone, nil))

	// Tags set after creation, on every taggable type.
	must(s.TagResource(ctx, pA2.ARN, map[string]string{"added": "later"}))
	must(s.TagResource(ctx, chC.ARN, map[string]string{"added": "later"}))
	must(s.TagResource(ctx, key2b.ARN, map[string]string{"more": "1"}))

	// Revocations, one raised twice, and some on a channel that is then deleted (they are
	// kept): the copy must continue from the counter.
	must(s.RevokeViewerSessions(ctx, ch1.ARN, "alice", 5))
	must(s.RevokeViewerSessions(ctx, ch1.ARN, "bob", 0))
	must(s.RevokeViewerSessions(ctx, chC.ARN, "carol", 2))
	must(s.RevokeViewerSessions(ctx, gone.ARN, "dave", 1))
	must(s.RevokeViewerSessions(ctx, ch1.ARN, "alice", 9))
	must(s.RevokeViewerSessions(ctx, gone.ARN, "erin", 1))
	must(s.DeleteChannel(ctx, gone.ARN))

	// Stream sessions: one ended with a measured ingest and health events, a refused
	// publish's, and a live stream marked stopping.
	ev := func(name, code string, at time.Time) playkey.StreamEvent {
		return playkey.StreamEvent{Name: name, Type: playkey.EventTypeStateChange, Code: code, Time: at}
	}
	st1 := storetest.NewStream(ch1.ARN)
	st1.StartTime = now.Add(-time.Hour)
	must(s.StartStream(ctx, st1, ev(playkey.EventSessionCreated, "", st1.StartTime), ev(playkey.EventStreamStart, "", st1.StartTime)))
	_, err := s.UpdateStream(ctx, ch1.ARN, st1.ID, playkey.StreamUpdate{Health: playkey.HealthStarving, Ingest: &playkey.IngestConfiguration{
		Video: []playkey.VideoConfiguration{{Track: "Track0", Codec: "avc1.42C01E", Profile: "Baseline", Level: "3.0", TargetBitrate: 600_000, TargetFramerate: 30, Width: 640, Height: 360}},
		Audio: []playkey.AudioConfiguration{{Track: "Track0", Codec: "mp4a.40.2", TargetBitrate: 64_000, SampleRate: 44100, Channels: 1}},
	}, Events: []playkey.StreamEvent{{Name: playkey.EventStarvationStart, Type: playkey.EventTypeHealthChange, Time: now.Add(-50 * time.Minute)}}})
	must(err)
	must(s.EndStream(ctx, ch1.ARN, st1.ID, now.Add(-30*time.Minute), ev(playkey.EventStreamFailure, "IngestTimeout", now.Add(-30*time.Minute)),
		ev(playkey.EventSessionEnded, "", now.Add(-30*time.Minute))))
	must(s.RecordRefusedStream(ctx, ch2.ARN, &playkey.StreamSession{ID: playkey.NewStreamID(), StartTime: now, EndTime: now, Events: []playkey.StreamEvent{
		ev(playkey.EventSessionCreated, "", now), ev(playkey.EventStreamFailure, "UnsupportedInput", now), ev(playkey.EventSessionEnded, "", now)}}))
	st3 := storetest.NewStream(ch3.ARN)
	must(s.StartStream(ctx, st3, ev(playkey.EventSessionCreated, "", now)))
	_, err = s.StopStream(ctx, ch3.ARN)
	must(err)

	uuids = map[playkey.Scope][]string{}
	for _, sc := range []playkey.Scope{migScopeA, migScopeA, migScopeC} {
		u := playkey.RandomString(20)
		fresh, err := s.SingleUse(ctx, sc, u, now.Add(5*time.Minute), true)
		must(err)
		if !fresh {
			t.Fatal("a new single-use uuid was already used")
		}
		uuids[sc] = append(uuids[sc], u)
	}

	secrets = []string{"pagination", "other"}
	for _, name := range secrets {
		_, err := s.Secret(ctx, name)
		must(err)
	}
	return uuids, secrets
}

// view reads everything in s through the Store interface: lists, gets and tags of every
// resource in the test's scopes, revocations, single-use records and secrets.
func view(t *testing.T, s playkey.Store, uuids map[playkey.Scope][]string, secrets []string) map[string]string {
	t.Helper()
	ctx := context.Background()
	v := map[string]string{}
	put := func(key string, val any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		v[key] = fmt.Sprintf("%+v", val)
	}
	tags := func(arn playkey.ARN) {
		t.Helper()
		tg, err := s.Tags(ctx, arn)
		put("tags "+arn.String(), tg, err)
	}
	for _, sc := range []playkey.Scope{migScopeA, migScopeB, migScopeC, migEmpty} {
		kps, err := s.KeyPairs(ctx, sc, playkey.Page{})
		put(fmt.Sprint("key pairs in ", sc), len(kps), err)
		for _, kp := range kps {
			put("listed "+kp.ARN.String(), *kp, nil)
			got, err := s.KeyPair(ctx, kp.ARN)
			put("got "+kp.ARN.String(), got, err)
			tags(kp.ARN)
		}
		ps, err := s.PlaybackRestrictionPolicies(ctx, sc, playkey.Page{})
		put(fmt.Sprint("policies in ", sc), len(ps), err)
		for _, p := range ps {
			put("listed "+p.ARN.String(), *p, nil)
			got, err := s.PlaybackRestrictionPolicy(ctx, p.ARN)
			put("got "+p.ARN.String(), got, err)
			tags(p.ARN)
			users, err := s.Channels(ctx, sc, playkey.ChannelFilter{PlaybackRestrictionPolicy: p.ARN}, playkey.Page{})
			put("users of "+p.ARN.String(), len(users), err)
		}
		chs, err := s.Channels(ctx, sc, playkey.ChannelFilter{}, playkey.Page{})
		put(fmt.Sprint("channels in ", sc), len(chs), err)
		for _, ch := range chs {
			put("listed "+ch.ARN.String(), *ch, nil)
			got, err := s.Channel(ctx, ch.ARN)
			put("got "+ch.ARN.String(), got, err)
			tags(ch.ARN)
			sessions, err := s.StreamSessions(ctx, ch.ARN, playkey.Page{})
			put("sessions of "+ch.ARN.String(), len(sessions), err)
			for _, ss := range sessions {
				got, err := s.StreamSession(ctx, ch.ARN, ss.ID)
				for i, ss := range []*playkey.StreamSession{ss, got} {
					if ss != nil {
						c := *ss
						c.Channel = nil // printed apart: a pointer prints as its address
						put(fmt.Sprint("session ", i, " ", ss.ID), fmt.Sprintf("%+v %+v", c, *ss.Channel), err)
					}
				}
			}
			if st, err := s.LiveStream(ctx, ch.ARN); err == nil {
				put("live stream of "+ch.ARN.String(), *st, nil)
			} else {
				put("live stream of "+ch.ARN.String(), playkey.ErrorCode(err), nil)
			}
			keys, err := s.StreamKeys(ctx, ch.ARN, playkey.Page{})
			put("keys of "+ch.ARN.String(), len(keys), err)
			for _, k := range keys {
				put("listed "+k.ARN.String(), *k, nil)
				got, err := s.StreamKey(ctx, k.ARN)
				put("got "+k.ARN.String(), got, err)
				tags(k.ARN)
			}
		}
	}
	revs, err := s.RevocationsSince(ctx, 0, 0)
	put("revocations", len(revs), err)
	for _, r := range revs {
		put(fmt.Sprint("revocation ", r.Channel, " ", r.ViewerID), *r, nil)
		max, ok, err := s.ViewerRevocation(ctx, r.Channel, r.ViewerID)
		put(fmt.Sprint("revoked ", r.Channel, " ", r.ViewerID), fmt.Sprint(max, ok), err)
	}
	for sc, us := range uuids {
		for _, u := range us {
			unused, err := s.SingleUse(ctx, sc, u, time.Now().Add(time.Minute), false)
			put(fmt.Sprint("single use ", sc, " ", u), unused, err)
		}
		unused, err := s.SingleUse(ctx, sc, "never-used", time.Now().Add(time.Minute), false)
		put(fmt.Sprint("single use ", sc, " never-used"), unused, err)
	}
	for _, name := range secrets {
		val, err := s.Secret(ctx, name)
		put("secret "+name, fmt.Sprintf("%x", val), err)
	}
	return v
}

func sameView(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			t.Errorf("%s: %s\n got %s\nwant %s", what, k, got[k], want[k])
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: %s only in the copy", what, k)
		}
	}
}

func migrate(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := runMigrate(context.Background(), &stdio{in: strings.NewReader(""), out: &out, err: &errOut}, args)
	return out.String() + errOut.String(), err
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, url := pgtest.Schema(t)
	dir := t.TempDir()
	src, err := sqlite.Open(ctx, filepath.Join(dir, "playkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	uuids, secrets := fill(t, src)
	before := view(t, src, uuids, secrets)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}

	out, err := migrate(t, "--from", dir, "--to", url)
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Copied") || !strings.Contains(out, "6 playback key pairs") || !strings.Contains(out, "3 stream sessions") {
		t.Errorf("output:\n%s", out)
	}
	t.Logf("output:\n%s", out)

	dst, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	after := view(t, dst, uuids, secrets)
	sameView(t, "after migrate", after, before)
	if len(before) < 60 {
		t.Errorf("only %d things compared; the fixture is thinner than it should be", len(before))
	}

	// The source's own view has not changed either.
	src, err = sqlite.Open(ctx, filepath.Join(dir, "playkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sameView(t, "the source after migrate", view(t, src, uuids, secrets), before)

	// Again: nothing to do, and it says so.
	out, err = migrate(t, "--from", dir, "--to", url)
	if err != nil || !strings.Contains(out, "nothing copied") {
		t.Errorf("second migrate: %v\n%s", err, out)
	}
	sameView(t, "after the second migrate", view(t, dst, uuids, secrets), before)

	// The revocation counter continues where the source's stopped, at 6 (erin's, kept
	// after her channel was deleted), so that pollers that saw 6 see what comes next.
	srcRevs, err := src.RevocationsSince(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	chs, err := dst.Channels(ctx, migScopeA, playkey.ChannelFilter{}, playkey.Page{Limit: 1})
	if err != nil || len(chs) == 0 {
		t.Fatal(chs, err)
	}
	if err := dst.RevokeViewerSessions(ctx, chs[0].ARN, "new-viewer", 1); err != nil {
		t.Fatal(err)
	}
	newRevs, err := dst.RevocationsSince(ctx, srcRevs[len(srcRevs)-1].Seq, 0)
	if err != nil {
		t.Fatal(err)
	}
	if last := srcRevs[len(srcRevs)-1]; last.ViewerID != "erin" || last.Seq != 6 {
		t.Fatalf("the source's last revocation is %+v; the fixture changed", last)
	}
	if len(newRevs) != 1 || newRevs[0].Seq != 7 {
		t.Errorf("after the copy, a new revocation got %v; want one with Seq 7", newRevs)
	}

	// A target that holds anything else is refused and left as it was.
	changed := view(t, dst, uuids, secrets)
	out, err = migrate(t, "--from", dir, "--to", url)
	if err == nil || !strings.Contains(err.Error(), "not exactly") || !strings.Contains(err.Error(), "viewer revocation") {
		t.Errorf("migrate into a changed target: %v\n%s", err, out)
	}
	sameView(t, "the refused target", view(t, dst, uuids, secrets), changed)
}

func TestMigrateRefusesTargetWithOtherData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, url := pgtest.Schema(t)
	dst, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	// A node started on the target first: it made its own pagination secret.
	theirs, err := dst.Secret(ctx, "pagination")
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	src, err := sqlite.Open(ctx, filepath.Join(dir, "playkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	fill(t, src)
	src.Close()

	out, err := migrate(t, "--from", dir, "--to", url)
	if err == nil || !strings.Contains(err.Error(), "secret pagination: value differs") {
		t.Fatalf("migrate into a target with another secret: %v\n%s", err, out)
	}
	// The message names what differs, never a value.
	if strings.Contains(err.Error(), fmt.Sprintf("%x", theirs)) {
		t.Errorf("the error shows the secret: %v", err)
	}
	snap, err := dst.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.KeyPairs)+len(snap.Channels) != 0 || len(snap.Secrets) != 1 {
		t.Errorf("the refused target changed: %d key pairs, %d channels, %d secrets", len(snap.KeyPairs), len(snap.Channels), len(snap.Secrets))
	}
}

func TestMigrateUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "needs --from DIR and --to URL"},
		{[]string{"--from", dir}, 2, "needs --from DIR and --to URL"},
		{[]string{"--from", dir, "--to", "mysql://x/y"}, 2, "postgres://"},
		{[]string{"--from", dir, "--to", "postgres://x/y", "extra"}, 2, "no arguments"},
		{[]string{"--from", filepath.Join(dir, "missing"), "--to", "postgres://127.0.0.1:1/x"}, 1, "no embedded database there"},
	} {
		_, err := migrate(t, c.args...)
		var ee *exitError
		code := 1
		if errors.As(err, &ee) {
			code = ee.code
		}
		if err == nil || code != c.code || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("migrate %q: %v (status %d), want status %d and %q", c.args, err, code, c.code, c.msg)
		}
	}
	// Nothing was created where the database was missing.
	if _, err := sqlite.Open(context.Background(), filepath.Join(dir, "missing", "playkey.db")); err == nil {
		t.Error("migrate created the missing data directory")
	}
}
