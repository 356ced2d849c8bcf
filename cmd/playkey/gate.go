package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/gate"
	"github.com/playkey/playkey/keypair"
	"github.com/playkey/playkey/postgres"
)

var gateCommand = &command{
	name:    "gate",
	summary: "run only the playback gate (the data plane) against the store",
	run:     runGate,
}

// gateFlags are the playback gate's flags, shared by serve and gate.
type gateFlags struct {
	origin         string
	countryHeader  string
	clientIPHeader string
	leeway         time.Duration
	sessionTTL     time.Duration
	staleAfter     time.Duration
	// live finds channels live on playkey's ingest (liveorigin.go); nil when none can be.
	live *liveOrigins
}

func (f *gateFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.origin, "origin", "", "`TEMPLATE` URL of a channel's multivariant playlist on the HLS origin, with {region}, {account} and {channel}, e.g. http://127.0.0.1:8888/{channel}/index.m3u8; serve runs the playback gate only when it is set")
	fs.StringVar(&f.countryHeader, "country-header", "", "request `HEADER` holding the viewer's ISO country code, set by a trusted proxy or CDN (e.g. CloudFront-Viewer-Country); without it, a policy that restricts countries refuses everyone")
	fs.StringVar(&f.clientIPHeader, "client-ip-header", "", "request `HEADER` holding the client address, set by a trusted proxy (e.g. X-Real-IP), for the failed-verification limiter; default: the connection's address")
	fs.DurationVar(&f.leeway, "token-leeway", 5*time.Second, "clock difference tolerated around a token's exp")
	fs.DurationVar(&f.sessionTTL, "session-lifetime", 24*time.Hour, "how long a playback session plays after its token was accepted")
	fs.DurationVar(&f.staleAfter, "stale-after", 15*time.Second, "how long the gate keeps deciding on the keys, channels and revocations it read last while the store cannot be read; then it answers 503")
}

