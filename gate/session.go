package gate

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"strings"
	"sync"

	"github.com/playkey/playkey"
)

// session is what a playback session carries from the multivariant playlist to every later
// request. It travels in the URL path, signed; it is never stored.
type session struct {
	ID [8]byte // random, for logs
	// Expires ends this credential (unix seconds): minutes after the playlist that named
	// the URI was served, so a leaked segment URL soon stops working, while a player that
	// keeps reloading its playlists gets new ones. End ends the session (SessionLifetime
	// after it started); no credential outlives it.
	Expires   int64
	End       int64
	Region    string
	Account   string
	ChannelID string
	// ViewerID and Version come from aws:viewer-id and aws:viewer-session-version; with a
	// viewer ID, every request checks the revocations.
	ViewerID string
	Version  int64
	// MaxHeight is the resolution limit in lines (480, 720, 1080), 0 for none. It is
	// enforced when playlists are rewritten: URIs of removed renditions are never signed.
	MaxHeight int
	// Origins are the allowed origins (nil: all); Strict requires a matching Origin header
	// on every request.
	Origins []string
	Strict  bool
	// Policy says that Origins and Strict come from a public channel's playback
	// restriction policy rather than from a token, so that refusals name the right rule.
	Policy bool
	// Anonymous says that the session started on a public channel, without a token: it
	// ends if the channel is made private.
	Anonymous bool
	// Bind is the client address prefix the session is bound to (--session-bind), ""
	// for none.
	Bind string
}

const (
	sessionFormat   = 2
	flagStrict      = 1 << 0
	flagHasOrigins  = 1 << 1
	flagPolicy      = 1 << 2
	flagAnonymous   = 1 << 3
	macSize         = 16
	maxSessionBytes = 2048 // encoded, before base64: five long origins fit many times
	macContext      = "playkey-gate session v1\x00"
)

func (s *session) channelARN() string {
	return playkey.ARN{Region: s.Region, Account: s.Account, Type: playkey.TypeChannel, ID: s.ChannelID}.String()
}

func (s *session) idString() string { return hex.EncodeToString(s.ID[:]) }

func newSessionID() (id [8]byte) {
	rand.Read(id[:])
	return id
}

