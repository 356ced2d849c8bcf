package main

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/ingest"
	"github.com/playkey/playkey/internal/gatebench"
	"github.com/playkey/playkey/internal/ingestbench"
	"github.com/playkey/playkey/live"
	"github.com/playkey/playkey/sqlite"
)

func runBenchIngest(ctx context.Context, std *stdio, args []string) error {
	// Ingest and the gate as serve wires them, on the benchmark's one store. The
	// authority reads the ingest server's stats, so it learns of it with the gate.
	var auth *live.Registry
	bc := ingestbench.Config{
		Authority: func(store *sqlite.Store, log *slog.Logger) ingest.Authority {
			auth = live.NewRegistry(store, store, "", log)
			return auth
		},
		Origin: func(store *sqlite.Store, srv *ingest.Server) (string, http.RoundTripper) {
			auth.Stats = srv.Stats
			gf := gateFlags{live: &liveOrigins{local: srv, store: store}}
			return gf.originSettings()
		},
	}
	var modes string
	fs := newFlagSet(std, "bench ingest", "")
	fs.IntVar(&bc.Channels, "channels", 10, "`N` channels live at once, each with an RTMP publisher of a synthetic 720p30 stream and one LL-HLS viewer through the gate")
	fs.DurationVar(&bc.Duration, "duration", 20*time.Second, "how long to measure, after a warm-up of 6 s")
	fs.StringVar(&modes, "latency-mode", "LOW,NORMAL", "latency `MODES` to measure, one run each")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usageErrorf("bench ingest takes no arguments")
	case bc.Channels < 1 || bc.Channels > ingestbench.MaxChannels:
		return usageErrorf("--channels must be 1 to %d", ingestbench.MaxChannels)
	case bc.Duration <= 0 || bc.Duration > gatebench.MaxDuration:
		return usageErrorf("--duration must be positive and at most %v", gatebench.MaxDuration)
	}
	for mode := range strings.SplitSeq(modes, ",") {
		if mode != playkey.LatencyLow && mode != playkey.LatencyNormal {
			return usageErrorf("--latency-mode %q: want LOW and/or NORMAL", mode)
		}
	}
	src, err := ingestbench.NewSource(ctx)
	if err != nil {
		return err
	}
	src.Print(std.out)
	for mode := range strings.SplitSeq(modes, ",") {
		bc.Mode = mode
		res, err := ingestbench.Run(ctx, src, bc)
		if err != nil {
			return err
		}
		res.Print(std.out)
	}
	return nil
}