// listen opens the gate's listener on addr, or returns nil when the gate is not wanted
// (no --origin, and no live channels to serve).
func (f *gateFlags) listen(addr string) (net.Listener, error) {
	if f.origin == "" && f.live == nil {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
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
}

// stop drains the gate and returns how serving ended.
func (r *runningGate) stop() error {
	r.cancel()
	<-r.ended
	return r.err
}

// start runs the gate on ln until ctx ends or stop is called, and prints where it listens.
// With ln nil it does nothing.
func (f *gateFlags) start(ctx context.Context, io *stdio, logger *slog.Logger, store playkey.Store, ln net.Listener) (*runningGate, error) {
	ctx, cancel := context.WithCancel(ctx)
	run := &runningGate{cancel: cancel, ended: make(chan struct{})}
	if ln == nil {
		close(run.ended)
		return run, nil
	}
	origin, transport := f.originSettings()
	g, err := gate.New(ctx, gate.Config{
		State:                storeState{store},
		Origin:               origin,
		Transport:            transport,
		Logger:               logger,
		Leeway:               f.leeway,
		SessionLifetime:      f.sessionTTL,
		RevocationStaleAfter: f.staleAfter,
		CountryHeader:        f.countryHeader,
		ClientIPHeader:       f.clientIPHeader,
	})
	if err != nil {
		cancel()
		return nil, err
	}
	srv := &http.Server{
		Handler:           g,
		ReadHeaderTimeout: 10 * time.Second,
		// No WriteTimeout: segments stream for as long as the viewer reads them; the gate
		// bounds origin stalls itself.
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(io.out, "playkey gate listening on http://%s\n", ln.Addr())
	logger.Info("playback gate", "addr", ln.Addr().String(), "origin", f.origin)
	if w, ok := store.(changeWatcher); ok {
		go watchChanges(ctx, logger, w, g)
	}
	go func() {
		run.err = serveUntilDone(ctx, logger, srv, ln)
		g.Close()
		close(run.ended)
	}()
	return run, nil
}

// changeWatcher is a store that announces committed changes (the PostgreSQL store).
type changeWatcher interface {
	Watch(ctx context.Context, f func(postgres.Change)) error
}

// watchChanges passes a store's announcements to the gate until ctx ends, so that changes
// made through any node reach this gate at once rather than when its caches expire.
func watchChanges(ctx context.Context, logger *slog.Logger, w changeWatcher, g *gate.Gate) {
	err := w.Watch(ctx, func(c postgres.Change) {
		switch c.Kind {
		case postgres.ChangeKeyPairs:
			g.KeysChanged(c.Scope)
		case postgres.ChangeChannel:
			g.ChannelChanged(c.ARN)
		case postgres.ChangePolicy:
			g.PoliciesChanged()
		case postgres.ChangeRevocations:
			g.RevocationsChanged()
		default:
			g.AllChanged()
		}
	})
	if err != nil && ctx.Err() == nil {
		logger.Error("gate: no longer hearing the store's change announcements; caches expire on their own", "err", err)
	}
}

func runGate(ctx context.Context, io *stdio, args []string) error {
	var cfg serveConfig
	var gf gateFlags
	fs := newFlagSet(io, "gate", "")
	fs.StringVar(&cfg.playbackAddr, "playback-addr", "127.0.0.1:8081", "`HOST:PORT` the playback gate listens on (port 0 picks a free port)")
	fs.StringVar(&cfg.dataDir, "data", "./playkey-data", "`DIR` holding the embedded database (the one serve uses)")
	fs.StringVar(&cfg.storeURL, "store", "", "where state lives: a postgres:// or postgresql:// `URL` for PostgreSQL; empty (or anything else) for the embedded SQLite database in --data")
	fs.StringVar(&cfg.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	gf.register(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("gate takes no arguments, got %q", rest)
	}
	logger, err := newLogger(io, cfg.logFormat, cfg.logLevel)
	if err != nil {
		return err
	}
	if cfg.storeURL == "" {
		if _, err := os.Stat(cfg.dataDir); err != nil {
			return fmt.Errorf("data directory: %w (the gate reads the store that serve writes)", err)
		}
	}
	store, err := openStore(ctx, logger, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if lo, ok := store.(playkey.LiveOrigins); ok {
		gf.live = &liveOrigins{store: lo}
	}
	if gf.origin == "" && gf.live == nil {
		return usageErrorf("gate needs --origin TEMPLATE")
	}
	ln, err := gf.listen(cfg.playbackAddr)
	if err != nil {
		return err
	}
	run, err := gf.start(ctx, io, logger, store, ln)
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

// storeState adapts a playkey.Store to the narrow interface the gate reads.
type storeState struct{ s playkey.Store }

var _ gate.State = storeState{}

func (a storeState) PublicKeys(ctx context.Context, scope playkey.Scope) ([]gate.Key, error) {
	kps, err := a.s.KeyPairs(ctx, scope, playkey.Page{Limit: playkey.MaxKeyPairs + 1})
	if err != nil {
		return nil, err
	}
	keys := make([]gate.Key, 0, len(kps))
	for _, kp := range kps {
		pub, err := keypair.ParsePublicKeyDER(kp.PublicKeyDER)
		if err != nil {
			// Only P-384 keys are ever imported; a stored key that does not parse is
			// damage, and leaving it out only refuses its tokens.
			continue
		}
		keys = append(keys, gate.Key{ARN: kp.ARN.String(), PublicKey: pub})
	}
	return keys, nil
}

func (a storeState) Channel(ctx context.Context, arn playkey.ARN) (gate.Channel, error) {
	ch, err := a.s.Channel(ctx, arn)
	if err != nil {
		return gate.Channel{}, err
	}
	out := gate.Channel{Authorized: ch.Authorized}
	// A private channel ignores its policy, so it is not read.
	if !ch.Authorized && !ch.PlaybackRestrictionPolicy.IsZero() {
		p, err := a.s.PlaybackRestrictionPolicy(ctx, ch.PlaybackRestrictionPolicy)
		if err != nil {
			// The store keeps channels from naming a missing policy; if one is missing
			// anyway, refusing is safer than playing without it. %v, not %w: a missing
			// policy must not read as a missing channel.
			return gate.Channel{}, fmt.Errorf("policy %s of channel %s: %v", ch.PlaybackRestrictionPolicy, arn, err)
		}
		out.Policy = &gate.Policy{
			AllowedCountries:        p.AllowedCountries,
			AllowedOrigins:          p.AllowedOrigins,
			StrictOriginEnforcement: p.EnableStrictOriginEnforcement,
		}
	}
	return out, nil
}

// revocationBatch is how many revocations one poll reads at most.
const revocationBatch = 1000

func (a storeState) RevocationsSince(ctx context.Context, cursor int64) ([]gate.Revocation, int64, error) {
	revs, err := a.s.RevocationsSince(ctx, cursor, revocationBatch)
	if err != nil {
		return nil, cursor, err
	}
	out := make([]gate.Revocation, len(revs))
	for i, r := range revs {
		out[i] = gate.Revocation{ChannelARN: r.Channel.String(), ViewerID: r.ViewerID, MaxVersion: r.MaxVersion}
		cursor = max(cursor, r.Seq)
	}
	return out, cursor, nil
}

func (a storeState) SingleUse(ctx context.Context, scope playkey.Scope, uuid string, expires time.Time, consume bool) (bool, error) {
	return a.s.SingleUse(ctx, scope, uuid, expires, consume)
}

func (a storeState) Secret(ctx context.Context, name string) ([]byte, error) {
	return a.s.Secret(ctx, name)
}
