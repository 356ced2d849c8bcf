package playback

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/token"
)

// State is what a playback decision reads from (and, for single use, writes to) playkey's
// store: narrower than playkey.Store so that the gate depends on nothing wider and tests
// can fake it. Every method is safe for concurrent use. An error that is not
// ResourceNotFound from Channel is an outage: callers refuse rather than guess.
type State interface {
	// PublicKeys returns the playback public keys of an account and region (at most
	// token.MaxKeys, each ECDSA P-384), in any order.
	PublicKeys(ctx context.Context, scope playkey.Scope) ([]Key, error)
	// Channel returns what the decision needs of a channel, or a *playkey.Error with code
	// ResourceNotFound when there is no such channel.
	Channel(ctx context.Context, arn playkey.ARN) (Channel, error)
	// RevocationsSince returns the viewer-session revocations recorded after cursor (0:
	// all of them), oldest first, at most a batch of them, and the cursor to pass next
	// time. When nothing new was recorded it returns no revocations and the same cursor.
	// It is polled every second, so it must be cheap when nothing changed.
	RevocationsSince(ctx context.Context, cursor int64) ([]Revocation, int64, error)
	// SingleUse reports whether the single-use token uuid of scope is still unused and,
	// when consume is set, records its use in the same atomic step: of any number of
	// concurrent consuming calls for one uuid, on any node, exactly one reports true. The
	// record is durable and may be forgotten after expires.
	SingleUse(ctx context.Context, scope playkey.Scope, uuid string, expires time.Time, consume bool) (bool, error)
	// Secret returns a 32-byte secret shared by every node that uses the same store.
	Secret(ctx context.Context, name string) ([]byte, error)
}

// Key is one playback public key.
type Key struct {
	ARN       string
	PublicKey *ecdsa.PublicKey
}

// Channel is what the decision needs of a channel.
type Channel struct {
	// Authorized makes the channel private: playback needs a token.
	Authorized bool
	// Policy is the channel's playback restriction policy, nil for none. Private channels
	// ignore it.
	Policy *Policy
}

// Policy is a playback restriction policy.
type Policy struct {
	// AllowedCountries are ISO 3166-1 alpha-2 codes; empty allows every country.
	AllowedCountries []string
	// AllowedOrigins are origins (scheme://host[:port]); empty allows every origin.
	AllowedOrigins []string
	// StrictOriginEnforcement requires a matching Origin header on every request.
	StrictOriginEnforcement bool
}

// Revocation ends the sessions of a viewer on a channel whose session version is at or
// below MaxVersion, and refuses their tokens from then on.
type Revocation struct {
	ChannelARN string
	ViewerID   string
	MaxVersion int64
}

// PublicKeys reads the playback keys of scope from s. More than token.MaxKeys is an error:
// the store keeps that from happening, and verifying against a partial set would refuse
// tokens at random.
func PublicKeys(ctx context.Context, s State, scope playkey.Scope) ([]Key, error) {
	keys, err := s.PublicKeys(ctx, scope)
	if err != nil {
		return nil, err
	}
	if len(keys) > token.MaxKeys {
		return nil, fmt.Errorf("%v has %d playback keys; at most %d are allowed", scope, len(keys), token.MaxKeys)
	}
	return keys, nil
}
