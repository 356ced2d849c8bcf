package gate

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Heights that aws:maximum-resolution allows, in lines.
var maxHeights = map[string]int{"SD": 480, "HD": 720, "FULL_HD": 1080}

// uriTags are the tags whose URI attribute names a resource (RFC 8216bis). Other tags are
// copied unchanged.
var uriTags = map[string]bool{
	"#EXT-X-MEDIA":              true,
	"#EXT-X-I-FRAME-STREAM-INF": true,
	"#EXT-X-KEY":                true,
	"#EXT-X-SESSION-KEY":        true,
	"#EXT-X-MAP":                true,
	"#EXT-X-PART":               true,
	"#EXT-X-PRELOAD-HINT":       true,
	"#EXT-X-RENDITION-REPORT":   true,
	"#EXT-X-SESSION-DATA":       true,
}

// playlistInfo describes what rewritePlaylist did.
type playlistInfo struct {
	Variants int // EXT-X-STREAM-INF entries kept
	Removed  int // variant and I-frame streams removed by the resolution limit
}

var (
	errNotPlaylist   = errors.New("not an HLS playlist: the first line is not #EXTM3U")
	errNoRenditions  = errors.New("every variant stream is above the resolution limit")
	errPlaylistLines = errors.New("too many lines")
)

// maxPlaylistLines bounds the work one playlist can cause.
const maxPlaylistLines = 200_000

// rewritePlaylist returns src with every resource URI replaced by uri(u): the line after
// each EXT-X-STREAM-INF, every other non-tag line (segments), and the URI attribute of the
// tags in uriTags. With maxHeight > 0 it removes the variant streams and I-frame streams
// whose RESOLUTION is taller than maxHeight lines (of width and height, the smaller counts,
// so a portrait 1080x1920 stream is 1080p) or cannot be read, and every EXT-X-RENDITION-REPORT, since a
// report may name a removed rendition, and the EXT-X-MEDIA renditions of groups that only
// removed streams use (see renditionGroups). A stream without RESOLUTION is kept. Lines end in
// "\n" in the result, whatever they ended in before.
func rewritePlaylist(src []byte, maxHeight int, uri func(string) (string, error)) ([]byte, playlistInfo, error) {
	t, info, err := compilePlaylist(src, maxHeight, func(ref string) (slot, error) {
		u, err := uri(ref)
		return slot{lit: u}, err
	})
	if err != nil {
		return nil, info, err
	}
	return t.lit, info, nil
}

// A playlistTemplate is a playlist parsed once for many sessions: its bytes with every
// resource URI taken out, and for each a slot that a session's credential fills in (see
// Gate.render). The origin's playlist is the same for every viewer; only the credentials
// differ, so rewriting it per session is copying and one MAC per URI.
type playlistTemplate struct {
	lit   []byte // the playlist, without the slots' URIs
	slots []slot
	// final says the playlist will not change (see isFinalPlaylist).
	final bool
	// relBytes, playlists and resources size a rendering before it is made.
	relBytes             int
	playlists, resources int
}

// slot is where a URI goes in a template: at offset at of lit, either lit (a URI kept or
// replaced as is) or the session URL of rel, an origin-relative path and query.
type slot struct {
	at       int
	lit      string
	rel      string
	playlist bool // rel names a playlist: its credential lasts the session
}

