package sqlite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/storetest"
)

// TestExport: Export holds every resource as the Store interface returns it, and what
// only a copy needs (the revocation counter, single-use records, secrets).
func TestExport(t *testing.T) {
	ctx := context.Background()
	s := open(t, tempPath(t))
	other := playkey.Scope{Account: "210987654321", Region: "eu-west-1"}
	want := &playkey.Snapshot{Secrets: map[string][]byte{}}
	for _, sc := range []playkey.Scope{scope, other} {
		kp := storetest.NewKeyPair(sc)
		kp.Tags = map[string]string{"k": "v"}
		if err := s.CreateKeyPair(ctx, kp); err != nil {
			t.Fatal(err)
		}
		p := storetest.NewPolicy(sc)
		if err := s.CreatePlaybackRestrictionPolicy(ctx, p); err != nil {
			t.Fatal(err)
		}
		ch := storetest.NewChannel(sc)
		ch.PlaybackRestrictionPolicy = p.ARN
		if err := s.CreateChannel(ctx, ch, playkey.NewStreamKey(ch.ARN, time.Now())); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeViewerSessions(ctx, ch.ARN, "v", 2); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SingleUse(ctx, sc, "u-"+sc.Account, time.Now().Add(time.Hour), true); err != nil {
			t.Fatal(err)
		}
		kps, _ := s.KeyPairs(ctx, sc, playkey.Page{})
		ps, _ := s.PlaybackRestrictionPolicies(ctx, sc, playkey.Page{})
		chs, _ := s.Channels(ctx, sc, playkey.ChannelFilter{}, playkey.Page{})
		keys, err := s.StreamKeys(ctx, ch.ARN, playkey.Page{})
		if err != nil {
			t.Fatal(err)
		}
		want.KeyPairs = append(want.KeyPairs, kps...)
		want.Policies = append(want.Policies, ps...)
		want.Channels = append(want.Channels, chs...)
		want.StreamKeys = append(want.StreamKeys, keys...)
		want.SingleUses = append(want.SingleUses, playkey.SingleUseRecord{Scope: sc, UUID: "u-" + sc.Account})
	}
	// A deleted channel's revocation is kept (ids are never reused), and exported with the rest.
	gone := storetest.NewChannel(scope)
	if err := s.CreateChannel(ctx, gone, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeViewerSessions(ctx, gone.ARN, "v", 1); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteChannel(ctx, gone.ARN); err != nil {
		t.Fatal(err)
	}
	var err error
	if want.Revocations, err = s.RevocationsSince(ctx, 0, 0); err != nil {
		t.Fatal(err)
	}
	want.LastRevocationSeq = 3
	if want.Secrets["gate-session"], err = s.Secret(ctx, "gate-session"); err != nil {
		t.Fatal(err)
	}

	got, err := s.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The single-use expiry is the store's own; take it from the export.
	for i := range want.SingleUses {
		for _, u := range got.SingleUses {
			if u.UUID == want.SingleUses[i].UUID {
				want.SingleUses[i].Expires = u.Expires
			}
		}
	}
	if d := want.Diff(got, 0); len(d) > 0 {
		t.Errorf("export differs from the store (first: the store, second: the export):\n%s", d)
	}
	if got := fmt.Sprint(got.Count()); got != "[{playback key pairs 2} {playback restriction policies 2} {channels 2} {stream keys 2} {viewer revocations 3} {single-use token records 2} {secrets 1} {stream sessions 0}]" {
		t.Errorf("counts: %s", got)
	}
}
