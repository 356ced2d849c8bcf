package live

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/ingest"
)

// TestStreamHealthReport: a stream is HEALTHY while media arrives and STARVING once none has
// for starvingAfter, with Starvation Start and End events at the changes; bitrates are
// averaged since the start.
func TestStreamHealthReport(t *testing.T) {
	start := time.Date(2026, 12, 6, 19, 0, 0, 0, time.UTC)
	arn := playkey.ARN{Region: "us-west-2", Account: "000000000000", Type: playkey.TypeChannel, ID: "abcdEFGH1234"}
	s := &ingest.Stream{ID: playkey.NewStreamID(), Channel: ingest.Channel{ARN: arn}, StartTime: start,
		Video: ingest.VideoConfig{Codec: "avc1.64001F", Profile: "High", Level: "3.1", Width: 1280, Height: 720, FrameRate: 29.97},
		Audio: ingest.AudioConfig{Codec: "mp4a.40.2", SampleRate: 48000, Channels: 2}}
	var stats ingest.Stats
	a := &Registry{Stats: func(playkey.ARN) (ingest.Stats, bool) { return stats, true }}
	r := &reported{stream: s, health: playkey.HealthHealthy}

	now := start.Add(10 * time.Second)
	stats = ingest.Stats{LastMedia: now.Add(-time.Second), VideoBytes: 10 * 2_500_000 / 8, AudioBytes: 10 * 160_000 / 8}
	u := a.measure(r, now)
	if u.Health != playkey.HealthHealthy || len(u.Events) != 0 {
		t.Fatalf("media a second ago: %+v", u)
	}
	v, au := u.Ingest.Video[0], u.Ingest.Audio[0]
	if v.TargetBitrate != 2_500_000 || v.TargetFramerate != 30 || v.Width != 1280 || v.Height != 720 || v.Codec != "avc1.64001F" || v.Profile != "High" ||
		au.TargetBitrate != 160_000 || au.SampleRate != 48000 || au.Channels != 2 {
		t.Errorf("ingest configuration: %+v %+v", v, au)
	}

	now = now.Add(5 * time.Second) // no media since
	u = a.measure(r, now)
	if u.Health != playkey.HealthStarving || len(u.Events) != 1 || u.Events[0].Name != playkey.EventStarvationStart {
		t.Fatalf("no media for 6 s: %+v", u)
	}
	if u = a.measure(r, now.Add(time.Second)); u.Health != playkey.HealthStarving || len(u.Events) != 0 {
		t.Fatalf("still starving: %+v", u)
	}
	stats.LastMedia = now.Add(time.Second)
	if u = a.measure(r, now.Add(2*time.Second)); u.Health != playkey.HealthHealthy || len(u.Events) != 1 || u.Events[0].Name != playkey.EventStarvationEnd {
		t.Fatalf("media again: %+v", u)
	}
}

// TestRefusalCode: each refusal the ingest wraps in one of its errors has its own Stream
// Failure code, whatever text surrounds it.
func TestRefusalCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		code string
	}{
		{fmt.Errorf("%w: H.265/HEVC video; IVS takes H.264 video and AAC audio", ingest.ErrUnsupported), "UnsupportedInput"},
		{fmt.Errorf("%w could be read: %w", ingest.ErrNoMedia, io.EOF), "NoMedia"},
		{fmt.Errorf("%w: wrong passphrase: use the channel's SRT passphrase", ingest.ErrPassphrase), "BadPassphrase"},
		{ingest.ErrAlreadyLive, "AlreadyLive"},
		{errors.New("something else"), "StreamRefused"},
	} {
		if got := refusalCode(c.err); got != c.code {
			t.Errorf("refusalCode(%v) = %q, want %q", c.err, got, c.code)
		}
	}
}
