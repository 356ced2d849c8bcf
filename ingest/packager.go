package ingest

import (
	"cmp"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	hlscodecs "github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/playkey/playkey"
)

// playlistName is the multivariant playlist's name in a channel's directory (gohlslib's).
const playlistName = "index.m3u8"

// packager is one stream's HLS muxer: H.264 video and optional AAC audio in, as they
// arrive (no transcoding), HLS or Low-Latency HLS out.
type packager struct {
	muxer      *gohlslib.Muxer
	videoTrack *gohlslib.Track
	audioTrack *gohlslib.Track // nil without audio
	video      VideoConfig
	audio      AudioConfig
	sps, pps   []byte // the latest H.264 parameter sets

	// What arrived, for Server.Stats: written by the publisher's goroutine, read by the
	// Authority's reports.
	lastMedia              atomic.Int64 // unix nanoseconds of the latest access unit
	videoBytes, audioBytes atomic.Int64
	received               *atomic.Uint64 // the Server's count of every stream's bytes
}

// newPackager starts a muxer for an H.264 track (sps, pps) and, when asc is not nil, an
// AAC track. The parameters are checked here, so that a stream the muxer cannot carry is
// refused before it is announced live.
func (s *Server) newPackager(ch Channel, sps, pps []byte, asc *mpeg4audio.AudioSpecificConfig) (*packager, error) {
	var parsed h264.SPS
	if err := parsed.Unmarshal(sps); err != nil {
		return nil, fmt.Errorf("%w: the H.264 sequence parameter set cannot be read: %v", ErrUnsupported, err)
	}
	p := &packager{
		videoTrack: &gohlslib.Track{Codec: &hlscodecs.H264{SPS: sps, PPS: pps}, ClockRate: 90000},
		video: VideoConfig{Codec: fmt.Sprintf("avc1.%02X%02X%02X", sps[1], sps[2], sps[3]), Profile: h264Profile(parsed.ProfileIdc), Level: fmt.Sprintf("%d.%d", parsed.LevelIdc/10, parsed.LevelIdc%10),
			Width: parsed.Width(), Height: parsed.Height(), FrameRate: parsed.FPS()},
		sps:      sps,
		pps:      pps,
		received: &s.received,
	}
	p.lastMedia.Store(time.Now().UnixNano()) // the media that told the tracks came now
	tracks := []*gohlslib.Track{p.videoTrack}
	if asc != nil {
		if asc.Type != mpeg4audio.ObjectTypeAACLC && asc.Type != mpeg4audio.ObjectTypeSBR && asc.Type != mpeg4audio.ObjectTypePS {
			return nil, fmt.Errorf("%w: MPEG-4 audio object type %d; send AAC (LC or HE-AAC)", ErrUnsupported, asc.Type)
		}
		if asc.SampleRate <= 0 {
			return nil, fmt.Errorf("%w: AAC without a sample rate", ErrUnsupported)
		}
		p.audioTrack = &gohlslib.Track{Codec: &hlscodecs.MPEG4Audio{Config: *asc}, ClockRate: asc.SampleRate}
		p.audio = AudioConfig{Codec: "mp4a.40.2", SampleRate: asc.SampleRate, Channels: int(asc.ChannelConfig)}
		tracks = append(tracks, p.audioTrack)
	}
	variant, segment, part := s.variant(ch)
	log := s.log.With("channel", ch.ARN.String())
	p.muxer = &gohlslib.Muxer{
		Tracks:             tracks,
		Variant:            variant,
		SegmentCount:       7,
		SegmentMinDuration: segment,
		PartMinDuration:    part,
		// The default, 50 MB, times the segments kept is too much memory per channel for
		// pass-through video at IVS's highest bitrates (8.5 Mbps: about 2 MB per second).
		SegmentMaxSize: 16 << 20,
		OnEncodeError: func(err error) {
			log.Warn("ingest: packaging error", "err", err)
		},
	}
	if err := p.muxer.Start(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	return p, nil
}

func (p *packager) close() { p.muxer.Close() }

// writeH264 packages an access unit whose presentation time is pts from the start.
// RTMP carries the parameter sets once, out of band; an IDR access unit without them gets
// the latest ones, which the muxer needs in band to read the stream's timing.
func (p *packager) writeH264(arrival time.Time, pts time.Duration, au [][]byte) error {
	hasSPS := false
	for _, nalu := range au {
		if len(nalu) == 0 {
			continue
		}
		switch h264.NALUType(nalu[0] & 0x1f) {
		case h264.NALUTypeSPS:
			p.sps, hasSPS = nalu, true
		case h264.NALUTypePPS:
			p.pps = nalu
		}
	}
	p.count(&p.videoBytes, arrival, au)
	if !hasSPS && h264.IsRandomAccess(au) {
		au = append([][]byte{p.sps, p.pps}, au...)
	}
	return p.muxer.WriteH264(p.videoTrack, arrival, ticks(pts, 90000), au)
}

// writeAAC packages AAC access units; pts is the first one's.
func (p *packager) writeAAC(arrival time.Time, pts time.Duration, aus [][]byte) error {
	if p.audioTrack == nil {
		return nil
	}
	p.count(&p.audioBytes, arrival, aus)
	return p.muxer.WriteMPEG4Audio(p.audioTrack, arrival, ticks(pts, p.audioTrack.ClockRate), aus)
}

// count adds the payload of units to total and notes the arrival.
func (p *packager) count(total *atomic.Int64, arrival time.Time, units [][]byte) {
	n := 0
	for _, u := range units {
		n += len(u)
	}
	total.Add(int64(n))
	p.received.Add(uint64(n))
	p.lastMedia.Store(arrival.UnixNano())
}

// ticks converts d to units of a clock of rate Hz without overflowing for any duration a
// stream's timestamps can hold.
func ticks(d time.Duration, rate int) int64 {
	return int64(d/time.Second)*int64(rate) + int64(d%time.Second)*int64(rate)/int64(time.Second)
}

// ServeHTTP is the HLS origin of this node's live channels: for a channel live here,
// /{region}/{account}/{channel}/index.m3u8 is its multivariant playlist and the same
// directory holds its media playlists, parts and segments; everything else is 404, so
// an offline channel is 404 as on IVS. Playlists are served by gohlslib, with LL-HLS's
// blocking reload.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) != 4 || parts[3] == "" {
		http.NotFound(w, r)
		return
	}
	arn := playkey.ARN{Region: parts[0], Account: parts[1], Type: playkey.TypeChannel, ID: parts[2]}
	s.mu.Lock()
	ls := s.live[arn]
	s.mu.Unlock()
	var p *packager
	if ls != nil {
		p = ls.packager()
	}
	if p == nil {
		http.Error(w, "channel is not live", http.StatusNotFound)
		return
	}
	if cues := ls.cues(); len(cues) > 0 && parts[3] != playlistName && strings.HasSuffix(parts[3], ".m3u8") {
		buf := &playlistBuffer{header: w.Header()}
		p.muxer.Handle(buf, r)
		body := buf.body.Bytes()
		if buf.status == 0 && len(body) == 0 {
			http.NotFound(w, r)
			return
		}
		if buf.status == 0 || buf.status == http.StatusOK {
			body = withDateRanges(body, cues)
		}
		w.WriteHeader(cmp.Or(buf.status, http.StatusOK))
		w.Write(body)
		return
	}
	// gohlslib answers nothing for a name it does not serve; that is a 404 here.
	rec := &answered{ResponseWriter: w}
	p.muxer.Handle(rec, r)
	if !rec.wrote {
		http.NotFound(w, r)
	}
}

// answered records whether a handler answered at all.
type answered struct {
	http.ResponseWriter
	wrote bool
}

func (a *answered) WriteHeader(code int) {
	a.wrote = true
	a.ResponseWriter.WriteHeader(code)
}

func (a *answered) Write(b []byte) (int, error) {
	a.wrote = true
	return a.ResponseWriter.Write(b)
}

func (a *answered) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// h264Profile names a profile_idc as IVS's ingest configurations do.
func h264Profile(idc uint8) string {
	switch idc {
	case 66:
		return "Baseline"
	case 77:
		return "Main"
	case 88:
		return "Extended"
	case 100:
		return "High"
	case 110:
		return "High 10"
	case 122:
		return "High 4:2:2"
	case 244:
		return "High 4:4:4"
	}
	return fmt.Sprintf("profile %d", idc)
}
