package storetest

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/playkey/playkey"
)

var keyPairTests = []test{
	{"CreateAndGet", func(t *testing.T, s playkey.Store) {
		kp := NewKeyPair(scopeA)
		kp.Tags = map[string]string{"env": "prod", "team": "video"}
		create(t, s, kp)
		sameKeyPair(t, "KeyPair", get(t, s, kp.ARN), kp)
	}},

	{"EmptyNameAndNoTags", func(t *testing.T, s playkey.Store) {
		kp := NewKeyPair(scopeA)
		kp.Name = ""
		kp.Tags = nil
		create(t, s, kp)
		got := get(t, s, kp.ARN)
		sameKeyPair(t, "KeyPair", got, kp)
		if len(got.Tags) != 0 {
			t.Errorf("Tags = %v, want none", got.Tags)
		}
		if tags := tagsOf(t, s, kp.ARN); len(tags) != 0 {
			t.Errorf("Tags() = %v, want an empty map", tags)
		}
	}},

	{"LongName", func(t *testing.T, s playkey.Store) {
		kp := NewKeyPair(scopeA)
		kp.Name = strings.Repeat("a-_Z9", 25) + "xyz" // 128 characters
		create(t, s, kp)
		sameKeyPair(t, "KeyPair", get(t, s, kp.ARN), kp)
	}},

	{"PublicKeyDERByteExact", func(t *testing.T, s playkey.Store) {
		der := make([]byte, 0, 512)
		for i := range 256 {
			der = append(der, byte(i))
		}
		der = append(der, 0, 0, 0xff, 0xfe, 0xc3, 0x28) // trailing zeros, invalid UTF-8
		der = append(der, FakeDER()...)
		kp := NewKeyPairWithDER(scopeA, der)
		create(t, s, kp)
		got := get(t, s, kp.ARN)
		if !bytes.Equal(got.PublicKeyDER, der) {
			t.Fatalf("PublicKeyDER changed:\n got %x\nwant %x", got.PublicKeyDER, der)
		}
		listed := listAll(t, s, scopeA)
		if len(listed) != 1 || !bytes.Equal(listed[0].PublicKeyDER, der) {
			t.Fatalf("KeyPairs did not return the key material byte-exact")
		}
	}},

	{"CreatedAtPreserved", func(t *testing.T, s playkey.Store) {
		times := []time.Time{
			time.Date(2021, 3, 4, 5, 6, 7, 891_234_567, time.UTC),
			time.Date(2030, 12, 31, 23, 59, 59, 999_000_000, time.FixedZone("x", -7*3600)),
			time.Now(),
		}
		for _, ts := range times {
			kp := NewKeyPair(scopeOtherRegion)
			kp.CreatedAt = ts
			create(t, s, kp)
			got := get(t, s, kp.ARN)
			if d := got.CreatedAt.Sub(ts).Abs(); d >= time.Millisecond {
				t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, ts)
			}
		}
	}},

	{"NoAliasing", func(t *testing.T, s playkey.Store) {
		// A store keeps its own copy: callers may reuse what they passed or got back.
		kp := NewKeyPair(scopeA)
		kp.Tags = map[string]string{"a": "1"}
		want := *kp
		want.Tags = map[string]string{"a": "1"}
		want.PublicKeyDER = bytes.Clone(kp.PublicKeyDER)
		create(t, s, kp)
		kp.Tags["a"] = "changed"
		kp.PublicKeyDER[10] ^= 0xff

		got := get(t, s, want.ARN)
		sameKeyPair(t, "KeyPair after changing the input", got, &want)
		got.Tags["a"] = "changed"
		got.PublicKeyDER[10] ^= 0xff
		tags := tagsOf(t, s, want.ARN)
		tags["b"] = "2"
		sameKeyPair(t, "KeyPair after changing a result", get(t, s, want.ARN), &want)
	}},

	{"Missing", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		arn := KeyPairARN(scopeA, playkey.NewID())
		wantNotFound(t, s, arn)
		wantCode(t, s.DeleteKeyPair(ctx, arn), playkey.ErrResourceNotFound, "DeleteKeyPair")
		create(t, s, NewKeyPair(scopeA)) // a non-empty scope changes nothing
		wantNotFound(t, s, arn)
		wantCode(t, s.DeleteKeyPair(ctx, arn), playkey.ErrResourceNotFound, "DeleteKeyPair")
	}},

	{"OtherScopeNotFound", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		kp := NewKeyPair(scopeA)
		kp.Tags = map[string]string{"k": "v"}
		create(t, s, kp)
		for _, scope := range []playkey.Scope{scopeOtherAccount, scopeOtherRegion} {
			arn := KeyPairARN(scope, kp.ARN.ID)
			wantNotFound(t, s, arn)
			wantCode(t, s.DeleteKeyPair(ctx, arn), playkey.ErrResourceNotFound, "DeleteKeyPair "+arn.String())
			_, err := s.Tags(ctx, arn)
			wantCode(t, err, playkey.ErrResourceNotFound, "Tags "+arn.String())
			wantCode(t, s.TagResource(ctx, arn, map[string]string{"x": "y"}), playkey.ErrResourceNotFound, "TagResource "+arn.String())
			wantCode(t, s.UntagResource(ctx, arn, []string{"k"}), playkey.ErrResourceNotFound, "UntagResource "+arn.String())
			if got := list(t, s, scope, playkey.Page{Limit: 100}); len(got) != 0 {
				t.Errorf("KeyPairs(%v) = %v, want none", scope, ids(got))
			}
		}
		sameKeyPair(t, "the key pair after other scopes' calls", get(t, s, kp.ARN), kp)
	}},

	{"OtherTypeNotFound", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		kp := create(t, s, NewKeyPair(scopeA))
		for _, typ := range []string{"channel", "stream-key", "no-such-type"} {
			arn := kp.ARN
			arn.Type = typ
			_, err := s.KeyPair(ctx, arn)
			wantCode(t, err, playkey.ErrResourceNotFound, "KeyPair "+arn.String())
			wantCode(t, s.DeleteKeyPair(ctx, arn), playkey.ErrResourceNotFound, "DeleteKeyPair "+arn.String())
			_, err = s.Tags(ctx, arn)
			wantCode(t, err, playkey.ErrResourceNotFound, "Tags "+arn.String())
			wantCode(t, s.TagResource(ctx, arn, map[string]string{"x": "y"}), playkey.ErrResourceNotFound, "TagResource "+arn.String())
			wantCode(t, s.UntagResource(ctx, arn, []string{"x"}), playkey.ErrResourceNotFound, "UntagResource "+arn.String())
		}
		get(t, s, kp.ARN)
	}},

	{"Delete", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		kps := createN(t, s, scopeA, 2)
		if err := s.DeleteKeyPair(ctx, kps[0].ARN); err != nil {
			t.Fatalf("DeleteKeyPair: %v", err)
		}
		wantNotFound(t, s, kps[0].ARN)
		wantCode(t, s.DeleteKeyPair(ctx, kps[0].ARN), playkey.ErrResourceNotFound, "second DeleteKeyPair")
		_, err := s.Tags(ctx, kps[0].ARN)
		wantCode(t, err, playkey.ErrResourceNotFound, "Tags after delete")
		wantCode(t, s.TagResource(ctx, kps[0].ARN, map[string]string{"a": "b"}), playkey.ErrResourceNotFound, "TagResource after delete")
		if got := ids(listAll(t, s, scopeA)); !slices.Equal(got, []string{kps[1].ARN.ID}) {
			t.Errorf("KeyPairs after delete = %v, want [%s]", got, kps[1].ARN.ID)
		}
		sameKeyPair(t, "the other key pair", get(t, s, kps[1].ARN), kps[1])
	}},

	{"DuplicateID", func(t *testing.T, s playkey.Store) {
		kp := create(t, s, NewKeyPair(scopeA))
		again := NewKeyPair(scopeA)
		again.ARN = kp.ARN
		if err := s.CreateKeyPair(context.Background(), again); err == nil {
			t.Fatal("a second key pair with the same ARN was accepted")
		}
		sameKeyPair(t, "the first key pair", get(t, s, kp.ARN), kp)
	}},
}

