package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/bluenviron/gohlslib/v2"

	"github.com/playkey/playkey"
)

// liveStream is a channel claimed by a publisher: from the moment its key is accepted
// (so that a second publisher is refused) until its connection ends.
type liveStream struct {
	s      *Server
	stream *Stream

	mu      sync.Mutex
	conn    net.Conn  // nil until an SRT request is accepted
	pack    *packager // nil until the tracks are known
	started bool      // Authority.Started was called
	meta    []metadataCue
	metaSeq int

	endOnce sync.Once
	reason  error
	ended   chan struct{} // closed by end
}

// claim makes ch live on this node for a publisher on conn, or refuses with ErrAlreadyLive.
func (s *Server) claim(ch Channel, proto string, conn net.Conn) (*liveStream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrServerClosing
	}
	if _, ok := s.live[ch.ARN]; ok {
		return nil, ErrAlreadyLive
	}
	ls := &liveStream{
		s:      s,
		stream: &Stream{ID: playkey.NewStreamID(), Channel: ch, StartTime: time.Now().UTC(), Protocol: proto},
		conn:   conn,
		ended:  make(chan struct{}),
	}
	s.live[ch.ARN] = ls
	return ls, nil
}

// end ends the stream with reason (the first reason given wins): the connection is closed,
// which ends the read loop, and release follows.
func (ls *liveStream) end(reason error) {
	ls.endOnce.Do(func() {
		ls.mu.Lock()
		ls.reason = reason
		c := ls.conn
		ls.mu.Unlock()
		close(ls.ended)
		if c != nil {
			c.Close()
		}
	})
}

// setConn sets the publisher's connection once accepted; if the stream has ended
// meanwhile, it is closed at once.
func (ls *liveStream) setConn(c net.Conn) {
	ls.mu.Lock()
	ls.conn = c
	ls.mu.Unlock()
	select {
	case <-ls.ended:
		c.Close()
	default:
	}
}

// snapshot copies the stream's record, which start completes while others read it.
func (ls *liveStream) snapshot() Stream {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return *ls.stream
}

// packager returns the stream's packager, or nil before its tracks are known.
func (ls *liveStream) packager() *packager {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.pack
}

// start packages tracks from now on, tells the Authority the stream is live, and checks
// its key every CheckInterval until it ends.
func (ls *liveStream) start(p *packager) {
	s := ls.s
	ls.mu.Lock()
	ls.pack = p
	ls.stream.Video, ls.stream.Audio = p.video, p.audio
	ls.started = true
	ls.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	s.cfg.Authority.Started(ctx, ls.stream, s.OriginURL(ls.stream.Channel.ARN))
	cancel()
	s.log.Info("ingest: stream started", "channel", ls.stream.Channel.ARN.String(), "stream_id", ls.stream.ID,
		"protocol", ls.stream.Protocol, "latency_mode", ls.stream.Channel.LatencyMode,
		"video", fmt.Sprintf("%s %s %s %dx%d %.2gfps", p.video.Codec, p.video.Profile, p.video.Level, p.video.Width, p.video.Height, p.video.FrameRate),
		"audio", fmt.Sprintf("%s %dHz %dch", p.audio.Codec, p.audio.SampleRate, p.audio.Channels))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.cfg.CheckInterval)
		defer t.Stop()
		for {
			select {
			case <-ls.ended:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CheckInterval)
			err := s.cfg.Authority.Check(ctx, ls.stream.Channel)
			cancel()
			if err != nil {
				ls.end(err)
				return
			}
		}
	}()
}

// release frees the channel once the publisher's connection is done, with the error that
// ended it unless end gave a reason first.
func (s *Server) release(ls *liveStream, err error) {
	ls.end(err)
	s.mu.Lock()
	if s.live[ls.stream.Channel.ARN] == ls {
		delete(s.live, ls.stream.Channel.ARN)
	}
	s.mu.Unlock()
	ls.mu.Lock()
	p, started := ls.pack, ls.started
	ls.mu.Unlock()
	if p != nil {
		p.close()
	}
	if !started {
		return
	}
	ls.mu.Lock()
	reason := ls.reason
	ls.mu.Unlock()
	if reason == nil {
		reason = errors.New("the publisher disconnected")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	s.cfg.Authority.Ended(ctx, ls.stream, reason)
	cancel()
	s.log.Info("ingest: stream ended", "channel", ls.stream.Channel.ARN.String(), "stream_id", ls.stream.ID,
		"duration", time.Since(ls.stream.StartTime).Round(time.Millisecond).String(), "reason", reason.Error())
}

// Stats is what has arrived of a live stream since it went live.
type Stats struct {
	LastMedia              time.Time // arrival of the latest audio or video access unit
	VideoBytes, AudioBytes int64     // payload, without container overhead
}

// Stats returns what has arrived of the live stream of channel on this node; false when
// the channel is not live here (or its tracks are not known yet).
func (s *Server) Stats(channel playkey.ARN) (Stats, bool) {
	s.mu.Lock()
	ls := s.live[channel]
	s.mu.Unlock()
	if ls == nil {
		return Stats{}, false
	}
	p := ls.packager()
	if p == nil {
		return Stats{}, false
	}
	return Stats{
		LastMedia:  time.Unix(0, p.lastMedia.Load()),
		VideoBytes: p.videoBytes.Load(),
		AudioBytes: p.audioBytes.Load(),
	}, true
}

// OriginURL is where a gate finds a channel's multivariant playlist on this node.
func (s *Server) OriginURL(ch playkey.ARN) string {
	return s.cfg.HLSBase + "/" + ch.Region + "/" + ch.Account + "/" + ch.ID + "/" + playlistName
}

// variant returns the HLS flavour and timing of a channel: Low-Latency HLS for LOW, as
// IVS; regular HLS with SegmentDuration segments for NORMAL, in MPEG-TS or fMP4 as the
// channel's container format says.
func (s *Server) variant(ch Channel) (v gohlslib.MuxerVariant, segment, part time.Duration) {
	if ch.LatencyMode == playkey.LatencyLow {
		return gohlslib.MuxerVariantLowLatency, time.Second, 200 * time.Millisecond
	}
	if ch.ContainerFormat == playkey.ContainerFragmentedMP4 {
		return gohlslib.MuxerVariantFMP4, s.cfg.SegmentDuration, 200 * time.Millisecond
	}
	return gohlslib.MuxerVariantMPEGTS, s.cfg.SegmentDuration, 200 * time.Millisecond
}
