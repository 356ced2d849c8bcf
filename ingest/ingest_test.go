package ingest

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"

	"github.com/playkey/playkey"
)

// fakeAuthority knows stream keys "key-{channel id}", and can revoke them.
type fakeAuthority struct {
	mu      sync.Mutex
	revoked map[string]bool
	started map[playkey.ARN]string
	ended   map[playkey.ARN]error
	refused map[playkey.ARN]error
	checks  map[playkey.ARN]int // Check calls
}

func newFakeAuthority() *fakeAuthority {
	return &fakeAuthority{revoked: map[string]bool{}, started: map[playkey.ARN]string{}, ended: map[playkey.ARN]error{}, refused: map[playkey.ARN]error{}, checks: map[playkey.ARN]int{}}
}

func (a *fakeAuthority) Refused(_ context.Context, ch Channel, reason error) {
	a.mu.Lock()
	a.refused[ch.ARN] = reason
	a.mu.Unlock()
}

func channelARN(id string) playkey.ARN {
	return playkey.ARN{Region: "us-west-2", Account: "111111111111", Type: playkey.TypeChannel, ID: id}
}

func (a *fakeAuthority) Authorize(_ context.Context, key string) (Channel, error) {
	id, ok := strings.CutPrefix(key, "key-")
	a.mu.Lock()
	defer a.mu.Unlock()
	if !ok || a.revoked[key] {
		return Channel{}, errors.New("no such stream key")
	}
	return Channel{ARN: channelARN(id), StreamKey: playkey.ARN{Region: "us-west-2", Account: "111111111111", Type: playkey.TypeStreamKey, ID: id},
		LatencyMode: playkey.LatencyLow, ContainerFormat: playkey.ContainerTS}, nil
}

func (a *fakeAuthority) Check(_ context.Context, ch Channel) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.checks[ch.ARN]++
	if a.revoked["key-"+ch.ARN.ID] {
		return errors.New("revoked")
	}
	return nil
}

func (a *fakeAuthority) Started(_ context.Context, s *Stream, origin string) {
	a.mu.Lock()
	a.started[s.Channel.ARN] = origin
	a.mu.Unlock()
}

func (a *fakeAuthority) Ended(_ context.Context, s *Stream, reason error) {
	a.mu.Lock()
	a.ended[s.Channel.ARN] = reason
	a.mu.Unlock()
}

// waitEnded waits until the Authority has heard that channel id's stream ended, and
// returns why. The server stops serving a stream before it tells the Authority, so what
// a player sees is no sign that Ended has been called.
func (ts *testServer) waitEnded(t *testing.T, id string) error {
	t.Helper()
	var reason error
	waitFor(t, "the Authority hears that "+id+" ended", func() bool {
		ts.auth.mu.Lock()
		defer ts.auth.mu.Unlock()
		r, ok := ts.auth.ended[channelARN(id)]
		reason = r
		return ok
	})
	return reason
}

// testServer is a Server with RTMP on a free port and its HLS on an httptest server.
type testServer struct {
	*Server
	auth *fakeAuthority
	rtmp string // host:port
	hls  *httptest.Server
}

func startTestServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	auth := newFakeAuthority()
	cfg.Authority = auth
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	hls := httptest.NewUnstartedServer(nil)
	cfg.HLSBase = "http://" + hls.Listener.Addr().String()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hls.Config.Handler = s
	hls.Start()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.ServeRTMP(ln, "rtmp") }()
	t.Cleanup(func() {
		s.Close()
		if err := <-served; err != nil {
			t.Errorf("ServeRTMP: %v", err)
		}
		hls.Close()
	})
	return &testServer{Server: s, auth: auth, rtmp: ln.Addr().String(), hls: hls}
}

// needFFmpeg skips without ffmpeg, unless CI is set, where it fails.
func needFFmpeg(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg not found and CI is set: install the Debian package ffmpeg")
		}
		t.Skip("ffmpeg not found (Debian package ffmpeg; CI fails instead of skipping)")
	}
}

