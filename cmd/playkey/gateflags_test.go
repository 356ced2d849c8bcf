package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestOriginHeaderFlag: --origin-header takes 'Name: value' and repeats; a malformed header
// is refused without echoing the value; the flag's String never shows values.
func TestOriginHeaderFlag(t *testing.T) {
	var l headerList
	for _, v := range []string{"Authorization: Bearer s3cret", "X-Extra:a", "x-extra: b"} {
		if err := l.Set(v); err != nil {
			t.Fatalf("Set(%q): %v", v, err)
		}
	}
	h := http.Header(l)
	if h.Get("Authorization") != "Bearer s3cret" || strings.Join(h.Values("X-Extra"), ",") != "a,b" {
		t.Errorf("headers: %v", h)
	}
	if s := l.String(); strings.Contains(s, "s3cret") || s != "Authorization,X-Extra" {
		t.Errorf("String() = %q", s)
	}
	for _, bad := range []string{"no colon s3cret", ": s3cret", "Bad Name: s3cret", "X: s3cret\r\nInjected: 1", "X(y): s3cret"} {
		err := l.Set(bad)
		if err == nil {
			t.Errorf("Set(%q) accepted", bad)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Set(%q): the error quotes the value: %v", bad, err)
		}
	}
}
