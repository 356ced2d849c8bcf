package main

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivs/types"

	"github.com/playkey/playkey/internal/testenv"
	"github.com/playkey/playkey/postgres/pgtest"
)

// TestGoLiveRefusedSessions: a publish with a valid key that is refused before it goes live
// leaves a stream session of its own, which the AWS CLI reads: ended, with Session Created,
// Stream Failure (with a code) and Session Ended; the channel never shows LIVE, and the
// refusals do not stand in the way of a good publish. H.265 goes over SRT: this ffmpeg's
// FLV muxer refuses HEVC (enhanced RTMP came with ffmpeg 6.1).
func TestGoLiveRefusedSessions(t *testing.T) {
	testenv.Need(t, "aws")
	ctx := context.Background()
	l := startLiveServer(t, "--ingest-srt-addr", "127.0.0.1:0")
	m := srtLine.FindStringSubmatch(l.Stdout.String())
	if m == nil {
		t.Fatalf("serve did not say where SRT listens:\n%s", l.Stdout)
	}
	awsCLI := testenv.StartAWSCLI(t, awsEnv(t, l.env))
	cli := func(args ...string) map[string]any { t.Helper(); return awsIVS(t, awsCLI, l.endpoint, args...) }
	out, err := l.ivs.CreateChannel(ctx, &ivs.CreateChannelInput{LatencyMode: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	arn, key, playback := aws.ToString(out.Channel.Arn), aws.ToString(out.StreamKey.Value), aws.ToString(out.Channel.PlaybackUrl)
	srtURL := func(passphrase string) string {
		return "srt://" + m[1] + "?streamid=" + key + "&passphrase=" + passphrase + "&pkt_size=1316"
	}
	recorded := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); strings.Count(l.Stderr.String(), "refused publish recorded") < n; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d refused publishes not recorded in 15 s:\n%s", n, l.Stderr)
			}
		}
	}

	hevc := publish(t, srtURL(*out.Channel.Srt.Passphrase), 30, "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=none", "-c:a", "aac")
	recorded(1)
	if !hevc.wait(15 * time.Second) {
		t.Error("ffmpeg still streams H.265 after the refusal")
	}
	// H.264 with MP3 audio over RTMP.
	mp3 := publish(t, l.rtmp+"/app/"+key, 30, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "libmp3lame")
	recorded(2)
	if !mp3.wait(15*time.Second) || mp3.err == nil {
		t.Error("an RTMP publish with MP3 audio was not refused")
	}
	wrong := publish(t, srtURL(strings.Repeat("a", 40)), 30)
	recorded(3)
	wrong.wait(15 * time.Second)
	log := l.Stderr.String()
	if strings.Contains(log, key) || strings.Contains(log, *out.Channel.Srt.Passphrase) {
		t.Error("the log names the stream key or the SRT passphrase")
	}
	if !strings.Contains(log, "H.265/HEVC video; IVS takes H.264 video and AAC audio") || !strings.Contains(log, "MPEG-1 audio (MP3)") {
		t.Errorf("the log does not say why the input was refused:\n%s", log)
	}

	awsIVSFails(t, awsCLI, l.endpoint, "ChannelNotBroadcasting", "get-stream", "--channel-arn", arn)
	if code, _, _ := httpGet(t, playback); code != 404 {
		t.Errorf("playback after the refusals: %d, want 404", code)
	}
	listed := cli("list-stream-sessions", "--channel-arn", arn)["streamSessions"].([]any)
	if len(listed) != 3 {
		t.Fatalf("aws ivs list-stream-sessions: %v, want the 3 refused publishes", listed)
	}
	var codes []string
	for _, item := range listed {
		sum := item.(map[string]any)
		if sum["endTime"] == nil || sum["hasErrorEvent"] != true {
			t.Errorf("refused session summary %v: want an endTime and hasErrorEvent", sum)
		}
		ss := cli("get-stream-session", "--channel-arn", arn, "--stream-id", sum["streamId"].(string))["streamSession"].(map[string]any)
		var names []string
		for _, e := range ss["truncatedEvents"].([]any) {
			ev := e.(map[string]any)
			names = append(names, ev["name"].(string))
			if ev["name"] == "Stream Failure" {
				c, _ := ev["code"].(string)
				codes = append(codes, c)
			}
		}
		if want := []string{"Session Ended", "Stream Failure", "Session Created"}; !slices.Equal(names, want) {
			t.Errorf("refused session %s: events %q, want %q", sum["streamId"], names, want)
		}
		if ss["endTime"] == nil || ss["channel"].(map[string]any)["arn"] != arn {
			t.Errorf("refused session %s: %v", sum["streamId"], ss)
		}
	}
	// Newest first: the passphrase, the RTMP input, the H.265 input.
	if !slices.Equal(codes, []string{"BadPassphrase", "UnsupportedInput", "UnsupportedInput"}) {
		t.Errorf("Stream Failure codes %q, want BadPassphrase, UnsupportedInput (MP3), UnsupportedInput (H.265)", codes)
	}
	t.Logf("failure codes, newest first: %q", codes)

	// The refusals block nothing: a good publish goes live, and its session is the latest.
	publish(t, l.rtmp+"/app/"+key, 60)
	waitStatus(t, playback, 200)
	st, err := l.ivs.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: &arn})
	if err != nil || st.Stream.State != types.StreamStateStreamLive {
		t.Fatalf("GetStream after the refusals: %+v, %v", st, err)
	}
	latest := cli("list-stream-sessions", "--channel-arn", arn)["streamSessions"].([]any)
	if len(latest) != 4 || latest[0].(map[string]any)["streamId"] != aws.ToString(st.Stream.StreamId) || latest[0].(map[string]any)["endTime"] != nil {
		t.Errorf("sessions after the good publish: %v", latest)
	}
}