// ffmpegPublish streams a synthetic 360p30 H.264/AAC picture to rtmp://addr/app/key,
// with extra output options.
func ffmpegPublish(t *testing.T, addr, key string, extra ...string) *exec.Cmd {
	t.Helper()
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine",
		"-t", "120", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-g", "30", "-c:a", "aac"}
	args = append(append(args, extra...), "-f", "flv", "rtmp://"+addr+"/app/"+key)
	cmd := exec.Command("ffmpeg", args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	return cmd
}

var mediaSequence = regexp.MustCompile(`#EXT-X-MEDIA-SEQUENCE:(\d+)`)

// progress returns how far the channel's video playlist has come: its media sequence
// number times 1000 plus its part count, or -1 when it is not served.
func (ts *testServer) progress(t *testing.T, id string) int {
	t.Helper()
	base := ts.hls.URL + "/us-west-2/111111111111/" + id + "/"
	resp, err := http.Get(base + "video1_stream.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return -1
	}
	m := mediaSequence.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no media sequence in\n%s", b)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n*1000 + strings.Count(string(b), "#EXT-X-PART:")
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBadInputDoesNotHurt: garbage on the RTMP port, a thousand idle connections past
// the connection bound, and a publisher that stalls do not stop another channel from
// playing, and every goroutine they cost ends with them.
func TestBadInputDoesNotHurt(t *testing.T) {
	needFFmpeg(t)
	ts := startTestServer(t, Config{MaxConns: 600, HandshakeTimeout: 3 * time.Second, ReadTimeout: 3 * time.Second})
	srtAddr, err := ts.ListenSRT("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ffmpegPublish(t, ts.rtmp, "key-good")
	waitFor(t, "the good channel plays", func() bool { return ts.progress(t, "good") >= 0 })
	before := runtime.NumGoroutine()
	last := ts.progress(t, "good")
	advancing := func(when string) {
		t.Helper()
		waitFor(t, "the good channel advances "+when, func() bool { return ts.progress(t, "good") > last })
		last = ts.progress(t, "good")
	}

	// Garbage: random bytes, and random bytes after a plausible RTMP version byte.
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", ts.rtmp)
			if err != nil {
				return // refused while full is fine
			}
			defer c.Close()
			buf := make([]byte, 1+i*37%8192)
			rand.Read(buf)
			if i%2 == 0 {
				buf[0] = 3
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			c.Write(buf)
			io.Copy(io.Discard, c) // until the server gives up on it
		}()
	}
	wg.Wait()
	// Garbage datagrams on the SRT port, some shaped like SRT control packets (first bit set).
	udp, err := net.Dial("udp", srtAddr)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		buf := make([]byte, 16+i%1400)
		rand.Read(buf)
		if i%2 == 0 {
			buf[0] |= 0x80
		}
		udp.Write(buf)
	}
	udp.Close()
	advancing("after garbage")

	// A thousand idle connections: at most MaxConns are taken, every one is closed by the
	// server within the handshake bound, and the good channel plays throughout.
	idle := make([]net.Conn, 0, 1000)
	for range 1000 {
		c, err := net.Dial("tcp", ts.rtmp)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		idle = append(idle, c)
	}
	advancing("with 1,000 idle connections")
	var closedBy sync.WaitGroup
	start := time.Now()
	for _, c := range idle {
		closedBy.Add(1)
		go func() {
			defer closedBy.Done()
			c.SetReadDeadline(time.Now().Add(15 * time.Second))
			_, err := c.Read(make([]byte, 1))
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Error("an idle connection was held for 15s")
			}
			c.Close()
		}()
	}
	closedBy.Wait()
	t.Logf("1,000 idle connections closed by the server within %v", time.Since(start).Round(time.Millisecond))

	// A publisher that is accepted and then sends nothing is dropped and frees its channel.
	u, _ := url.Parse("rtmp://" + ts.rtmp + "/app/key-stall")
	cl := &gortmplib.Client{URL: u, Publish: true}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.Initialize(ctx); err != nil {
		t.Fatalf("publish: %v", err)
	}
	w := &gortmplib.Writer{Conn: cl, Tracks: []*gortmplib.Track{{Codec: &codecs.H264{}}}}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	// It claimed its channel: a second publisher would be refused.
	ts.mu.Lock()
	_, claimed := ts.live[channelARN("stall")]
	ts.mu.Unlock()
	if !claimed {
		t.Error("the publisher did not claim its channel")
	}
	stalled := time.Now()
	waitFor(t, "the stalled publisher is dropped", func() bool {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		_, ok := ts.live[channelARN("stall")]
		return !ok
	})
	t.Logf("a stalled publisher was dropped after %v", time.Since(stalled).Round(time.Millisecond))
	cl.Close()
	advancing("after a stalled publisher")

	// Timestamps that start two seconds before FLV's 32-bit millisecond clock wraps: the
	// packager refuses the jump back and the stream ends with that reason (not unwrapped:
	// a known limit at 49.7 days of streaming), without a panic or harm to the rest.
	wrap := ffmpegPublish(t, ts.rtmp, "key-wrap", "-output_ts_offset", strconv.Itoa(1<<32/1000-2))
	waitFor(t, "the wrapping channel starts", func() bool { return ts.progress(t, "wrap") >= 0 })
	time.Sleep(4 * time.Second) // past the wrap
	advancing("beside timestamps that wrap")
	wrap.Process.Kill()
	waitFor(t, "the wrapping channel ends", func() bool { _, ok := ts.Live(channelARN("wrap")); return !ok })
	wrapEnd := ts.waitEnded(t, "wrap")
	t.Logf("the stream whose timestamps wrapped ended with: %v", wrapEnd)
	if wrapEnd == nil {
		t.Error("the wrapping stream ended without a reason")
	}

	waitFor(t, "goroutines back to where they were", func() bool { return runtime.NumGoroutine() <= before+2 })
}

