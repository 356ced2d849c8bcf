package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
	"github.com/bluenviron/gortmplib"
	rtmpcodecs "github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/gate"
	"github.com/playkey/playkey/ingest"
	"github.com/playkey/playkey/internal/gatebench"
	"github.com/playkey/playkey/playback"
	"github.com/playkey/playkey/sqlite"
)

const maxBenchChannels = 500

func runBenchIngest(ctx context.Context, std *stdio, args []string) error {
	var n int
	var duration time.Duration
	var modes string
	fs := newFlagSet(std, "bench ingest", "")
	fs.IntVar(&n, "channels", 10, "`N` channels live at once, each with an RTMP publisher of a synthetic 720p30 stream and one LL-HLS viewer through the gate")
	fs.DurationVar(&duration, "duration", 20*time.Second, "how long to measure, after a warm-up of 6 s")
	fs.StringVar(&modes, "latency-mode", "LOW,NORMAL", "latency `MODES` to measure, one run each")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usageErrorf("bench ingest takes no arguments")
	case n < 1 || n > maxBenchChannels:
		return usageErrorf("--channels must be 1 to %d", maxBenchChannels)
	case duration <= 0 || duration > gatebench.MaxDuration:
		return usageErrorf("--duration must be positive and at most %v", gatebench.MaxDuration)
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return errors.New("bench ingest needs ffmpeg to encode its source once")
	}
	dir, err := os.MkdirTemp("", "playkey-bench-ingest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	src, err := encodeBenchSource(ctx, dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(std.out, "source: 720p30 H.264 (x264 veryfast, 2 s GOP, %d kbit/s) and AAC, %d frames looped; publishers, ingest, gate and viewers in this process, loopback; %d CPUs\n",
		src.bitrate()/1000, len(src.video), runtime.NumCPU())
	for mode := range strings.SplitSeq(modes, ",") {
		if mode != playkey.LatencyLow && mode != playkey.LatencyNormal {
			return usageErrorf("--latency-mode %q: want LOW and/or NORMAL", mode)
		}
		res, err := benchIngest(ctx, dir, src, n, duration, mode)
		if err != nil {
			return err
		}
		res.print(std.out)
	}
	return nil
}

// benchSource is the synthetic stream every publisher sends: H.264 access units at 30 fps
// and AAC access units of 1024 samples.
type benchSource struct {
	sps, pps []byte
	video    [][][]byte
	audio    [][]byte
	asc      mpeg4audio.AudioSpecificConfig
	bytes    int
}

func (s *benchSource) bitrate() int { return s.bytes * 8 * 30 / len(s.video) }

// encodeBenchSource has ffmpeg encode 10 s of 720p30 once, as raw H.264 with access unit
// delimiters and as ADTS AAC, and reads them with mediacommon.
func encodeBenchSource(ctx context.Context, dir string) (*benchSource, error) {
	v, a := filepath.Join(dir, "v.h264"), filepath.Join(dir, "a.aac")
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=10", "-f", "lavfi", "-i", "sine=duration=10:sample_rate=48000",
		"-map", "0:v", "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-b:v", "2500k",
		"-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-x264-params", "aud=1", "-f", "h264", v,
		"-map", "1:a", "-c:a", "aac", "-b:a", "128k", "-f", "adts", a)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ffmpeg: %v: %s", err, out)
	}
	vb, err := os.ReadFile(v)
	if err != nil {
		return nil, err
	}
	src := &benchSource{}
	// mediacommon reads one access unit at a time; x264's access unit delimiters
	// (start code, NAL type 9) split the stream into them.
	delim := []byte{0, 0, 1, 9}
	for len(vb) > 0 {
		next := bytes.Index(vb[len(delim):], delim)
		chunk := vb
		if next >= 0 {
			chunk, vb = vb[:next+len(delim)], vb[next+len(delim):]
		} else {
			vb = nil
		}
		var nalus h264.AnnexB
		if err := nalus.Unmarshal(bytes.TrimRight(chunk, "\x00")); err != nil {
			return nil, fmt.Errorf("source video: %w", err)
		}
		var au [][]byte
		for _, nalu := range nalus {
			switch h264.NALUType(nalu[0] & 0x1f) {
			case h264.NALUTypeAccessUnitDelimiter:
				continue
			case h264.NALUTypeSPS:
				src.sps = nalu
			case h264.NALUTypePPS:
				src.pps = nalu
			}
			au = append(au, nalu)
			src.bytes += len(nalu)
		}
		if len(au) > 0 {
			src.video = append(src.video, au)
		}
	}
	ab, err := os.ReadFile(a)
	if err != nil {
		return nil, err
	}
	var pkts mpeg4audio.ADTSPackets
	if err := pkts.Unmarshal(ab); err != nil {
		return nil, fmt.Errorf("source audio: %w", err)
	}
	for _, p := range pkts {
		src.audio = append(src.audio, p.AU)
	}
	if src.sps == nil || len(src.video) == 0 || len(pkts) == 0 {
		return nil, errors.New("the source has no video or no audio")
	}
	src.asc = mpeg4audio.AudioSpecificConfig{Type: pkts[0].Type, SampleRate: pkts[0].SampleRate, ChannelConfig: pkts[0].ChannelConfig}
	return src, nil
}

