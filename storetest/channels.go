package storetest

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/playkey/playkey"
)

// NewChannel returns a channel in scope with IVS's defaults, a fresh id, a name, and a
// creation time in the past with sub-millisecond digits.
func NewChannel(scope playkey.Scope) *playkey.Channel {
	ch := playkey.NewChannel(ChannelARN(scope, playkey.NewID()), time.Now().Add(-time.Duration(rand.Int64N(int64(1000*time.Hour)))))
	ch.Name = "channel-" + ch.ARN.ID
	return ch
}

// ChannelARN is the ARN of the channel id in scope.
func ChannelARN(scope playkey.Scope, id string) playkey.ARN {
	return playkey.ARN{Region: scope.Region, Account: scope.Account, Type: playkey.TypeChannel, ID: id}
}

// createChannel stores ch with a new stream key and returns the key.
func createChannel(t *testing.T, s playkey.Store, ch *playkey.Channel) *playkey.StreamKey {
	t.Helper()
	key := playkey.NewStreamKey(ch.ARN, ch.CreatedAt)
	if err := s.CreateChannel(context.Background(), ch, key); err != nil {
		t.Fatalf("CreateChannel(%s): %v", ch.ARN, err)
	}
	return key
}

func getChannel(t *testing.T, s playkey.Store, arn playkey.ARN) *playkey.Channel {
	t.Helper()
	ch, err := s.Channel(context.Background(), arn)
	if err != nil {
		t.Fatalf("Channel(%s): %v", arn, err)
	}
	return ch
}

func listChannels(t *testing.T, s playkey.Store, scope playkey.Scope, f playkey.ChannelFilter, page playkey.Page) []*playkey.Channel {
	t.Helper()
	chs, err := s.Channels(context.Background(), scope, f, page)
	if err != nil {
		t.Fatalf("Channels(%v, %+v, %+v): %v", scope, f, page, err)
	}
	if chs == nil {
		t.Fatalf("Channels returned nil, want an empty slice")
	}
	return chs
}

func channelIDs(chs []*playkey.Channel) []string {
	var s []string
	for _, ch := range chs {
		s = append(s, ch.ARN.ID)
	}
	return s
}

func wantChannelNotFound(t *testing.T, s playkey.Store, arn playkey.ARN) {
	t.Helper()
	_, err := s.Channel(context.Background(), arn)
	wantCode(t, err, playkey.ErrResourceNotFound, "Channel("+arn.String()+")")
}

// sameChannel compares every field. CreatedAt must survive to the millisecond.
func sameChannel(t *testing.T, what string, got, want *playkey.Channel) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil channel", what)
	}
	g, w := *got, *want
	if d := g.CreatedAt.Sub(w.CreatedAt).Abs(); d >= time.Millisecond {
		t.Errorf("%s: CreatedAt = %v, want %v (off by %v)", what, g.CreatedAt, w.CreatedAt, d)
	}
	if !maps.Equal(g.Tags, w.Tags) {
		t.Errorf("%s: Tags = %v, want %v", what, g.Tags, w.Tags)
	}
	if g.Tags == nil {
		t.Errorf("%s: Tags is nil, want a map", what)
	}
	g.CreatedAt, w.CreatedAt, g.Tags, w.Tags = time.Time{}, time.Time{}, nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

// everySetting returns ch with every setting away from its default.
func everySetting(ch *playkey.Channel) *playkey.Channel {
	ch.Name = strings.Repeat("n-_9", 32) // 128 characters
	ch.LatencyMode = playkey.LatencyNormal
	ch.Type = playkey.ChannelStandard
	ch.Authorized = true
	ch.InsecureIngest = true
	ch.ContainerFormat = playkey.ContainerFragmentedMP4
	ch.Multitrack = playkey.Multitrack{Enabled: true, Policy: playkey.MultitrackRequire, MaximumResolution: playkey.ResolutionHD}
	ch.Tags = map[string]string{"env": "prod", "名前": "値"}
	return ch
}