// TestStopAndRevoke: Stop ends a stream at once and the broadcaster may come back; a
// revoked key ends its stream within a second of the next check and cannot reconnect.
func TestStopAndRevoke(t *testing.T) {
	needFFmpeg(t)
	ts := startTestServer(t, Config{})
	ffmpegPublish(t, ts.rtmp, "key-one")
	waitFor(t, "live", func() bool { return ts.progress(t, "one") >= 0 })
	st, ok := ts.Live(channelARN("one"))
	if !ok || !strings.HasPrefix(st.ID, "st-") || len(st.ID) != 26 || st.Protocol != "rtmp" {
		t.Fatalf("Live = %+v, %v", st, ok)
	}
	// What ffmpeg was told to send, as measured from the stream.
	if v, a := st.Video, st.Audio; !regexp.MustCompile(`^avc1\.[0-9A-F]{6}$`).MatchString(v.Codec) || v.Width != 640 || v.Height != 360 || v.FrameRate != 30 || a.Codec != "mp4a.40.2" || a.SampleRate != 44100 || a.Channels != 1 {
		t.Errorf("measured input %+v %+v", v, a)
	}
	if ts.Stop(channelARN("other")) {
		t.Error("Stop of a channel that is not live reported true")
	}
	if !ts.Stop(channelARN("one")) {
		t.Fatal("Stop of a live channel reported false")
	}
	waitFor(t, "offline after Stop", func() bool { return ts.progress(t, "one") < 0 })
	reason := ts.waitEnded(t, "one")
	ts.auth.mu.Lock()
	origin := ts.auth.started[channelARN("one")]
	ts.auth.mu.Unlock()
	if !errors.Is(reason, ErrStopped) {
		t.Errorf("Ended with %v, want ErrStopped", reason)
	}
	if want := ts.hls.URL + "/us-west-2/111111111111/one/index.m3u8"; origin != want {
		t.Errorf("Started with origin %q, want %q", origin, want)
	}

	ffmpegPublish(t, ts.rtmp, "key-two")
	waitFor(t, "second channel live", func() bool { return ts.progress(t, "two") >= 0 })
	// A second publisher is refused, and the Authority hears it for the session's events.
	ffmpegPublish(t, ts.rtmp, "key-two")
	waitFor(t, "the second publisher refused", func() bool {
		ts.auth.mu.Lock()
		defer ts.auth.mu.Unlock()
		return errors.Is(ts.auth.refused[channelARN("two")], ErrAlreadyLive)
	})
	// The first check after the revocation ends the stream: counted, not timed, since a
	// loaded machine delays the checks themselves.
	ts.auth.mu.Lock()
	ts.auth.revoked["key-two"] = true
	checked := ts.auth.checks[channelARN("two")]
	ts.auth.mu.Unlock()
	waitFor(t, "offline after revocation", func() bool { _, ok := ts.Live(channelARN("two")); return !ok })
	ts.auth.mu.Lock()
	after := ts.auth.checks[channelARN("two")] - checked
	ts.auth.mu.Unlock()
	if after != 1 {
		t.Errorf("a revoked key's stream ended after %d checks of its key, want the first", after)
	}
}

// TestHLSHandler: only live channels' files are served, other paths and methods are
// refused.
func TestHLSHandler(t *testing.T) {
	ts := startTestServer(t, Config{})
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/us-west-2/111111111111/none/index.m3u8", 404},
		{"GET", "/", 404},
		{"GET", "/a/b/c/d/e", 404},
		{"GET", "/us-west-2/111111111111/none/", 404},
		{"POST", "/us-west-2/111111111111/none/index.m3u8", 405},
	} {
		req, _ := http.NewRequest(c.method, ts.hls.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.want)
		}
	}
}

func TestStreamKeyFromURL(t *testing.T) {
	for _, c := range []struct {
		path, key string
		ok        bool
	}{
		{"/app/sk_us-west-2_abc_def", "sk_us-west-2_abc_def", true},
		{"/app/", "", false},
		{"/live/key", "", false},
		{"/app/a/b", "", false},
		{"", "", false},
	} {
		key, err := streamKeyFromURL(&url.URL{Path: c.path})
		if (err == nil) != c.ok || key != c.key {
			t.Errorf("streamKeyFromURL(%q) = %q, %v", c.path, key, err)
		}
	}
}

func TestTicks(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		rate int
		want int64
	}{
		{time.Second, 90000, 90000},
		{1500 * time.Millisecond, 44100, 66150},
		{-time.Second, 90000, -90000},
		// A timestamp of a hundred years does not overflow.
		{100 * 365 * 24 * time.Hour, 90000, 100 * 365 * 24 * 3600 * 90000},
	} {
		if got := ticks(c.d, c.rate); got != c.want {
			t.Errorf("ticks(%v, %d) = %d, want %d", c.d, c.rate, got, c.want)
		}
	}
	if got := duration90k(90000 * 3600 * 24 * 365 * 100); got != 100*365*24*time.Hour {
		t.Errorf("duration90k of a hundred years = %v", got)
	}
}
