package playback

import (
	"context"
	"fmt"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/keypair"
)

// FromStore adapts a playkey.Store to State.
func FromStore(s playkey.Store) State { return storeState{s} }

type storeState struct{ s playkey.Store }

func (a storeState) PublicKeys(ctx context.Context, scope playkey.Scope) ([]Key, error) {
	// One more than the limit, so that PublicKeys sees a store holding too many.
	kps, err := a.s.KeyPairs(ctx, scope, playkey.Page{Limit: playkey.MaxKeyPairs + 1})
	if err != nil {
		return nil, err
	}
	keys := make([]Key, 0, len(kps))
	for _, kp := range kps {
		pub, err := keypair.ParsePublicKeyDER(kp.PublicKeyDER)
		if err != nil {
			// Only P-384 keys are ever imported; a stored key that does not parse is
			// damage, and leaving it out only refuses its tokens.
			continue
		}
		keys = append(keys, Key{ARN: kp.ARN.String(), PublicKey: pub})
	}
	return keys, nil
}

func (a storeState) Channel(ctx context.Context, arn playkey.ARN) (Channel, error) {
	ch, err := a.s.Channel(ctx, arn)
	if err != nil {
		return Channel{}, err
	}
	out := Channel{Authorized: ch.Authorized}
	// A private channel ignores its policy, so it is not read.
	if !ch.Authorized && !ch.PlaybackRestrictionPolicy.IsZero() {
		p, err := a.s.PlaybackRestrictionPolicy(ctx, ch.PlaybackRestrictionPolicy)
		if err != nil {
			// The store keeps channels from naming a missing policy; if one is missing
			// anyway, refusing is safer than playing without it. %v, not %w: a missing
			// policy must not read as a missing channel.
			return Channel{}, fmt.Errorf("policy %s of channel %s: %v", ch.PlaybackRestrictionPolicy, arn, err)
		}
		out.Policy = &Policy{
			AllowedCountries:        p.AllowedCountries,
			AllowedOrigins:          p.AllowedOrigins,
			StrictOriginEnforcement: p.EnableStrictOriginEnforcement,
		}
	}
	return out, nil
}

// revocationBatch is how many revocations one RevocationsSince call reads at most.
const revocationBatch = 1000

func (a storeState) RevocationsSince(ctx context.Context, cursor int64) ([]Revocation, int64, error) {
	revs, err := a.s.RevocationsSince(ctx, cursor, revocationBatch)
	if err != nil {
		return nil, cursor, err
	}
	out := make([]Revocation, len(revs))
	for i, r := range revs {
		out[i] = Revocation{ChannelARN: r.Channel.String(), ViewerID: r.ViewerID, MaxVersion: r.MaxVersion}
		cursor = max(cursor, r.Seq)
	}
	return out, cursor, nil
}

func (a storeState) SingleUse(ctx context.Context, scope playkey.Scope, uuid string, expires time.Time, consume bool) (bool, error) {
	return a.s.SingleUse(ctx, scope, uuid, expires, consume)
}

func (a storeState) Secret(ctx context.Context, name string) ([]byte, error) {
	return a.s.Secret(ctx, name)
}
