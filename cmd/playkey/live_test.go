package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivs/types"

	"github.com/playkey/playkey/ingest"
	"github.com/playkey/playkey/internal/testenv"
	"github.com/playkey/playkey/token"
)

// These tests make channels live as a broadcaster does: ffmpeg publishes with the stream
// key CreateChannel returned (through the AWS SDK), and the stream is fetched through the
// gate at the channel's playbackUrl.

var ingestLine = regexp.MustCompile(`playkey ingest: (rtmp://\S+)/app/`)

// liveServer is `playkey serve` with its gate and RTMP ingest on free ports.
type liveServer struct {
	*server
	gate, rtmp string
	ivs        *ivs.Client
}

func startLiveServer(t *testing.T, extra ...string) *liveServer {
	t.Helper()
	testenv.Need(t, "ffmpeg")
	s := startServer(t, t.TempDir(), extra...)
	g := gateLine.FindStringSubmatch(s.Stdout.String())
	r := ingestLine.FindStringSubmatch(s.Stdout.String())
	if g == nil || r == nil {
		t.Fatalf("serve did not say where the gate and ingest listen:\n%s", s.Stdout)
	}
	return &liveServer{server: s, gate: g[1], rtmp: r[1], ivs: sdkClient(s)}
}

// publisher is an ffmpeg process streaming a synthetic 360p30 picture and a tone.
type publisher struct {
	cmd    *exec.Cmd
	stderr *testenv.SyncBuffer
	done   chan struct{} // closed when ffmpeg has exited
	exited time.Time
	err    error
}

// publish starts ffmpeg streaming to url for up to seconds, with one-second GOPs.
func publish(t *testing.T, url string, seconds int, codecArgs ...string) *publisher {
	t.Helper()
	if len(codecArgs) == 0 {
		codecArgs = []string{"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
			"-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-b:v", "600k", "-c:a", "aac", "-b:a", "64k"}
	}
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", strconv.Itoa(seconds)}
	args = append(args, codecArgs...)
	format := "flv"
	if strings.HasPrefix(url, "srt://") {
		format = "mpegts"
	}
	args = append(args, "-f", format, url)
	p := &publisher{cmd: exec.Command("ffmpeg", args...), stderr: &testenv.SyncBuffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		p.exited = time.Now()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait waits up to d for ffmpeg to exit and reports whether it did.
func (p *publisher) wait(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// waitStatus polls url until it answers want, failing after 30 s.
func waitStatus(t *testing.T, url string, want int) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body, _ := httpGet(t, url)
		if code == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %d %s; want %d within 30s", url, code, body, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// variant fetches the first media playlist a multivariant playlist names, through the gate.
func variant(t *testing.T, gate, multivariant string) string {
	t.Helper()
	uri := firstURI(t, multivariant, "/api/video/v1/s/")
	code, body, _ := httpGet(t, gate+uri)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", uri, code, body)
	}
	return body
}

// waitLog waits for the server's log to contain s.
func (l *liveServer) waitLog(t *testing.T, s string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(l.Stderr.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("the log never said %q:\n%s", s, l.Stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return l.Stderr.String()
}

// importKey imports a new playback key pair and returns its private key.
func (l *liveServer) importKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	priv, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if _, err := l.ivs.ImportPlaybackKeyPair(context.Background(), &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))}); err != nil {
		t.Fatal(err)
	}
	return priv
}

