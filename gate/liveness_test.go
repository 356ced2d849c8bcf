package gate

import (
	"testing"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/token"
)

func (m *memState) deleteChannel(arn playkey.ARN) {
	m.mu.Lock()
	delete(m.channels, arn)
	m.mu.Unlock()
}

func TestDeletedChannelEndsSessions(t *testing.T) {
	h := newHarness(t)
	mv := h.play(h.sign(token.Claims{}))
	variant := find(t, mv.body, "360p/index.m3u8")
	seg := find(t, h.get(variant).body, "seg1.m4s")
	h.state.deleteChannel(h.private)
	d := eventually(t, "a deleted channel's session refused", func() bool { return h.get(seg).StatusCode == 403 })
	t.Logf("refused %v after the deletion", d)
	wantRefused(t, h.get(variant), 403, ivsAuthError, CodeChannelNotFound)

	// A gate started after the deletion refuses the session at once.
	h2 := newHarness(t, func(c *Config) { c.State = h.state })
	wantRefused(t, h2.get(variant), 403, ivsAuthError, CodeChannelNotFound)
}

func TestChannelMadePrivateEndsAnonymousSessions(t *testing.T) {
	h := newHarness(t)
	anon := find(t, h.get(playbackPath(h.public)).body, "360p/index.m3u8")
	h.setPrivateToPublic(t)
	h.state.setChannel(h.public, Channel{Authorized: true})
	eventually(t, "an anonymous session of a channel made private refused", func() bool { return h.get(anon).StatusCode == 403 })
	wantRefused(t, h.get(anon), 403, ivsAuthError, CodeMissingToken)
}

// setPrivateToPublic makes the private channel public and checks that a session started
// with a token goes on playing: its viewer had one.
func (h *harness) setPrivateToPublic(t *testing.T) {
	t.Helper()
	withToken := find(t, h.play(h.sign(token.Claims{})).body, "360p/index.m3u8")
	h.state.setChannel(h.private, Channel{})
	h.gate.ChannelChanged(h.private)
	if r := h.get(withToken); r.StatusCode != 200 {
		t.Fatalf("a token's session on a channel made public: %s %s", r.Status, r.body)
	}
}
