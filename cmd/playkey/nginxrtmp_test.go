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

// rtmpModule is where Debian's libnginx-mod-rtmp puts nginx-rtmp.
const rtmpModule = "/usr/lib/nginx/modules/ngx_rtmp_module.so"

// startNginxRTMP runs docs/nginx-rtmp/nginx.conf in a real nginx with nginx-rtmp, its
// example ports, hooks address and HLS directory replaced by the test's. It returns the
// RTMP base URL, the HLS directory, and the HLS base URL.
func startNginxRTMP(t *testing.T, hooksAddr string) (rtmp, hlsDir, hlsURL string) {
	t.Helper()
	bin := testenv.Need(t, "nginx", "/usr/sbin/nginx")
	if _, err := os.Stat(rtmpModule); err != nil {
		testenv.Missing(t, "nginx-rtmp", "apt-get install libnginx-mod-rtmp", err)
	}
	conf, err := os.ReadFile("../../docs/nginx-rtmp/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	prefix := t.TempDir()
	hlsDir = filepath.Join(prefix, "hls")
	rtmpPort, httpPort := testenv.FreePort(t), testenv.FreePort(t)
	replaced := strings.NewReplacer(
		"listen 1935;", fmt.Sprintf("listen 127.0.0.1:%d;", rtmpPort),
		"push rtmp://127.0.0.1:1935/", fmt.Sprintf("push rtmp://127.0.0.1:%d/", rtmpPort),
		"listen 127.0.0.1:8088;", fmt.Sprintf("listen 127.0.0.1:%d;", httpPort),
		"http://127.0.0.1:8090/nginx-rtmp", "http://"+hooksAddr+"/nginx-rtmp",
		"/var/lib/nginx/hls", hlsDir,
	).Replace(string(conf))
	for _, want := range []string{fmt.Sprintf("listen 127.0.0.1:%d;", rtmpPort), fmt.Sprintf("push rtmp://127.0.0.1:%d/", rtmpPort), fmt.Sprint(httpPort), hooksAddr, hlsDir} {
		if !strings.Contains(replaced, want) {
			t.Fatal("docs/nginx-rtmp/nginx.conf no longer has the example values this test replaces")
		}
	}
	confPath := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(replaced), 0o600); err != nil {
		t.Fatal(err)
	}
	globals := fmt.Sprintf("daemon off; pid %s/nginx.pid; error_log %s/error.log info;", prefix, prefix)
	if os.Geteuid() == 0 {
		globals += " user root;" // workers write the test's private temporary directory
	}
	for _, d := range []string{"hls", "body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		os.MkdirAll(filepath.Join(prefix, d), 0o700)
	}
	errLog := filepath.Join(prefix, "error.log")
	cmd := exec.Command(bin, "-p", prefix+"/", "-c", confPath, "-e", errLog, "-g", globals)
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
		if t.Failed() {
			log, _ := os.ReadFile(errLog)
			t.Logf("nginx output:\n%s\nerror.log:\n%s", out, log)
		}
	})
	deadline := time.Now().Add(testenv.ReadyTimeout)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", rtmpPort))
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			log, _ := os.ReadFile(errLog)
			t.Fatalf("nginx exited:\n%s\n%s", out, log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("nginx-rtmp does not listen")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Sprintf("rtmp://127.0.0.1:%d", rtmpPort), hlsDir, fmt.Sprintf("http://127.0.0.1:%d/hls", httpPort)
}

var hooksLine = regexp.MustCompile(`playkey hooks: nginx-rtmp callbacks at http://(\S+)/nginx-rtmp`)

