package token

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"
)

func TestHumanSeconds(t *testing.T) {
	for sec, want := range map[int64]string{0: "0s", 59: "59s", 600: "10m", 192: "3m12s", 7200: "2h", 90000: "25h", 200000: "2d7h", 1 << 40: "34841 years", -1: "ages"} {
		if got := humanSeconds(sec); got != want {
			t.Errorf("humanSeconds(%d) = %q, want %q", sec, got, want)
		}
	}
}

func TestExplain(t *testing.T) {
	enc := base64.RawURLEncoding
	now := time.Unix(1767225600, 0)
	tok := enc.EncodeToString([]byte(`{"alg":"ES384","kid":"k"}`)) + "." +
		enc.EncodeToString([]byte(`{"aws:channel-arn":"arn:aws:ivs:us-west-2:123456789012:channel/a","exp":1767225540,"x":1}`)) + "." +
		enc.EncodeToString(make([]byte, 96))
	e := (&Verifier{}).Explain(tok, "arn:aws:ivs:us-west-2:123456789012:channel/b", "the flag", now)
	if !e.HeaderObject || !e.ClaimsObject || len(e.Header) != 2 || len(e.Claims) != 3 {
		t.Fatalf("parts: %+v", e)
	}
	for _, want := range []Part{
		{Name: "kid", Value: json.RawMessage(`"k"`), Meaning: "key ID: ignored, IVS tries every playback key of the account and region"},
		{Name: ClaimChannelARN, Value: json.RawMessage(`"arn:aws:ivs:us-west-2:123456789012:channel/a"`), Meaning: "the channel this token plays: NOT the one given with the flag"},
		{Name: "x", Value: json.RawMessage(`1`), Meaning: "not an IVS claim, ignored"},
	} {
		found := false
		for _, p := range append(e.Header, e.Claims...) {
			if p.Name == want.Name {
				found = true
				if string(p.Value) != string(want.Value) || p.Meaning != want.Meaning {
					t.Errorf("%s: %s %q, want %s %q", p.Name, p.Value, p.Meaning, want.Value, want.Meaning)
				}
			}
		}
		if !found {
			t.Errorf("no %s", want.Name)
		}
	}
	if len(e.Problems) != 3 || e.Problems[0].Code != BadSignatureEncoding || e.Problems[1].Code != ChannelMismatch || e.Problems[2].Code != Expired {
		t.Errorf("problems: %v", e.Problems)
	}
	if e := (&Verifier{}).Explain("not-a-token", "", "", now); e.Token != nil || len(e.Problems) != 1 || e.Problems[0].Code != Malformed {
		t.Errorf("not a token: %+v", e)
	}
}
