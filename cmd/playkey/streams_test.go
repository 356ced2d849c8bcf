package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/sqlite"
)

// TestViewerCountThroughGate: viewers played through the gate of `playkey serve` count in
// GetStream's viewerCount. The stream is started through the store, from this process, as
// an ingest process beside the server would.
func TestViewerCountThroughGate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	origin := testOrigin(t)
	data := t.TempDir()
	s := startServer(t, data, "--playback-addr", "127.0.0.1:0", "--origin", origin.URL+"/{channel}/index.m3u8")
	c := sdkClient(s)
	ch, err := c.CreateChannel(ctx, &ivs.CreateChannelInput{})
	if err != nil {
		t.Fatal(err)
	}
	arn, _ := playkey.ParseARN("arn", aws.ToString(ch.Channel.Arn))

	store, err := sqlite.Open(ctx, filepath.Join(data, "playkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now()
	st := &playkey.Stream{Channel: arn, ID: playkey.NewStreamID(), StartTime: now, SeenAt: now, Health: playkey.HealthHealthy}
	if err := store.StartStream(ctx, st); err != nil {
		t.Fatal(err)
	}

	// Two viewers, one of them fetching a variant too.
	for i := range 2 {
		code, mv, _ := httpGet(t, aws.ToString(ch.Channel.PlaybackUrl))
		if code != 200 {
			t.Fatalf("viewer %d: %d %s", i, code, mv)
		}
		if i == 0 {
			gateURL := gateLine.FindStringSubmatch(s.Stdout.String())[1]
			if code, _, _ := httpGet(t, gateURL+firstURI(t, mv, "360p/index.m3u8")); code != 200 {
				t.Fatalf("variant: %d", code)
			}
		}
	}
	// The gate writes its sightings every few seconds; 30 s bounds a failure only.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := c.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: ch.Channel.Arn})
		if err != nil {
			t.Fatal(err)
		}
		if out.Stream.ViewerCount == 2 {
			break
		}
		if out.Stream.ViewerCount > 2 || time.Now().After(deadline) {
			t.Fatalf("viewerCount = %d, want 2", out.Stream.ViewerCount)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
