package gate

import "testing"

func TestPolicyListingNullOrigin(t *testing.T) {
	h := newHarness(t)
	h.state.setChannel(h.public, Channel{Policy: &Policy{AllowedOrigins: []string{"null"}, StrictOriginEnforcement: true}})
	r := h.get(playbackPath(h.public), "Origin", "null")
	if r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != "null" {
		t.Fatalf("Origin: null under a policy listing null: %s, ACAO %q", r.Status, r.Header.Get("Access-Control-Allow-Origin"))
	}
	if r := h.get(find(t, r.body, "360p/index.m3u8"), "Origin", "null"); r.StatusCode != 200 {
		t.Errorf("the session's variant playlist: %s", r.Status)
	}
	wantRefused(t, h.get(playbackPath(h.public), "Origin", "https://a.example"), 403, ivsRestricted, CodeOriginNotAllowed)
}