// TestPutMetadataSeparateNodes: two API nodes without ingest and a separate ingest node on
// one store. PutMetadata on an API node reaches the stream on the ingest node through the
// store (the AWS CLI's payload appears in the media playlist through a separate gate), and
// the 5 calls a second per channel hold across the API nodes.
func TestPutMetadataSeparateNodes(t *testing.T) {
	testenv.Need(t, "ffmpeg")
	testenv.Need(t, "aws")
	ctx := context.Background()
	data := t.TempDir()
	s := startServer(t, data, "--ingest-addr", "", "--playback-addr", "127.0.0.1:8081")
	other := startServer(t, data, "--ingest-addr", "", "--playback-addr", "127.0.0.1:8081")
	other.env = s.env // the credentials file is the first node's
	c, c2 := sdkClient(s), sdkClient(other)
	rtmp := startIngestProcess(t, "--data", data)
	gateURL := startGateProcess(t, "--data", data)
	awsCLI := testenv.StartAWSCLI(t, awsEnv(t, s.env))

	out, err := c.CreateChannel(ctx, &ivs.CreateChannelInput{LatencyMode: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.Channel.Arn)
	awsIVSFails(t, awsCLI, other.endpoint, "ChannelNotBroadcasting", "put-metadata", "--channel-arn", arn, "--metadata", "early")
	path := (*out.Channel.PlaybackUrl)[strings.Index(*out.Channel.PlaybackUrl, "/api/video/v1/"):]
	publish(t, rtmp+"/app/"+aws.ToString(out.StreamKey.Value), 60)
	mv := waitStatus(t, gateURL+path, 200)

	awsIVS(t, awsCLI, other.endpoint, "put-metadata", "--channel-arn", arn, "--metadata", `{"from": "the other API node"}`)
	asked := time.Now()
	wantTag := `X-PAYLOAD="{%22from%22: %22the other API node%22}"`
	for media := variant(t, gateURL, mv); !strings.Contains(media, wantTag); media = variant(t, gateURL, mv) {
		if time.Since(asked) > 10*time.Second {
			t.Fatalf("no EXT-X-DATERANGE with the metadata 10 s after put-metadata on the other API node:\n%s", media)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("put-metadata on an API node to the tag in the playlist: %v", time.Since(asked))

	// Ten calls at once, five to each node: within one second, five pass and five are
	// throttled, whichever node took them. (Calls that took longer than a second could all
	// pass; the test then says so and checks no more than the count.)
	time.Sleep(1100 * time.Millisecond) // the window of the call above
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		ok, limit int
		others    []error
	)
	start := time.Now()
	for i := range 10 {
		client := c
		if i%2 == 1 {
			client = c2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := client.PutMetadata(ctx, &ivs.PutMetadataInput{ChannelArn: &arn, Metadata: aws.String("burst")})
			var th *types.ThrottlingException
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.As(err, &th):
				limit++
			default:
				others = append(others, err)
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if len(others) > 0 {
		t.Fatalf("PutMetadata burst: %v", others)
	}
	t.Logf("burst of 10 over two API nodes in %v: %d accepted, %d throttled", took, ok, limit)
	if took < time.Second && (ok != 5 || limit != 5) {
		t.Errorf("burst of 10 within a second over two API nodes: %d accepted, %d throttled; want 5 and 5", ok, limit)
	}
	if ok > 5*int(took/time.Second+1) {
		t.Errorf("%d calls accepted in %v, more than 5 a second", ok, took)
	}
}

// TestGoLiveAnnouncedToGates: on PostgreSQL a gate hears of a channel going live and of its
// end from the store's announcements. The gate caches "not live" for announcedTTL while it
// hears them, so a gate that asked just before the publish serves the stream well before
// that record would expire; the announcements of the start and of the end reach its log.
func TestGoLiveAnnouncedToGates(t *testing.T) {
	testenv.Need(t, "ffmpeg")
	ctx := context.Background()
	_, storeURL := pgtest.Schema(t)
	dir := t.TempDir()
	credFile, creds := writeCredentials(t, dir, "123456789012")
	api := startServer(t, filepath.Join(dir, "api"), "--credentials", credFile, "--store", storeURL, "--ingest-addr", "", "--playback-addr", "127.0.0.1:8081")
	c := ivsClient(api.endpoint, creds[0], "us-west-2", nil)
	rtmp := startIngestProcess(t, "--store", storeURL, "--data", t.TempDir())
	g := startGate(t, "--store", storeURL, "--log-level", "debug")
	out, err := c.CreateChannel(ctx, &ivs.CreateChannelInput{}) // LOW: 1 s segments
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.Channel.Arn)
	path := (*out.Channel.PlaybackUrl)[strings.Index(*out.Channel.PlaybackUrl, "/api/video/v1/"):]
	announced := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); strings.Count(g.Stderr.String(), "kind=stream") < n; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the gate did not hear %d stream announcements in 15 s:\n%s", n, g.Stderr)
			}
		}
		if log := g.Stderr.String(); !strings.Contains(log, "arn="+arn) {
			t.Fatalf("the stream announcement does not name the channel:\n%s", log)
		}
	}

	// The announcement when the gate starts (ChangeAll) turns the longer records on.
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(g.Stderr.String(), "kind=all"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the gate does not listen to the store's announcements:\n%s", g.Stderr)
		}
	}
	offline := time.Now()
	if code, _, _ := httpGet(t, g.url+path); code != 404 {
		t.Fatalf("offline channel through the gate: %d, want 404", code)
	}
	p := publish(t, rtmp+"/app/"+aws.ToString(out.StreamKey.Value), 60)
	announced(1)
	waitStatus(t, g.url+path, 200)
	// That the announcement, not the record's expiry, let the stream through is
	// TestLiveOriginsForgetOnAnnouncement's to check: here it is only measured.
	t.Logf("404 to 200 through the gate: %v (a record of not being live lasts %v)", time.Since(offline), announcedTTL)
	if _, err := c.StopStream(ctx, &ivs.StopStreamInput{ChannelArn: &arn}); err != nil {
		t.Fatal(err)
	}
	if !p.wait(5 * time.Second) {
		t.Fatal("ffmpeg still publishes 5 s after StopStream")
	}
	announced(3) // the stop's mark, then the end
	waitStatus(t, g.url+path, 404)
}