// TestGoLive is the IVS path on one `playkey serve`: CreateChannel, ffmpeg publishes RTMP
// with the stream key, the playback URL answers 404 before and 200 during the stream,
// LOW latency gives LL-HLS parts through the gate; a second publisher and an unknown key
// are refused; DeleteStreamKey ends the publish within a second and the key no longer
// works.
func TestGoLive(t *testing.T) {
	ctx := context.Background()
	l := startLiveServer(t)
	out, err := l.ivs.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("golive")})
	if err != nil {
		t.Fatal(err)
	}
	if out.Channel.LatencyMode != "LOW" {
		t.Fatalf("latencyMode %s, want LOW by default", out.Channel.LatencyMode)
	}
	playback, key := *out.Channel.PlaybackUrl, *out.StreamKey.Value
	if code, body, _ := httpGet(t, playback); code != 404 {
		t.Fatalf("offline channel: %d %s, want 404", code, body)
	}

	p := publish(t, l.rtmp+"/app/"+key, 60)
	mv := waitStatus(t, playback, 200)
	media := variant(t, l.gate, mv)
	for _, want := range []string{"#EXT-X-PART:", "#EXT-X-PRELOAD-HINT:", "CAN-BLOCK-RELOAD=YES", "#EXT-X-PART-INF:"} {
		if !strings.Contains(media, want) {
			t.Errorf("LOW latency media playlist through the gate has no %s:\n%s", want, media)
		}
	}
	// A part, fetched through the gate's session URL, is fMP4 media.
	part := regexp.MustCompile(`#EXT-X-PART:[^\n]*URI="([^"]+)"`).FindStringSubmatch(media)
	if part == nil {
		t.Fatalf("no part URI in\n%s", media)
	}
	if code, body, h := httpGet(t, l.gate+part[1]); code != 200 || len(body) == 0 || !strings.Contains(body[:min(len(body), 64)], "moof") {
		t.Errorf("part: %d, %d bytes, %s", code, len(body), h.Get("Content-Type"))
	}

	// IVS allows one stream per channel.
	second := publish(t, l.rtmp+"/app/"+key, 30)
	if !second.wait(15 * time.Second) {
		t.Fatal("a second publisher on a live channel was not refused")
	}
	l.waitLog(t, ingest.ErrAlreadyLive.Error())
	if code, _, _ := httpGet(t, playback); code != 200 {
		t.Errorf("the refused second publisher broke the first: playback %d", code)
	}

	// An unknown key of the right form is refused, and neither it nor the real one is logged.
	wrong := "sk_us-west-2_AAAAAAAAAAAA_" + strings.Repeat("x", 30)
	bad := publish(t, l.rtmp+"/app/"+wrong, 30)
	if !bad.wait(15*time.Second) || bad.err == nil {
		t.Fatalf("a publish with an unknown key was not refused (err %v)", bad.err)
	}
	l.waitLog(t, "no such stream key")
	if log := l.Stderr.String(); strings.Contains(log, wrong) || strings.Contains(log, key) {
		t.Error("a stream key reached the log")
	}
	if !strings.Contains(l.Stderr.String(), ingest.KeyHash(wrong)) {
		t.Error("the refusal does not name the key's hash")
	}

	// DeleteStreamKey ends the publish within a second.
	start := time.Now()
	if _, err := l.ivs.DeleteStreamKey(ctx, &ivs.DeleteStreamKeyInput{Arn: out.StreamKey.Arn}); err != nil {
		t.Fatal(err)
	}
	if !p.wait(5 * time.Second) {
		t.Fatal("ffmpeg still publishes 5 s after DeleteStreamKey")
	}
	took := p.exited.Sub(start)
	t.Logf("DeleteStreamKey to the end of ffmpeg's publish: %v", took)
	if took > time.Second {
		t.Errorf("DeleteStreamKey ended the publish after %v, want within 1s", took)
	}
	waitStatus(t, playback, 404)
	again := publish(t, l.rtmp+"/app/"+key, 30)
	if !again.wait(15*time.Second) || again.err == nil {
		t.Fatal("a reconnect with the deleted key was not refused")
	}
	if code, _, _ := httpGet(t, playback); code != 404 {
		t.Errorf("after the deleted key's reconnect: playback %d, want 404", code)
	}
}

