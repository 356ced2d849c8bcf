package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/gate"
	"github.com/playkey/playkey/internal/certfile"
	"github.com/playkey/playkey/playback"
)

var gateCommand = &command{
	name:    "gate",
	summary: "run only the playback gate (the data plane) against the store",
	run:     runGate,
}

// gateFlags are the playback gate's flags, shared by serve and gate.
type gateFlags struct {
	addr           string
	origin         string
	countryHeader  string
	clientIPHeader string
	leeway         time.Duration
	sessionTTL     time.Duration
	staleAfter     time.Duration
	credentialTTL  time.Duration
	bind           sessionBind
	connsPerClient int
	trusted        prefixList
	originHeader   headerList
	// live finds channels live on playkey's ingest (liveorigin.go); nil when none can be.
	live *liveOrigins
	// cert is --tls-cert's certificate (tlsFlags): the gate serves HTTPS with it; nil: HTTP.
	cert *certfile.Source
	// metrics registers the gate's metrics; metricsChannels is --metrics-max-channels.
	metrics         *runningMetrics
	metricsChannels int
}

func (f *gateFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "playback-addr", "127.0.0.1:8081", "`HOST:PORT` the playback gate listens on (port 0 picks a free port); serve runs the gate when --origin is set, and points channels' playbackUrl at http://HOST:PORT (https:// with --tls-cert) unless --playback-url is set")
	fs.StringVar(&f.origin, "origin", "", "`TEMPLATE` URL of a channel's multivariant playlist on the HLS origin, with {region}, {account} and {channel}, e.g. http://127.0.0.1:8888/{channel}/index.m3u8; serve runs the playback gate only when it is set")
	fs.Var(&f.originHeader, "origin-header", "`'NAME: VALUE'` header sent with every origin request (repeatable), e.g. 'Authorization: Bearer SECRET' for MediaMTX's hlsCDNSecret; values are never logged")
	fs.StringVar(&f.countryHeader, "country-header", "", "request `HEADER` holding the viewer's ISO country code, set by a trusted proxy or CDN (e.g. CloudFront-Viewer-Country); without it, a policy that restricts countries refuses everyone")
	fs.StringVar(&f.clientIPHeader, "client-ip-header", "", "request `HEADER` holding the client address, set by a trusted proxy (e.g. X-Real-IP, X-Forwarded-For), for the failed-verification limiter and --session-bind; believed only from --trusted-proxies; default: the connection's address")
	fs.Var(&f.trusted, "trusted-proxies", "comma-separated `CIDRS` of the proxies whose --client-ip-header is believed, and whose connections are not limited per address; default: loopback only")
	fs.DurationVar(&f.leeway, "token-leeway", 5*time.Second, "clock difference tolerated around a token's exp")
	fs.DurationVar(&f.sessionTTL, "session-lifetime", 24*time.Hour, "how long a playback session plays after its token was accepted")
	fs.DurationVar(&f.credentialTTL, "session-credential-lifetime", 5*time.Minute, "how long a playback session's URLs (playlists and segments) keep working after the session's last request")
	fs.Var(&f.bind, "session-bind", "bind each playback session to the client's address prefix, `V4BITS[,V6BITS]` (e.g. 24,56; IPv6 default 64); off by default, since a phone that changes networks then loses its session")
	fs.IntVar(&f.connsPerClient, "max-conns-per-client", 256, "open connections the gate holds per client address (IPv6 per /64); more are answered 503; 0 for no limit")
	fs.DurationVar(&f.staleAfter, "stale-after", 15*time.Second, "how long the gate keeps deciding on the keys, channels and revocations it read last while the store cannot be read; then it answers 503")
}

// listen opens the gate's listener, or returns nil when the gate is not wanted (no
// --origin, and no live channels to serve).
func (f *gateFlags) listen() (net.Listener, error) {
	if f.origin == "" && f.live == nil {
		return nil, nil
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return nil, fmt.Errorf("playback listener: %w", err)
	}
	return ln, nil
}

// runningGate is a gate serving in the background.
type runningGate struct {
	cancel context.CancelFunc
	ended  chan struct{} // closed when serving ends
	err    error
	gate   *gate.Gate // nil when there is no gate
}

// stop drains the gate and returns how serving ended.
func (r *runningGate) stop() error {
	r.cancel()
	<-r.ended
	return r.err
}

