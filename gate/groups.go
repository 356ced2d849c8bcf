package gate

import (
	"bytes"
	"strings"
)

// groupRefs are the stream attributes that name a rendition group, by the TYPE of the
// EXT-X-MEDIA tags of that group (RFC 8216bis 4.4.6.2).
var groupRefs = map[string]string{"AUDIO": "AUDIO", "VIDEO": "VIDEO", "SUBTITLES": "SUBTITLES", "CLOSED-CAPTIONS": "CLOSED-CAPTIONS"}

// renditionGroups records which rendition groups the kept and the removed streams of a
// multivariant playlist use, so that a group only removed streams use (a 1080p VIDEO
// group behind an SD limit) is removed with them and its URIs are never signed.
type renditionGroups struct {
	kept, removed map[string]bool // TYPE + "\x00" + GROUP-ID
}

// scanGroups reads the streams of src and which groups each uses, deciding kept and
// removed as rewritePlaylist does.
func scanGroups(src []byte, maxHeight int) renditionGroups {
	g := renditionGroups{kept: map[string]bool{}, removed: map[string]bool{}}
	for line := range bytes.SplitSeq(src, []byte("\n")) {
		s := strings.TrimSpace(string(line))
		name, attrs, _ := strings.Cut(s, ":")
		if name != "#EXT-X-STREAM-INF" && name != "#EXT-X-I-FRAME-STREAM-INF" {
			continue
		}
		into := g.kept
		if tooTall(attrs, maxHeight) {
			into = g.removed
		}
		list, err := parseAttrs(attrs)
		if err != nil {
			continue // removed as too tall, which fails closed
		}
		for _, a := range list {
			if typ, ok := groupRefs[a.name]; ok {
				into[typ+"\x00"+attrs[a.start:a.end]] = true
			}
		}
	}
	return g
}

// removes reports whether an EXT-X-MEDIA tag belongs to a group that only removed streams
// use. A VIDEO rendition is removed unless a kept stream uses its group, since its
// resolution is not stated on the tag; other renditions (audio, subtitles) unless a
// removed stream uses the group and no kept one does.
func (g renditionGroups) removes(attrs string) bool {
	list, err := parseAttrs(attrs)
	if err != nil {
		return false // rewriteURIAttr refuses it
	}
	var typ, id string
	for _, a := range list {
		switch a.name {
		case "TYPE":
			typ = attrs[a.start:a.end]
		case "GROUP-ID":
			id = attrs[a.start:a.end]
		}
	}
	k := typ + "\x00" + id
	if typ == "VIDEO" {
		return !g.kept[k]
	}
	return g.removed[k] && !g.kept[k]
}