// TestGoLivePrivateNormal: a private NORMAL-latency channel is 404 offline even with a
// valid token, refuses a viewer without one while live, and serves regular HLS (MPEG-TS
// segments, no parts) with one.
func TestGoLivePrivateNormal(t *testing.T) {
	ctx := context.Background()
	l := startLiveServer(t)
	priv := l.importKey(t)
	out, err := l.ivs.CreateChannel(ctx, &ivs.CreateChannelInput{Authorized: true, LatencyMode: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := token.Sign(token.Claims{ChannelARN: *out.Channel.Arn, Exp: time.Now().Add(10 * time.Minute).Unix()}, priv)
	if err != nil {
		t.Fatal(err)
	}
	playback := *out.Channel.PlaybackUrl
	withToken := playback + "?token=" + tok
	if code, body, _ := httpGet(t, withToken); code != 404 {
		t.Fatalf("offline private channel with a token: %d %s, want 404", code, body)
	}
	publish(t, l.rtmp+"/app/"+*out.StreamKey.Value, 60)
	mv := waitStatus(t, withToken, 200)
	if code, _, _ := httpGet(t, playback); code != 403 {
		t.Errorf("live private channel without a token: %d, want 403", code)
	}
	media := variant(t, l.gate, mv)
	if strings.Contains(media, "#EXT-X-PART") {
		t.Errorf("NORMAL latency has parts:\n%s", media)
	}
	if !strings.Contains(media, ".ts") || !strings.Contains(media, "#EXT-X-TARGETDURATION:") {
		t.Errorf("NORMAL latency on the TS container is not MPEG-TS HLS:\n%s", media)
	}
}

var srtLine = regexp.MustCompile(`playkey ingest: srt://(\S+)\?`)

// TestGoLiveSRT publishes over SRT as IVS documents it (streamid = the stream key,
// passphrase = the channel's SRT passphrase) and plays through the gate; a wrong
// passphrase and H.265 input are refused, with the reason in the log.
func TestGoLiveSRT(t *testing.T) {
	ctx := context.Background()
	l := startLiveServer(t, "--ingest-srt-addr", "127.0.0.1:0")
	m := srtLine.FindStringSubmatch(l.Stdout.String())
	if m == nil {
		t.Fatalf("serve did not say where SRT listens:\n%s", l.Stdout)
	}
	out, err := l.ivs.CreateChannel(ctx, &ivs.CreateChannelInput{})
	if err != nil {
		t.Fatal(err)
	}
	srtURL := func(passphrase string) string {
		return "srt://" + m[1] + "?streamid=" + *out.StreamKey.Value + "&passphrase=" + passphrase + "&pkt_size=1316"
	}
	playback := *out.Channel.PlaybackUrl

	wrong := publish(t, srtURL(strings.Repeat("a", 40)), 30)
	if !wrong.wait(15*time.Second) || wrong.err == nil {
		t.Fatal("an SRT publish with the wrong passphrase was not refused")
	}
	l.waitLog(t, "wrong passphrase")

	hevc := publish(t, srtURL(*out.Channel.Srt.Passphrase), 30, "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=none", "-c:a", "aac")
	l.waitLog(t, "H.265/HEVC video; IVS takes H.264 video and AAC audio")
	if !hevc.wait(15 * time.Second) {
		t.Error("ffmpeg still streams H.265 after the refusal")
	}
	if code, _, _ := httpGet(t, playback); code != 404 {
		t.Errorf("refused H.265 input: playback %d, want 404", code)
	}

	publish(t, srtURL(*out.Channel.Srt.Passphrase), 60)
	mv := waitStatus(t, playback, 200)
	if media := variant(t, l.gate, mv); !strings.Contains(media, "#EXT-X-PART:") {
		t.Errorf("SRT on a LOW channel: no parts in\n%s", media)
	}
	l.waitLog(t, "protocol=srt")
}

// TestGoLiveRTMPS publishes over RTMPS with --tls-cert/--tls-key (which also put the API
// and the gate on HTTPS), and an RTMP stream in a codec other than H.264 is refused with
// the reason in the log.
func TestGoLiveRTMPS(t *testing.T) {
	cert, key := testServerCert(t, t.TempDir())
	l := startLiveServer(t, "--ingest-rtmps-addr", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key)
	m := regexp.MustCompile(`playkey ingest: (rtmps://\S+)/app/`).FindStringSubmatch(l.Stdout.String())
	if m == nil {
		t.Fatalf("serve did not say where RTMPS listens:\n%s", l.Stdout)
	}
	ctx := context.Background()
	out, err := l.ivs.CreateChannel(ctx, &ivs.CreateChannelInput{LatencyMode: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	playback := *out.Channel.PlaybackUrl

	// Sorenson H.263 and MP3, which FLV carries and IVS does not take.
	old := publish(t, l.rtmp+"/app/"+*out.StreamKey.Value, 30, "-c:v", "flv1", "-c:a", "libmp3lame")
	if !old.wait(15*time.Second) || old.err == nil {
		t.Fatal("an FLV1/MP3 stream was not refused")
	}
	log := l.waitLog(t, "publish refused")
	if !strings.Contains(log, "reason=") || strings.Contains(log, *out.StreamKey.Value) {
		t.Errorf("the refusal says no reason, or names the key:\n%s", log)
	}
	if code, _, _ := httpGet(t, playback); code != 404 {
		t.Errorf("refused input: playback %d, want 404", code)
	}

	p := publish(t, m[1]+"/app/"+*out.StreamKey.Value, 60)
	waitStatus(t, playback, 200)
	l.waitLog(t, "protocol=rtmps")
	// StopStream's hook: the ingest server's Stop ends the publish; here through
	// DeleteStreamKey, the same path, as StopStream arrives with the streams API.
	if _, err := l.ivs.DeleteStreamKey(ctx, &ivs.DeleteStreamKeyInput{Arn: out.StreamKey.Arn}); err != nil {
		t.Fatal(err)
	}
	if !p.wait(5 * time.Second) {
		t.Fatal("RTMPS publish not ended after DeleteStreamKey")
	}
}

// startIngestProcess runs `playkey ingest` and returns its RTMP base URL.
func startIngestProcess(t *testing.T, args ...string) string {
	t.Helper()
	_, rest := testenv.Start(t, "playkey ingest: rtmp://", playkeyBin, append([]string{"ingest", "--ingest-addr", "127.0.0.1:0"}, args...)...)
	return "rtmp://" + strings.TrimSuffix(rest, "/app/{stream key}")
}

// TestGoLiveSeparateNodes: the API, ingest and the gate as three processes on one store.
// The gate has no --origin: it finds the live channel where the ingest node recorded it;
// StopStream on the API node ends the publish on the ingest node.
func TestGoLiveSeparateNodes(t *testing.T) {
	testenv.Need(t, "ffmpeg")
	ctx := context.Background()
	data := t.TempDir()
	s := startServer(t, data, "--ingest-addr", "", "--playback-addr", "127.0.0.1:8081") // no gate runs
	if strings.Contains(s.Stdout.String(), "playkey ingest:") {
		t.Fatalf("serve --ingest-addr '' still runs ingest:\n%s", s.Stdout)
	}
	c := sdkClient(s)
	rtmp := startIngestProcess(t, "--data", data)
	gateURL := startGateProcess(t, "--data", data)
	out, err := c.CreateChannel(ctx, &ivs.CreateChannelInput{})
	if err != nil {
		t.Fatal(err)
	}
	// The playback URL names serve's gate address; the same path on the separate gate.
	path := (*out.Channel.PlaybackUrl)[strings.Index(*out.Channel.PlaybackUrl, "/api/video/v1/"):]
	if code, _, _ := httpGet(t, gateURL+path); code != 404 {
		t.Fatalf("offline channel through the separate gate: %d, want 404", code)
	}
	p := publish(t, rtmp+"/app/"+*out.StreamKey.Value, 60)
	mv := waitStatus(t, gateURL+path, 200)
	if media := variant(t, gateURL, mv); !strings.Contains(media, "#EXT-X-PART:") {
		t.Errorf("no parts through the separate gate:\n%s", media)
	}
	// The API node sees the stream the ingest node records, and its StopStream, a mark in
	// the store, reaches the ingest node, which disconnects the publisher within a second.
	if st, err := c.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: out.Channel.Arn}); err != nil || st.Stream.State != "LIVE" {
		t.Fatalf("GetStream on the API node: %+v, %v", st, err)
	}
	if _, err := c.StopStream(ctx, &ivs.StopStreamInput{ChannelArn: out.Channel.Arn}); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	if !p.wait(5 * time.Second) {
		t.Fatal("ffmpeg still publishes to the ingest node 5 s after StopStream on the API node")
	}
	t.Logf("StopStream on the API node to the end of the publish on the ingest node: %v", p.exited.Sub(stopped))
	if took := p.exited.Sub(stopped); took > time.Second {
		t.Errorf("StopStream through the store ended the publish after %v, want within 1s", took)
	}
	waitStatus(t, gateURL+path, 404)
	// The ingest node records the end as the publisher goes; 10 s bounds a failure only.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, err := c.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: out.Channel.Arn})
		if isNotBroadcasting(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GetStream 10 s after the stop: %v, want ChannelNotBroadcasting", err)
		}
	}
}

// TestBenchIngest runs the ingest benchmark at its smallest: one LOW channel.
func TestBenchIngest(t *testing.T) {
	testenv.Need(t, "ffmpeg")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"bench", "ingest", "--channels", "1", "--duration", "2s", "--latency-mode", "LOW"}, &stdio{out: &out, err: &errb})
	if code != 0 {
		t.Fatalf("bench ingest: exit %d\n%s%s", code, out.String(), errb.String())
	}
	t.Log(out.String())
	m := regexp.MustCompile(`\((\d+) parts\).*viewer errors 0, publisher errors 0`).FindStringSubmatch(out.String())
	if m == nil || m[1] == "0" {
		t.Errorf("the benchmark measured no part, or had errors:\n%s", out.String())
	}
}

// waitOffline waits until GetStream says the channel is not broadcasting.
func waitOffline(t *testing.T, client *ivs.Client, arn string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := client.GetStream(context.Background(), &ivs.GetStreamInput{ChannelArn: &arn})
		var nb *types.ChannelNotBroadcasting
		if errors.As(err, &nb) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GetStream after the stream ended: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkEndedSession checks that an ended stream's session has its state events, and returns it.
func checkEndedSession(t *testing.T, client *ivs.Client, arn, streamID string) *types.StreamSession {
	t.Helper()
	ss, err := client.GetStreamSession(context.Background(), &ivs.GetStreamSessionInput{ChannelArn: &arn, StreamId: &streamID})
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, e := range ss.StreamSession.TruncatedEvents {
		events = append(events, *e.Name)
	}
	if got := strings.Join(events, ","); !strings.Contains(got, "Session Created") || !strings.Contains(got, "Stream Start") || !strings.Contains(got, "Session Ended") {
		t.Errorf("session events: %s", got)
	}
	return ss.StreamSession
}
