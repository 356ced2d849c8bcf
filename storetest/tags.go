package storetest

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"github.com/playkey/playkey"
)

var tagTests = []test{
	{"NewResource", func(t *testing.T, s playkey.Store) {
		kp := create(t, s, NewKeyPair(scopeA))
		if tags := tagsOf(t, s, kp.ARN); len(tags) != 0 {
			t.Errorf("Tags of a new key pair = %v, want empty", tags)
		}
		kp2 := NewKeyPair(scopeA)
		kp2.Tags = map[string]string{"a": "1"}
		create(t, s, kp2)
		if tags := tagsOf(t, s, kp2.ARN); !maps.Equal(tags, kp2.Tags) {
			t.Errorf("Tags = %v, want %v", tags, kp2.Tags)
		}
	}},

	{"MergeAndOverwrite", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		kp := NewKeyPair(scopeA)
		kp.Tags = map[string]string{"a": "1", "b": "2"}
		create(t, s, kp)
		if err := s.TagResource(ctx, kp.ARN, map[string]string{"b": "3", "c": "4"}); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"a": "1", "b": "3", "c": "4"}
		checkTags(t, s, kp.ARN, want)
		if err := s.TagResource(ctx, kp.ARN, map[string]string{}); err != nil {
			t.Fatalf("TagResource with no tags: %v", err)
		}
		checkTags(t, s, kp.ARN, want)
	}},

	{"Untag", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		kp := NewKeyPair(scopeA)
		kp.Tags = map[string]string{"a": "1", "b": "2", "c": "3"}
		create(t, s, kp)
		if err := s.UntagResource(ctx, kp.ARN, []string{"a", "absent"}); err != nil {
			t.Fatal(err)
		}
		checkTags(t, s, kp.ARN, map[string]string{"b": "2", "c": "3"})
		if err := s.UntagResource(ctx, kp.ARN, nil); err != nil {
			t.Fatalf("UntagResource with no keys: %v", err)
		}
		checkTags(t, s, kp.ARN, map[string]string{"b": "2", "c": "3"})
		if err := s.UntagResource(ctx, kp.ARN, []string{"b", "c", "b"}); err != nil {
			t.Fatal(err)
		}
		checkTags(t, s, kp.ARN, map[string]string{})
	}},

	{"Limit", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		kp := NewKeyPair(scopeA)
		kp.Tags = numberedTags(0, 40)
		create(t, s, kp)
		want := numberedTags(0, playkey.MaxTags)
		if err := s.TagResource(ctx, kp.ARN, numberedTags(30, playkey.MaxTags)); err != nil {
			t.Fatalf("TagResource up to exactly %d tags: %v", playkey.MaxTags, err)
		}
		checkTags(t, s, kp.ARN, want)

		// Replacing values at the limit is fine.
		if err := s.TagResource(ctx, kp.ARN, map[string]string{"tag-0": "new"}); err != nil {
			t.Fatalf("TagResource replacing a value at the limit: %v", err)
		}
		want["tag-0"] = "new"
		checkTags(t, s, kp.ARN, want)

		// One more is refused and changes nothing, not even the replacements in the same call.
		over := map[string]string{"tag-1": "changed", "one-too-many": "x"}
		wantCode(t, s.TagResource(ctx, kp.ARN, over), playkey.ErrValidation, "TagResource beyond the limit")
		checkTags(t, s, kp.ARN, want)

		// After removing one, there is room for one.
		if err := s.UntagResource(ctx, kp.ARN, []string{"tag-2"}); err != nil {
			t.Fatal(err)
		}
		delete(want, "tag-2")
		if err := s.TagResource(ctx, kp.ARN, map[string]string{"one-more": "x"}); err != nil {
			t.Fatalf("TagResource after freeing room: %v", err)
		}
		want["one-more"] = "x"
		checkTags(t, s, kp.ARN, want)

		// More than the limit in one call on an untagged resource.
		kp2 := create(t, s, NewKeyPair(scopeA))
		wantCode(t, s.TagResource(ctx, kp2.ARN, numberedTags(0, playkey.MaxTags+1)), playkey.ErrValidation, "TagResource of 51 tags")
		checkTags(t, s, kp2.ARN, map[string]string{})
	}},

	{"MissingResource", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		arn := KeyPairARN(scopeA, playkey.NewID())
		_, err := s.Tags(ctx, arn)
		wantCode(t, err, playkey.ErrResourceNotFound, "Tags")
		wantCode(t, s.TagResource(ctx, arn, map[string]string{"a": "b"}), playkey.ErrResourceNotFound, "TagResource")
		wantCode(t, s.TagResource(ctx, arn, nil), playkey.ErrResourceNotFound, "TagResource with no tags")
		wantCode(t, s.UntagResource(ctx, arn, []string{"a"}), playkey.ErrResourceNotFound, "UntagResource")
		wantCode(t, s.UntagResource(ctx, arn, nil), playkey.ErrResourceNotFound, "UntagResource with no keys")
		// Tagging a missing resource must not create it.
		wantNotFound(t, s, arn)
	}},

	{"Characters", func(t *testing.T, s playkey.Store) {
		// Everything the model allows: letters and digits of any script, spaces, _.:/=+-@.
		tags := map[string]string{
			"aws:cloudformation:stack-name": "arn:aws:cloudformation:us-west-2:123456789012:stack/x/y",
			"名前":                            "値 ✓ مرحبا",
			"with space":                    "",
			"_.:/=+-@":                      "_.:/=+-@ \u00a0\u2003",
			"Ünïcödé 123":                   "١٢٣",
		}
		kp := NewKeyPair(scopeA)
		kp.Tags = tags
		create(t, s, kp)
		checkTags(t, s, kp.ARN, tags)

		kp2 := create(t, s, NewKeyPair(scopeA))
		if err := s.TagResource(context.Background(), kp2.ARN, tags); err != nil {
			t.Fatal(err)
		}
		checkTags(t, s, kp2.ARN, tags)
	}},

	{"PerResource", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		kps := createN(t, s, scopeA, 2)
		if err := s.TagResource(ctx, kps[0].ARN, map[string]string{"only": "first"}); err != nil {
			t.Fatal(err)
		}
		checkTags(t, s, kps[0].ARN, map[string]string{"only": "first"})
		checkTags(t, s, kps[1].ARN, map[string]string{})
	}},
}

