// Package storetest is the conformance suite for playkey.Store. Every store runs it:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) playkey.Store { ... })
//	}
//
// The suite checks the behaviour documented on playkey.Store, and pins down what the
// documentation leaves implicit:
//   - listings are in bytewise id order ("0" < "B" < "a"; PostgreSQL needs COLLATE "C");
//   - CreatedAt survives to the millisecond;
//   - a store keeps no reference to the maps and slices it is given or returns;
//   - an ARN of another type, account or region is ResourceNotFound for every method;
//   - the quota, fingerprint and tag-limit checks hold under concurrency, from which the
//     only errors are the documented codes (no "busy" or deadlock errors);
//   - so do the referential rules: one stream key per channel, no stream key or revocation
//     outliving its channel, no channel referring to a deleted playback restriction policy;
//   - read-modify-write updates (UpdateChannel, UpdatePlaybackRestrictionPolicy) lose none
//     of concurrent changes, and revocation bounds only rise;
//   - a call whose context has ended returns an error wrapping ctx.Err(), and changes nothing.
//
// The key material it stores is fake: stores do not parse keys, nor check the settings of
// channels and policies against the IVS model (the API does).
package storetest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/playkey/playkey"
)

// Scopes the suite uses. Fresh stores are empty, so these never collide between tests.
var (
	scopeA            = playkey.Scope{Account: "111111111111", Region: "us-west-2"}
	scopeOtherAccount = playkey.Scope{Account: "222222222222", Region: "us-west-2"}
	scopeOtherRegion  = playkey.Scope{Account: "111111111111", Region: "eu-central-1"}
)

type test struct {
	name string
	run  func(t *testing.T, s playkey.Store)
}

// Run runs the suite, each test as a subtest on its own store. open must return a new,
// empty store and arrange for it to be closed when the test ends (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) playkey.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"KeyPair", keyPairTests},
		{"List", listTests},
		{"Quota", quotaTests},
		{"Fingerprint", fingerprintTests},
		{"Tags", tagTests},
		{"Channel", channelTests},
		{"StreamKey", streamKeyTests},
		{"Live", liveTests},
		{"PlaybackRestrictionPolicy", policyTests},
		{"Revocation", revocationTests},
		{"ResourceTags", resourceTagTests},
		{"Secret", secretTests},
		{"SingleUse", singleUseTests},
		{"Stream", streamTests},
		{"RefusedStream", refusedStreamTests},
		{"Metadata", metadataTests},
		{"Ping", pingTests},
		{"Context", contextTests},
		{"Messages", messageTests},
		{"Concurrent", concurrentTests},
		{"ConcurrentChannels", concurrentChannelTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tt := range g.tests {
				t.Run(tt.name, func(t *testing.T) {
					tt.run(t, open(t))
				})
			}
		})
	}
}

// NewKeyPair returns a key pair in scope with a fresh id, a name, no tags, a creation time in
// the past with sub-millisecond digits, and fake key material unique to it with its
// fingerprint.
func NewKeyPair(scope playkey.Scope) *playkey.KeyPair {
	return NewKeyPairWithDER(scope, FakeDER())
}

// NewKeyPairWithDER is NewKeyPair with the given key material; the fingerprint is computed
// from it, as the real service does.
func NewKeyPairWithDER(scope playkey.Scope, der []byte) *playkey.KeyPair {
	id := playkey.NewID()
	return &playkey.KeyPair{
		ARN:          KeyPairARN(scope, id),
		Name:         "key-" + id,
		Fingerprint:  Fingerprint(der),
		PublicKeyDER: der,
		CreatedAt:    time.Now().Add(-time.Duration(mrand.Int64N(int64(1000 * time.Hour)))),
	}
}

// KeyPairARN is the ARN of the playback key pair id in scope.
func KeyPairARN(scope playkey.Scope, id string) playkey.ARN {
	return playkey.ARN{Region: scope.Region, Account: scope.Account, Type: playkey.TypePlaybackKey, ID: id}
}

// FakeDER returns 120 random bytes (the length of a P-384 SubjectPublicKeyInfo) behind a
// DER-looking prefix. They include zero bytes and invalid UTF-8, which a store must keep as is.
func FakeDER() []byte {
	der := make([]byte, 120)
	rand.Read(der)
	copy(der, []byte{0x30, 0x76, 0x30, 0x10, 0x00, 0xff})
	return der
}

