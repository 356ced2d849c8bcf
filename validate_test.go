package playkey

import (
	"strings"
	"testing"
)

func TestValidateTags(t *testing.T) {
	ok := []map[string]string{
		nil,
		{"team": "video", "path/key": "x:y=z@w", "space key": "", "ünïcode": "値"},
		{strings.Repeat("k", 128): strings.Repeat("v", 256)},
		{"awsome": "not reserved", "my:aws:key": "not a prefix"},
	}
	for _, tags := range ok {
		if err := ValidateTags(tags); err != nil {
			t.Errorf("ValidateTags(%v): %v", tags, err)
		}
	}
	bad := []map[string]string{
		{"": "empty key"},
		{strings.Repeat("k", 129): "long key"},
		{"k": strings.Repeat("v", 257)},
		{"bad<key>": "v"},
		{"k": "bad\x00value"},
		{"aws:reserved": "v"},
		{"AWS:Reserved": "v"},
	}
	for _, tags := range bad {
		if err := ValidateTags(tags); !IsCode(err, ErrValidation) {
			t.Errorf("ValidateTags(%q) = %v, want a ValidationException", tags, err)
		}
	}
	many := map[string]string{}
	for i := range MaxTags + 1 {
		many[strings.Repeat("k", i+1)] = "v"
	}
	if err := ValidateTags(many); !IsCode(err, ErrValidation) {
		t.Errorf("51 tags: %v", err)
	}
}