// TestNginxRTMP: nginx-rtmp receives the stream and packages it, playkey is the stream-key
// authority (its on_publish callback) and the stream registry: the channel goes live in the
// IVS API and plays through the gate, files are named after the channel and never after the
// key, a wrong key and a second publisher are refused, StopStream drops the publisher at the
// next on_update, and the session's events are recorded.
func TestNginxRTMP(t *testing.T) {
	testenv.Need(t, "ffmpeg")
	ctx := context.Background()
	hooksAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	rtmp, hlsDir, hlsURL := startNginxRTMP(t, hooksAddr)
	s := startServer(t, t.TempDir(), "--ingest-addr", "", "--hooks-addr", hooksAddr, "--nginx-rtmp-hls-url", hlsURL)
	if m := hooksLine.FindStringSubmatch(s.Stdout.String()); m == nil || m[1] != hooksAddr {
		t.Fatalf("serve did not say where the callbacks are:\n%s", s.Stdout)
	}
	g := gateLine.FindStringSubmatch(s.Stdout.String())
	if g == nil {
		t.Fatalf("serve runs no gate for nginx-rtmp's channels:\n%s", s.Stdout)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("playkey's log:\n%s", s.Stderr)
		}
	})
	client := sdkClient(s)
	out, err := client.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("nginx"), LatencyMode: types.ChannelLatencyModeNormalLatency})
	if err != nil {
		t.Fatal(err)
	}
	arn, playback, key := *out.Channel.Arn, *out.Channel.PlaybackUrl, *out.StreamKey.Value
	if code, _, _ := httpGet(t, playback); code != 404 {
		t.Fatalf("offline channel: %d, want 404", code)
	}

	wrong := publish(t, rtmp+"/app/sk_us-west-2_AAAAAAAAAAAA_"+strings.Repeat("x", 30), 30)
	if !wrong.wait(20*time.Second) || wrong.err == nil {
		t.Fatal("nginx-rtmp took a publish with an unknown key")
	}

	p := publish(t, rtmp+"/app/"+key, 120)
	mv := waitStatus(t, playback, 200)
	if !strings.Contains(mv, "#EXTM3U") {
		t.Fatalf("playback URL through the gate:\n%s", mv)
	}
	seg := firstURI(t, mv, "/api/video/v1/")
	if code, body, _ := httpGet(t, g[1]+seg); code != 200 || len(body) < 188 || body[0] != 0x47 {
		t.Errorf("segment through the gate: %d, %d bytes", code, len(body))
	}
	st, err := client.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	if st.Stream.State != types.StreamStateStreamLive || !regexp.MustCompile(`^st-[A-Za-z0-9]{23}$`).MatchString(*st.Stream.StreamId) {
		t.Errorf("GetStream: %s %s", st.Stream.State, *st.Stream.StreamId)
	}
	// The key is in no file name nginx wrote, and the channel's name is.
	var names []string
	filepath.Walk(hlsDir, func(p string, _ os.FileInfo, _ error) error {
		names = append(names, p)
		return nil
	})
	joined := strings.Join(names, "\n")
	if strings.Contains(joined, key) || strings.Contains(joined, "sk_") {
		t.Errorf("a file is named after the stream key:\n%s", joined)
	}
	if !strings.Contains(joined, "_"+(*out.Channel.Arn)[strings.LastIndexByte(arn, '/')+1:]) {
		t.Errorf("no HLS directory named after the channel:\n%s", joined)
	}

	second := publish(t, rtmp+"/app/"+key, 30)
	if !second.wait(20*time.Second) || second.err == nil {
		t.Fatal("a second publisher on a live channel was not refused")
	}
	if code, _, _ := httpGet(t, playback); code != 200 {
		t.Errorf("the refused second publisher broke the first: %d", code)
	}

	start := time.Now()
	if _, err := client.StopStream(ctx, &ivs.StopStreamInput{ChannelArn: &arn}); err != nil {
		t.Fatal(err)
	}
	if !p.wait(20 * time.Second) {
		t.Fatal("ffmpeg still publishes 20 s after StopStream")
	}
	t.Logf("StopStream to the end of ffmpeg's publish through nginx-rtmp: %v", p.exited.Sub(start))
	waitOffline(t, client, arn)
	checkEndedSession(t, client, arn, *st.Stream.StreamId)
	if log := s.Stderr.String(); strings.Contains(log, key) {
		t.Error("the stream key reached playkey's log")
	}
}
