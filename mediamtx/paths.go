package mediamtx

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/playkey/playkey/ingest"
)

// pathList is GET /v3/paths/list (MediaMTX's defs.APIPathList).
type pathList struct {
	PageCount int    `json:"pageCount"`
	Items     []path `json:"items"`
}

// path is what playkey reads of a MediaMTX path (defs.APIPath; all of these members are
// there since v1.17).
type path struct {
	Name      string      `json:"name"`
	Available bool        `json:"available"` // a publisher's tracks are known: readers may read
	Source    *pathSource `json:"source"`
	Tracks    []track     `json:"tracks2"`
	Inbound   uint64      `json:"inboundBytes"`
}

type track struct {
	Codec string          `json:"codec"`
	Props json.RawMessage `json:"codecProps"`
}

type pathSource struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// MediaMTX's track labels (internal/formatlabel).
const (
	labelH264 = "H264"
	labelAAC  = "MPEG-4 Audio"
)

// tracks describes a path's input as the embedded ingest describes its own, or says why it
// is refused: one H.264 video track and at most one AAC audio track, as IVS takes.
func (p *path) tracks() (ingest.VideoConfig, ingest.AudioConfig, error) {
	var v ingest.VideoConfig
	var a ingest.AudioConfig
	var others []string
	for _, t := range p.Tracks {
		switch {
		case t.Codec == labelH264 && v.Codec == "":
			var props struct {
				Width, Height  int
				Profile, Level string
			}
			json.Unmarshal(t.Props, &props) // absent properties are left empty
			// MediaMTX names the profile but not the constraint flags of RFC 6381's
			// avc1.PPCCLL, so the codec is given without them.
			v = ingest.VideoConfig{Codec: "avc1", Profile: props.Profile, Level: props.Level, Width: props.Width, Height: props.Height}
		case t.Codec == labelAAC && a.Codec == "":
			var props struct{ SampleRate, ChannelCount int }
			json.Unmarshal(t.Props, &props)
			a = ingest.AudioConfig{Codec: "mp4a.40.2", SampleRate: props.SampleRate, Channels: props.ChannelCount}
		default:
			others = append(others, t.Codec)
		}
	}
	switch {
	case len(others) > 0:
		return v, a, fmt.Errorf("the input carries %s; IVS takes one H.264 video track and one AAC audio track", strings.Join(others, ", "))
	case v.Codec == "":
		return v, a, fmt.Errorf("the input has no H.264 video")
	}
	return v, a, nil
}

// protocol is the stream's ingest protocol as the API reports it, from the kind of
// connection publishing.
func (s *pathSource) protocol() string {
	switch s.Type {
	case "rtmpConn":
		return "rtmp"
	case "rtmpsConn":
		return "rtmps"
	case "srtConn":
		return "srt"
	case "rtspSession":
		return "rtsp"
	case "rtspsSession":
		return "rtsps"
	case "webRTCSession":
		return "webrtc"
	}
	return ""
}

// kickPath is the API collection whose kick/{id} disconnects the source, or "" for a source
// that is not a publisher's connection.
func (s *pathSource) kickPath() string {
	switch s.Type {
	case "rtmpConn":
		return "rtmpconns"
	case "rtmpsConn":
		return "rtmpsconns"
	case "srtConn":
		return "srtconns"
	case "rtspSession":
		return "rtspsessions"
	case "rtspsSession":
		return "rtspssessions"
	case "webRTCSession":
		return "webrtcsessions"
	}
	return ""
}
