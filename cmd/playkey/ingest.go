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
	"strings"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/events"
	"github.com/playkey/playkey/ingest"
	"github.com/playkey/playkey/internal/certfile"
	"github.com/playkey/playkey/live"
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
	hlsAddr   string
	hlsURL    string
	region    string
	// readTimeout ends a stream whose publisher sends nothing for that long
	// (ingest.Config.ReadTimeout).
	readTimeout time.Duration
	// Webhooks receiving the stream events this ingest records (events package).
	eventsURLs     stringList
	eventsSecret   string
	eventsRetryFor time.Duration
	// cert is --tls-cert's certificate (tlsFlags), for RTMPS; nil without it.
	cert *certfile.Source
}

func (f *ingestFlags) register(fs *flag.FlagSet, defaultRTMP string) {
	fs.StringVar(&f.rtmpAddr, "ingest-addr", defaultRTMP, "`HOST:PORT` ingest takes RTMP on (rtmp://HOST:PORT/app/{stream key}); empty turns RTMP off")
	fs.StringVar(&f.rtmpsAddr, "ingest-rtmps-addr", "", "`HOST:PORT` ingest takes RTMPS on, with --tls-cert and --tls-key (IVS uses port 443); empty: off")
	fs.StringVar(&f.srtAddr, "ingest-srt-addr", "", "`HOST:PORT` ingest takes SRT on, streamid = the stream key, passphrase = the channel's SRT passphrase (IVS uses port 9000); empty: off")
	fs.StringVar(&f.hlsAddr, "ingest-hls-addr", "127.0.0.1:0", "`HOST:PORT` where ingest serves its live channels' HLS to the playback gates (port 0 picks one)")
	fs.StringVar(&f.hlsURL, "ingest-hls-url", "", "base `URL` at which gates reach --ingest-hls-addr, recorded with each live stream (default http://HOST:PORT of --ingest-hls-addr)")
	fs.StringVar(&f.region, "ingest-region", "", "`REGION` whose stream keys this ingest takes (others are refused); default: every region")
	fs.DurationVar(&f.readTimeout, "ingest-read-timeout", 10*time.Second, "how long a publisher may send nothing before its stream ends (Stream Failure IngestTimeout); it is STARVING after 3s")
	fs.Var(&f.eventsURLs, "events-url", "webhook `URL` (http or https) that receives every stream event as IVS's EventBridge event, signed with --events-secret; repeatable")
	fs.StringVar(&f.eventsSecret, "events-secret", "", "`SECRET` keying the HMAC-SHA256 signature of each event delivery (header X-Playkey-Signature); required with --events-url")
	fs.DurationVar(&f.eventsRetryFor, "events-retry-for", events.DefaultRetryFor, "how long an event delivery is retried, with backoff, before it is abandoned")
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

// streamEvents returns the store that live registries record streams in: store itself, or,
// with --events-url, store wrapped so that every stream event also goes to the webhooks,
// whose Close lets queued events go out (nil without webhooks).
func (f *ingestFlags) streamEvents(logger *slog.Logger, store playkey.Store) (playkey.Store, *events.Webhooks, error) {
	if len(f.eventsURLs) == 0 {
		return store, nil, nil
	}
	if f.eventsSecret == "" {
		return nil, nil, usageErrorf("--events-url needs --events-secret (or %s) to sign the deliveries", envName("events-secret"))
	}
	hooks, err := events.NewWebhooks(events.Config{URLs: f.eventsURLs, Secret: []byte(f.eventsSecret), Logger: logger, RetryFor: f.eventsRetryFor})
	if err != nil {
		return nil, nil, usageErrorf("--events-url: %v", err)
	}
	logger.Info("events: stream events go to webhooks", "urls", len(f.eventsURLs))
	return events.Wrap(store, hooks), hooks, nil
}

// start opens ingest's listeners and serves on them until stop; its registry reads stream
// keys from store and records streams in records (see streamEvents). It returns nil when
// ingest is off.
func (f *ingestFlags) start(std *stdio, logger *slog.Logger, store, records playkey.Store) (*runningIngest, error) {
	if !f.on() {
		return nil, nil
	}
	if f.readTimeout <= 0 {
		return nil, usageErrorf("--ingest-read-timeout must be positive, got %v", f.readTimeout)
	}
	finder, ok := store.(playkey.StreamKeyFinder)
	if !ok {
		return nil, errors.New("ingest: this store cannot look up stream keys")
	}
	var tlsConf *tls.Config
	if f.rtmpsAddr != "" {
		if f.cert == nil {
			return nil, usageErrorf("--ingest-rtmps-addr needs --tls-cert and --tls-key")
		}
		tlsConf = f.cert.Config()
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
	auth := live.NewRegistry(records, finder, f.region, logger)
	srv, err := ingest.New(ingest.Config{Authority: auth, Logger: logger, HLSBase: base, ReadTimeout: f.readTimeout})
	if err != nil {
		return fail(err)
	}
	auth.Stats, auth.Inject = srv.Stats, srv.PutMetadata
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

// ingestAPI is what the API of the same process asks of its ingest: StreamStopper's
// immediate disconnection (a stream live elsewhere ends when its ingest reads the store's
// mark). PutMetadata goes through the store, whichever node holds the stream.
type ingestAPI struct{ srv *ingest.Server }

func (i ingestAPI) StopStream(_ context.Context, channel playkey.ARN) error {
	i.srv.Stop(channel)
	return nil
}

func runIngest(ctx context.Context, std *stdio, args []string) error {
	var (
		sf  storeFlags
		lf  logFlags
		inf ingestFlags
		mf  metricsFlags
	)
	fs := newFlagSet(std, "ingest", "")
	sf.register(fs)
	lf.register(fs)
	inf.register(fs, "127.0.0.1:1935")
	var hf hookFlags
	hf.register(fs)
	var tf tlsFlags
	tf.register(fs)
	mf.register(fs, false)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("ingest takes no arguments, got %q", rest)
	}
	if !inf.on() && hf.addr == "" && !hf.engines() {
		return usageErrorf("ingest needs --ingest-addr, --ingest-rtmps-addr, --ingest-srt-addr, or --hooks-addr with --nginx-rtmp-hls-url or the --mediamtx flags")
	}
	b, err := startBeside(ctx, std, "ingest", &sf, &lf, &tf, &mf)
	if err != nil {
		return err
	}
	defer b.close()
	logger, store, mr := b.logger, b.store, b.metrics
	inf.cert = b.cert
	eng, err := startEngines(std, logger, store, &inf, &hf)
	if err != nil {
		return err
	}
	defer eng.stop()
	var ingestErrs <-chan error
	if eng.ingest != nil {
		mr.register(eng.ingest.srv)
		ingestErrs = eng.ingest.errc
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-ingestErrs:
		return err
	case err := <-eng.hooks.wait():
		return err
	}
}

// engines are what receives live streams in one process: playkey's ingest and the media
// servers' callbacks, recording streams in one store that also sends their events.
type engines struct {
	ingest *runningIngest
	hooks  *runningHooks
	events *events.Webhooks
	// Ending the streams whose ingest node stopped reporting, with their events.
	stopEnding context.CancelFunc
	ending     chan struct{}
}

// endTimedOutInterval is how often a process that records streams ends those whose ingest
// stopped reporting: within this of playkey.StreamTimeout, their Stream End is sent.
const endTimedOutInterval = 5 * time.Second

// startEngines starts ingest and the callbacks as their flags ask; either may be off.
func startEngines(std *stdio, logger *slog.Logger, store playkey.Store, inf *ingestFlags, hf *hookFlags) (*engines, error) {
	if !inf.on() && !hf.on() && len(inf.eventsURLs) > 0 {
		logger.Warn("events: --events-url is set but neither ingest nor --hooks-addr is on: this process records no streams, so it sends no events")
	}
	records, webhooks, err := inf.streamEvents(logger, store)
	if err != nil {
		return nil, err
	}
	e := &engines{events: webhooks}
	if e.ingest, err = inf.start(std, logger, store, records); err != nil {
		e.stop()
		return nil, err
	}
	hf.region = inf.region
	if e.hooks, err = hf.start(std, logger, store, records); err != nil {
		e.stop()
		return nil, err
	}
	if e.ingest != nil || e.hooks != nil {
		var ctx context.Context
		ctx, e.stopEnding = context.WithCancel(context.Background())
		e.ending = make(chan struct{})
		go func() {
			defer close(e.ending)
			live.EndTimedOutEvery(ctx, records, endTimedOutInterval, logger)
		}()
	}
	return e, nil
}

// stop ends every stream, then gives their events a moment to go out.
func (e *engines) stop() {
	if e.stopEnding != nil {
		e.stopEnding()
		<-e.ending
	}
	e.hooks.stop()
	e.ingest.stop()
	if e.events != nil {
		e.events.Close(3 * time.Second)
	}
}
