package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/ingest"
)

var ingestCommand = &command{
	name:    "ingest",
	summary: "run only ingest (RTMP, RTMPS, SRT to HLS) against the store",
	run:     runIngest,
}

// ingestFlags are ingest's flags, shared by serve and ingest.
type ingestFlags struct {
	rtmpAddr  string
	rtmpsAddr string
	srtAddr   string
	tlsCert   string
	tlsKey    string
	hlsAddr   string
	hlsURL    string
	region    string
}

func (f *ingestFlags) register(fs *flag.FlagSet, defaultRTMP string) {
	fs.StringVar(&f.rtmpAddr, "ingest-addr", defaultRTMP, "`HOST:PORT` ingest takes RTMP on (rtmp://HOST:PORT/app/{stream key}); empty turns RTMP off")
	fs.StringVar(&f.rtmpsAddr, "ingest-rtmps-addr", "", "`HOST:PORT` ingest takes RTMPS on, with --tls-cert and --tls-key (IVS uses port 443); empty: off")
	fs.StringVar(&f.srtAddr, "ingest-srt-addr", "", "`HOST:PORT` ingest takes SRT on, streamid = the stream key, passphrase = the channel's SRT passphrase (IVS uses port 9000); empty: off")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "certificate chain `FILE` (PEM) for RTMPS")
	fs.StringVar(&f.tlsKey, "tls-key", "", "private key `FILE` (PEM) for RTMPS")
	fs.StringVar(&f.hlsAddr, "ingest-hls-addr", "127.0.0.1:0", "`HOST:PORT` where ingest serves its live channels' HLS to the playback gates (port 0 picks one)")
	fs.StringVar(&f.hlsURL, "ingest-hls-url", "", "base `URL` at which gates reach --ingest-hls-addr, recorded with each live stream (default http://HOST:PORT of --ingest-hls-addr)")
	fs.StringVar(&f.region, "ingest-region", "", "`REGION` whose stream keys this ingest takes (others are refused); default: every region")
}

// on reports whether any ingest protocol is configured.
func (f *ingestFlags) on() bool { return f.rtmpAddr != "" || f.rtmpsAddr != "" || f.srtAddr != "" }

// runningIngest is an ingest server with its listeners, serving in the background.
type runningIngest struct {
	srv  *ingest.Server
	hls  *http.Server
	lns  []net.Listener
	errc chan error
}

// stop closes the listeners and ends every stream.
func (r *runningIngest) stop() {
	if r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.srv.Close()
	r.hls.Shutdown(ctx)
}