// encode returns the session in its URL form: unpadded base64url of a versioned binary
// layout.
func (s *session) encode() string {
	b := make([]byte, 0, 96)
	b = append(b, sessionFormat)
	var flags byte
	if s.Strict {
		flags |= flagStrict
	}
	if s.Origins != nil {
		flags |= flagHasOrigins
	}
	if s.Policy {
		flags |= flagPolicy
	}
	if s.Anonymous {
		flags |= flagAnonymous
	}
	b = append(b, flags)
	b = append(b, s.ID[:]...)
	b = binary.AppendVarint(b, s.Expires)
	b = binary.AppendVarint(b, s.End)
	b = binary.AppendUvarint(b, uint64(s.MaxHeight))
	b = binary.AppendVarint(b, s.Version)
	for _, f := range []string{s.Region, s.Account, s.ChannelID, s.ViewerID, strings.Join(s.Origins, ","), s.Bind} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadSession = errors.New("malformed session")

// decodeSession parses what encode wrote. It does not check the MAC: callers do that first.
func decodeSession(enc string) (*session, error) {
	if len(enc) > base64.RawURLEncoding.EncodedLen(maxSessionBytes) {
		return nil, errBadSession
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(enc)
	if err != nil || len(b) < 2+8 || b[0] != sessionFormat {
		return nil, errBadSession
	}
	s := &session{}
	flags := b[1]
	copy(s.ID[:], b[2:10])
	b = b[10:]
	var n int
	if s.Expires, n = binary.Varint(b); n <= 0 {
		return nil, errBadSession
	}
	b = b[n:]
	if s.End, n = binary.Varint(b); n <= 0 {
		return nil, errBadSession
	}
	b = b[n:]
	h, n := binary.Uvarint(b)
	if n <= 0 || h > 1<<20 {
		return nil, errBadSession
	}
	s.MaxHeight, b = int(h), b[n:]
	if s.Version, n = binary.Varint(b); n <= 0 {
		return nil, errBadSession
	}
	b = b[n:]
	fields := make([]string, 6)
	for i := range fields {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return nil, errBadSession
		}
		fields[i] = string(b[n : n+int(l)])
		b = b[n+int(l):]
	}
	if len(b) != 0 {
		return nil, errBadSession
	}
	s.Region, s.Account, s.ChannelID, s.ViewerID, s.Bind = fields[0], fields[1], fields[2], fields[3], fields[5]
	s.Strict = flags&flagStrict != 0
	s.Policy = flags&flagPolicy != 0
	s.Anonymous = flags&flagAnonymous != 0
	if flags&flagHasOrigins != 0 {
		s.Origins = strings.Split(fields[4], ",")
	}
	// One session, one spelling: unknown flags and non-minimal numbers are refused.
	if s.encode() != enc {
		return nil, errBadSession
	}
	return s, nil
}

// signer computes the MACs that bind a session to the URIs it may fetch.
type signer struct {
	key []byte
	// macs, when set, keeps keyed hashes between requests: keying one costs two SHA-256
	// blocks and allocations that every admitted request would otherwise pay.
	macs *sync.Pool
}

func newSigner(key []byte) signer {
	return signer{key: key, macs: &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

// mac returns the MAC of the encoded session and one origin-relative URI (path and query,
// escaped, as it appears in the rewritten playlist).
func (sg signer) mac(encSession, rel string) []byte {
	var h hash.Hash
	if sg.macs != nil {
		h = sg.macs.Get().(hash.Hash)
		h.Reset()
		defer sg.macs.Put(h)
	} else {
		h = hmac.New(sha256.New, sg.key)
	}
	io.WriteString(h, macContext)
	io.WriteString(h, encSession)
	h.Write([]byte{0})
	io.WriteString(h, rel)
	return h.Sum(nil)[:macSize]
}

// macSet computes the MACs of many URIs for one encoded session, reusing one keyed hash.
type macSet struct {
	h       hash.Hash
	prefix  []byte // macContext, the session, 0
	scratch []byte
	sum     [sha256.Size]byte
}

func (sg signer) macSet(encSession string) *macSet {
	return &macSet{h: hmac.New(sha256.New, sg.key), prefix: []byte(macContext + encSession + "\x00")}
}

// appendCredential appends what credential returns for rel.
func (m *macSet) appendCredential(b []byte, encSession, rel string) []byte {
	m.h.Reset()
	m.h.Write(m.prefix)
	m.scratch = append(m.scratch[:0], rel...)
	m.h.Write(m.scratch)
	sum := m.h.Sum(m.sum[:0])
	b = append(b, encSession...)
	b = append(b, '.')
	return base64.RawURLEncoding.AppendEncode(b, sum[:macSize])
}

// credentialLen is the length of a credential of an encoded session.
func credentialLen(encSession string) int {
	return len(encSession) + 1 + base64.RawURLEncoding.EncodedLen(macSize)
}

// credential returns "{session}.{mac}" for one URI.
func (sg signer) credential(encSession, rel string) string {
	return encSession + "." + base64.RawURLEncoding.EncodeToString(sg.mac(encSession, rel))
}

// check verifies a credential for rel and returns its session.
func (sg signer) check(cred, rel string) (*session, error) {
	enc, m, ok := strings.Cut(cred, ".")
	if !ok {
		return nil, errBadSession
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(m)
	if err != nil || len(got) != macSize {
		return nil, errBadSession
	}
	if !hmac.Equal(got, sg.mac(enc, rel)) {
		return nil, errBadSession
	}
	return decodeSession(enc)
}
