package gate

import (
	"bytes"
	"net/http"
	"net/netip"
	"time"
)

// A session lives for SessionLifetime, but each URI a playlist names carries a credential
// that expires CredentialLifetime after that playlist was served. Players reload media
// playlists of a live stream every few seconds, and each reload names its segments again
// with new credentials: a viewer who keeps playing keeps getting fresh ones, and a
// segment, key or part URL that leaks stops working within minutes.
//
// Playlist URIs are the exception: a player reloads the URL the multivariant playlist
// gave it, the same URL for the whole session, so their credentials last until the
// session ends. --session-bind is what makes a leaked playlist URL useless elsewhere.
// A VOD-like playlist (EXT-X-ENDLIST, or PLAYLIST-TYPE VOD) is not reloaded, so its
// segments' credentials also last until the session ends.

// credentials returns the encoded sessions for the URIs of one rewritten playlist: one for
// playlists, one for every other resource.
func (g *Gate) credentials(sess *session, final bool, now time.Time) (playlists, resources string) {
	long := *sess
	long.Expires = sess.End
	playlists = long.encode()
	if final {
		return playlists, playlists
	}
	short := *sess
	short.Expires = min(now.Add(g.cfg.CredentialLifetime).Unix(), sess.End)
	return playlists, short.encode()
}

// isFinalPlaylist reports whether a playlist will not change, so players do not reload it.
func isFinalPlaylist(body []byte) bool {
	return bytes.Contains(body, []byte("#EXT-X-ENDLIST")) || bytes.Contains(body, []byte("#EXT-X-PLAYLIST-TYPE:VOD"))
}

// bindPrefix returns the prefix a new session is bound to ("" when sessions are not
// bound): the client address's first SessionBindIPv4 or SessionBindIPv6 bits.
func (g *Gate) bindPrefix(r *http.Request) string {
	a, ok := g.clientIP(r)
	if !ok {
		return ""
	}
	bits := g.cfg.SessionBindIPv4
	if a.Is6() {
		bits = g.cfg.SessionBindIPv6
	}
	if bits <= 0 {
		return ""
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// checkBind refuses a request of a bound session from outside its prefix.
func (g *Gate) checkBind(r *http.Request, sess *session) *failure {
	if sess.Bind == "" {
		return nil
	}
	p, err := netip.ParsePrefix(sess.Bind)
	a, ok := g.clientIP(r)
	if err == nil && ok && p.Contains(a) {
		return nil
	}
	return &failure{status: http.StatusForbidden, ivsCode: ivsAuthError, code: CodeSessionElsewhere,
		reason: "this playback session belongs to another network address: start again from the channel's playback URL"}
}
