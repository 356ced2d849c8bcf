package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/live"
	"github.com/playkey/playkey/nginxrtmp"
)

// hookFlags configure the listener that answers media servers' callbacks, for operators
// whose streams arrive at their own nginx-rtmp rather than at playkey's ingest.
type hookFlags struct {
	addr     string
	secret   string
	nginxHLS string
	region   string
}

func (f *hookFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "hooks-addr", "", "`HOST:PORT` where playkey answers media servers' callbacks (nginx-rtmp's on_publish, on_update and on_publish_done at /nginx-rtmp); empty: off")
	fs.StringVar(&f.secret, "hooks-secret", "", "`SECRET` the callbacks must carry as their secret= query parameter; without it, only callbacks from loopback addresses are taken")
	fs.StringVar(&f.nginxHLS, "nginx-rtmp-hls-url", "", "base `URL` at which gates reach nginx-rtmp's hls_path (with hls_nested on), e.g. http://127.0.0.1:8088/hls; turns the /nginx-rtmp callbacks on")
}

// on reports whether any media server's callbacks are configured.
func (f *hookFlags) on() bool { return f.addr != "" && f.nginxHLS != "" }

// runningHooks is the callbacks' listener, serving in the background.
type runningHooks struct {
	srv   *http.Server
	nginx *nginxrtmp.Hooks
	errc  chan error
}

// start opens the callbacks' listener; their registry reads stream keys from store and
// records streams in records (see ingestFlags.streamEvents).
func (f *hookFlags) start(std *stdio, logger *slog.Logger, store, records playkey.Store) (*runningHooks, error) {
	if f.addr == "" && f.nginxHLS == "" {
		return nil, nil
	}
	if !f.on() {
		return nil, usageErrorf("--hooks-addr and --nginx-rtmp-hls-url go together")
	}
	finder, ok := store.(playkey.StreamKeyFinder)
	if !ok {
		return nil, fmt.Errorf("hooks: this store cannot look up stream keys")
	}
	nginx, err := nginxrtmp.New(nginxrtmp.Config{
		Authority: live.NewRegistry(records, finder, f.region, logger),
		HLSBase:   f.nginxHLS,
		Secret:    f.secret,
		Logger:    logger,
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return nil, fmt.Errorf("hooks listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/nginx-rtmp", nginx)
	run := &runningHooks{nginx: nginx, errc: make(chan error, 1), srv: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}}
	go func() { run.errc <- run.srv.Serve(ln) }()
	fmt.Fprintf(std.out, "playkey hooks: nginx-rtmp callbacks at http://%s/nginx-rtmp\n", loopbackIfUnspecified(ln.Addr().String()))
	logger.Info("hooks listening", "addr", ln.Addr().String(), "nginx_rtmp_hls", f.nginxHLS)
	return run, nil
}

// stop closes the listener and ends the streams the callbacks let in.
func (r *runningHooks) stop() {
	if r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.srv.Shutdown(ctx)
	r.nginx.Close(ctx)
}

// wait returns the listener's error, or blocks forever when there is no listener.
func (r *runningHooks) wait() <-chan error {
	if r == nil {
		return nil
	}
	return r.errc
}
