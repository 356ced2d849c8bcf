// Package gatebench measures the playback gate under load over loopback: a synthetic HLS
// origin, a gate over a temporary SQLite store, and many concurrent viewers, each with
// its own token, playing until a deadline. It is what playkey bench gate runs.
package gatebench

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/gate"
	"github.com/playkey/playkey/keypair"
	"github.com/playkey/playkey/playback"
	"github.com/playkey/playkey/sqlite"
	"github.com/playkey/playkey/token"
)

// Bounds on what a benchmark may ask for: it runs on this machine, over loopback only.
const (
	MaxViewers  = 10_000
	MaxDuration = 10 * time.Minute
)

// Config is what a run does.
type Config struct {
	Viewers           int           // concurrent viewers, each with its own token
	Duration          time.Duration // how long they play
	RequestsPerViewer int           // stop a viewer after this many requests; 0: only Duration bounds it
	SegmentSize       int           // bytes in each segment the origin serves
	Segments          int           // segments in each media playlist
}

// Result is what a run measured.
type Result struct {
	requests, errors int
	bytes            int64
	elapsed          time.Duration
	all, starts      []time.Duration
	metrics          gate.Metrics
}

// Print writes a report of r, a run of bc, for a person.
func (r *Result) Print(w io.Writer, bc Config) {
	slices.Sort(r.all)
	slices.Sort(r.starts)
	secs := r.elapsed.Seconds()
	fmt.Fprintf(w, "viewers %d, %v, %d segments of %d bytes per rendition, loopback\n", bc.Viewers, r.elapsed.Round(time.Millisecond), bc.Segments, bc.SegmentSize)
	fmt.Fprintf(w, "requests      %d (%.0f/s), errors %d, %.1f MB/s\n", r.requests, float64(r.requests)/secs, r.errors, float64(r.bytes)/secs/1e6)
	fmt.Fprintf(w, "latency       p50 %v  p90 %v  p99 %v  max %v (all requests)\n", Percentile(r.all, 50), Percentile(r.all, 90), Percentile(r.all, 99), Percentile(r.all, 100))
	fmt.Fprintf(w, "session start p50 %v  p90 %v  p99 %v  (%d multivariant requests with a token)\n", Percentile(r.starts, 50), Percentile(r.starts, 90), Percentile(r.starts, 99), len(r.starts))
	fmt.Fprintf(w, "ECDSA         %d verifications for %d sessions and %d requests; later requests cost one HMAC\n", r.metrics.Verifications, r.metrics.Sessions, r.requests)
	fmt.Fprintf(w, "playlists     %d origin reads, %d served again from one (shared across sessions)\n", r.metrics.PlaylistFetches, r.metrics.PlaylistReuses)
}

// Percentile returns the p-th percentile of sorted durations.
func Percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	i = min(max(i-1, 0), len(sorted)-1)
	return sorted[i].Round(time.Microsecond)
}

