package gate

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// A session lives for SessionLifetime, but its URLs work only while the session is in
// use: each stops working CredentialLifetime after the session's last request, so a URL
// that leaks (a playlist's included) is useless minutes after its viewer stopped.
//
// The URLs cannot simply be renewed. hls.js and Safari reload the media playlist URL the
// multivariant playlist gave them for the whole session (hls.js follows a redirect but
// reloads the original URL next time), and no tag lets a playlist name its own successor.
// Nor may a segment's URL change from one reload to the next: hls.js (1.6 and later) reads
// a changed path for the same media sequence number as a broken live playlist
// (levelParsingError "media sequence mismatch") and stops playing. So every URL of a
// session is the same in every reload, with a credential that expires CredentialLifetime
// after the session started, and the gate remembers, per session, until when it stays open:
// every admitted request moves that to CredentialLifetime later (sliding expiry). A
// credential past its expiry is admitted while its session is open.
//
// A VOD-like playlist (EXT-X-ENDLIST, or PLAYLIST-TYPE VOD) is not reloaded and a viewer
// may pause it for long, so its segments' credentials last until the session ends;
// fetching them opens the session again, so after a pause the player can still load
// another rendition's playlist.
//
// The memory is each gate's own: a gate that has served none of a session's requests for
// CredentialLifetime (a new node behind a load balancer, a restarted gate) refuses its
// expired URLs, and the player must start again from the playback URL.

// credentials returns the encoded sessions for the URIs of one rewritten playlist: one for
// playlists, one for every other resource. Both depend only on the session, so that a
// URI is the same in every reload; final says the playlist will not change (VOD).
func (g *Gate) credentials(sess *session, final bool) (playlists, resources string) {
	s := *sess
	started := sess.End - int64(g.cfg.SessionLifetime/time.Second)
	s.Expires = min(started+int64(g.cfg.CredentialLifetime/time.Second), sess.End)
	playlists = s.encode()
	if !final {
		return playlists, playlists
	}
	s.Expires = sess.End
	return playlists, s.encode()
}

// isFinalPlaylist reports whether a playlist will not change, so players do not reload it.
func isFinalPlaylist(body []byte) bool {
	return bytes.Contains(body, []byte("#EXT-X-ENDLIST")) || bytes.Contains(body, []byte("#EXT-X-PLAYLIST-TYPE:VOD"))
}

// maxOpenSessions bounds the sessions a gate remembers as open: about 50 bytes each, so at
// most about 50 MB. Past it, a new session is not remembered and its playlist URLs work
// only until their credentials expire.
const maxOpenSessions = 1 << 20

// openSessions remembers until when each recently used session stays open (unix seconds).
// Only sessions whose credential the gate has verified get an entry, and entries past
// their time are swept, so it holds at most the sessions used within CredentialLifetime.
type openSessions struct {
	mu        sync.Mutex
	until     map[uint64]openSession
	max       int
	lastSweep int64
	every     int64 // seconds between routine sweeps: CredentialLifetime
	full      bool  // a session was not remembered since the last sweep
}

// openSession is a remembered session: until when it is open, and its channel's origin,
// which names the channel for the count of active sessions per channel (nil in tests).
type openSession struct {
	until int64
	co    *channelOrigin
}

func newOpenSessions(limit int, lifetime time.Duration) *openSessions {
	return &openSessions{until: make(map[uint64]openSession), max: limit, every: max(int64(lifetime/time.Second), 1)}
}

func sessionKey(id [8]byte) uint64 { return binary.LittleEndian.Uint64(id[:]) }

// isOpen reports whether the session id was used recently enough to be open at now.
func (o *openSessions) isOpen(id [8]byte, now int64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return now < o.until[sessionKey(id)].until
}

// extend keeps the session id open until until (if that is later than before). When the
// table is full the session is not remembered, and extend reports whether that is the
// first such session since the last sweep (to be logged once, not once a request).
func (o *openSessions) extend(id [8]byte, co *channelOrigin, until, now int64) (firstDropped bool) {
	k := sessionKey(id)
	o.mu.Lock()
	defer o.mu.Unlock()
	if now-o.lastSweep >= o.every || (len(o.until) >= o.max && now > o.lastSweep) {
		o.sweep(now)
	}
	if u, ok := o.until[k]; ok {
		if until > u.until {
			o.until[k] = openSession{until: until, co: u.co}
		}
		return false
	}
	if len(o.until) >= o.max {
		firstDropped, o.full = !o.full, true
		return firstDropped
	}
	o.until[k] = openSession{until: until, co: co}
	return false
}

// sweep forgets the sessions closed at now. A full table sweeps at most once a second, so
// that requests cannot make every insertion cost a pass over it.
func (o *openSessions) sweep(now int64) {
	for k, u := range o.until {
		if now >= u.until {
			delete(o.until, k)
		}
	}
	o.lastSweep = now
	o.full = false
}

// active returns how many sessions are open at now, in all and per channel ARN (sessions
// without a channel, from tests, are in the total only). It walks the whole table, under
// the lock: it is for a metrics scrape, every few seconds at most.
func (o *openSessions) active(now int64) (int, map[string]int) {
	per := make(map[string]int)
	total := 0
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.until {
		if now < s.until {
			total++
			if s.co != nil {
				per[s.co.arn]++
			}
		}
	}
	return total, per
}

func (o *openSessions) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.until)
}

// expired reports whether a request authenticated by sess comes too late: the session
// has ended, or its credential has expired and the session is no longer open.
func (g *Gate) expired(sess *session, now time.Time) bool {
	t := now.Unix()
	switch {
	case t >= sess.End:
		return true
	case t < sess.Expires:
		return false
	}
	return !g.open.isOpen(sess.ID, t)
}

// keepOpen records an admitted request of sess: the session stays open for
// CredentialLifetime more.
func (g *Gate) keepOpen(sess *session, co *channelOrigin, now time.Time) {
	until := min(now.Add(g.cfg.CredentialLifetime).Unix(), sess.End)
	if g.open.extend(sess.ID, co, until, now.Unix()) {
		g.log.Warn("gate: too many open sessions to remember; new sessions' playlist URLs expire with their credentials until old ones close", "max", g.open.max)
	}
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