// Fingerprint is MD5 over der as lowercase hex bytes joined with ':'.
func Fingerprint(der []byte) string {
	sum := md5.Sum(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(parts, ":")
}

// create stores kp and fails the test on error.
func create(t *testing.T, s playkey.Store, kp *playkey.KeyPair) *playkey.KeyPair {
	t.Helper()
	if err := s.CreateKeyPair(context.Background(), kp); err != nil {
		t.Fatalf("CreateKeyPair(%s): %v", kp.ARN, err)
	}
	return kp
}

// createN stores n new key pairs in scope.
func createN(t *testing.T, s playkey.Store, scope playkey.Scope, n int) []*playkey.KeyPair {
	t.Helper()
	var kps []*playkey.KeyPair
	for range n {
		kps = append(kps, create(t, s, NewKeyPair(scope)))
	}
	return kps
}

func get(t *testing.T, s playkey.Store, arn playkey.ARN) *playkey.KeyPair {
	t.Helper()
	kp, err := s.KeyPair(context.Background(), arn)
	if err != nil {
		t.Fatalf("KeyPair(%s): %v", arn, err)
	}
	return kp
}

func list(t *testing.T, s playkey.Store, scope playkey.Scope, page playkey.Page) []*playkey.KeyPair {
	t.Helper()
	kps, err := s.KeyPairs(context.Background(), scope, page)
	if err != nil {
		t.Fatalf("KeyPairs(%v, %+v): %v", scope, page, err)
	}
	return kps
}

func listAll(t *testing.T, s playkey.Store, scope playkey.Scope) []*playkey.KeyPair {
	t.Helper()
	return list(t, s, scope, playkey.Page{Limit: 100})
}

func tagsOf(t *testing.T, s playkey.Store, arn playkey.ARN) map[string]string {
	t.Helper()
	tags, err := s.Tags(context.Background(), arn)
	if err != nil {
		t.Fatalf("Tags(%s): %v", arn, err)
	}
	if tags == nil {
		t.Fatalf("Tags(%s) = nil, want a non-nil map", arn)
	}
	return tags
}

// wantCode fails the test unless err is a *playkey.Error with the given code and a message.
func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %s", what, code)
	}
	if !playkey.IsCode(err, code) {
		t.Fatalf("%s: error %v (code %s), want %s", what, err, playkey.ErrorCode(err), code)
	}
	var e *playkey.Error
	if errors.As(err, &e) && e.Message == "" {
		t.Errorf("%s: %s has an empty message", what, code)
	}
}

func wantNotFound(t *testing.T, s playkey.Store, arn playkey.ARN) {
	t.Helper()
	_, err := s.KeyPair(context.Background(), arn)
	wantCode(t, err, playkey.ErrResourceNotFound, fmt.Sprintf("KeyPair(%s)", arn))
}

// sameKeyPair compares every field. CreatedAt must survive to the millisecond.
func sameKeyPair(t *testing.T, what string, got, want *playkey.KeyPair) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil key pair", what)
	}
	if got.ARN != want.ARN {
		t.Errorf("%s: ARN = %s, want %s", what, got.ARN, want.ARN)
	}
	if got.Name != want.Name {
		t.Errorf("%s: Name = %q, want %q", what, got.Name, want.Name)
	}
	if got.Fingerprint != want.Fingerprint {
		t.Errorf("%s: Fingerprint = %q, want %q", what, got.Fingerprint, want.Fingerprint)
	}
	if !bytes.Equal(got.PublicKeyDER, want.PublicKeyDER) {
		t.Errorf("%s: PublicKeyDER = %x, want %x", what, got.PublicKeyDER, want.PublicKeyDER)
	}
	if !maps.Equal(got.Tags, want.Tags) {
		t.Errorf("%s: Tags = %v, want %v", what, got.Tags, want.Tags)
	}
	if d := got.CreatedAt.Sub(want.CreatedAt).Abs(); d >= time.Millisecond {
		t.Errorf("%s: CreatedAt = %v, want %v (off by %v)", what, got.CreatedAt, want.CreatedAt, d)
	}
}

func ids(kps []*playkey.KeyPair) []string {
	var s []string
	for _, kp := range kps {
		s = append(s, kp.ARN.ID)
	}
	return s
}
