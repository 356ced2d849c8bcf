//go:build mediamtx

// These tests run a real MediaMTX, which is neither in Debian nor served by the Go module
// proxy that CI reaches, so they are not part of the suite: build MediaMTX (v1.18 or later)
// and run them with
//
//	MEDIAMTX=/path/to/mediamtx go test -tags mediamtx -run MediaMTX ./cmd/playkey
//
// The suite covers the same engine against a stand-in of MediaMTX's callback and API
// (package mediamtx) and of its HLS server's redirects (package gate).

package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivs/types"

	"github.com/playkey/playkey/internal/testenv"
)

// mediamtxPorts are where a test's MediaMTX listens.
type mediamtxPorts struct{ rtmp, srt, hls, api int }

// startMediaMTX runs docs/mediamtx/mediamtx.yml in a real MediaMTX, with its example
// ports, callback address and secrets replaced by the test's.
func startMediaMTX(t *testing.T, hooksAddr string) mediamtxPorts {
	t.Helper()
	bin := os.Getenv("MEDIAMTX")
	if bin == "" {
		bin = "mediamtx"
	}
	if _, err := exec.LookPath(bin); err != nil {
		t.Fatalf("MEDIAMTX=%q: %v", bin, err)
	}
	conf, err := os.ReadFile("../../docs/mediamtx/mediamtx.yml")
	if err != nil {
		t.Fatal(err)
	}
	p := mediamtxPorts{testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t)}
	replacements := []string{
		"rtmpAddress: :1935", fmt.Sprintf("rtmpAddress: 127.0.0.1:%d", p.rtmp),
		"srtAddress: :8890", fmt.Sprintf("srtAddress: 127.0.0.1:%d", p.srt),
		"hlsAddress: 127.0.0.1:8888", fmt.Sprintf("hlsAddress: 127.0.0.1:%d", p.hls),
		"apiAddress: 127.0.0.1:9997", fmt.Sprintf("apiAddress: 127.0.0.1:%d", p.api),
		"http://127.0.0.1:8090/mediamtx/auth", "http://" + hooksAddr + "/mediamtx/auth",
		"hlsCDNSecret: CDN-SECRET", "hlsCDNSecret: cdnsecret",
	}
	replaced := strings.NewReplacer(replacements...).Replace(string(conf))
	for i := 1; i < len(replacements); i += 2 {
		if !strings.Contains(replaced, replacements[i]) {
			t.Fatalf("docs/mediamtx/mediamtx.yml no longer has %q, which this test replaces", replacements[i-1])
		}
	}
	dir := t.TempDir()
	confPath := filepath.Join(dir, "mediamtx.yml")
	if err := os.WriteFile(confPath, []byte(replaced), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, confPath)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MTX_MOQ=no") // ignored by versions without MoQ
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		t.Logf("MediaMTX's log:\n%s", out)
	})
	deadline := time.Now().Add(testenv.ReadyTimeout)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p.rtmp))
		if err == nil {
			c.Close()
			return p
		}
		select {
		case <-done:
			t.Fatalf("MediaMTX exited:\n%s", out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("MediaMTX does not listen:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var mediamtxHooksLine = regexp.MustCompile(`playkey hooks: MediaMTX authHTTPAddress http://(\S+)/mediamtx/auth`)

// TestMediaMTX: MediaMTX receives and packages the stream with the shipped configuration,
// playkey decides every publish (its authentication callback) and records the stream (its
// API poller): the channel goes live in the IVS API and plays through the gate, which
// reads MediaMTX's HLS as a CDN; viewers cannot read MediaMTX directly; a wrong key, the
// key in the path and a second publisher are refused; StopStream and DeleteStreamKey kick
// the publisher through MediaMTX's API, and a deleted key cannot come back.
func TestMediaMTX(t *testing.T) {
	testenv.Need(t, "ffmpeg")
	ctx := context.Background()
	hooksAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	p := startMediaMTX(t, hooksAddr)
	s := startServer(t, t.TempDir(), "--ingest-addr", "", "--hooks-addr", hooksAddr,
		"--mediamtx-api-url", fmt.Sprintf("http://playkey:apisecret@127.0.0.1:%d", p.api),
		"--mediamtx-hls-url", fmt.Sprintf("http://127.0.0.1:%d", p.hls),
		"--origin-header", "Authorization: Bearer cdnsecret")
	t.Cleanup(func() { t.Logf("playkey's log:\n%s", s.Stderr) })
	if m := mediamtxHooksLine.FindStringSubmatch(s.Stdout.String()); m == nil || m[1] != hooksAddr {
		t.Fatalf("serve did not say where the callback is:\n%s", s.Stdout)
	}
	g := gateLine.FindStringSubmatch(s.Stdout.String())
	if g == nil {
		t.Fatalf("serve runs no gate:\n%s", s.Stdout)
	}
	client := sdkClient(s)
	out, err := client.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("mediamtx")})
	if err != nil {
		t.Fatal(err)
	}
	arn, playback, key := *out.Channel.Arn, *out.Channel.PlaybackUrl, *out.StreamKey.Value
	id := arn[strings.LastIndexByte(arn, '/')+1:]
	rtmp := fmt.Sprintf("rtmp://127.0.0.1:%d/app/%s", p.rtmp, id)

	for name, u := range map[string]string{
		"a wrong key":     rtmp + "?pass=sk_us-west-2_AAAAAAAAAAAA_" + strings.Repeat("x", 30),
		"the key as path": fmt.Sprintf("rtmp://127.0.0.1:%d/app/%s", p.rtmp, key),
		"no key":          rtmp,
	} {
		if w := publish(t, u, 30); !w.wait(30*time.Second) || w.err == nil {
			t.Fatalf("MediaMTX took a publish with %s", name)
		}
	}

	start := time.Now()
	pub := publish(t, rtmp+"?pass="+key, 120)
	mv := waitStatus(t, playback, 200)
	t.Logf("publish to playable through the gate: %v", time.Since(start))
	if !strings.Contains(mv, "#EXTM3U") {
		t.Fatalf("playback URL through the gate:\n%s", mv)
	}
	st, err := client.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	if st.Stream.State != types.StreamStateStreamLive || st.Stream.Health != types.StreamHealthStreamHealthy {
		t.Errorf("GetStream: %s %s", st.Stream.State, st.Stream.Health)
	}
	media := firstURI(t, mv, "/api/video/v1/")
	code, pl, _ := httpGet(t, g[1]+media)
	if code != 200 || !strings.Contains(pl, "#EXTINF") {
		t.Fatalf("media playlist through the gate: %d\n%s", code, pl)
	}
	seg := newestSegment(pl)
	if code, body, _ := httpGet(t, g[1]+seg); code != 200 || len(body) < 100 {
		t.Errorf("segment through the gate: %d, %d bytes", code, len(body))
	}
	// A viewer going around the gate gets nothing from MediaMTX.
	direct := fmt.Sprintf("http://127.0.0.1:%d/app/%s/index.m3u8?cookieCheck=1", p.hls, id)
	if code, _, _ := httpGet(t, direct); code != 401 {
		t.Errorf("MediaMTX's HLS read without the gate: %d, want 401", code)
	}

	second := publish(t, rtmp+"?pass="+key, 30)
	if !second.wait(30*time.Second) || second.err == nil {
		t.Fatal("a second publisher on a live channel was not refused")
	}
	if code, _, _ := httpGet(t, playback); code != 200 {
		t.Errorf("the refused second publisher broke the first: %d", code)
	}

	stop := time.Now()
	if _, err := client.StopStream(ctx, &ivs.StopStreamInput{ChannelArn: &arn}); err != nil {
		t.Fatal(err)
	}
	if !pub.wait(20 * time.Second) {
		t.Fatal("ffmpeg still publishes 20 s after StopStream")
	}
	t.Logf("StopStream to the end of ffmpeg's publish through MediaMTX: %v", pub.exited.Sub(stop))
	waitOffline(t, client, arn)
	ss := checkEndedSession(t, client, arn, *st.Stream.StreamId)
	if cfg := ss.IngestConfiguration; cfg == nil || cfg.Video == nil || cfg.Video.VideoWidth != 640 {
		t.Errorf("ingest configuration: %+v", cfg)
	}

	// The broadcaster comes back; DeleteStreamKey kicks it and it cannot come back again.
	again := publish(t, rtmp+"?pass="+key, 120)
	waitLive(t, client, arn, *st.Stream.StreamId)
	keyARN := *out.StreamKey.Arn
	del := time.Now()
	if _, err := client.DeleteStreamKey(ctx, &ivs.DeleteStreamKeyInput{Arn: &keyARN}); err != nil {
		t.Fatal(err)
	}
	if !again.wait(20 * time.Second) {
		t.Fatal("ffmpeg still publishes 20 s after DeleteStreamKey")
	}
	t.Logf("DeleteStreamKey to the end of ffmpeg's publish through MediaMTX: %v", again.exited.Sub(del))
	waitOffline(t, client, arn)
	if w := publish(t, rtmp+"?pass="+key, 30); !w.wait(30*time.Second) || w.err == nil {
		t.Fatal("a deleted stream key published again")
	}

	// SRT, with the key as the streamid's password.
	out2, err := client.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("mediamtx-srt")})
	if err != nil {
		t.Fatal(err)
	}
	arn2, key2 := *out2.Channel.Arn, *out2.StreamKey.Value
	srt := publish(t, fmt.Sprintf("srt://127.0.0.1:%d?streamid=publish:app/%s::%s&pkt_size=1316", p.srt, arn2[strings.LastIndexByte(arn2, '/')+1:], key2), 120)
	waitLive(t, client, arn2, "")
	if _, err := client.StopStream(ctx, &ivs.StopStreamInput{ChannelArn: &arn2}); err != nil {
		t.Fatal(err)
	}
	if !srt.wait(20 * time.Second) {
		t.Fatal("ffmpeg still publishes over SRT 20 s after StopStream")
	}
	if log := s.Stderr.String(); strings.Contains(log, key) || strings.Contains(log, key2) {
		t.Error("a stream key reached playkey's log")
	}
}