// start opens ingest's listeners and serves on them until stop. It returns nil when
// ingest is off.
func (f *ingestFlags) start(std *stdio, logger *slog.Logger, store playkey.Store) (*runningIngest, error) {
	if !f.on() {
		return nil, nil
	}
	finder, ok := store.(playkey.StreamKeyFinder)
	if !ok {
		return nil, errors.New("ingest: this store cannot look up stream keys")
	}
	var tlsConf *tls.Config
	if f.rtmpsAddr != "" {
		if f.tlsCert == "" || f.tlsKey == "" {
			return nil, usageErrorf("--ingest-rtmps-addr needs --tls-cert and --tls-key")
		}
		cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			// The error names the files, never their contents.
			return nil, fmt.Errorf("rtmps certificate: %w", err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	run := &runningIngest{errc: make(chan error, 4)}
	fail := func(err error) (*runningIngest, error) {
		for _, ln := range run.lns {
			ln.Close()
		}
		return nil, err
	}
	hlsLn, err := net.Listen("tcp", f.hlsAddr)
	if err != nil {
		return fail(fmt.Errorf("ingest hls listener: %w", err))
	}
	run.lns = append(run.lns, hlsLn)
	base := f.hlsURL
	if base == "" {
		base = "http://" + loopbackIfUnspecified(hlsLn.Addr().String())
	}
	base = strings.TrimSuffix(base, "/")
	auth := newStoreAuthority(store, finder, f.region, logger)
	srv, err := ingest.New(ingest.Config{Authority: auth, Logger: logger, HLSBase: base})
	if err != nil {
		return fail(err)
	}
	auth.stats = srv.Stats
	run.srv = srv
	type proto struct {
		name, addr string
		serve      func(net.Listener) error
	}
	protos := []proto{
		{"rtmp", f.rtmpAddr, func(ln net.Listener) error { return srv.ServeRTMP(ln, "rtmp") }},
		{"rtmps", f.rtmpsAddr, func(ln net.Listener) error { return srv.ServeRTMP(tls.NewListener(ln, tlsConf), "rtmps") }},
	}
	for _, p := range protos {
		if p.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			return fail(fmt.Errorf("ingest %s listener: %w", p.name, err))
		}
		run.lns = append(run.lns, ln)
		fmt.Fprintf(std.out, "playkey ingest: %s://%s/app/{stream key}\n", p.name, ln.Addr())
		logger.Info("ingest listening", "protocol", p.name, "addr", ln.Addr().String())
		go func() { run.errc <- p.serve(ln) }()
	}
	if f.srtAddr != "" {
		addr, err := srv.ListenSRT(f.srtAddr)
		if err != nil {
			return fail(fmt.Errorf("ingest srt listener: %w", err))
		}
		fmt.Fprintf(std.out, "playkey ingest: srt://%s?streamid={stream key}&passphrase={srt passphrase}\n", addr)
		logger.Info("ingest listening", "protocol", "srt", "addr", addr)
	}
	run.hls = &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go run.hls.Serve(hlsLn)
	logger.Info("ingest serves HLS for the gates", "addr", hlsLn.Addr().String(), "base", base)
	return run, nil
}

// loopbackIfUnspecified replaces an unspecified host (0.0.0.0, ::) in HOST:PORT with
// 127.0.0.1, for a URL this machine can use.
func loopbackIfUnspecified(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// storeAuthority decides publishes from the store: the stream key must exist, in the
// region this ingest serves, and keep existing while the stream is live. It records each
// live stream in the store (StartStream, UpdateStream, EndStream), which is where the API
// finds it and where every gate finds the packager serving it.
type storeAuthority struct {
	store  playkey.Store
	finder playkey.StreamKeyFinder
	region string
	log    *slog.Logger
	// stats reads what arrived of a live stream; set once the ingest server exists.
	stats func(playkey.ARN) (ingest.Stats, bool)
	now   func() time.Time

	mu   sync.Mutex
	live map[playkey.ARN]*reported // the streams this node recorded live
}

// reported is what storeAuthority keeps of a live stream between its reports.
type reported struct {
	stream   *ingest.Stream
	origin   string
	recorded atomic.Bool // StartStream succeeded (set by Started or Check, read by Ended)
	health   string
	reported time.Time // the latest UpdateStream
}

// Reporting: the store hears of a live stream every streamReportInterval, well within
// playkey.StreamTimeout; between reports each Check reads the record, so that a StopStream
// made on another node disconnects the publisher within a second. A stream is STARVING
// when no media arrived for starvingAfter.
const (
	streamReportInterval = 3 * time.Second
	starvingAfter        = 3 * time.Second
)

var _ ingest.Authority = (*storeAuthority)(nil)

// newStoreAuthority returns the authority of an ingest taking the stream keys of region
// ("" for every region); its stats are set once the ingest server exists.
func newStoreAuthority(store playkey.Store, finder playkey.StreamKeyFinder, region string, log *slog.Logger) *storeAuthority {
	return &storeAuthority{store: store, finder: finder, region: region, log: log, now: time.Now, live: make(map[playkey.ARN]*reported)}
}

func (a *storeAuthority) Authorize(ctx context.Context, value string) (ingest.Channel, error) {
	// sk_{region}_{id}_{secret}: the region is read before the store is asked.
	parts := strings.SplitN(value, "_", 4)
	if len(parts) != 4 || parts[0] != "sk" {
		return ingest.Channel{}, errors.New("not a stream key: IVS stream keys start sk_{region}_")
	}
	if a.region != "" && parts[1] != a.region {
		return ingest.Channel{}, fmt.Errorf("the stream key is for region %q; this ingest takes %q", parts[1], a.region)
	}
	key, err := a.finder.StreamKeyByValue(ctx, value)
	if playkey.IsCode(err, playkey.ErrResourceNotFound) {
		return ingest.Channel{}, errors.New("no such stream key: unknown or deleted")
	}
	if err != nil {
		return ingest.Channel{}, fmt.Errorf("the store cannot be read: %v", err)
	}
	ch, err := a.store.Channel(ctx, key.Channel)
	if playkey.IsCode(err, playkey.ErrResourceNotFound) {
		return ingest.Channel{}, fmt.Errorf("stream key %s: its channel was deleted", key.ARN)
	}
	if err != nil {
		return ingest.Channel{}, fmt.Errorf("the store cannot be read: %v", err)
	}
	return ingest.Channel{
		ARN:             ch.ARN,
		StreamKey:       key.ARN,
		LatencyMode:     ch.LatencyMode,
		Type:            ch.Type,
		ContainerFormat: ch.ContainerFormat,
		SRTPassphrase:   ch.SRTPassphrase,
	}, nil
}

func (a *storeAuthority) Check(ctx context.Context, ch ingest.Channel) error {
	_, err := a.store.StreamKey(ctx, ch.StreamKey)
	if playkey.IsCode(err, playkey.ErrResourceNotFound) {
		return fmt.Errorf("stream key %s was deleted", ch.StreamKey)
	}
	a.mu.Lock()
	r := a.live[ch.ARN]
	a.mu.Unlock()
	if r == nil {
		return nil
	}
	if !r.recorded.Load() {
		// The store could not be written when the stream started: try again.
		if err := a.record(ctx, r); playkey.IsCode(err, playkey.ErrConflict) {
			return ingest.ErrAlreadyLive // on another ingest node
		} else if err != nil {
			return nil
		}
	}
	now := a.now()
	var st *playkey.Stream
	if now.Sub(r.reported) >= streamReportInterval {
		u := a.measure(r, now)
		st, err = a.store.UpdateStream(ctx, ch.ARN, r.stream.ID, u)
		if err == nil {
			r.reported = now
		}
	} else {
		st, err = a.store.LiveStream(ctx, ch.ARN)
		if err == nil && st.ID != r.stream.ID {
			err = playkey.NotBroadcasting(ch.ARN)
		}
	}
	switch {
	case playkey.IsCode(err, playkey.ErrChannelNotBroadcasting):
		// Another node's stream took the channel, or this one timed out in the store.
		return errors.New("the store no longer records the stream live")
	case playkey.IsCode(err, playkey.ErrResourceNotFound):
		return errors.New("the channel was deleted")
	case err != nil:
		// A store that cannot be read keeps the stream going: it ends when the key is seen
		// gone, or by its publisher.
		return nil
	case st.Stopping:
		return ingest.ErrStopped
	}
	return nil
}

// measure returns the report of a live stream: its health and its ingest configuration as
// measured, with an event when the health changed.
func (a *storeAuthority) measure(r *reported, now time.Time) playkey.StreamUpdate {
	s := r.stream
	u := playkey.StreamUpdate{Health: playkey.HealthHealthy, Ingest: ingestConfiguration(s, ingest.Stats{}, 0)}
	if stats, ok := a.stats(s.Channel.ARN); ok {
		if now.Sub(stats.LastMedia) > starvingAfter {
			u.Health = playkey.HealthStarving
		}
		u.Ingest = ingestConfiguration(s, stats, now.Sub(s.StartTime))
	}
	if u.Health != r.health {
		name := playkey.EventStarvationStart
		if u.Health == playkey.HealthHealthy {
			name = playkey.EventStarvationEnd
		}
		u.Events = []playkey.StreamEvent{{Name: name, Type: playkey.EventTypeHealthChange, Time: now}}
		r.health = u.Health
	}
	return u
}

// ingestConfiguration is the model's ingest configuration of s: what its tracks declared,
// and bitrates averaged over elapsed.
func ingestConfiguration(s *ingest.Stream, stats ingest.Stats, elapsed time.Duration) *playkey.IngestConfiguration {
	rate := func(bytes int64) int64 {
		if elapsed <= 0 {
			return 0
		}
		return int64(float64(bytes*8) / elapsed.Seconds())
	}
	v := playkey.VideoConfiguration{
		Track:           "Track0",
		Codec:           s.Video.Codec,
		Profile:         s.Video.Profile,
		Level:           s.Video.Level,
		TargetBitrate:   rate(stats.VideoBytes),
		TargetFramerate: int64(s.Video.FrameRate + 0.5),
		Width:           int64(s.Video.Width),
		Height:          int64(s.Video.Height),
	}
	cfg := &playkey.IngestConfiguration{Video: []playkey.VideoConfiguration{v}}
	if s.Audio.Codec != "" {
		cfg.Audio = []playkey.AudioConfiguration{{
			Track:         "Track0",
			Codec:         s.Audio.Codec,
			TargetBitrate: rate(stats.AudioBytes),
			SampleRate:    int64(s.Audio.SampleRate),
			Channels:      int64(s.Audio.Channels),
		}}
	}
	return cfg
}

func (a *storeAuthority) Started(ctx context.Context, s *ingest.Stream, origin string) {
	r := &reported{stream: s, origin: origin, health: playkey.HealthHealthy}
	a.mu.Lock()
	a.live[s.Channel.ARN] = r
	a.mu.Unlock()
	if err := a.record(ctx, r); err != nil {
		// The next Check ends the stream on Conflict (another node has the channel live),
		// and tries again otherwise: until then the stream plays on this node only.
		a.log.Error("ingest: cannot record the live stream; the API and other nodes do not see it yet", "channel", s.Channel.ARN.String(), "err", err)
	}
}

// record starts the stream's record in the store, with Session Created and Stream Start.
// The first report (measure) follows at the next Check.
func (a *storeAuthority) record(ctx context.Context, r *reported) error {
	s, now := r.stream, a.now()
	st := &playkey.Stream{Channel: s.Channel.ARN, ID: s.ID, StartTime: s.StartTime, Health: playkey.HealthHealthy, Origin: r.origin, SeenAt: now}
	err := a.store.StartStream(ctx, st,
		playkey.StreamEvent{Name: playkey.EventSessionCreated, Type: playkey.EventTypeStateChange, Time: s.StartTime},
		playkey.StreamEvent{Name: playkey.EventStreamStart, Type: playkey.EventTypeStateChange, Time: now})
	if err == nil {
		r.recorded.Store(true)
	}
	return err
}

func (a *storeAuthority) Ended(ctx context.Context, s *ingest.Stream, reason error) {
	a.mu.Lock()
	r := a.live[s.Channel.ARN]
	if r != nil && r.stream.ID == s.ID {
		delete(a.live, s.Channel.ARN)
	}
	a.mu.Unlock()
	if r == nil || !r.recorded.Load() {
		return
	}
	now := a.now()
	var events []playkey.StreamEvent
	if failure := streamFailureCode(reason); failure != "" {
		events = append(events, playkey.StreamEvent{Name: playkey.EventStreamFailure, Type: playkey.EventTypeStateChange, Code: failure, Time: now})
	}
	events = append(events,
		playkey.StreamEvent{Name: playkey.EventStreamEnd, Type: playkey.EventTypeStateChange, Time: now},
		playkey.StreamEvent{Name: playkey.EventSessionEnded, Type: playkey.EventTypeStateChange, Time: now})
	err := a.store.EndStream(ctx, s.Channel.ARN, s.ID, now, events...)
	if err != nil && !playkey.IsCode(err, playkey.ErrChannelNotBroadcasting) && !playkey.IsCode(err, playkey.ErrResourceNotFound) {
		// The record times out in the store (playkey.StreamTimeout) if it cannot be ended.
		a.log.Error("ingest: cannot record the end of the stream", "channel", s.Channel.ARN.String(), "err", err)
	}
}

// streamFailureCode is the Stream Failure code of why a stream ended (the codes are
// playkey's: IVS does not publish its own), or "" when it ended as streams do: its
// publisher left, StopStream, the key or the channel deleted, the server closing.
func streamFailureCode(reason error) string {
	var ne net.Error
	switch {
	case errors.Is(reason, ingest.ErrUnsupported):
		return "UnsupportedInput"
	case errors.As(reason, &ne) && ne.Timeout():
		return "IngestTimeout" // the publisher stopped sending
	}
	return ""
}

// Refused records a refusal of a valid key as a Stream Failure of the channel's live stream,
// when it has one (a second publisher); a refusal before any stream has no session to go to.
func (a *storeAuthority) Refused(ctx context.Context, ch ingest.Channel, reason error) {
	st, err := a.store.LiveStream(ctx, ch.ARN)
	if err != nil {
		return
	}
	code := "StreamRefused"
	switch {
	case errors.Is(reason, ingest.ErrAlreadyLive):
		code = "AlreadyLive"
	case errors.Is(reason, ingest.ErrUnsupported):
		code = "UnsupportedInput"
	}
	e := playkey.StreamEvent{Name: playkey.EventStreamFailure, Type: playkey.EventTypeStateChange, Code: code, Time: a.now()}
	if _, err := a.store.UpdateStream(ctx, ch.ARN, st.ID, playkey.StreamUpdate{Events: []playkey.StreamEvent{e}}); err != nil {
		a.log.Warn("ingest: cannot record the refusal in the live stream's session", "channel", ch.ARN.String(), "err", err)
	}
}

// ingestAPI is what the API of the same process asks of its ingest: StreamStopper's
// immediate disconnection (a stream live elsewhere ends when its ingest reads the store's
// mark) and MetadataSink's timed metadata.
type ingestAPI struct{ srv *ingest.Server }

func (i ingestAPI) StopStream(_ context.Context, channel playkey.ARN) error {
	i.srv.Stop(channel)
	return nil
}

func (i ingestAPI) PutMetadata(_ context.Context, channel playkey.ARN, metadata string) error {
	if _, ok := i.srv.Live(channel); !ok {
		// The store has it live (the API checked), so another node receives it.
		return playkey.Errorf(playkey.ErrStreamUnavailable,
			"the stream of channel %s is received by another ingest node; send PutMetadata to that node's API", channel)
	}
	return i.srv.PutMetadata(channel, metadata)
}

func runIngest(ctx context.Context, std *stdio, args []string) error {
	var (
		sf  storeFlags
		lf  logFlags
		inf ingestFlags
	)
	fs := newFlagSet(std, "ingest", "")
	sf.register(fs)
	lf.register(fs)
	inf.register(fs, "127.0.0.1:1935")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("ingest takes no arguments, got %q", rest)
	}
	if !inf.on() {
		return usageErrorf("ingest needs --ingest-addr, --ingest-rtmps-addr or --ingest-srt-addr")
	}
	logger, err := lf.logger(std)
	if err != nil {
		return err
	}
	if sf.storeURL == "" {
		if _, err := os.Stat(sf.dataDir); err != nil {
			return fmt.Errorf("data directory: %w (ingest reads the store that serve writes)", err)
		}
	}
	store, err := sf.open(ctx, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	run, err := inf.start(std, logger, store)
	if err != nil {
		return err
	}
	defer run.stop()
	select {
	case <-ctx.Done():
		return nil
	case err := <-run.errc:
		return err
	}
}
