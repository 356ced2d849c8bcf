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
	"github.com/playkey/playkey/mediamtx"
	"github.com/playkey/playkey/nginxrtmp"
)

// hookFlags configure the listener that answers media servers' callbacks, for operators
// whose streams arrive at their own nginx-rtmp or MediaMTX rather than at playkey's ingest.
type hookFlags struct {
	addr        string
	secret      string
	nginxHLS    string
	mediamtxAPI string
	mediamtxHLS string
	region      string
}

func (f *hookFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "hooks-addr", "", "`HOST:PORT` where playkey answers media servers' callbacks (nginx-rtmp's on_publish, on_update and on_publish_done at /nginx-rtmp, MediaMTX's authHTTPAddress at /mediamtx/auth); empty: off")
	fs.StringVar(&f.secret, "hooks-secret", "", "`SECRET` the callbacks must carry as their secret= query parameter; without it, only callbacks from loopback addresses are taken")
	fs.StringVar(&f.nginxHLS, "nginx-rtmp-hls-url", "", "base `URL` at which gates reach nginx-rtmp's hls_path (with hls_nested on), e.g. http://127.0.0.1:8088/hls; turns the /nginx-rtmp callbacks on")
	fs.StringVar(&f.mediamtxAPI, "mediamtx-api-url", "", "`URL` of MediaMTX's control API, e.g. http://playkey:SECRET@127.0.0.1:9997 (the user and password, if any, are the only ones the callback lets use the API); with --mediamtx-hls-url, turns the /mediamtx/auth callback on")
	fs.StringVar(&f.mediamtxHLS, "mediamtx-hls-url", "", "base `URL` at which gates reach MediaMTX's HLS server, e.g. http://127.0.0.1:8888 (give the gate --origin-header 'Authorization: Bearer HLSCDNSECRET')")
}

// engines reports whether any media server's callbacks are configured.
func (f *hookFlags) engines() bool {
	return f.nginxHLS != "" || f.mediamtxAPI != "" || f.mediamtxHLS != ""
}

// on reports whether the callbacks' listener runs.
func (f *hookFlags) on() bool { return f.addr != "" && f.engines() }

// runningHooks is the callbacks' listener, serving in the background, and the MediaMTX
// poller.
type runningHooks struct {
	srv      *http.Server
	nginx    *nginxrtmp.Hooks
	stopPoll context.CancelFunc
	polled   chan struct{}
	errc     chan error
}

// start opens the callbacks' listener; their registry reads stream keys from store and
// records streams in records (see ingestFlags.streamEvents).
func (f *hookFlags) start(std *stdio, logger *slog.Logger, store, records playkey.Store) (*runningHooks, error) {
	if f.addr == "" && !f.engines() {
		return nil, nil
	}
	if !f.on() {
		return nil, usageErrorf("--hooks-addr goes with --nginx-rtmp-hls-url or with --mediamtx-api-url and --mediamtx-hls-url")
	}
	if (f.mediamtxAPI == "") != (f.mediamtxHLS == "") {
		return nil, usageErrorf("--mediamtx-api-url and --mediamtx-hls-url go together")
	}
	finder, ok := store.(playkey.StreamKeyFinder)
	if !ok {
		return nil, fmt.Errorf("hooks: this store cannot look up stream keys")
	}
	mux := http.NewServeMux()
	run := &runningHooks{errc: make(chan error, 1)}
	var endpoints []string
	if f.nginxHLS != "" {
		nginx, err := nginxrtmp.New(nginxrtmp.Config{
			Authority: live.NewRegistry(records, finder, f.region, logger),
			HLSBase:   f.nginxHLS,
			Secret:    f.secret,
			Logger:    logger,
		})
		if err != nil {
			return nil, err
		}
		run.nginx = nginx
		mux.Handle("/nginx-rtmp", nginx)
		endpoints = append(endpoints, "nginx-rtmp callbacks at %s/nginx-rtmp")
	}
	var mtx *mediamtx.Engine
	if f.mediamtxAPI != "" {
		reg := live.NewRegistry(records, finder, f.region, logger)
		var err error
		mtx, err = mediamtx.New(mediamtx.Config{
			Authority: reg,
			API:       f.mediamtxAPI,
			HLSBase:   f.mediamtxHLS,
			Secret:    f.secret,
			Logger:    logger,
		})
		if err != nil {
			return nil, usageErrorf("%v", err)
		}
		reg.Stats = mtx.Stats
		mux.Handle("/mediamtx/auth", mtx)
		endpoints = append(endpoints, "MediaMTX authHTTPAddress %s/mediamtx/auth")
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return nil, fmt.Errorf("hooks listener: %w", err)
	}
	run.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go func() { run.errc <- run.srv.Serve(ln) }()
	if mtx != nil {
		var ctx context.Context
		ctx, run.stopPoll = context.WithCancel(context.Background())
		run.polled = make(chan struct{})
		go func() { defer close(run.polled); mtx.Run(ctx) }()
	}
	base := "http://" + loopbackIfUnspecified(ln.Addr().String())
	for _, e := range endpoints {
		fmt.Fprintf(std.out, "playkey hooks: "+e+"\n", base)
	}
	logger.Info("hooks listening", "addr", ln.Addr().String(), "nginx_rtmp_hls", f.nginxHLS, "mediamtx_hls", f.mediamtxHLS)
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
	if r.nginx != nil {
		r.nginx.Close(ctx)
	}
	if r.stopPoll != nil {
		r.stopPoll()
		<-r.polled
	}
}

// wait returns the listener's error, or blocks forever when there is no listener.
func (r *runningHooks) wait() <-chan error {
	if r == nil {
		return nil
	}
	return r.errc
}
