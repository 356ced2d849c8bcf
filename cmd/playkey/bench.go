package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"runtime"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/gate"
	"github.com/playkey/playkey/internal/gatebench"
)

var benchCommand = &command{
	name:    "bench",
	summary: "measure the playback gate over loopback",
	run: func(ctx context.Context, std *stdio, args []string) error {
		return subcommands(ctx, std, "bench", args, []*command{
			{name: "gate", summary: "the gate against nginx with wrk (when found), or many viewers against an in-process origin", run: runBenchGate},
			{name: "ingest", summary: "many live channels: CPU, memory and frame-to-part delay of ingest and the gate", run: runBenchIngest},
		})
	},
}

// benchTools are the programs bench gate compares with; nginx may be outside $PATH.
var benchTools = []struct{ name, alt string }{{"nginx", "/usr/sbin/nginx"}, {"wrk", ""}, {"ffmpeg", ""}, {"openssl", ""}}

func runBenchGate(ctx context.Context, std *stdio, args []string) error {
	var bc gatebench.Config
	cc := gatebench.CompareConfig{StartGate: startBenchGate}
	var against string
	fs := newFlagSet(std, "bench gate", "")
	fs.StringVar(&against, "against", "", "`REFERENCE` to measure against: nginx (nginx serves an ffmpeg-made ladder as the origin and as a proxy_pass reference, wrk drives both, openssl speed gives the verifications per second; needs nginx, wrk, ffmpeg and openssl) or none (many viewers of this process against an in-process origin); default: nginx when all four are found, else none")
	fs.IntVar(&bc.Viewers, "viewers", 100, "concurrent `N` viewers, each with its own token (--against none)")
	fs.DurationVar(&bc.Duration, "duration", 10*time.Second, "how long the viewers play (--against none), or each measurement runs (--against nginx: whole seconds)")
	fs.IntVar(&bc.RequestsPerViewer, "requests-per-viewer", 0, "stop a viewer after `N` requests (0: only the duration bounds it; --against none)")
	fs.IntVar(&bc.SegmentSize, "segment-size", 64<<10, "`BYTES` in each segment the origin serves (--against none)")
	fs.IntVar(&bc.Segments, "segments", 10, "segments in each media playlist (--against none)")
	fs.IntVar(&cc.Connections, "connections", 32, "wrk's open connections `N`, the same for the gate and nginx (--against nginx)")
	fs.IntVar(&cc.Rounds, "rounds", 3, "rounds `N` of each admitted pair, nginx then the gate, whose medians are reported (--against nginx)")
	fs.IntVar(&cc.Threads, "threads", runtime.NumCPU(), "wrk's threads `N` (--against nginx)")
	fs.IntVar(&cc.Sessions, "sessions", 10_000, "sessions `N` admitted for the memory figure (--against nginx)")
	fs.IntVar(&cc.Tokens, "tokens", 0, "fresh tokens `N` for the new-viewer measurement; 0: twice openssl's verifications per second, at least 8000 a second, times --duration (--against nginx)")
	fs.StringVar(&cc.CPUProfile, "cpuprofile", "", "write a CPU profile of the gate's process during each gate measurement to `PREFIX`-segment.pprof, -playlist, -auth and -newviewer (--against nginx)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("bench gate takes no arguments")
	}
	var missing []string
	paths := map[string]string{}
	for _, t := range benchTools {
		p, err := exec.LookPath(t.name)
		if err != nil && t.alt != "" {
			p, err = exec.LookPath(t.alt)
		}
		if err != nil {
			missing = append(missing, t.name)
		}
		paths[t.name] = p
	}
	switch against {
	case "":
		against = "nginx"
		if len(missing) > 0 {
			against = "none"
			fmt.Fprintf(std.err, "playkey bench gate: %v not found: measuring the gate alone (--against none)\n", missing)
		}
	case "nginx":
		if len(missing) > 0 {
			return fmt.Errorf("--against nginx needs %v, not found", missing)
		}
	case "none":
	default:
		return usageErrorf("--against must be nginx or none")
	}
	if against == "nginx" {
		switch {
		case bc.Duration < time.Second || bc.Duration > gatebench.MaxDuration || bc.Duration%time.Second != 0:
			return usageErrorf("--duration must be whole seconds, at least 1s and at most %v", gatebench.MaxDuration)
		case cc.Connections < 1 || cc.Connections > 10_000:
			return usageErrorf("--connections must be 1 to 10000")
		case cc.Threads < 1 || cc.Threads > cc.Connections:
			return usageErrorf("--threads must be 1 to --connections")
		case cc.Rounds < 1 || cc.Rounds > 100:
			return usageErrorf("--rounds must be 1 to 100")
		case cc.Sessions < 1 || cc.Sessions > 1_000_000:
			return usageErrorf("--sessions must be 1 to 1000000")
		case cc.Tokens < 0 || cc.Tokens > 10_000_000 || (cc.Tokens > 0 && cc.Tokens < cc.Threads):
			return usageErrorf("--tokens must be 0, or --threads to 10000000")
		}
		cc.Duration = bc.Duration
		cc.Nginx, cc.Wrk, cc.FFmpeg, cc.OpenSSL = paths["nginx"], paths["wrk"], paths["ffmpeg"], paths["openssl"]
		cc.Progress = std.err
		res, err := gatebench.Compare(ctx, cc)
		if err != nil {
			return err
		}
		res.Print(std.out)
		return nil
	}
	switch {
	case bc.Viewers < 1 || bc.Viewers > gatebench.MaxViewers:
		return usageErrorf("--viewers must be 1 to %d", gatebench.MaxViewers)
	case bc.Duration <= 0 || bc.Duration > gatebench.MaxDuration:
		return usageErrorf("--duration must be positive and at most %v", gatebench.MaxDuration)
	case bc.SegmentSize < 1 || bc.SegmentSize > 64<<20:
		return usageErrorf("--segment-size must be 1 byte to 64 MiB")
	case bc.Segments < 1 || bc.Segments > 1000:
		return usageErrorf("--segments must be 1 to 1000")
	case bc.RequestsPerViewer < 0:
		return usageErrorf("--requests-per-viewer must not be negative")
	}
	res, err := gatebench.Run(ctx, bc)
	if err != nil {
		return err
	}
	res.Print(std.out, bc)
	return nil
}

// startBenchGate runs the gate as playkey gate runs it, with its default flags, behind a
// proxy on this host that passes the client address in X-Real-IP (docs/nginx), on a free
// port of 127.0.0.1. Its request log is discarded, as nginx's access log is.
func startBenchGate(ctx context.Context, store playkey.Store, origin string) (*gatebench.StartedGate, error) {
	var gf gateFlags
	fs := flag.NewFlagSet("gate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	gf.register(fs)
	if err := fs.Parse([]string{"--playback-addr", "127.0.0.1:0", "--origin", origin, "--client-ip-header", "X-Real-IP"}); err != nil {
		return nil, err
	}
	ln, err := gf.listen()
	if err != nil {
		return nil, err
	}
	run, err := gf.start(ctx, &stdio{out: io.Discard, err: io.Discard}, slog.New(slog.DiscardHandler), store, ln)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return &gatebench.StartedGate{
		URL:     "http://" + ln.Addr().String(),
		Stop:    run.stop,
		Metrics: func() gate.Metrics { return run.gate.Metrics() },
	}, nil
}
