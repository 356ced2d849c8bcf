package ingest

import (
	"errors"
	"fmt"
	"net"
	"time"

	srt "github.com/datarhei/gosrt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"
)

// ListenSRT takes SRT publishers on addr (UDP) until the server is closed, as IVS does:
// the streamid is the stream key, and the stream must be encrypted with the channel's SRT
// passphrase. The stream is MPEG-TS. It returns the address it listens on.
func (s *Server) ListenSRT(addr string) (string, error) {
	conf := srt.DefaultConfig()
	// The stream key is the streamid; IVS's are 56 characters, SRT allows 512.
	ln, err := srt.Listen("srt", addr, conf)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return "", ErrServerClosing
	}
	s.closers = append(s.closers, ln.Close)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			req, err := ln.Accept2()
			if err != nil {
				return // the listener is closed
			}
			s.acceptSRT(req)
		}
	}()
	return ln.Addr().String(), nil
}

// acceptSRT decides a connection request, within the connection bound, and hands an
// accepted publisher to its own goroutine. Refusals are SRT rejection codes, which
// clients report.
func (s *Server) acceptSRT(req srt.ConnRequest) {
	remote := req.RemoteAddr()
	select {
	case s.slots <- struct{}{}:
	default:
		s.refused(refusedBusy, nil)
		req.Reject(srt.REJX_OVERLOAD)
		return
	}
	release := func() { <-s.slots }
	key := req.StreamId()
	if key == "" {
		s.refuse("srt", remote, "", nil, refusedNoKey, errors.New("no streamid: set streamid to the stream key"))
		req.Reject(srt.REJX_UNAUTHORIZED)
		release()
		return
	}
	ch, err := s.authorize(key)
	if err != nil {
		s.refuse("srt", remote, key, nil, refusedUnauthorized, err)
		req.Reject(srt.REJX_UNAUTHORIZED)
		release()
		return
	}
	if !req.IsEncrypted() {
		s.refuse("srt", remote, key, &ch, refusedPassphrase, fmt.Errorf("%w: the stream is not encrypted: set passphrase to the channel's SRT passphrase", ErrPassphrase))
		req.Reject(srt.REJ_UNSECURE)
		release()
		return
	}
	if err := req.SetPassphrase(ch.SRTPassphrase); err != nil {
		s.refuse("srt", remote, key, &ch, refusedPassphrase, fmt.Errorf("%w: wrong passphrase: use the channel's SRT passphrase", ErrPassphrase))
		req.Reject(srt.REJ_BADSECRET)
		release()
		return
	}
	// The channel is claimed before the connection is accepted, so that a second
	// publisher is refused in the handshake. The claim's conn is set once accepted.
	ls, err := s.claim(ch, "srt", nil)
	if err != nil {
		s.refuse("srt", remote, key, &ch, refusedOther, err)
		req.Reject(srt.REJX_CONFLICT)
		release()
		return
	}
	conn, err := req.Accept()
	if err != nil {
		s.release(ls, fmt.Errorf("srt accept: %w", err))
		release()
		return
	}
	ls.setConn(conn)
	if !s.track(conn) {
		conn.Close()
		s.release(ls, ErrServerClosing)
		release()
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer release()
		defer s.untrack(conn)
		defer conn.Close()
		var runErr error
		defer func() { s.release(ls, runErr) }()
		runErr = s.readMPEGTS(ls, conn, key)
	}()
}