var listTests = []test{
	{"Empty", func(t *testing.T, s playkey.Store) {
		if got := listAll(t, s, scopeA); len(got) != 0 {
			t.Errorf("KeyPairs of an empty store = %v", ids(got))
		}
		if got := list(t, s, scopeA, playkey.Page{After: "m", Limit: 1}); len(got) != 0 {
			t.Errorf("KeyPairs of an empty store = %v", ids(got))
		}
	}},

	{"FullKeyPairs", func(t *testing.T, s playkey.Store) {
		kp := NewKeyPair(scopeA)
		kp.Tags = map[string]string{"a": "1", "b": ""}
		create(t, s, kp)
		got := listAll(t, s, scopeA)
		if len(got) != 1 {
			t.Fatalf("KeyPairs = %v, want one", ids(got))
		}
		sameKeyPair(t, "listed key pair", got[0], kp)
	}},

	{"IsolatedPerScope", func(t *testing.T, s playkey.Store) {
		want := map[playkey.Scope][]string{}
		for scope, n := range map[playkey.Scope]int{scopeA: 2, scopeOtherAccount: 1, scopeOtherRegion: 3} {
			for _, kp := range createN(t, s, scope, n) {
				want[scope] = append(want[scope], kp.ARN.ID)
			}
			slices.Sort(want[scope])
		}
		for scope, w := range want {
			got := listAll(t, s, scope)
			if !slices.Equal(ids(got), w) {
				t.Errorf("KeyPairs(%v) = %v, want %v", scope, ids(got), w)
			}
			for _, kp := range got {
				if kp.ARN.Scope() != scope {
					t.Errorf("KeyPairs(%v) returned %s", scope, kp.ARN)
				}
			}
		}
		if got := listAll(t, s, playkey.Scope{Account: "333333333333", Region: "us-west-2"}); len(got) != 0 {
			t.Errorf("KeyPairs of an unused scope = %v", ids(got))
		}
	}},

	{"OrderAndPaging", func(t *testing.T, s playkey.Store) {
		// Ids sort bytewise: digits, then upper case, then lower case. A store that sorts by
		// a locale's collation ("a" before "B") gets this wrong, and page tokens would skip
		// or repeat items.
		sfx := playkey.NewID()[:8]
		want := []string{"0" + sfx, "B" + sfx, "a" + sfx}
		for _, i := range rand.Perm(3) {
			kp := NewKeyPair(scopeA)
			kp.ARN.ID = want[i]
			create(t, s, kp)
		}
		createN(t, s, scopeOtherRegion, 3) // noise in another scope

		if got := ids(listAll(t, s, scopeA)); !slices.Equal(got, want) {
			t.Fatalf("KeyPairs = %v, want %v", got, want)
		}
		for limit := 1; limit <= 4; limit++ {
			var got []string
			after := ""
			for pages := 0; ; pages++ {
				if pages > 4 {
					t.Fatalf("limit %d: paging does not end: %v", limit, got)
				}
				page := list(t, s, scopeA, playkey.Page{After: after, Limit: limit})
				if len(page) > limit {
					t.Fatalf("limit %d: page of %d items %v", limit, len(page), ids(page))
				}
				if len(page) == 0 {
					break
				}
				got = append(got, ids(page)...)
				after = page[len(page)-1].ARN.ID
			}
			if !slices.Equal(got, want) {
				t.Errorf("limit %d: pages gave %v, want %v", limit, got, want)
			}
		}
		for _, c := range []struct {
			after string
			want  []string
		}{
			{"", want},
			{want[0], want[1:]},
			{want[2], nil},
			{"1", want[1:]}, // between "0..." and "B..."
			{"Z", want[2:]}, // between "B..." and "a..."
			{"b", nil},      // after everything
			{"-", want},     // before everything
		} {
			got := ids(list(t, s, scopeA, playkey.Page{After: c.after, Limit: 100}))
			if !slices.Equal(got, c.want) {
				t.Errorf("After %q: %v, want %v", c.after, got, c.want)
			}
		}
	}},
}