type ingestBenchResult struct {
	mode                 string
	channels             int
	elapsed              time.Duration
	cpu                  time.Duration
	heapPerChannel       float64
	delays               []time.Duration
	viewerErrors, pubErr int
}

func (r *ingestBenchResult) print(w io.Writer) {
	slices.Sort(r.delays)
	what := "part"
	if r.mode == playkey.LatencyNormal {
		what = "segment"
	}
	fmt.Fprintf(w, "%s: %d channels for %v: CPU %.1f%% of one core per channel (%.2f cores in all); Go heap %.1f MB per channel\n",
		r.mode, r.channels, r.elapsed.Round(time.Second), 100*r.cpu.Seconds()/r.elapsed.Seconds()/float64(r.channels),
		r.cpu.Seconds()/r.elapsed.Seconds(), r.heapPerChannel/1e6)
	fmt.Fprintf(w, "  end of a %s on the arrival clock (the arrival of the frame that closes it) to its listing by the gate (%d %ss): p50 %v p90 %v p99 %v max %v; viewer errors %d, publisher errors %d\n",
		what, len(r.delays), what, gatebench.Percentile(r.delays, 50), gatebench.Percentile(r.delays, 90), gatebench.Percentile(r.delays, 99), gatebench.Percentile(r.delays, 100), r.viewerErrors, r.pubErr)
}

// benchIngest runs n channels of mode on a temporary SQLite store: ingest and the gate as
// serve wires them, a publisher and a viewer per channel.
func benchIngest(ctx context.Context, dir string, src *benchSource, n int, d time.Duration, mode string) (*ingestBenchResult, error) {
	store, err := sqlite.Open(ctx, filepath.Join(dir, mode+".db"))
	if err != nil {
		return nil, err
	}
	defer store.Close()
	logger := slog.New(slog.DiscardHandler)
	keys := make([]string, n)
	urls := make([]string, n)
	for i := range n {
		ch := playkey.NewChannel(playkey.ARN{Region: "us-west-2", Account: "000000000000", Type: playkey.TypeChannel, ID: playkey.NewID()}, time.Now())
		ch.LatencyMode = mode
		key := playkey.NewStreamKey(ch.ARN, time.Now())
		if err := store.CreateChannel(ctx, ch, key); err != nil {
			return nil, err
		}
		keys[i] = key.Value
		urls[i] = "/api/video/v1/" + ch.ARN.Region + "." + ch.ARN.Account + ".channel." + ch.ARN.ID + ".m3u8"
	}

	hlsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	auth := newStoreAuthority(store, store, "", logger)
	srv, err := ingest.New(ingest.Config{Authority: auth, Logger: logger, HLSBase: "http://" + hlsLn.Addr().String()})
	if err != nil {
		return nil, err
	}
	auth.stats = srv.Stats
	hlsSrv := &http.Server{Handler: srv}
	go hlsSrv.Serve(hlsLn)
	defer hlsSrv.Close()
	rtmpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go srv.ServeRTMP(rtmpLn, "rtmp")
	defer srv.Close()
	gf := gateFlags{live: &liveOrigins{local: srv, store: store}}
	origin, transport := gf.originSettings()
	g, err := gate.New(ctx, gate.Config{State: playback.FromStore(store), Origin: origin, Transport: transport, Logger: logger})
	if err != nil {
		return nil, err
	}
	defer g.Close()
	gateLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	gateSrv := &http.Server{Handler: g}
	go gateSrv.Serve(gateLn)
	defer gateSrv.Close()
	gateURL := "http://" + gateLn.Addr().String()

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	res := &ingestBenchResult{mode: mode, channels: n}
	var mu sync.Mutex
	measuring := false
	var measureStart time.Time
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := benchPublish(runCtx, src, "rtmp://"+rtmpLn.Addr().String()+"/app/"+keys[i]); err != nil && runCtx.Err() == nil {
				mu.Lock()
				res.pubErr++
				mu.Unlock()
			}
		}()
		go func() {
			defer wg.Done()
			benchView(runCtx, gateURL, urls[i], mode, func(delay time.Duration, err error) {
				mu.Lock()
				defer mu.Unlock()
				if !measuring {
					return
				}
				if err != nil {
					res.viewerErrors++
					return
				}
				res.delays = append(res.delays, delay)
			})
		}()
	}
	select { // warm-up: the first segments, the viewers' first playlists
	case <-time.After(6 * time.Second):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapLive := ms.HeapInuse
	cpu0 := cpuTime()
	mu.Lock()
	measuring, measureStart = true, time.Now()
	mu.Unlock()
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	mu.Lock()
	measuring = false
	res.elapsed = time.Since(measureStart)
	mu.Unlock()
	res.cpu = cpuTime() - cpu0
	stop()
	wg.Wait()
	srv.Close()
	// The heap with every channel live, less the heap once they are gone.
	runtime.GC()
	runtime.ReadMemStats(&ms)
	res.heapPerChannel = (float64(heapLive) - float64(ms.HeapInuse)) / float64(n)
	return res, nil
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchPublish sends src in real time, looped, until ctx ends.
func benchPublish(ctx context.Context, src *benchSource, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	c := &gortmplib.Client{URL: u, Publish: true}
	if err := c.Initialize(ctx); err != nil {
		return err
	}
	defer c.Close()
	context.AfterFunc(ctx, c.Close)
	vt := &gortmplib.Track{Codec: &rtmpcodecs.H264{SPS: src.sps, PPS: src.pps}}
	asc := src.asc
	at := &gortmplib.Track{Codec: &rtmpcodecs.MPEG4Audio{Config: &asc}}
	w := &gortmplib.Writer{Conn: c, Tracks: []*gortmplib.Track{vt, at}}
	if err := w.Initialize(); err != nil {
		return err
	}
	const frame = time.Second / 30
	audioFrame := time.Duration(1024) * time.Second / time.Duration(src.asc.SampleRate)
	start := time.Now()
	var audioPTS time.Duration
	for i := 0; ; i++ {
		pts := time.Duration(i) * frame
		if wait := time.Until(start.Add(pts)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return nil
			}
		}
		if err := w.WriteH264(vt, pts, pts, src.video[i%len(src.video)]); err != nil {
			return err
		}
		for ; audioPTS <= pts; audioPTS += audioFrame {
			if err := w.WriteMPEG4Audio(at, audioPTS, src.audio[int(audioPTS/audioFrame)%len(src.audio)]); err != nil {
				return err
			}
		}
	}
}