// readMPEGTS reads a publisher's MPEG-TS until it ends: one H.264 track and at most one
// AAC track, packaged from the first access unit that carries the parameter sets.
func (s *Server) readMPEGTS(ls *liveStream, conn net.Conn, key string) error {
	ch := ls.stream.Channel
	conn.SetReadDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	r := &mpegts.Reader{R: conn}
	if err := r.Initialize(); err != nil {
		err = fmt.Errorf("%w: no MPEG-TS could be read: %w", ErrNoMedia, err)
		s.refuse("srt", conn.RemoteAddr(), key, &ch, refusedNoMedia, err)
		return err
	}
	var video *mpegts.Track
	var audio *mpegts.Track
	for _, t := range r.Tracks() {
		switch t.Codec.(type) {
		case *tscodecs.H264:
			if video != nil {
				return s.refuseTS(conn, key, ch, fmt.Errorf("%w: two video tracks; send one", ErrUnsupported))
			}
			video = t
		case *tscodecs.MPEG4Audio:
			if audio != nil {
				return s.refuseTS(conn, key, ch, fmt.Errorf("%w: two audio tracks; send one", ErrUnsupported))
			}
			audio = t
		case *tscodecs.KLV, *tscodecs.DVBSubtitle:
			// Data tracks are left out.
		default:
			return s.refuseTS(conn, key, ch, fmt.Errorf("%w: %s; IVS takes H.264 video and AAC audio", ErrUnsupported, tsCodecName(t.Codec)))
		}
	}
	if video == nil {
		return s.refuseTS(conn, key, ch, fmt.Errorf("%w: no H.264 video track", ErrUnsupported))
	}
	var asc *mpeg4audio.AudioSpecificConfig
	if audio != nil {
		c := audio.Codec.(*tscodecs.MPEG4Audio).Config
		asc = &c
	}
	var td mpegts.TimeDecoder
	td.Initialize()
	var p *packager
	var setupErr error
	r.OnDecodeError(func(error) {}) // damaged packets are skipped, as MPEG-TS readers do
	r.OnDataH264(video, func(pts, _ int64, au [][]byte) error {
		pts = td.Decode(pts)
		if p == nil {
			var sps, pps []byte
			for _, nalu := range au {
				if len(nalu) == 0 {
					continue
				}
				switch h264.NALUType(nalu[0] & 0x1f) {
				case h264.NALUTypeSPS:
					sps = nalu
				case h264.NALUTypePPS:
					pps = nalu
				}
			}
			if sps == nil || pps == nil {
				return nil // wait for a key frame with its parameter sets
			}
			var err error
			if p, err = s.newPackager(ch, sps, pps, asc); err != nil {
				setupErr = err
				return err
			}
			ls.start(p)
		}
		return p.writeH264(time.Now(), duration90k(pts), au)
	})
	if audio != nil {
		r.OnDataMPEG4Audio(audio, func(pts int64, aus [][]byte) error {
			pts = td.Decode(pts)
			if p == nil {
				return nil
			}
			return p.writeAAC(time.Now(), duration90k(pts), aus)
		})
	}
	setupDeadline := time.Now().Add(s.cfg.HandshakeTimeout)
	for {
		deadline := time.Now().Add(s.cfg.ReadTimeout)
		if p == nil {
			deadline = setupDeadline // no key frame yet: the setup bound still applies
		}
		conn.SetReadDeadline(deadline)
		if err := r.Read(); err != nil {
			if setupErr != nil {
				s.refuse("srt", conn.RemoteAddr(), key, &ch, refusedOther, setupErr)
				return setupErr
			}
			if p == nil {
				err = fmt.Errorf("%w: no H.264 key frame with its parameter sets: %w", ErrNoMedia, err)
				s.refuse("srt", conn.RemoteAddr(), key, &ch, refusedNoMedia, err)
				return err
			}
			return fmt.Errorf("reading the stream: %w", err)
		}
	}
}

func (s *Server) refuseTS(conn net.Conn, key string, ch Channel, err error) error {
	s.refuse("srt", conn.RemoteAddr(), key, &ch, refusedOther, err)
	return err
}

// duration90k converts a 90 kHz timestamp to a duration without overflowing.
func duration90k(ts int64) time.Duration {
	return time.Duration(ts/90000)*time.Second + time.Duration(ts%90000)*time.Second/90000
}

// tsCodecName names an MPEG-TS codec for a refusal.
func tsCodecName(c tscodecs.Codec) string {
	switch c.(type) {
	case *tscodecs.H265:
		return "H.265/HEVC video"
	case *tscodecs.Opus:
		return "Opus audio"
	case *tscodecs.MPEG1Audio:
		return "MPEG-1 audio (MP3)"
	case *tscodecs.MPEG4AudioLATM:
		return "AAC in LATM"
	case *tscodecs.AC3:
		return "AC-3 audio"
	case *tscodecs.MPEG1Video, *tscodecs.MPEG4Video:
		return "MPEG-1/2/4 Part 2 video"
	}
	return fmt.Sprintf("codec %T", c)
}
