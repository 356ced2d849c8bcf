package storetest

import (
	"context"
	"testing"

	"github.com/playkey/playkey"
)

func revoke(t *testing.T, s playkey.Store, channel playkey.ARN, viewer string, upTo int64) {
	t.Helper()
	if err := s.RevokeViewerSessions(context.Background(), channel, viewer, upTo); err != nil {
		t.Fatalf("RevokeViewerSessions(%s, %q, %d): %v", channel, viewer, upTo, err)
	}
}

func wantRevoked(t *testing.T, s playkey.Store, channel playkey.ARN, viewer string, want int64, wantOK bool) {
	t.Helper()
	v, ok, err := s.ViewerRevocation(context.Background(), channel, viewer)
	if err != nil {
		t.Fatalf("ViewerRevocation(%s, %q): %v", channel, viewer, err)
	}
	if ok != wantOK || v != want {
		t.Errorf("ViewerRevocation(%s, %q) = %d, %v; want %d, %v", channel, viewer, v, ok, want, wantOK)
	}
}

func since(t *testing.T, s playkey.Store, after int64, limit int) []*playkey.Revocation {
	t.Helper()
	rs, err := s.RevocationsSince(context.Background(), after, limit)
	if err != nil {
		t.Fatalf("RevocationsSince(%d, %d): %v", after, limit, err)
	}
	if rs == nil {
		t.Fatal("RevocationsSince returned nil, want an empty slice")
	}
	return rs
}

var revocationTests = []test{
	{"OnlyRises", func(t *testing.T, s playkey.Store) {
		ch := NewChannel(scopeA)
		createChannel(t, s, ch)
		wantRevoked(t, s, ch.ARN, "v1", 0, false)
		revoke(t, s, ch.ARN, "v1", 0) // the default: sessions without a version
		wantRevoked(t, s, ch.ARN, "v1", 0, true)
		revoke(t, s, ch.ARN, "v1", 7)
		wantRevoked(t, s, ch.ARN, "v1", 7, true)
		revoke(t, s, ch.ARN, "v1", 3) // later but lower: no effect
		wantRevoked(t, s, ch.ARN, "v1", 7, true)
		revoke(t, s, ch.ARN, "v1", playkey.MaxViewerSessionVersion)
		wantRevoked(t, s, ch.ARN, "v1", playkey.MaxViewerSessionVersion, true)

		// Per viewer and per channel; viewer ids are compared exactly.
		wantRevoked(t, s, ch.ARN, "V1", 0, false)
		wantRevoked(t, s, ch.ARN, "v2", 0, false)
		other := NewChannel(scopeA)
		createChannel(t, s, other)
		wantRevoked(t, s, other.ARN, "v1", 0, false)
		revoke(t, s, other.ARN, "v1", 1)
		wantRevoked(t, s, other.ARN, "v1", 1, true)
		wantRevoked(t, s, ch.ARN, "v1", playkey.MaxViewerSessionVersion, true)
	}},

	{"ChannelMustExist", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		ch := NewChannel(scopeA)
		createChannel(t, s, ch)
		for _, arn := range []playkey.ARN{
			ChannelARN(scopeA, playkey.NewID()),
			ChannelARN(scopeOtherAccount, ch.ARN.ID),
			ChannelARN(scopeOtherRegion, ch.ARN.ID),
			{Region: ch.ARN.Region, Account: ch.ARN.Account, Type: playkey.TypeStreamKey, ID: ch.ARN.ID},
		} {
			wantCode(t, s.RevokeViewerSessions(ctx, arn, "v", 1), playkey.ErrResourceNotFound, "RevokeViewerSessions("+arn.String()+")")
			wantRevoked(t, s, arn, "v", 0, false)
		}
		if rs := since(t, s, 0, 0); len(rs) != 0 {
			t.Errorf("refused revocations were recorded: %v", rs)
		}
	}},

	{"Since", func(t *testing.T, s playkey.Store) {
		a, b := NewChannel(scopeA), NewChannel(scopeOtherRegion)
		createChannel(t, s, a)
		createChannel(t, s, b)
		if rs := since(t, s, 0, 10); len(rs) != 0 {
			t.Fatalf("RevocationsSince on a new store = %v", rs)
		}
		revoke(t, s, a.ARN, "x", 1)
		revoke(t, s, b.ARN, "x", 5)
		revoke(t, s, a.ARN, "y", 2)
		all := since(t, s, 0, 0)
		if len(all) != 3 {
			t.Fatalf("RevocationsSince(0) = %d revocations, want 3", len(all))
		}
		for i, r := range all {
			if i > 0 && r.Seq <= all[i-1].Seq {
				t.Errorf("Seq not increasing: %d after %d", r.Seq, all[i-1].Seq)
			}
			if r.UpdatedAt.IsZero() {
				t.Errorf("revocation %d has no UpdatedAt", i)
			}
		}
		if all[0].Channel != a.ARN || all[0].ViewerID != "x" || all[0].MaxVersion != 1 ||
			all[1].Channel != b.ARN || all[1].MaxVersion != 5 || all[2].ViewerID != "y" {
			t.Errorf("RevocationsSince = %+v %+v %+v", all[0], all[1], all[2])
		}
		cursor := all[2].Seq
		if rs := since(t, s, cursor, 10); len(rs) != 0 {
			t.Fatalf("nothing changed, yet RevocationsSince(cursor) = %v", rs)
		}

		// A lower bound changes nothing; a raise moves the row after the cursor.
		revoke(t, s, a.ARN, "x", 0)
		if rs := since(t, s, cursor, 10); len(rs) != 0 {
			t.Errorf("a no-op revocation was reported: %+v", rs[0])
		}
		revoke(t, s, a.ARN, "x", 9)
		rs := since(t, s, cursor, 10)
		if len(rs) != 1 || rs[0].Channel != a.ARN || rs[0].ViewerID != "x" || rs[0].MaxVersion != 9 || rs[0].Seq <= cursor {
			t.Fatalf("after a raise: %+v", rs)
		}
		if rs := since(t, s, 0, 0); len(rs) != 3 {
			t.Errorf("a raise duplicated a row: %d rows", len(rs))
		}

		// Paging by limit.
		var got []int64
		after := int64(0)
		for range 5 {
			page := since(t, s, after, 1)
			if len(page) == 0 {
				break
			}
			got = append(got, page[0].MaxVersion)
			after = page[0].Seq
		}
		if len(got) != 3 || got[2] != 9 {
			t.Errorf("paging one at a time gave versions %v, want 3 rows ending with 9", got)
		}

		// Deleting a channel leaves its revocations in the feed, for gates started later;
		// Seqs are never reused.
		maxSeq := rs[0].Seq
		if err := s.DeleteChannel(context.Background(), a.ARN); err != nil {
			t.Fatal(err)
		}
		if left := since(t, s, 0, 0); len(left) != 3 {
			t.Fatalf("after deleting a channel: %d revocations, want all 3", len(left))
		}
		revoke(t, s, b.ARN, "z", 1)
		if rs := since(t, s, maxSeq, 0); len(rs) != 1 || rs[0].Seq <= maxSeq {
			t.Errorf("a Seq was reused after a delete: %+v", rs)
		}
	}},
}
