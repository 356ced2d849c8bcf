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
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/ingest"
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
	auth := live.NewRegistry(store, finder, f.region, logger)
	srv, err := ingest.New(ingest.Config{Authority: auth, Logger: logger, HLSBase: base})
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