// TempStore opens a SQLite store in a new temporary directory; closeStore closes it and
// removes the directory.
func TempStore(ctx context.Context) (store *sqlite.Store, closeStore func(), err error) {
	dir, err := os.MkdirTemp("", "playkey-bench")
	if err != nil {
		return nil, nil, err
	}
	store, err = sqlite.Open(ctx, filepath.Join(dir, "playkey.db"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return store, func() { store.Close(); os.RemoveAll(dir) }, nil
}

// ServeLoopback serves h on a free port of 127.0.0.1 until stop, and returns its URL.
func ServeLoopback(h http.Handler) (url string, stop func() error, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), srv.Close, nil
}

// Run runs a synthetic origin, a gate over a temporary SQLite store, and bc.Viewers
// viewers, all on 127.0.0.1, until bc.Duration ends or every viewer made its requests, and
// returns what they measured. It fails when no request completed.
func Run(ctx context.Context, bc Config) (*Result, error) {
	store, closeStore, err := TempStore(ctx)
	if err != nil {
		return nil, err
	}
	defer closeStore()

	key, channel, err := setupChannel(ctx, store)
	if err != nil {
		return nil, err
	}

	originLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	origin := &http.Server{Handler: origin(bc), ReadHeaderTimeout: 10 * time.Second}
	go origin.Serve(originLn)
	defer origin.Close()

	g, err := gate.New(ctx, gate.Config{
		State:  playback.FromStore(store),
		Origin: "http://" + originLn.Addr().String() + "/{channel}/index.m3u8",
		Logger: slog.New(slog.DiscardHandler),
		// Every viewer comes from 127.0.0.1, and the failed-verification limiter holds a
		// reservation per verification under way from an address: all viewers start at once.
		FailureBurst: bc.Viewers + 20,
	})
	if err != nil {
		return nil, err
	}
	defer g.Close()
	base, stopGate, err := ServeLoopback(g)
	if err != nil {
		return nil, err
	}
	defer stopGate()

	// Tokens are signed before the clock starts: signing is the customer's backend's work.
	tokens := make([]string, bc.Viewers)
	for i := range tokens {
		tokens[i], err = token.Sign(token.Claims{
			ChannelARN: channel.String(),
			Exp:        time.Now().Add(token.MaxRestrictedLifetime).Unix(),
			ViewerID:   "viewer-" + strconv.Itoa(i),
		}, key)
		if err != nil {
			return nil, err
		}
	}
	playbackURL := base + "/api/video/v1/" + channel.Region + "." + channel.Account + ".channel." + channel.ID + ".m3u8?token="

	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns:        bc.Viewers,
		MaxIdleConnsPerHost: bc.Viewers,
		DisableCompression:  true,
	}}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, bc.Duration)
	defer cancel()

	res := &Result{}
	var mu sync.Mutex
	var requests, errs, nbytes atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range bc.Viewers {
		wg.Go(func() {
			v := &viewer{client: client, base: base}
			v.play(ctx, playbackURL+tokens[i], i, bc.RequestsPerViewer)
			requests.Add(int64(v.requests))
			errs.Add(int64(v.errors))
			nbytes.Add(v.bytes)
			mu.Lock()
			res.all = append(res.all, v.latencies...)
			if v.start > 0 {
				res.starts = append(res.starts, v.start)
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.requests, res.errors, res.bytes = int(requests.Load()), int(errs.Load()), nbytes.Load()
	res.metrics = g.Metrics()
	if res.requests == 0 {
		return nil, errors.New("no request completed")
	}
	return res, nil
}

// setupChannel creates a playback key pair and a private channel in store, and returns
// the key pair's private key and the channel.
func setupChannel(ctx context.Context, store playkey.Store) (*ecdsa.PrivateKey, playkey.ARN, error) {
	scope := playkey.Scope{Account: "000000000000", Region: "us-west-2"}
	key, err := keypair.Generate()
	if err != nil {
		return nil, playkey.ARN{}, err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, playkey.ARN{}, err
	}
	now := time.Now()
	if err := store.CreateKeyPair(ctx, &playkey.KeyPair{
		ARN:         playkey.ARN{Region: scope.Region, Account: scope.Account, Type: playkey.TypePlaybackKey, ID: playkey.NewID()},
		Fingerprint: keypair.Fingerprint(der), PublicKeyDER: der, CreatedAt: now,
	}); err != nil {
		return nil, playkey.ARN{}, err
	}
	channel := playkey.ARN{Region: scope.Region, Account: scope.Account, Type: playkey.TypeChannel, ID: playkey.NewID()}
	if err := store.CreateChannel(ctx, &playkey.Channel{
		ARN: channel, Authorized: true, LatencyMode: playkey.LatencyLow, Type: playkey.ChannelStandard,
		ContainerFormat: playkey.ContainerTS, CreatedAt: now,
		Multitrack: playkey.Multitrack{Policy: playkey.MultitrackAllow, MaximumResolution: playkey.ResolutionFullHD},
	}, nil); err != nil {
		return nil, playkey.ARN{}, err
	}
	return key, channel, nil
}

// benchOrigin serves a multivariant playlist of three renditions, their media playlists,
// and segments of the configured size, for any channel.
func origin(bc Config) http.Handler {
	segment := make([]byte, bc.SegmentSize)
	for i := range segment {
		segment[i] = byte(i)
	}
	var media strings.Builder
	media.WriteString("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n")
	for i := range bc.Segments {
		fmt.Fprintf(&media, "#EXTINF:2.000,\nseg%d.ts\n", i)
	}
	media.WriteString("#EXT-X-ENDLIST\n")
	const multivariant = "#EXTM3U\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=6000000,RESOLUTION=1920x1080\n1080p/index.m3u8\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720\n720p/index.m3u8\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n360p/index.m3u8\n"
	modTime := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case strings.HasSuffix(p, "p/index.m3u8"):
			w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
			io.WriteString(w, media.String())
		case strings.HasSuffix(p, "/index.m3u8"):
			w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
			io.WriteString(w, multivariant)
		case strings.HasSuffix(p, ".ts"):
			w.Header().Set("Content-Type", "video/mp2t")
			w.Header().Set("Cache-Control", "max-age=3600")
			http.ServeContent(w, r, "", modTime, strings.NewReader(string(segment)))
		default:
			http.NotFound(w, r)
		}
	})
}

// viewer plays one session: the multivariant playlist with its token, then its rendition's
// media playlist and segments, over and over, until ctx ends or it has made max requests.
type viewer struct {
	client    *http.Client
	base      string
	requests  int
	errors    int
	bytes     int64
	start     time.Duration
	latencies []time.Duration
}

func (v *viewer) play(ctx context.Context, playbackURL string, n, maxRequests int) {
	body, d, ok := v.get(ctx, playbackURL)
	if !ok {
		return
	}
	v.start = d
	variants := playlistURIs(body)
	if len(variants) == 0 {
		v.errors++
		return
	}
	variant := v.base + variants[n%len(variants)]
	for ctx.Err() == nil {
		body, _, ok := v.get(ctx, variant)
		if !ok {
			return
		}
		for _, seg := range playlistURIs(body) {
			if ctx.Err() != nil || (maxRequests > 0 && v.requests >= maxRequests) {
				return
			}
			if _, _, ok := v.get(ctx, v.base+seg); !ok {
				return
			}
		}
		if maxRequests > 0 && v.requests >= maxRequests {
			return
		}
	}
}

// get fetches a URL and records its latency; it reports false when the viewer should stop.
func (v *viewer) get(ctx context.Context, u string) (string, time.Duration, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		v.errors++
		return "", 0, false
	}
	t := time.Now()
	resp, err := v.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			v.errors++
		}
		return "", 0, false
	}
	var body []byte
	var n int64
	if strings.HasSuffix(req.URL.Path, ".m3u8") {
		body, err = io.ReadAll(resp.Body)
		n = int64(len(body))
	} else {
		n, err = io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	if err != nil {
		if ctx.Err() == nil {
			v.errors++
		}
		return "", 0, false
	}
	d := time.Since(t)
	v.requests++
	v.bytes += n
	v.latencies = append(v.latencies, d)
	if resp.StatusCode != http.StatusOK {
		v.errors++
		return "", d, false
	}
	return string(body), d, true
}

// playlistURIs lists the URI lines of a playlist.
func playlistURIs(p string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(p))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}