// taggable creates one resource of every taggable type but key pairs in scope, with tags.
func taggable(t *testing.T, s playkey.Store, scope playkey.Scope, tags map[string]string) []playkey.ARN {
	t.Helper()
	ch := NewChannel(scope)
	ch.Tags = maps.Clone(tags)
	key := playkey.NewStreamKey(ch.ARN, ch.CreatedAt)
	key.Tags = maps.Clone(tags)
	if err := s.CreateChannel(context.Background(), ch, key); err != nil {
		t.Fatal(err)
	}
	p := NewPolicy(scope)
	p.Tags = maps.Clone(tags)
	createPolicy(t, s, p)
	return []playkey.ARN{ch.ARN, key.ARN, p.ARN}
}

var resourceTagTests = []test{
	{"EveryType", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		arns := taggable(t, s, scopeA, map[string]string{"a": "1"})
		for _, arn := range arns {
			checkTags(t, s, arn, map[string]string{"a": "1"})
			if err := s.TagResource(ctx, arn, map[string]string{"b": "2", "a": "one"}); err != nil {
				t.Fatalf("TagResource(%s): %v", arn, err)
			}
			if err := s.UntagResource(ctx, arn, []string{"b", "absent"}); err != nil {
				t.Fatalf("UntagResource(%s): %v", arn, err)
			}
			checkTags(t, s, arn, map[string]string{"a": "one"})

			want := numberedTags(0, playkey.MaxTags-1)
			want["a"] = "one"
			if err := s.TagResource(ctx, arn, numberedTags(0, playkey.MaxTags-1)); err != nil {
				t.Fatalf("TagResource(%s) up to the limit: %v", arn, err)
			}
			wantCode(t, s.TagResource(ctx, arn, map[string]string{"one-too-many": ""}), playkey.ErrValidation, "TagResource beyond the limit")
			checkTags(t, s, arn, want)

			// The same id in another scope, or under another type, is another resource.
			for _, other := range []playkey.ARN{
				{Region: scopeOtherRegion.Region, Account: arn.Account, Type: arn.Type, ID: arn.ID},
				{Region: arn.Region, Account: scopeOtherAccount.Account, Type: arn.Type, ID: arn.ID},
				{Region: arn.Region, Account: arn.Account, Type: playkey.TypePlaybackKey, ID: arn.ID},
			} {
				_, err := s.Tags(ctx, other)
				wantCode(t, err, playkey.ErrResourceNotFound, "Tags("+other.String()+")")
				wantCode(t, s.TagResource(ctx, other, map[string]string{"x": "y"}), playkey.ErrResourceNotFound, "TagResource("+other.String()+")")
			}
		}
		// Resources that go take their tags with them; the channel takes its stream key.
		if err := s.DeletePlaybackRestrictionPolicy(ctx, arns[2]); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteChannel(ctx, arns[0]); err != nil {
			t.Fatal(err)
		}
		for _, arn := range arns {
			_, err := s.Tags(ctx, arn)
			wantCode(t, err, playkey.ErrResourceNotFound, "Tags of a deleted "+arn.Type)
			wantCode(t, s.TagResource(ctx, arn, map[string]string{"x": "y"}), playkey.ErrResourceNotFound, "TagResource of a deleted "+arn.Type)
			wantCode(t, s.UntagResource(ctx, arn, []string{"a"}), playkey.ErrResourceNotFound, "UntagResource of a deleted "+arn.Type)
		}
	}},
}

