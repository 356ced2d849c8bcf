package playkey

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Tag limits from the IVS service model.
const (
	MaxTags           = 50
	maxTagKeyLength   = 128
	maxTagValueLength = 256
	maxNameLength     = 128
)

var (
	namePattern     = regexp.MustCompile(`^[a-zA-Z0-9-_]*$`)
	tagCharsPattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// ValidateName checks a resource name: 0-128 characters of letters, digits, '-' and '_'.
func ValidateName(name string) error {
	if utf8.RuneCountInString(name) > maxNameLength {
		return Errorf(ErrValidation, "name is %d characters long; the limit is %d", utf8.RuneCountInString(name), maxNameLength)
	}
	if !namePattern.MatchString(name) {
		return Errorf(ErrValidation, "name %q may hold only letters, digits, '-' and '_'", name)
	}
	return nil
}

// ValidateTags checks a tag map against the model: at most 50 tags, keys 1-128 and values
// 0-256 characters of letters, digits, spaces and _.:/=+-@.
func ValidateTags(tags map[string]string) error {
	if len(tags) > MaxTags {
		return Errorf(ErrValidation, "%d tags given; a resource has at most %d", len(tags), MaxTags)
	}
	for k, v := range tags {
		if err := ValidateTagKey(k); err != nil {
			return err
		}
		if n := utf8.RuneCountInString(v); n > maxTagValueLength {
			return Errorf(ErrValidation, "the value of tag %q is %d characters long; the limit is %d", k, n, maxTagValueLength)
		}
		if !utf8.ValidString(v) || !tagCharsPattern.MatchString(v) {
			return Errorf(ErrValidation, "the value of tag %q may hold only letters, digits, spaces and _.:/=+-@", k)
		}
	}
	return nil
}

// ValidateTagKey checks one tag key.
func ValidateTagKey(k string) error {
	n := utf8.RuneCountInString(k)
	if n < 1 || n > maxTagKeyLength {
		return Errorf(ErrValidation, "tag key %q must be 1 to %d characters long", k, maxTagKeyLength)
	}
	if !utf8.ValidString(k) || !tagCharsPattern.MatchString(k) {
		return Errorf(ErrValidation, "tag key %q may hold only letters, digits, spaces and _.:/=+-@", k)
	}
	if len(k) >= 4 && strings.EqualFold(k[:4], "aws:") {
		return Errorf(ErrValidation, "tag key %q: keys starting with aws: are reserved for AWS", k)
	}
	return nil
}
