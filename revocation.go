package playkey

import (
	"math"
	"time"
	"unicode/utf8"
)

// Revocation is the state of viewer-session revocation for one viewer of one channel:
// playback sessions and tokens of that viewer on that channel whose
// aws:viewer-session-version is at most MaxVersion are revoked; higher versions play.
type Revocation struct {
	Channel    ARN
	ViewerID   string
	MaxVersion int64
	UpdatedAt  time.Time
	// Seq orders changes across the whole store: every change that raises a MaxVersion
	// gets a Seq greater than every earlier one. It is what RevocationsSince pages by.
	Seq int64
}

// Limits of StartViewerSessionRevocation in the IVS model: a viewer id is 1-40 characters,
// a version an integer from 0 to 2^31-1 (the model's integer is 32 bits), and a batch
// holds 1-20 viewer sessions.
const (
	maxViewerIDLength        = 40
	MaxViewerSessionVersion  = math.MaxInt32
	MaxRevocationBatchLength = 20
)

// ValidateViewerID checks a viewer id: 1 to 40 characters.
func ValidateViewerID(member, id string) error {
	if n := utf8.RuneCountInString(id); n < 1 || n > maxViewerIDLength || !utf8.ValidString(id) {
		return Errorf(ErrValidation, "%s must be 1 to %d characters long", member, maxViewerIDLength)
	}
	return nil
}

// ValidateViewerSessionVersion checks a revocation's version bound: 0 to 2^31-1.
func ValidateViewerSessionVersion(member string, v int64) error {
	if v < 0 || v > MaxViewerSessionVersion {
		return Errorf(ErrValidation, "%s must be between 0 and %d, not %d", member, MaxViewerSessionVersion, v)
	}
	return nil
}