// TestMediaMTXOrigin: the gate in front of a MediaMTX that playkey does not authorize for
// (an operator's --origin, no hlsCDNSecret): MediaMTX answers the multivariant playlist with
// its cookie-check redirect, and the gate follows it on the same origin and plays.
func TestMediaMTXOrigin(t *testing.T) {
	testenv.Need(t, "ffmpeg")
	bin := os.Getenv("MEDIAMTX")
	if bin == "" {
		bin = "mediamtx"
	}
	rtmpPort, hlsPort := testenv.FreePort(t), testenv.FreePort(t)
	dir := t.TempDir()
	conf := fmt.Sprintf("rtmpAddress: 127.0.0.1:%d\nhlsAddress: 127.0.0.1:%d\nrtsp: no\nwebrtc: no\nsrt: no\napi: no\npaths:\n  all_others:\n", rtmpPort, hlsPort)
	if err := os.WriteFile(filepath.Join(dir, "mediamtx.yml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, filepath.Join(dir, "mediamtx.yml"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MTX_MOQ=no")
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); t.Logf("MediaMTX's log:\n%s", out) })

	s := startServer(t, t.TempDir(), "--origin", fmt.Sprintf("http://127.0.0.1:%d/{channel}/index.m3u8", hlsPort))
	t.Cleanup(func() { t.Logf("playkey's log:\n%s", s.Stderr) })
	g := gateLine.FindStringSubmatch(s.Stdout.String())
	if g == nil {
		t.Fatalf("serve runs no gate:\n%s", s.Stdout)
	}
	ch, err := sdkClient(s).CreateChannel(context.Background(), &ivs.CreateChannelInput{Name: aws.String("origin")})
	if err != nil {
		t.Fatal(err)
	}
	id := (*ch.Channel.Arn)[strings.LastIndexByte(*ch.Channel.Arn, '/')+1:]
	publish(t, fmt.Sprintf("rtmp://127.0.0.1:%d/%s", rtmpPort, id), 120)
	mv := waitStatus(t, *ch.Channel.PlaybackUrl, 200)
	media := firstURI(t, mv, "/api/video/v1/")
	code, pl, _ := httpGet(t, g[1]+media)
	if code != 200 || !strings.Contains(pl, "#EXTINF") {
		t.Fatalf("media playlist through the gate: %d\n%s", code, pl)
	}
	seg := newestSegment(pl)
	if code, body, _ := httpGet(t, g[1]+seg); code != 200 || len(body) < 100 {
		t.Errorf("segment through the gate: %d, %d bytes", code, len(body))
	}
}

// newestSegment is the last segment of a media playlist through the gate: MediaMTX opens its
// playlists with #EXT-X-GAP placeholders, which are never served.
func newestSegment(playlist string) string {
	var seg string
	for l := range strings.SplitSeq(playlist, "\n") {
		if strings.HasPrefix(l, "/api/video/v1/") && !strings.HasSuffix(l, "/gap.mp4") {
			seg = l
		}
	}
	return seg
}

// waitLive waits until the channel is live with a stream other than before.
func waitLive(t *testing.T, client *ivs.Client, arn, before string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := client.GetStream(context.Background(), &ivs.GetStreamInput{ChannelArn: &arn})
		if err == nil && *st.Stream.StreamId != before && st.Stream.State == types.StreamStateStreamLive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the channel is not live again: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