// checkTags checks a resource's tags through every method that returns them.
func checkTags(t *testing.T, s playkey.Store, arn playkey.ARN, want map[string]string) {
	t.Helper()
	if got := tagsOf(t, s, arn); !maps.Equal(got, want) {
		t.Errorf("Tags(%s) = %v, want %v", arn, got, want)
	}
	var stored map[string]string
	switch arn.Type {
	case playkey.TypeChannel:
		stored = getChannel(t, s, arn).Tags
	case playkey.TypeStreamKey:
		stored = getKey(t, s, arn).Tags
	case playkey.TypePlaybackRestrictionPolicy:
		stored = getPolicy(t, s, arn).Tags
	}
	if stored != nil && !maps.Equal(stored, want) {
		t.Errorf("the %s's own Tags = %v, want %v", arn.Type, stored, want)
	}
	if arn.Type != playkey.TypePlaybackKey {
		return
	}
	if got := get(t, s, arn).Tags; !maps.Equal(got, want) {
		t.Errorf("KeyPair(%s).Tags = %v, want %v", arn, got, want)
	}
	found := false
	for _, kp := range listAll(t, s, arn.Scope()) {
		if kp.ARN == arn {
			found = true
			if !maps.Equal(kp.Tags, want) {
				t.Errorf("KeyPairs: tags of %s = %v, want %v", arn, kp.Tags, want)
			}
		}
	}
	if !found {
		t.Errorf("KeyPairs does not list %s", arn)
	}
}

// numberedTags returns tags tag-i = value-i for i in [from, to).
func numberedTags(from, to int) map[string]string {
	tags := map[string]string{}
	for i := from; i < to; i++ {
		tags[fmt.Sprintf("tag-%d", i)] = fmt.Sprintf("value-%d", i)
	}
	return tags
}

var secretTests = []test{
	{"StableAndDistinct", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		a1, err := s.Secret(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		if len(a1) != 32 {
			t.Fatalf("secret of %d bytes, want 32", len(a1))
		}
		if string(a1) == string(make([]byte, 32)) {
			t.Fatal("secret is all zeros")
		}
		keep := string(a1)
		a1[0] ^= 0xff // the caller's copy
		a2, err := s.Secret(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		if string(a2) != keep {
			t.Fatal("Secret(a) changed between calls")
		}
		b, err := s.Secret(ctx, "b")
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 32 || string(b) == keep {
			t.Fatal("Secret(b) is Secret(a)")
		}
	}},
}

var pingTests = []test{
	{"Ping", func(t *testing.T, s playkey.Store) {
		if err := s.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
	}},
}
