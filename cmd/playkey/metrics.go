package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/gate"
	"github.com/playkey/playkey/metrics"
)

// metricsFlags turn on the Prometheus endpoint: serve's, gate's and ingest's.
type metricsFlags struct {
	addr     string
	channels int
}

// register adds --metrics-addr, and with gate --metrics-max-channels (the gate's only).
func (f *metricsFlags) register(fs *flag.FlagSet, withGate bool) {
	fs.StringVar(&f.addr, "metrics-addr", "", "`HOST:PORT` of a listener of its own that serves Prometheus metrics at /metrics (port 0 picks a free port); empty: off")
	f.channels = gate.DefaultMetricsChannels
	if withGate {
		fs.IntVar(&f.channels, "metrics-max-channels", gate.DefaultMetricsChannels, "channels that get their own series of the gate's open sessions (those with the most); the rest are summed as channel_arn=\"other\"")
	}
}

// runningMetrics is the metrics listener serving a registry; both nil when metrics are off.
type runningMetrics struct {
	reg *prometheus.Registry
	srv *http.Server
}

// start listens on --metrics-addr and serves a new registry there until stop, and prints
// where. With no --metrics-addr it returns a runningMetrics that registers nothing.
func (f *metricsFlags) start(std *stdio, logger *slog.Logger) (*runningMetrics, error) {
	if f.addr == "" {
		return &runningMetrics{}, nil
	}
	if f.channels < 0 {
		return nil, usageErrorf("--metrics-max-channels %d: want 0 or more", f.channels)
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener: %w", err)
	}
	reg := metrics.NewRegistry()
	srv := &http.Server{
		Handler:           metrics.Handler(reg),
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go srv.Serve(ln)
	fmt.Fprintf(std.out, "playkey metrics: http://%s/metrics\n", ln.Addr())
	logger.Info("metrics listening", "addr", ln.Addr().String())
	return &runningMetrics{reg: reg, srv: srv}, nil
}

// register adds c to the registry, if metrics are on.
func (m *runningMetrics) register(c prometheus.Collector) {
	if m.reg != nil {
		m.reg.MustRegister(c)
	}
}

// store returns s measured when metrics are on, else s.
func (m *runningMetrics) store(s playkey.Store) playkey.Store {
	if m.reg == nil {
		return s
	}
	ms := metrics.NewStore(s)
	m.reg.MustRegister(ms)
	return ms
}

func (m *runningMetrics) stop() {
	if m.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m.srv.Shutdown(ctx)
}

// unwrapStore returns the store under a measuring wrapper, for what a store offers beyond
// playkey.Store (change announcements).
func unwrapStore(s playkey.Store) playkey.Store {
	if u, ok := s.(interface{ Unwrap() playkey.Store }); ok {
		return u.Unwrap()
	}
	return s
}
