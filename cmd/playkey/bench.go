package main

import (
	"context"
	"time"

	"github.com/playkey/playkey/internal/gatebench"
)

var benchCommand = &command{
	name:    "bench",
	summary: "measure the playback gate over loopback",
	run: func(ctx context.Context, std *stdio, args []string) error {
		return subcommands(ctx, std, "bench", args, []*command{
			{name: "gate", summary: "many concurrent viewers against an in-process origin and gate", run: runBenchGate},
		})
	},
}

func runBenchGate(ctx context.Context, std *stdio, args []string) error {
	var bc gatebench.Config
	fs := newFlagSet(std, "bench gate", "")
	fs.IntVar(&bc.Viewers, "viewers", 100, "concurrent `N` viewers, each with its own token")
	fs.DurationVar(&bc.Duration, "duration", 10*time.Second, "how long the viewers play")
	fs.IntVar(&bc.RequestsPerViewer, "requests-per-viewer", 0, "stop a viewer after `N` requests (0: only the duration bounds it)")
	fs.IntVar(&bc.SegmentSize, "segment-size", 64<<10, "`BYTES` in each segment the origin serves")
	fs.IntVar(&bc.Segments, "segments", 10, "segments in each media playlist")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usageErrorf("bench gate takes no arguments")
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
