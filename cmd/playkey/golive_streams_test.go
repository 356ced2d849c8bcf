package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivs/types"

	"github.com/playkey/playkey/internal/testenv"
)

// TestGoLiveStreamAPI joins ingest and the stream API on one `playkey serve`: ffmpeg
// publishes with the key CreateChannel returned; GetStream (SDK) shows the stream LIVE and
// HEALTHY, its session the ingest configuration measured from ffmpeg's stream; the AWS
// CLI's get-stream, list-streams, list-stream-sessions and stop-stream see it; stop-stream
// ends ffmpeg's publish within a second; PutMetadata reaches the media playlists; then the channel is not broadcasting and the
// session holds IVS's events.
func TestGoLiveStreamAPI(t *testing.T) {
	testenv.Need(t, "aws")
	ctx := context.Background()
	l := startLiveServer(t, "--ingest-url", "rtmps://live.example.com:4443", "--ingest-srt-url", "srt://srt.example.com:9000")
	awsCLI := testenv.StartAWSCLI(t, awsEnv(t, l.env))
	cli := func(args ...string) map[string]any { t.Helper(); return awsIVS(t, awsCLI, l.endpoint, args...) }

	out, err := l.ivs.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("streams")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.Channel.IngestEndpoint); got != "live.example.com:4443" {
		t.Errorf("ingestEndpoint %q, want live.example.com:4443 from --ingest-url", got)
	}
	if got := aws.ToString(out.Channel.Srt.Endpoint); got != "srt.example.com" {
		t.Errorf("srt.endpoint %q, want srt.example.com from --ingest-srt-url (IVS's port 9000 implied)", got)
	}
	arn, playback := aws.ToString(out.Channel.Arn), aws.ToString(out.Channel.PlaybackUrl)
	if _, err := l.ivs.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: &arn}); !isNotBroadcasting(err) {
		t.Fatalf("GetStream before the publish: %v, want ChannelNotBroadcasting", err)
	}

	p := publish(t, l.rtmp+"/app/"+aws.ToString(out.StreamKey.Value), 60)
	mv := waitStatus(t, playback, 200)
	st, err := l.ivs.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: &arn})
	if err != nil {
		t.Fatalf("GetStream of the live channel: %v", err)
	}
	s := st.Stream
	id := aws.ToString(s.StreamId)
	if s.State != types.StreamStateStreamLive || s.Health != types.StreamHealthStreamHealthy ||
		!regexp.MustCompile(`^st-[a-zA-Z0-9]{23}$`).MatchString(id) || aws.ToString(s.PlaybackUrl) != playback ||
		aws.ToString(s.ChannelArn) != arn || s.StartTime == nil || time.Since(*s.StartTime) > time.Minute {
		t.Fatalf("GetStream: %+v", s)
	}

	// The ingest reports what it measured within a few seconds; 30 s bounds a failure only.
	var session *types.StreamSession
	deadline := time.Now().Add(30 * time.Second)
	for {
		ss, err := l.ivs.GetStreamSession(ctx, &ivs.GetStreamSessionInput{ChannelArn: &arn})
		if err != nil {
			t.Fatal(err)
		}
		session = ss.StreamSession
		if c := session.IngestConfigurations; c != nil && len(c.VideoConfigurations) == 1 && c.VideoConfigurations[0].TargetBitrate > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no measured ingest configuration in 30 s: %+v", session.IngestConfigurations)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if aws.ToString(session.StreamId) != id || session.EndTime != nil {
		t.Errorf("the live session: id %s, end %v; want %s, no end", aws.ToString(session.StreamId), session.EndTime, id)
	}
	v, a := session.IngestConfigurations.VideoConfigurations[0], session.IngestConfigurations.AudioConfigurations
	// ffmpeg sends 640x360 at 30 fps, libx264 ultrafast (Constrained Baseline) at 600 kbit/s,
	// and a 44.1 kHz mono tone at 64 kbit/s.
	if !regexp.MustCompile(`^avc1\.42[0-9A-F]{4}$`).MatchString(aws.ToString(v.Codec)) || aws.ToString(v.Profile) != "Baseline" ||
		v.VideoWidth != 640 || v.VideoHeight != 360 || v.TargetFramerate != 30 || v.TargetBitrate < 100_000 || v.TargetBitrate > 3_000_000 {
		t.Errorf("video ingest configuration: %s", describe(v))
	}
	if len(a) != 1 || aws.ToString(a[0].Codec) != "mp4a.40.2" || a[0].SampleRate != 44100 || a[0].Channels != 1 ||
		a[0].TargetBitrate < 16_000 || a[0].TargetBitrate > 300_000 {
		t.Errorf("audio ingest configuration: %s", describe(a))
	}
	t.Logf("measured: %s %s", describe(v), describe(a))

	// PutMetadata's payload appears in the media playlists, through the gate, as an
	// EXT-X-DATERANGE tag (quoted-string, percent-escaped) at the time it was put.
	payload := `{"question": "50%?"}`
	if _, err := l.ivs.PutMetadata(ctx, &ivs.PutMetadataInput{ChannelArn: &arn, Metadata: &payload}); err != nil {
		t.Fatalf("PutMetadata: %v", err)
	}
	wantTag := regexp.MustCompile(`#EXT-X-DATERANGE:ID="[^"]+",CLASS="com.playkey.metadata",START-DATE="[0-9T:.-]+Z",X-PAYLOAD="\{%22question%22: %2250%25\?%22\}"`)
	deadline = time.Now().Add(10 * time.Second)
	for media := variant(t, l.gate, mv); !wantTag.MatchString(media); media = variant(t, l.gate, mv) {
		if time.Now().After(deadline) {
			t.Fatalf("no EXT-X-DATERANGE with the metadata in the media playlist 10 s after PutMetadata:\n%s", media)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// The AWS CLI sees the same stream.
	got := cli("get-stream", "--channel-arn", arn)["stream"].(map[string]any)
	if got["streamId"] != id || got["state"] != "LIVE" || got["health"] != "HEALTHY" || got["playbackUrl"] != playback {
		t.Errorf("aws ivs get-stream: %v", got)
	}
	listed := cli("list-streams")["streams"].([]any)
	if len(listed) != 1 || listed[0].(map[string]any)["streamId"] != id {
		t.Errorf("aws ivs list-streams: %v", listed)
	}
	sessions := cli("list-stream-sessions", "--channel-arn", arn)["streamSessions"].([]any)
	if len(sessions) != 1 || sessions[0].(map[string]any)["streamId"] != id {
		t.Errorf("aws ivs list-stream-sessions: %v", sessions)
	}

	// stop-stream disconnects the publisher before it answers, or within a second after.
	asked := time.Now()
	cli("stop-stream", "--channel-arn", arn)
	answered := time.Now()
	if !p.wait(5 * time.Second) {
		t.Fatal("ffmpeg still publishes 5 s after stop-stream")
	}
	t.Logf("ffmpeg's publish ended %v after the CLI started, %v after stop-stream answered (the CLI takes %v)",
		p.exited.Sub(asked), p.exited.Sub(answered), answered.Sub(asked))
	if p.exited.After(answered.Add(time.Second)) {
		t.Errorf("stop-stream ended the publish %v after it answered, want within 1s", p.exited.Sub(answered))
	}

	// The end is recorded as the publisher goes; 10 s bounds a failure only.
	deadline = time.Now().Add(10 * time.Second)
	for {
		_, err := l.ivs.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: &arn})
		if isNotBroadcasting(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GetStream 10 s after the publish ended: %v, want ChannelNotBroadcasting", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitStatus(t, playback, 404)
	ss, err := l.ivs.GetStreamSession(ctx, &ivs.GetStreamSessionInput{ChannelArn: &arn, StreamId: &id})
	if err != nil {
		t.Fatal(err)
	}
	if ss.StreamSession.EndTime == nil || ss.StreamSession.EndTime.Before(*ss.StreamSession.StartTime) {
		t.Errorf("the ended session: start %v, end %v", ss.StreamSession.StartTime, ss.StreamSession.EndTime)
	}
	var names []string
	for _, e := range ss.StreamSession.TruncatedEvents {
		names = append(names, aws.ToString(e.Name))
	}
	// Newest first, as IVS lists them.
	want := []string{"Session Ended", "Stream End", "Stream Start", "Session Created"}
	if !slices.Equal(names, want) {
		t.Errorf("session events %q, want %q", names, want)
	}
	ended := cli("list-stream-sessions", "--channel-arn", arn)["streamSessions"].([]any)
	if len(ended) != 1 || ended[0].(map[string]any)["endTime"] == nil {
		t.Errorf("aws ivs list-stream-sessions after the end: %v", ended)
	}
}

func isNotBroadcasting(err error) bool {
	var nb *types.ChannelNotBroadcasting
	return errors.As(err, &nb)
}

// describe prints an SDK configuration's fields, pointers followed.
func describe(v any) string {
	return fmt.Sprintf("%+v", awsValues(v))
}

func awsValues(v any) any {
	switch x := v.(type) {
	case types.VideoConfiguration:
		return fmt.Sprintf("{codec %s profile %s level %s %dx%d %dfps %d bit/s}", aws.ToString(x.Codec), aws.ToString(x.Profile),
			aws.ToString(x.Level), x.VideoWidth, x.VideoHeight, x.TargetFramerate, x.TargetBitrate)
	case []types.AudioConfiguration:
		out := make([]string, len(x))
		for i, a := range x {
			out[i] = fmt.Sprintf("{codec %s %d Hz %d ch %d bit/s}", aws.ToString(a.Codec), a.SampleRate, a.Channels, a.TargetBitrate)
		}
		return out
	}
	return v
}
