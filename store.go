package playkey

import (
	"context"
	"time"
)

// Scope is an account and region: the unit that owns resources and quotas.
type Scope struct {
	Account string
	Region  string
}

// KeyPair is a playback key pair. Only the public half is ever stored.
type KeyPair struct {
	ARN         ARN
	Name        string
	Fingerprint string // MD5 of PublicKeyDER, lowercase hex bytes joined with ':'
	// PublicKeyDER is the DER SubjectPublicKeyInfo of an ECDSA P-384 key.
	PublicKeyDER []byte
	Tags         map[string]string
	CreatedAt    time.Time
}

// MaxKeyPairs is the number of playback key pairs an account may hold in one region.
// IVS documents it as not adjustable.
const MaxKeyPairs = 3

// Page selects a slice of a listing ordered by resource id (bytewise): items whose id
// sorts after After, at most Limit of them (no limit when Limit <= 0).
type Page struct {
	After string
	Limit int
}

// Store keeps playkey's resources. Every method is safe for concurrent use, and every
// error a client can act on is an *Error (ResourceNotFound for a missing resource, and
// the codes documented on each method); anything else is an internal failure.
//
// Resources are always addressed within their own scope: a resource of another account
// or region is not found. Times are kept to the millisecond. Maps and slices passed in or
// returned are never shared with the store. A call whose context has ended returns an
// error wrapping ctx.Err() and changes nothing.
type Store interface {
	// CreateKeyPair stores kp. In one atomic step it refuses with Conflict when kp's scope
	// already holds a key pair with the same fingerprint, else with ServiceQuotaExceeded when
	// it holds MaxKeyPairs key pairs. An acknowledged create is durable.
	CreateKeyPair(ctx context.Context, kp *KeyPair) error
	// KeyPair returns the key pair with the given ARN.
	KeyPair(ctx context.Context, arn ARN) (*KeyPair, error)
	// KeyPairs lists the key pairs of a scope in id order.
	KeyPairs(ctx context.Context, scope Scope, page Page) ([]*KeyPair, error)
	// DeleteKeyPair deletes the key pair with the given ARN.
	DeleteKeyPair(ctx context.Context, arn ARN) error

	// Tags returns the tags of any resource (never nil).
	Tags(ctx context.Context, arn ARN) (map[string]string, error)
	// TagResource adds or replaces tags on any resource; Validation when the result would
	// hold more than MaxTags.
	TagResource(ctx context.Context, arn ARN, tags map[string]string) error
	// UntagResource removes the named tags from any resource; absent keys are ignored.
	UntagResource(ctx context.Context, arn ARN, keys []string) error

	// Secret returns a random 32-byte secret, created on first use, shared by every node
	// that uses this store (for example to sign pagination tokens).
	Secret(ctx context.Context, name string) ([]byte, error)

	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error
	Close() error
}