// start runs the gate on ln until ctx ends or stop is called, and prints where it listens.
// With ln nil it does nothing.
func (f *gateFlags) start(ctx context.Context, std *stdio, logger *slog.Logger, store playkey.Store, ln net.Listener) (*runningGate, error) {
	ctx, cancel := context.WithCancel(ctx)
	run := &runningGate{cancel: cancel, ended: make(chan struct{})}
	if ln == nil {
		close(run.ended)
		return run, nil
	}
	viewers := gate.NewViewerReporter(store.RecordViewers, logger)
	metricsChannels := f.metricsChannels
	if metricsChannels == 0 {
		metricsChannels = -1 // the flag's 0 is none; Config's is the default
	}
	origin, transport := f.originSettings()
	g, err := gate.New(ctx, gate.Config{
		State:                playback.FromStore(store),
		Viewers:              viewers,
		Origin:               origin,
		Transport:            transport,
		OriginHeader:         http.Header(f.originHeader),
		Logger:               logger,
		Leeway:               f.leeway,
		SessionLifetime:      f.sessionTTL,
		CredentialLifetime:   f.credentialTTL,
		SessionBindIPv4:      f.bind.v4,
		SessionBindIPv6:      f.bind.v6,
		RevocationStaleAfter: f.staleAfter,
		CountryHeader:        f.countryHeader,
		ClientIPHeader:       f.clientIPHeader,
		TrustedProxies:       f.trusted,
		Ping:                 store.Ping,
		MetricsChannels:      metricsChannels,
	})
	if err != nil {
		cancel()
		return nil, err
	}
	if f.metrics != nil {
		f.metrics.register(g)
	}
	exempt := f.trusted
	if len(exempt) == 0 && f.clientIPHeader != "" {
		// A proxy on this host carries every viewer: the gate believes it, and does not
		// count its connections as one client's.
		exempt = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	run.gate = g
	ln = gate.LimitConnections(ln, f.connsPerClient, exempt)
	srv := &http.Server{
		Handler:           g,
		ReadHeaderTimeout: 10 * time.Second,
		// No WriteTimeout: segments stream for as long as the viewer reads them; the gate
		// bounds each write (gate.Config.WriteTimeout) and origin stalls itself.
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if f.cert != nil {
		srv.TLSConfig = f.cert.Config()
	}
	fmt.Fprintf(std.out, "playkey gate listening on %s://%s\n", scheme(f.cert), ln.Addr())
	logger.Info("playback gate", "addr", ln.Addr().String(), "origin", f.origin)
	if w, ok := unwrapStore(store).(changeWatcher); ok {
		go watchChanges(ctx, logger, w, g, f.live)
	}
	reported := make(chan struct{})
	go func() {
		viewers.Run(ctx)
		close(reported)
	}()
	go func() {
		run.err = serveUntilDone(ctx, logger, srv, ln)
		g.Close()
		cancel() // the viewer reporter's last flush, before the store closes
		<-reported
		close(run.ended)
	}()
	return run, nil
}

// changeWatcher is a store that announces committed changes (the PostgreSQL store).
type changeWatcher interface {
	Watch(ctx context.Context, f func(playkey.Change)) error
}

// watchChanges passes a store's announcements to the gate until ctx ends, so that changes
// made through any node reach this gate at once rather than when its caches expire.
// live, when not nil, is the gate's record of live origins, which then relies on the
// announcements of streams and keeps what it read for longer.
func watchChanges(ctx context.Context, logger *slog.Logger, w changeWatcher, g *gate.Gate, live *liveOrigins) {
	err := w.Watch(ctx, func(c playkey.Change) {
		switch c.Kind {
		case playkey.ChangeStream:
			if live != nil {
				live.forget(c.ARN)
			}
		case playkey.ChangeKeyPairs:
			g.KeysChanged(c.Scope)
		case playkey.ChangeChannel:
			g.ChannelChanged(c.ARN)
		case playkey.ChangePolicy:
			g.PoliciesChanged()
		case playkey.ChangeRevocations:
			g.RevocationsChanged()
		default:
			g.AllChanged()
			if live != nil {
				live.forgetAll(true)
			}
		}
		// Tests wait for this line rather than for a change to be fast enough.
		if logger.Enabled(ctx, slog.LevelDebug) {
			attrs := []any{"kind", c.Kind.String(), "account", c.Scope.Account, "region", c.Scope.Region}
			if !c.ARN.IsZero() {
				attrs = append(attrs, "arn", c.ARN.String())
			}
			logger.Debug("gate: change announced", attrs...)
		}
	})
	if live != nil {
		live.forgetAll(false) // back to short-lived records
	}
	if err != nil && ctx.Err() == nil {
		logger.Error("gate: no longer hearing the store's change announcements; caches expire on their own", "err", err)
	}
}

func runGate(ctx context.Context, std *stdio, args []string) error {
	var (
		sf storeFlags
		lf logFlags
		gf gateFlags
		mf metricsFlags
	)
	fs := newFlagSet(std, "gate", "")
	sf.register(fs)
	lf.register(fs)
	gf.register(fs)
	var tf tlsFlags
	tf.register(fs)
	mf.register(fs, true)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("gate takes no arguments, got %q", rest)
	}
	b, err := startBeside(ctx, std, "the gate", &sf, &lf, &tf, &mf)
	if err != nil {
		return err
	}
	defer b.close()
	logger, store, mr := b.logger, b.store, b.metrics
	gf.cert = b.cert
	gf.metrics, gf.metricsChannels = mr, mf.channels
	// Every store records live streams, so the gate always serves them (and --origin, if set).
	gf.live = &liveOrigins{store: store}
	ln, err := gf.listen()
	if err != nil {
		return err
	}
	run, err := gf.start(ctx, std, logger, store, ln)
	if err != nil {
		ln.Close()
		return err
	}
	select {
	case <-ctx.Done():
	case <-run.ended:
	}
	return run.stop()
}
