package ingest

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/playkey/playkey"
)

// Timed metadata (PutMetadata) reaches players as EXT-X-DATERANGE tags in the channel's
// media playlists, not as ID3 in the segments as on IVS: gohlslib v2.2.4's muxer carries
// only audio and video tracks (no ID3 or emsg), and playlists are where an origin can add
// a timed event without touching the media. hls.js turns each tag into a cue of its
// "metadata" text track (value {key: "X-PAYLOAD", data}), as Safari does natively.

// MetadataClass is the CLASS of the EXT-X-DATERANGE tags that carry PutMetadata payloads.
const MetadataClass = "com.playkey.metadata"

// metadataKept bounds what a stream keeps: cues older than the oldest segment a playlist
// can list are of no use, and at 5 calls a second a minute is 300 cues of at most 1 KB.
const (
	metadataKeep    = time.Minute
	metadataMaxCues = 300
)

// metadataCue is one PutMetadata payload, at its arrival on this node.
type metadataCue struct {
	id      string
	at      time.Time
	payload string
}

// PutMetadata adds payload to the live stream of channel as timed metadata at the current
// time; ChannelNotBroadcasting when the channel is not live on this node.
func (s *Server) PutMetadata(channel playkey.ARN, payload string) error {
	s.mu.Lock()
	ls := s.live[channel]
	s.mu.Unlock()
	if ls == nil || ls.packager() == nil {
		return playkey.NotBroadcasting(channel)
	}
	now := time.Now()
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.metaSeq++
	cues := append(ls.meta, metadataCue{id: fmt.Sprintf("playkey-metadata-%d", ls.metaSeq), at: now, payload: payload})
	for len(cues) > 0 && (len(cues) > metadataMaxCues || now.Sub(cues[0].at) > metadataKeep) {
		cues = cues[1:]
	}
	ls.meta = cues
	return nil
}

// cues returns the stream's metadata cues, oldest first.
func (ls *liveStream) cues() []metadataCue {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.meta
}

// playlistBuffer holds a media playlist gohlslib writes (in one Write after its header),
// for the metadata to be added before it goes out.
type playlistBuffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *playlistBuffer) Header() http.Header         { return b.header }
func (b *playlistBuffer) WriteHeader(code int)        { b.status = code }
func (b *playlistBuffer) Write(p []byte) (int, error) { return b.body.Write(p) }

// withDateRanges returns the media playlist with an EXT-X-DATERANGE tag for each cue no
// older than its first segment, placed before its first segment's tags (where hls.js and
// Safari read them; the playlist has EXT-X-PROGRAM-DATE-TIME, which DATERANGE needs).
func withDateRanges(playlist []byte, cues []metadataCue) []byte {
	lines := strings.SplitAfter(string(playlist), "\n")
	at := -1
	var first time.Time
	for i, l := range lines {
		if at < 0 && (strings.HasPrefix(l, "#EXT-X-MAP") || strings.HasPrefix(l, "#EXT-X-PROGRAM-DATE-TIME") ||
			strings.HasPrefix(l, "#EXTINF") || strings.HasPrefix(l, "#EXT-X-PART:")) {
			at = i
		}
		if v, ok := strings.CutPrefix(l, "#EXT-X-PROGRAM-DATE-TIME:"); ok {
			first, _ = time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
			break
		}
	}
	if at < 0 || first.IsZero() {
		return playlist // no segment yet, or no times to place cues by
	}
	var tags strings.Builder
	for _, c := range cues {
		if c.at.Before(first) {
			continue
		}
		fmt.Fprintf(&tags, "#EXT-X-DATERANGE:ID=%q,CLASS=%q,START-DATE=%q,X-PAYLOAD=\"%s\"\n",
			c.id, MetadataClass, c.at.UTC().Format("2006-01-02T15:04:05.000Z"), escapePayload(c.payload))
	}
	if tags.Len() == 0 {
		return playlist
	}
	out := make([]byte, 0, len(playlist)+tags.Len())
	out = append(out, strings.Join(lines[:at], "")...)
	out = append(out, tags.String()...)
	out = append(out, strings.Join(lines[at:], "")...)
	return out
}

// escapePayload makes any text a quoted-string of HLS (which cannot hold '"', CR or LF):
// those and '%' are percent-escaped, so that decodeURIComponent gives the payload back.
func escapePayload(s string) string {
	return strings.NewReplacer("%", "%25", `"`, "%22", "\r", "%0D", "\n", "%0A").Replace(s)
}
