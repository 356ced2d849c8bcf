package playkey

import (
	"crypto/rand"
	"regexp"
	"strings"
)

// Resource types that appear in IVS ARNs.
const (
	TypePlaybackKey               = "playback-key"
	TypeChannel                   = "channel"
	TypeStreamKey                 = "stream-key"
	TypePlaybackRestrictionPolicy = "playback-restriction-policy"
	// Types that channels may refer to but playkey does not implement: no ARN of these
	// types names an existing resource.
	TypeRecordingConfiguration = "recording-configuration"
	TypeAdConfiguration        = "ad-configuration"
)

// ARN identifies an IVS resource: arn:aws:ivs:{region}:{account}:{type}/{id}.
type ARN struct {
	Region  string
	Account string
	Type    string
	ID      string
}

// String formats the ARN.
func (a ARN) String() string {
	return "arn:aws:ivs:" + a.Region + ":" + a.Account + ":" + a.Type + "/" + a.ID
}

// IsZero reports whether a is the zero ARN, which stands for "none" in optional references.
func (a ARN) IsZero() bool { return a == ARN{} }

// Scope returns the account and region the resource lives in.
func (a ARN) Scope() Scope { return Scope{Account: a.Account, Region: a.Region} }

var (
	regionPattern  = regexp.MustCompile(`^[a-z0-9-]+$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	typePattern    = regexp.MustCompile(`^[a-z-]+$`)
	idPattern      = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)
)

// maxARNLength is the model's limit on every IVS ARN shape.
const maxARNLength = 128

// ParseARN parses an IVS ARN of any resource type. The error is a ValidationException naming
// field, the request member the ARN came from.
func ParseARN(field, s string) (ARN, error) {
	bad := func(why string) (ARN, error) {
		return ARN{}, Errorf(ErrValidation, "%s %q is not a valid IVS ARN: %s", field, s, why)
	}
	if s == "" {
		return ARN{}, Errorf(ErrValidation, "%s is required", field)
	}
	if len(s) > maxARNLength {
		return ARN{}, Errorf(ErrValidation, "%s is %d characters long; an IVS ARN has at most %d", field, len(s), maxARNLength)
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "ivs" {
		return bad("expected arn:aws:ivs:{region}:{account}:{type}/{id}")
	}
	a := ARN{Region: parts[3], Account: parts[4]}
	if !regionPattern.MatchString(a.Region) {
		return bad("bad region")
	}
	if !accountPattern.MatchString(a.Account) {
		return bad("the account must be 12 digits")
	}
	typ, id, ok := strings.Cut(parts[5], "/")
	if !ok || !typePattern.MatchString(typ) {
		return bad("expected {type}/{id} after the account")
	}
	if !idPattern.MatchString(id) {
		return bad("the resource id may hold only letters, digits and hyphens")
	}
	a.Type, a.ID = typ, id
	return a, nil
}

// ParseTypedARN parses an ARN and checks that it names a resource of type typ.
func ParseTypedARN(field, s, typ string) (ARN, error) {
	a, err := ParseARN(field, s)
	if err != nil {
		return ARN{}, err
	}
	if a.Type != typ {
		return ARN{}, Errorf(ErrValidation, "%s %q names a %s; expected a %s ARN", field, s, a.Type, typ)
	}
	return a, nil
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// NewID returns a random 12-character resource id of ASCII letters and digits, the form IVS
// uses today (for example KDJRJNQhiQzA).
func NewID() string {
	return RandomString(12)
}

// RandomString returns n characters drawn uniformly from letters and digits with crypto/rand.
func RandomString(n int) string {
	b := make([]byte, n)
	for i := range b {
		// rand.Text would be simpler but uses a base32 alphabet; IVS ids mix cases.
		for {
			var c [1]byte
			rand.Read(c[:])
			if int(c[0]) < 256-256%len(idAlphabet) {
				b[i] = idAlphabet[int(c[0])%len(idAlphabet)]
				break
			}
		}
	}
	return string(b)
}

// resourceNouns names each resource type in messages.
var resourceNouns = map[string]string{
	TypePlaybackKey:               "playback key pair",
	TypeChannel:                   "channel",
	TypeStreamKey:                 "stream key",
	TypePlaybackRestrictionPolicy: "playback restriction policy",
}

// NotFound returns the ResourceNotFound error for arn, naming its type: "channel arn:... not
// found" ("resource arn:... not found" for a type playkey does not hold).
func NotFound(arn ARN) error {
	noun, ok := resourceNouns[arn.Type]
	if !ok {
		noun = "resource"
	}
	return Errorf(ErrResourceNotFound, "%s %s not found", noun, arn)
}