// benchView plays one channel through the gate as an LL-HLS player does: the
// multivariant playlist, then the video playlist with blocking reloads for the next part
// (LOW), or polled every 100 ms (NORMAL). For every new part or segment it reports the delay
// from the arrival of its last frame (the segment's EXT-X-PROGRAM-DATE-TIME, which ingest
// sets from arrival times, plus the media durations before its end) to its listing.
func benchView(ctx context.Context, gateURL, path, mode string, report func(time.Duration, error)) {
	client := &http.Client{Timeout: 15 * time.Second}
	get := func(u string) ([]byte, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("%s: %d", u, resp.StatusCode)
		}
		return b, err
	}
	var media string
	for media == "" && ctx.Err() == nil {
		mv, err := get(gateURL + path)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for l := range strings.SplitSeq(string(mv), "\n") {
			if strings.HasPrefix(l, "/") && strings.Contains(l, "video") {
				media = gateURL + l
			}
		}
	}
	var lastEnd time.Time
	query := ""
	for ctx.Err() == nil {
		b, err := get(media + query)
		seen := time.Now()
		if err != nil {
			if ctx.Err() == nil {
				report(0, err)
				time.Sleep(100 * time.Millisecond)
			}
			continue
		}
		pl, err := playlist.Unmarshal(b)
		m, ok := pl.(*playlist.Media)
		if err != nil || !ok {
			report(0, fmt.Errorf("not a media playlist: %v", err))
			continue
		}
		end, known := newestEnd(m)
		if known && end.After(lastEnd) {
			if !lastEnd.IsZero() {
				report(seen.Sub(end), nil)
			}
			lastEnd = end
		}
		if mode == playkey.LatencyLow {
			query = fmt.Sprintf("?_HLS_msn=%d&_HLS_part=%d", m.MediaSequence+len(m.Segments), len(m.Parts))
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// newestEnd returns when the newest part (or segment) of a media playlist ends, on the
// clock of EXT-X-PROGRAM-DATE-TIME.
func newestEnd(m *playlist.Media) (time.Time, bool) {
	var end time.Time
	known := false
	for _, s := range m.Segments {
		if s.DateTime != nil {
			end, known = *s.DateTime, true
		}
		if known {
			end = end.Add(s.Duration)
		}
	}
	for _, p := range m.Parts {
		end = end.Add(p.Duration)
	}
	return end, known
}