var channelTests = []test{
	{"CreateAndGet", func(t *testing.T, s playkey.Store) {
		for _, ch := range []*playkey.Channel{NewChannel(scopeA), everySetting(NewChannel(scopeA))} {
			createChannel(t, s, ch)
			sameChannel(t, "Channel", getChannel(t, s, ch.ARN), ch)
		}
		adv := NewChannel(scopeA)
		adv.Type, adv.Preset, adv.Name = playkey.ChannelAdvancedHD, playkey.PresetConstrainedBandwidth, ""
		createChannel(t, s, adv)
		sameChannel(t, "advanced channel", getChannel(t, s, adv.ARN), adv)
	}},

	{"WithoutStreamKey", func(t *testing.T, s playkey.Store) {
		ch := NewChannel(scopeA)
		if err := s.CreateChannel(context.Background(), ch, nil); err != nil {
			t.Fatal(err)
		}
		if keys := listKeys(t, s, ch.ARN); len(keys) != 0 {
			t.Errorf("StreamKeys = %v, want none", keys)
		}
	}},

	{"NoAliasing", func(t *testing.T, s playkey.Store) {
		ch := NewChannel(scopeA)
		ch.Tags = map[string]string{"a": "1"}
		want := *ch
		want.Tags = map[string]string{"a": "1"}
		createChannel(t, s, ch)
		ch.Tags["a"] = "changed"
		got := getChannel(t, s, want.ARN)
		sameChannel(t, "Channel after changing the input", got, &want)
		got.Tags["a"] = "changed"
		sameChannel(t, "Channel after changing a result", getChannel(t, s, want.ARN), &want)
	}},

	{"MissingAndOtherScopes", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		ch := NewChannel(scopeA)
		key := createChannel(t, s, ch)
		for _, scope := range []playkey.Scope{scopeOtherAccount, scopeOtherRegion} {
			arn := ChannelARN(scope, ch.ARN.ID)
			wantChannelNotFound(t, s, arn)
			wantCode(t, s.DeleteChannel(ctx, arn), playkey.ErrResourceNotFound, "DeleteChannel")
			_, err := s.UpdateChannel(ctx, arn, func(*playkey.Channel) error { return nil })
			wantCode(t, err, playkey.ErrResourceNotFound, "UpdateChannel")
			_, err = s.StreamKeys(ctx, arn, playkey.Page{})
			wantCode(t, err, playkey.ErrResourceNotFound, "StreamKeys")
			keyARN := key.ARN
			keyARN.Account, keyARN.Region = scope.Account, scope.Region
			_, err = s.StreamKey(ctx, keyARN)
			wantCode(t, err, playkey.ErrResourceNotFound, "StreamKey")
			if got := listChannels(t, s, scope, playkey.ChannelFilter{}, playkey.Page{}); len(got) != 0 {
				t.Errorf("Channels(%v) = %v", scope, channelIDs(got))
			}
		}
		// An ARN of another type with the channel's id is not the channel.
		other := ch.ARN
		other.Type = playkey.TypeStreamKey
		wantChannelNotFound(t, s, other)
		wantCode(t, s.DeleteChannel(ctx, other), playkey.ErrResourceNotFound, "DeleteChannel of a stream-key ARN")
		sameChannel(t, "the channel", getChannel(t, s, ch.ARN), ch)
	}},

	{"DuplicateID", func(t *testing.T, s playkey.Store) {
		ch := NewChannel(scopeA)
		createChannel(t, s, ch)
		again := NewChannel(scopeA)
		again.ARN = ch.ARN
		err := s.CreateChannel(context.Background(), again, playkey.NewStreamKey(again.ARN, again.CreatedAt))
		wantCode(t, err, playkey.ErrConflict, "second channel with the same ARN")
		sameChannel(t, "the first channel", getChannel(t, s, ch.ARN), ch)
		if keys := listKeys(t, s, ch.ARN); len(keys) != 1 {
			t.Errorf("the refused create left %d stream keys", len(keys))
		}
	}},

	{"ListFiltersAndPaging", func(t *testing.T, s playkey.Store) {
		pol := createPolicy(t, s, NewPolicy(scopeA))
		sfx := playkey.NewID()[:8]
		ids := []string{"0" + sfx, "B" + sfx, "a" + sfx, "b" + sfx}
		names := []string{"x", "y", "x", ""}
		for _, i := range rand.Perm(len(ids)) {
			ch := NewChannel(scopeA)
			ch.ARN.ID, ch.Name = ids[i], names[i]
			if i%2 == 1 {
				ch.PlaybackRestrictionPolicy = pol.ARN
			}
			createChannel(t, s, ch)
		}
		other := NewChannel(scopeOtherRegion)
		other.Name = "x"
		createChannel(t, s, other)

		all := playkey.Page{Limit: 100}
		if got := channelIDs(listChannels(t, s, scopeA, playkey.ChannelFilter{}, all)); !slices.Equal(got, ids) {
			t.Fatalf("Channels = %v, want %v", got, ids)
		}
		for _, c := range []struct {
			f    playkey.ChannelFilter
			want []string
		}{
			{playkey.ChannelFilter{Name: "x"}, []string{ids[0], ids[2]}},
			{playkey.ChannelFilter{Name: "nobody"}, nil},
			{playkey.ChannelFilter{PlaybackRestrictionPolicy: pol.ARN}, []string{ids[1], ids[3]}},
			{playkey.ChannelFilter{PlaybackRestrictionPolicy: PolicyARN(scopeA, playkey.NewID())}, nil},
			{playkey.ChannelFilter{PlaybackRestrictionPolicy: PolicyARN(scopeOtherRegion, pol.ARN.ID)}, nil},
			{playkey.ChannelFilter{Name: "y", PlaybackRestrictionPolicy: pol.ARN}, []string{ids[1]}},
		} {
			if got := channelIDs(listChannels(t, s, scopeA, c.f, all)); !slices.Equal(got, c.want) {
				t.Errorf("Channels(%+v) = %v, want %v", c.f, got, c.want)
			}
		}
		for limit := 1; limit <= 3; limit++ {
			var got []string
			after := ""
			for range 10 {
				page := listChannels(t, s, scopeA, playkey.ChannelFilter{}, playkey.Page{After: after, Limit: limit})
				if len(page) > limit {
					t.Fatalf("limit %d: %d items", limit, len(page))
				}
				if len(page) == 0 {
					break
				}
				got = append(got, channelIDs(page)...)
				after = page[len(page)-1].ARN.ID
			}
			if !slices.Equal(got, ids) {
				t.Errorf("limit %d: pages gave %v, want %v", limit, got, ids)
			}
		}
		page := listChannels(t, s, scopeA, playkey.ChannelFilter{Name: "x"}, playkey.Page{After: ids[0], Limit: 1})
		if got := channelIDs(page); !slices.Equal(got, []string{ids[2]}) {
			t.Errorf("filtered page after %s = %v", ids[0], got)
		}
	}},

	{"Update", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		ch := NewChannel(scopeA)
		ch.Tags = map[string]string{"keep": "me"}
		createChannel(t, s, ch)
		pol := createPolicy(t, s, NewPolicy(scopeA))

		want := everySetting(NewChannel(scopeA))
		want.PlaybackRestrictionPolicy = pol.ARN
		got, err := s.UpdateChannel(ctx, ch.ARN, func(c *playkey.Channel) error {
			sameChannel(t, "the channel given to change", c, ch)
			*c = *everySetting(NewChannel(scopeA)) // a new ARN, passphrase, tags and time too
			c.PlaybackRestrictionPolicy = pol.ARN
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want.ARN, want.CreatedAt, want.SRTPassphrase, want.Tags = ch.ARN, ch.CreatedAt, ch.SRTPassphrase, ch.Tags
		sameChannel(t, "UpdateChannel's result", got, want)
		sameChannel(t, "Channel after update", getChannel(t, s, ch.ARN), want)

		// An error from change is returned as is, and nothing changes.
		sentinel := errors.New("no thanks")
		_, err = s.UpdateChannel(ctx, ch.ARN, func(c *playkey.Channel) error {
			c.Name = "changed"
			return sentinel
		})
		if !errors.Is(err, sentinel) {
			t.Fatalf("UpdateChannel with a failing change: %v, want the change's error", err)
		}
		sameChannel(t, "Channel after a failed update", getChannel(t, s, ch.ARN), want)

		// Removing the policy.
		want.PlaybackRestrictionPolicy = playkey.ARN{}
		if _, err := s.UpdateChannel(ctx, ch.ARN, func(c *playkey.Channel) error {
			c.PlaybackRestrictionPolicy = playkey.ARN{}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		sameChannel(t, "Channel without a policy", getChannel(t, s, ch.ARN), want)

		_, err = s.UpdateChannel(ctx, ChannelARN(scopeA, playkey.NewID()), func(*playkey.Channel) error {
			t.Error("change called for a missing channel")
			return nil
		})
		wantCode(t, err, playkey.ErrResourceNotFound, "UpdateChannel of a missing channel")
	}},

	{"PolicyReference", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		pol := createPolicy(t, s, NewPolicy(scopeA))
		otherPol := createPolicy(t, s, NewPolicy(scopeOtherAccount))
		for _, bad := range []playkey.ARN{
			PolicyARN(scopeA, playkey.NewID()),      // missing
			otherPol.ARN,                            // another account's
			PolicyARN(scopeOtherRegion, pol.ARN.ID), // another region
			{Region: "us-west-2", Account: scopeA.Account, // another type
				Type: playkey.TypeRecordingConfiguration, ID: pol.ARN.ID},
		} {
			ch := NewChannel(scopeA)
			ch.PlaybackRestrictionPolicy = bad
			key := playkey.NewStreamKey(ch.ARN, ch.CreatedAt)
			wantCode(t, s.CreateChannel(ctx, ch, key), playkey.ErrResourceNotFound, "CreateChannel with policy "+bad.String())
			wantChannelNotFound(t, s, ch.ARN)
			_, err := s.StreamKey(ctx, key.ARN)
			wantCode(t, err, playkey.ErrResourceNotFound, "the refused channel's stream key")

			ok := NewChannel(scopeA)
			createChannel(t, s, ok)
			_, err = s.UpdateChannel(ctx, ok.ARN, func(c *playkey.Channel) error {
				c.PlaybackRestrictionPolicy = bad
				c.Name = "changed"
				return nil
			})
			wantCode(t, err, playkey.ErrResourceNotFound, "UpdateChannel to policy "+bad.String())
			sameChannel(t, "the channel after a refused update", getChannel(t, s, ok.ARN), ok)
		}
		ch := NewChannel(scopeA)
		ch.PlaybackRestrictionPolicy = pol.ARN
		createChannel(t, s, ch)
		sameChannel(t, "channel with a policy", getChannel(t, s, ch.ARN), ch)
	}},

	{"DeleteCascades", func(t *testing.T, s playkey.Store) {
		ctx := context.Background()
		ch := NewChannel(scopeA)
		key := createChannel(t, s, ch)
		keep := NewChannel(scopeA)
		keepKey := createChannel(t, s, keep)
		for _, c := range []*playkey.Channel{ch, keep} {
			if err := s.RevokeViewerSessions(ctx, c.ARN, "viewer", 3); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeleteChannel(ctx, ch.ARN); err != nil {
			t.Fatal(err)
		}
		wantChannelNotFound(t, s, ch.ARN)
		_, err := s.StreamKey(ctx, key.ARN)
		wantCode(t, err, playkey.ErrResourceNotFound, "the deleted channel's stream key")
		_, err = s.Tags(ctx, key.ARN)
		wantCode(t, err, playkey.ErrResourceNotFound, "Tags of the deleted channel's stream key")
		// Revocations outlive their channel, so that no gate, even one started later,
		// lets a revoked viewer of it play.
		if v, ok, err := s.ViewerRevocation(ctx, ch.ARN, "viewer"); err != nil || !ok {
			t.Errorf("ViewerRevocation of the deleted channel: %d ok=%v err=%v, want kept", v, ok, err)
		}
		wantCode(t, s.DeleteChannel(ctx, ch.ARN), playkey.ErrResourceNotFound, "second DeleteChannel")

		found := false
		for _, r := range since(t, s, 0, 0) {
			found = found || r.Channel == ch.ARN && r.ViewerID == "viewer"
		}
		if !found {
			t.Error("RevocationsSince lost the deleted channel's revocation")
		}
		if err := s.RevokeViewerSessions(ctx, ch.ARN, "other", 1); !playkey.IsCode(err, playkey.ErrResourceNotFound) {
			t.Errorf("a revocation on the deleted channel: %v, want ResourceNotFound", err)
		}

		sameChannel(t, "the other channel", getChannel(t, s, keep.ARN), keep)
		sameStreamKey(t, "the other channel's key", getKey(t, s, keepKey.ARN), keepKey)
		if v, ok, err := s.ViewerRevocation(ctx, keep.ARN, "viewer"); err != nil || !ok || v != 3 {
			t.Errorf("the other channel's revocation: %d %v %v", v, ok, err)
		}
	}},
}
