package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

// ServeRTMP accepts publishers on ln until ln or the server is closed: RTMP, or RTMPS
// when ln is a TLS listener (proto names it in logs and streams: "rtmp" or "rtmps"). A
// publisher streams to /app/{stream key}, as on IVS.
func (s *Server) ServeRTMP(ln net.Listener, proto string) error {
	return s.serve(ln, proto, func(c net.Conn) { s.handleRTMP(c, proto) })
}

func (s *Server) handleRTMP(c net.Conn, proto string) {
	// The whole setup, from the first byte to the first media, has one deadline, so that
	// idle or slow connections cost a slot for a bounded time only.
	c.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	sc := &gortmplib.ServerConn{RW: c}
	if err := sc.Initialize(); err != nil {
		s.log.Debug("ingest: rtmp handshake failed", "remote", c.RemoteAddr().String(), "err", err)
		return
	}
	if err := sc.AcceptConn(); err != nil {
		s.log.Debug("ingest: rtmp connect failed", "remote", c.RemoteAddr().String(), "err", err)
		return
	}
	if !sc.Publish {
		s.refuse(proto, c.RemoteAddr(), "", nil, refusedNotPublish, errors.New("playing is not served over RTMP: play the channel's playback URL"))
		sc.RejectAction()
		return
	}
	key, err := streamKeyFromURL(sc.URL)
	if err != nil {
		s.refuse(proto, c.RemoteAddr(), "", nil, refusedNoKey, err)
		sc.RejectAction()
		return
	}
	ch, err := s.authorize(key)
	if err != nil {
		s.refuse(proto, c.RemoteAddr(), key, nil, refusedUnauthorized, err)
		sc.RejectAction()
		return
	}
	ls, err := s.claim(ch, proto, c)
	if err != nil {
		s.refuse(proto, c.RemoteAddr(), key, &ch, refusedOther, err)
		sc.RejectAction()
		return
	}
	var runErr error
	defer func() { s.release(ls, runErr) }()

	r := &gortmplib.Reader{Conn: sc}
	if err := r.Initialize(); err != nil {
		runErr = err
		s.refuse(proto, c.RemoteAddr(), key, &ch, refusedNoMedia, fmt.Errorf("%w could be read: %w", ErrNoMedia, err))
		return
	}
	p, err := s.rtmpPackager(ch, r)
	if err != nil {
		runErr = err
		s.refuse(proto, c.RemoteAddr(), key, &ch, refusedOther, err)
		return
	}
	// The callbacks cannot return errors; the first one ends the stream after Read.
	var writeErr error
	for _, t := range r.Tracks() {
		switch t.Codec.(type) {
		case *codecs.H264:
			r.OnDataH264(t, func(pts, _ time.Duration, au [][]byte) {
				if err := p.writeH264(time.Now(), pts, au); err != nil && writeErr == nil {
					writeErr = err
				}
			})
		case *codecs.MPEG4Audio:
			r.OnDataMPEG4Audio(t, func(pts time.Duration, au []byte) {
				if err := p.writeAAC(time.Now(), pts, [][]byte{au}); err != nil && writeErr == nil {
					writeErr = err
				}
			})
		}
	}
	ls.start(p)
	for {
		now := time.Now()
		c.SetReadDeadline(now.Add(s.cfg.ReadTimeout))
		c.SetWriteDeadline(now.Add(s.cfg.ReadTimeout))
		if err := r.Read(); err != nil {
			runErr = fmt.Errorf("reading the stream: %w", err)
			return
		}
		if writeErr != nil {
			runErr = fmt.Errorf("packaging the stream: %w", writeErr)
			return
		}
	}
}

// rtmpPackager checks the tracks a publisher declared (one H.264 video track, at most one
// AAC audio track) and starts packaging them.
func (s *Server) rtmpPackager(ch Channel, r *gortmplib.Reader) (*packager, error) {
	var video *codecs.H264
	var audio *mpeg4audio.AudioSpecificConfig
	var videos, audios int
	for _, t := range r.Tracks() {
		if t.Codec.IsVideo() {
			videos++
		} else {
			audios++
		}
		switch c := t.Codec.(type) {
		case *codecs.H264:
			video = c
		case *codecs.MPEG4Audio:
			audio = c.Config
		default:
			return nil, fmt.Errorf("%w: %s; IVS takes H.264 video and AAC audio", ErrUnsupported, codecName(t.Codec))
		}
	}
	switch {
	case videos == 0 || video == nil:
		return nil, fmt.Errorf("%w: no video track; IVS takes H.264 video and AAC audio", ErrUnsupported)
	case videos > 1 || audios > 1:
		return nil, fmt.Errorf("%w: %d video and %d audio tracks; send one of each (multitrack input is not supported)", ErrUnsupported, videos, audios)
	}
	return s.newPackager(ch, video.SPS, video.PPS, audio)
}

// codecName names an RTMP codec for a refusal.
func codecName(c codecs.Codec) string {
	switch c.(type) {
	case *codecs.H265:
		return "H.265/HEVC video"
	case *codecs.AV1:
		return "AV1 video"
	case *codecs.VP9:
		return "VP9 video"
	case *codecs.Opus:
		return "Opus audio"
	case *codecs.FLAC:
		return "FLAC audio"
	case *codecs.MPEG1Audio:
		return "MPEG-1 audio (MP3)"
	case *codecs.AC3:
		return "AC-3 audio"
	case *codecs.G711:
		return "G.711 audio"
	case *codecs.LPCM:
		return "PCM audio"
	}
	return fmt.Sprintf("codec %T", c)
}

// streamKeyFromURL reads the stream key from a publish URL: /app/{stream key}.
func streamKeyFromURL(u *url.URL) (string, error) {
	app, key, ok := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	switch {
	case !ok || app != "app":
		return "", errors.New("the publish URL must be /app/{stream key}")
	case key == "" || strings.Contains(key, "/"):
		return "", errors.New("no stream key after /app/")
	}
	return key, nil
}

// authorize asks the Authority about a stream key, within a bound.
func (s *Server) authorize(key string) (Channel, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.cfg.Authority.Authorize(ctx, key)
}
