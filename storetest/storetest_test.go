package storetest

import "testing"

func TestFingerprint(t *testing.T) {
	// printf abc | openssl md5 -c
	if got, want := Fingerprint([]byte("abc")), "90:01:50:98:3c:d2:4f:b0:d6:96:3f:7d:28:e1:7f:72"; got != want {
		t.Errorf("Fingerprint = %s, want %s", got, want)
	}
}