var quotaTests = []test{
	{"PerScope", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		kps := createN(t, s, scopeA, playkey.MaxKeyPairs)
		extra := NewKeyPair(scopeA)
		wantCode(t, s.CreateKeyPair(ctx, extra), playkey.ErrServiceQuotaExceeded, "create beyond the quota")
		wantNotFound(t, s, extra.ARN)
		if got := listAll(t, s, scopeA); len(got) != playkey.MaxKeyPairs {
			t.Errorf("%d key pairs stored, want %d", len(got), playkey.MaxKeyPairs)
		}
		// Other accounts and regions have their own quota.
		createN(t, s, scopeOtherAccount, playkey.MaxKeyPairs)
		createN(t, s, scopeOtherRegion, playkey.MaxKeyPairs)
		wantCode(t, s.CreateKeyPair(ctx, NewKeyPair(scopeOtherRegion)), playkey.ErrServiceQuotaExceeded, "create beyond the quota")

		// Deleting frees a slot, once.
		if err := s.DeleteKeyPair(ctx, kps[1].ARN); err != nil {
			t.Fatal(err)
		}
		create(t, s, extra)
		wantCode(t, s.CreateKeyPair(ctx, NewKeyPair(scopeA)), playkey.ErrServiceQuotaExceeded, "create beyond the quota after refilling")
	}},
}

var fingerprintTests = []test{
	{"DuplicateInScope", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		kp := create(t, s, NewKeyPair(scopeA))
		dup := NewKeyPairWithDER(scopeA, kp.PublicKeyDER)
		wantCode(t, s.CreateKeyPair(ctx, dup), playkey.ErrConflict, "same key twice")
		wantNotFound(t, s, dup.ARN)

		// Another account or region may import the same key.
		for _, scope := range []playkey.Scope{scopeOtherAccount, scopeOtherRegion} {
			create(t, s, NewKeyPairWithDER(scope, kp.PublicKeyDER))
		}

		// Once the first is deleted, the key may be imported again.
		if err := s.DeleteKeyPair(ctx, kp.ARN); err != nil {
			t.Fatal(err)
		}
		create(t, s, dup)
		sameKeyPair(t, "re-imported key pair", get(t, s, dup.ARN), dup)
	}},
	{"DuplicateWinsOverQuota", func(t *testing.T, s playkey.Store) {
		// With the scope full, importing one of its keys again says "you have this key"
		// rather than "the scope is full": the more useful of the two truths.
		first := create(t, s, NewKeyPair(scopeA))
		for range playkey.MaxKeyPairs - 1 {
			create(t, s, NewKeyPair(scopeA))
		}
		dup := NewKeyPairWithDER(scopeA, first.PublicKeyDER)
		wantCode(t, s.CreateKeyPair(context.Background(), dup), playkey.ErrConflict, "same key twice in a full scope")
	}},
}
