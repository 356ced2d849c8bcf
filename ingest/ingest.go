// Package ingest makes channels live: it takes a broadcaster's stream (RTMP, RTMPS, SRT)
// with the channel's stream key as the credential, packages it as HLS or Low-Latency HLS
// without transcoding, and serves the result over HTTP as the channel's origin, for the
// playback gate to proxy.
//
// The protocols and containers are the field's libraries' (bluenviron's gortmplib,
// gohlslib and mediacommon, datarhei's gosrt); this package owns the rules around them:
// who may publish, one publisher per channel, what is refused and why, and when a stream
// ends.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/playkey/playkey"
)

// Channel is what ingest needs to know of the channel a stream key opens, read when the
// stream starts: the latency mode and container apply until the stream ends, as in IVS.
type Channel struct {
	ARN             playkey.ARN
	StreamKey       playkey.ARN // the key that opened it, for the checks during the stream and the logs
	LatencyMode     string      // playkey.LatencyLow or playkey.LatencyNormal
	Type            string
	ContainerFormat string // playkey.ContainerTS or playkey.ContainerFragmentedMP4
	SRTPassphrase   string
}

// Stream is a live stream on this node.
type Stream struct {
	ID        string // st- and 23 letters and digits, as IVS
	Channel   Channel
	StartTime time.Time
	Protocol  string // "rtmp", "rtmps" or "srt"
	// Video and Audio describe the input as measured when it started.
	Video VideoConfig
	Audio AudioConfig
}

// VideoConfig is what the input's video track declared.
type VideoConfig struct {
	Codec     string // RFC 6381: "avc1." and the profile, constraints and level in hex (avc1.42C01E)
	Profile   string // e.g. "Main", from the sequence parameter set
	Level     string // e.g. "3.1"
	Width     int
	Height    int
	FrameRate float64 // 0 when the stream does not declare it
}

// AudioConfig is what the input's audio track declared; Codec is empty without audio.
type AudioConfig struct {
	Codec      string // "mp4a.40.2" (AAC)
	SampleRate int
	Channels   int
}

// Authority decides who may publish and hears what becomes of streams. Ingest keeps
// stream state itself; an Authority records what other nodes and the API need.
type Authority interface {
	// Authorize returns the channel that streamKey opens. Any error refuses the publish;
	// its text is logged, so it must say why without quoting the key.
	Authorize(ctx context.Context, streamKey string) (Channel, error)
	// Check is called about twice a second while a stream is live; an error (the stream
	// key was deleted, the channel too) ends the stream. A store that cannot be read is
	// not a reason to end a stream: Check returns nil then.
	Check(ctx context.Context, ch Channel) error
	// Started is called when a stream is live and its HLS is served at origin (the URL of
	// the channel's multivariant playlist on this node).
	Started(ctx context.Context, s *Stream, origin string)
	// Ended is called when a live stream has ended, with why.
	Ended(ctx context.Context, s *Stream, reason error)
	// Refused is called when a publish with a valid key is refused before it goes live
	// (the channel is live already, the input is not H.264/AAC, no media came, a wrong SRT
	// passphrase), for the stream session's failure events.
	Refused(ctx context.Context, ch Channel, reason error)
}

// Config configures a Server. Authority is required.
type Config struct {
	Authority Authority
	// Logger receives one line per refused or ended publish; nil discards. Stream keys
	// never reach it (KeyHash does).
	Logger *slog.Logger
	// HLSBase is the URL at which the playback gate reaches this server's HTTP handler,
	// e.g. http://10.0.0.5:8890; a channel's playlist is at
	// {HLSBase}/{region}/{account}/{channel}/index.m3u8.
	HLSBase string
	// MaxConns bounds the connections being set up or streaming, over every protocol.
	// Default 2000.
	MaxConns int
	// HandshakeTimeout bounds the time from accepting a connection to its first media.
	// Default 10s.
	HandshakeTimeout time.Duration
	// ReadTimeout ends a stream that sends nothing for this long. Default 10s.
	ReadTimeout time.Duration
	// CheckInterval is how often a live stream's key is checked with the Authority.
	// Default 500ms, so a deleted key ends its stream within a second.
	CheckInterval time.Duration
	// SegmentDuration is the target segment length of NORMAL latency channels. Default 2s.
	SegmentDuration time.Duration
}

// Errors a publish is refused with.
var (
	ErrAlreadyLive   = errors.New("the channel is already live: IVS allows one stream per channel")
	ErrStopped       = errors.New("the stream was stopped")
	ErrUnsupported   = errors.New("unsupported input")
	ErrServerClosing = errors.New("the ingest server is closing")
	ErrNoMedia       = errors.New("no media")
	ErrPassphrase    = errors.New("SRT passphrase refused")
)