// compilePlaylist parses src as rewritePlaylist describes, asking ref what each URI becomes.
// A slot ref returns with a rel is kept as a slot; one with only lit is written in place.
func compilePlaylist(src []byte, maxHeight int, ref func(string) (slot, error)) (*playlistTemplate, playlistInfo, error) {
	var info playlistInfo
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	if !bytes.HasPrefix(src, []byte("#EXTM3U")) || (len(src) > 7 && !isLineEnd(src[7])) {
		return nil, info, errNotPlaylist
	}
	t := &playlistTemplate{final: isFinalPlaylist(src)}
	var groups renditionGroups
	if maxHeight > 0 {
		groups = scanGroups(src, maxHeight)
	}
	out := make([]byte, 0, len(src))
	place := func(s slot, quoted bool) error {
		if s.rel == "" {
			if quoted && strings.ContainsAny(s.lit, "\"\r\n") {
				return fmt.Errorf("rewritten URI %q cannot be quoted", s.lit)
			}
			out = append(out, s.lit...)
			return nil
		}
		if quoted && strings.ContainsAny(s.rel, "\"\r\n") {
			return fmt.Errorf("rewritten URI %q cannot be quoted", s.rel)
		}
		s.at, s.lit = len(out), ""
		t.slots = append(t.slots, s)
		t.relBytes += len(s.rel)
		if s.playlist {
			t.playlists++
		} else {
			t.resources++
		}
		return nil
	}
	skipURI := false // the next URI line belongs to a removed variant
	for n := 0; len(src) > 0; n++ {
		if n >= maxPlaylistLines {
			return nil, info, errPlaylistLines
		}
		var line []byte
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			line, src = src, nil
		}
		// Lines are read trimmed, so that what is a tag and what is a URI does not depend on
		// stray blanks (a player may trim them).
		s := strings.TrimSpace(string(line))
		switch {
		case s == "":
		case strings.HasPrefix(s, "#EXT"):
			name, attrs, _ := strings.Cut(s, ":")
			if name == "#EXT-X-STREAM-INF" {
				if maxHeight > 0 && tooTall(attrs, maxHeight) {
					info.Removed++
					skipURI = true
					continue
				}
				info.Variants++
				out = append(out, s...)
				break
			}
			if !uriTags[name] {
				out = append(out, s...)
				break
			}
			if maxHeight > 0 {
				if name == "#EXT-X-RENDITION-REPORT" {
					continue
				}
				if name == "#EXT-X-I-FRAME-STREAM-INF" && tooTall(attrs, maxHeight) {
					info.Removed++
					continue
				}
				if name == "#EXT-X-MEDIA" && groups.removes(attrs) {
					continue
				}
			}
			start, end, err := uriAttrRange(attrs)
			if err != nil {
				return nil, info, fmt.Errorf("%s: %w", name, err)
			}
			out = append(out, name...)
			out = append(out, ':')
			if start < 0 {
				out = append(out, attrs...)
				break
			}
			out = append(out, attrs[:start]...)
			sl, err := ref(attrs[start:end])
			if err == nil {
				err = place(sl, true)
			}
			if err != nil {
				return nil, info, fmt.Errorf("%s: %w", name, err)
			}
			out = append(out, attrs[end:]...)
		case s[0] == '#': // a comment
			out = append(out, s...)
		default: // a URI: a variant playlist after EXT-X-STREAM-INF, else a segment
			if skipURI {
				skipURI = false
				continue
			}
			sl, err := ref(s)
			if err == nil {
				err = place(sl, false)
			}
			if err != nil {
				return nil, info, err
			}
		}
		out = append(out, '\n')
	}
	if info.Removed > 0 && info.Variants == 0 {
		return nil, info, errNoRenditions
	}
	t.lit = out
	return t, info, nil
}

func isLineEnd(c byte) bool { return c == '\n' || c == '\r' }

// tooTall reports whether an attribute list has a RESOLUTION taller than maxHeight. It
// fails closed: an attribute list it cannot read, or a RESOLUTION that is not WxH, counts
// as too tall.
func tooTall(attrs string, maxHeight int) bool {
	list, err := parseAttrs(attrs)
	if err != nil {
		return true
	}
	for _, a := range list {
		if a.name != "RESOLUTION" {
			continue
		}
		w, h, ok := strings.Cut(attrs[a.start:a.end], "x")
		wi, err1 := strconv.Atoi(w)
		hi, err2 := strconv.Atoi(h)
		if !ok || err1 != nil || err2 != nil || a.quoted {
			return true
		}
		return min(wi, hi) > maxHeight
	}
	return false
}

// attr is one NAME=VALUE of an attribute list; start and end delimit the value in the list,
// without the quotes of a quoted string.
type attr struct {
	name       string
	start, end int
	quoted     bool
}

// parseAttrs splits an attribute list (RFC 8216bis 4.2): NAME=VALUE pairs separated by
// commas, where NAME is [A-Z0-9-]+ and a quoted-string value may hold commas.
func parseAttrs(s string) ([]attr, error) {
	var list []attr
	i := 0
	for i < len(s) {
		eq := strings.IndexByte(s[i:], '=')
		if eq <= 0 {
			return nil, fmt.Errorf("attribute without a value at byte %d", i)
		}
		name := s[i : i+eq]
		for j := 0; j < len(name); j++ {
			if c := name[j]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return nil, fmt.Errorf("bad attribute name %q", name)
			}
		}
		i += eq + 1
		a := attr{name: name}
		if i < len(s) && s[i] == '"' {
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quoted string in %s", name)
			}
			a.start, a.end, a.quoted = i+1, i+1+end, true
			i += end + 2
		} else {
			end := strings.IndexByte(s[i:], ',')
			if end < 0 {
				end = len(s) - i
			}
			a.start, a.end = i, i+end
			i += end
		}
		list = append(list, a)
		if i < len(s) {
			if s[i] != ',' {
				return nil, fmt.Errorf("expected ',' after %s", name)
			}
			i++
		}
	}
	return list, nil
}

// uriAttrRange returns where the value of the URI attribute of an attribute list starts and
// ends, or -1, -1 when it has none.
func uriAttrRange(attrs string) (start, end int, err error) {
	list, err := parseAttrs(attrs)
	if err != nil {
		return 0, 0, err
	}
	for _, a := range list {
		if a.name != "URI" {
			continue
		}
		if !a.quoted {
			return 0, 0, errors.New("URI is not a quoted string")
		}
		return a.start, a.end, nil
	}
	return -1, -1, nil
}
