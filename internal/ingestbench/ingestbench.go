// Package ingestbench measures live channels under load over loopback: RTMP publishers of
// a synthetic 720p30 stream, playkey's ingest and the gate over a temporary SQLite store,
// and one LL-HLS viewer per channel. It is what playkey bench ingest runs.
package ingestbench

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

// MaxChannels bounds what a run may ask for: it runs on this machine, over loopback only.
const MaxChannels = 500

// Config is what a run does, and how it wires ingest and the gate: as serve does, which
// only cmd/playkey knows.
type Config struct {
	Channels int           // channels live at once, each with a publisher and a viewer
	Duration time.Duration // how long to measure, after a warm-up of 6 s
	Mode     string        // playkey.LatencyLow or playkey.LatencyNormal

	// Authority decides publishes for ingest from store.
	Authority func(store *sqlite.Store, log *slog.Logger) ingest.Authority
	// Origin returns the gate's origin template and transport for channels live on srv.
	Origin func(store *sqlite.Store, srv *ingest.Server) (string, http.RoundTripper)
}

// NewSource has ffmpeg encode the source every publisher sends, once.
func NewSource(ctx context.Context) (*Source, error) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return nil, errors.New("bench ingest needs ffmpeg to encode its source once")
	}
	dir, err := os.MkdirTemp("", "playkey-bench-source")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	return encodeSource(ctx, dir)
}

// Print describes s for a person.
func (s *Source) Print(w io.Writer) {
	fmt.Fprintf(w, "source: 720p30 H.264 (x264 veryfast, 2 s GOP, %d kbit/s) and AAC, %d frames looped; publishers, ingest, gate and viewers in this process, loopback; %d CPUs\n",
		s.bitrate()/1000, len(s.video), runtime.NumCPU())
}

// Source is the synthetic stream every publisher sends: H.264 access units at 30 fps
// and AAC access units of 1024 samples.
type Source struct {
	sps, pps []byte
	video    [][][]byte
	audio    [][]byte
	asc      mpeg4audio.AudioSpecificConfig
	bytes    int
}

func (s *Source) bitrate() int { return s.bytes * 8 * 30 / len(s.video) }

// encodeSource has ffmpeg encode 10 s of 720p30 once, as raw H.264 with access unit
// delimiters and as ADTS AAC, and reads them with mediacommon.
func encodeSource(ctx context.Context, dir string) (*Source, error) {
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
	src := &Source{}
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

type Result struct {
	mode                 string
	channels             int
	elapsed              time.Duration
	cpu                  time.Duration
	heapPerChannel       float64
	delays               []time.Duration
	viewerErrors, pubErr int
}

// Print writes a report of r for a person.
func (r *Result) Print(w io.Writer) {
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

// Run measures c.Channels channels of c.Mode, each sending src, on a temporary SQLite
// store: ingest and the gate as c wires them, a publisher and a viewer per channel.
func Run(ctx context.Context, src *Source, c Config) (*Result, error) {
	n, d, mode := c.Channels, c.Duration, c.Mode
	switch {
	case n < 1 || n > MaxChannels:
		return nil, fmt.Errorf("channels must be 1 to %d", MaxChannels)
	case d <= 0 || d > gatebench.MaxDuration:
		return nil, fmt.Errorf("duration must be positive and at most %v", gatebench.MaxDuration)
	case mode != playkey.LatencyLow && mode != playkey.LatencyNormal:
		return nil, fmt.Errorf("latency mode %q: want LOW or NORMAL", mode)
	}
	store, closeStore, err := gatebench.TempStore(ctx)
	if err != nil {
		return nil, err
	}
	defer closeStore()
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
	srv, err := ingest.New(ingest.Config{Authority: c.Authority(store, logger), Logger: logger, HLSBase: "http://" + hlsLn.Addr().String()})
	if err != nil {
		return nil, err
	}
	hlsSrv := &http.Server{Handler: srv}
	go hlsSrv.Serve(hlsLn)
	defer hlsSrv.Close()
	rtmpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go srv.ServeRTMP(rtmpLn, "rtmp")
	defer srv.Close()
	origin, transport := c.Origin(store, srv)
	g, err := gate.New(ctx, gate.Config{State: playback.FromStore(store), Origin: origin, Transport: transport, Logger: logger})
	if err != nil {
		return nil, err
	}
	defer g.Close()
	gateURL, stopGate, err := gatebench.ServeLoopback(g)
	if err != nil {
		return nil, err
	}
	defer stopGate()

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	res := &Result{mode: mode, channels: n}
	var mu sync.Mutex
	measuring := false
	var measureStart time.Time
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := publish(runCtx, src, "rtmp://"+rtmpLn.Addr().String()+"/app/"+keys[i]); err != nil && runCtx.Err() == nil {
				mu.Lock()
				res.pubErr++
				mu.Unlock()
			}
		}()
		go func() {
			defer wg.Done()
			view(runCtx, gateURL, urls[i], mode, func(delay time.Duration, err error) {
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

// publish sends src in real time, looped, until ctx ends.
func publish(ctx context.Context, src *Source, rawURL string) error {
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

// view plays one channel through the gate as an LL-HLS player does: the
// multivariant playlist, then the video playlist with blocking reloads for the next part
// (LOW), or polled every 100 ms (NORMAL). For every new part or segment it reports the delay
// from the arrival of its last frame (the segment's EXT-X-PROGRAM-DATE-TIME, which ingest
// sets from arrival times, plus the media durations before its end) to its listing.
func view(ctx context.Context, gateURL, path, mode string, report func(time.Duration, error)) {
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