// Server is an ingest node: its listeners, its live streams and their HLS. Close ends it.
type Server struct {
	cfg   Config
	log   *slog.Logger
	slots chan struct{} // one per connection being set up or streaming

	mu    sync.Mutex
	live  map[playkey.ARN]*liveStream
	lns   map[net.Listener]struct{}
	conns map[net.Conn]struct{}
	// closers close listeners other than net.Listeners (SRT's).
	closers []func()
	closed  bool
	wg      sync.WaitGroup

	// received counts media payload bytes of every stream; refusals publishes refused,
	// by refusal code.
	received atomic.Uint64
	refusals [numRefusals]atomic.Uint64
}

// New returns a Server with cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Authority == nil {
		return nil, errors.New("ingest: no Authority")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.HandshakeTimeout, 10*time.Second)
	def(&cfg.ReadTimeout, 10*time.Second)
	def(&cfg.CheckInterval, 500*time.Millisecond)
	def(&cfg.SegmentDuration, 2*time.Second)
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 2000
	}
	return &Server{
		cfg:   cfg,
		log:   cfg.Logger,
		slots: make(chan struct{}, cfg.MaxConns),
		live:  make(map[playkey.ARN]*liveStream),
		lns:   make(map[net.Listener]struct{}),
		conns: make(map[net.Conn]struct{}),
	}, nil
}

// KeyHash is how a stream key appears in logs: 12 hex digits of its SHA-256.
func KeyHash(streamKey string) string {
	sum := sha256.Sum256([]byte(streamKey))
	return hex.EncodeToString(sum[:6])
}

// Stop ends the live stream of channel, as StopStream does, and reports whether there
// was one. The broadcaster may reconnect.
func (s *Server) Stop(channel playkey.ARN) bool {
	s.mu.Lock()
	ls := s.live[channel]
	s.mu.Unlock()
	if ls == nil {
		return false
	}
	ls.end(ErrStopped)
	return true
}

// Live returns the live stream of channel on this node.
func (s *Server) Live(channel playkey.ARN) (Stream, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ls := s.live[channel]
	if ls == nil {
		return Stream{}, false
	}
	return ls.snapshot(), true
}

// Streams returns every live stream on this node.
func (s *Server) Streams() []Stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Stream, 0, len(s.live))
	for _, ls := range s.live {
		out = append(out, ls.snapshot())
	}
	return out
}

// Close stops every listener, ends every stream and connection, and waits for them.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	for _, c := range s.closers {
		c()
	}
	lives := make([]*liveStream, 0, len(s.live))
	for _, ls := range s.live {
		lives = append(lives, ls)
	}
	s.mu.Unlock()
	for _, ls := range lives {
		ls.end(ErrServerClosing)
	}
	s.wg.Wait()
	return nil
}

// serve accepts connections on ln and hands each to handle, within the connection bound,
// until ln is closed.
func (s *Server) serve(ln net.Listener, proto string, handle func(net.Conn)) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosing
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.lns, ln)
		s.mu.Unlock()
	}()
	var lastFull time.Time
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("ingest: %s accept: %w", proto, err)
		}
		select {
		case s.slots <- struct{}{}:
		default:
			c.Close()
			s.refused(refusedBusy, nil)
			if now := time.Now(); now.Sub(lastFull) > 10*time.Second {
				lastFull = now
				s.log.Warn("ingest: connection refused: too many connections", "protocol", proto, "max", s.cfg.MaxConns)
			}
			continue
		}
		if !s.track(c) {
			c.Close()
			<-s.slots
			return nil
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.slots }()
			defer s.untrack(c)
			defer c.Close()
			handle(c)
		}()
	}
}

func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// refuse logs why a publish was refused: one line, with the key's hash, never the key. It
// counts the refusal by code, or by reason's sentinel error when code is refusedOther.
func (s *Server) refuse(proto string, remote net.Addr, key string, ch *Channel, code int, reason error) {
	s.refused(code, reason)
	attrs := []any{"protocol", proto, "remote", remote.String(), "reason", reason.Error()}
	if key != "" {
		attrs = append(attrs, "stream_key_hash", KeyHash(key))
	}
	if ch != nil {
		attrs = append(attrs, "channel", ch.ARN.String(), "stream_key", ch.StreamKey.String())
	}
	s.log.Warn("ingest: publish refused", attrs...)
	if ch != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.cfg.Authority.Refused(ctx, *ch, reason)
		cancel()
	}
}
