package gatebench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/gate"
	"github.com/playkey/playkey/token"
)

// CompareConfig is what a comparison of the gate with nginx does.
type CompareConfig struct {
	// Duration of each measurement, in whole seconds (wrk and openssl speed count seconds).
	Duration    time.Duration
	Connections int // wrk's open connections, the same for the gate and its reference
	// Rounds of each pair of admitted measurements, the reference and then the gate: a
	// change in the machine's load touches both, and the medians are reported.
	Rounds  int
	Threads int // wrk's threads
	// Sessions are admitted, each with its own token, for the memory figure.
	Sessions int
	// Tokens is how many fresh tokens the new-viewer measurement may use; 0: enough for
	// twice openssl's verifications per second, and at least 8000 a second, over Duration.
	Tokens int
	// StartGate starts the playback gate over store in front of origin (a channel
	// template, as --origin takes it), with X-Real-IP as its client address header believed
	// from loopback. The gate runs in this process: the memory figure is this process's.
	StartGate func(ctx context.Context, store playkey.Store, origin string) (*StartedGate, error)
	// The programs, by path.
	Nginx, Wrk, FFmpeg, OpenSSL string
	// Progress, when set, hears what the run is doing, one line at a time.
	Progress io.Writer
	// CPUProfile, when set, is the start of the files that get a CPU profile of this
	// process during each of the gate's measurements: CPUProfile-segment.pprof and so on.
	CPUProfile string
}

// StartedGate is a gate serving on loopback.
type StartedGate struct {
	URL     string
	Stop    func() error
	Metrics func() gate.Metrics
}

// Goals of the comparison: the gate's requests per second over the reference's.
const (
	GoalSegment   = 0.9
	GoalPlaylist  = 0.7
	GoalAuth      = 0.6
	GoalNewViewer = 1.5
)

// Row is one line of the comparison.
type Row struct {
	Path      string
	Gate      float64 // the gate's requests per second
	Reference float64 // the reference's requests (or verifications) per second
	Against   string  // what the reference is
	Goal      float64 // the ratio aimed at
}

// Ratio is Gate over Reference.
func (r Row) Ratio() float64 {
	if r.Reference == 0 {
		return 0
	}
	return r.Gate / r.Reference
}

// Comparison is what a comparison measured.
type Comparison struct {
	Rows         []Row
	Config       CompareConfig
	NginxVersion string
	SegmentBytes int
	OpenSSLProcs int
	Load         string // the load average when the measurements began, from /proc/loadavg
	// Memory: the sessions admitted, and the growth of the Go heap (live bytes after a
	// collection) and of the process's resident set while they were.
	Sessions          int
	HeapGrowth, RSS   int64
	RSSKnown          bool
	NewViewerRequests uint64 // multivariant requests the gate answered in the new-viewer run
	Verifications     uint64 // of which verified a signature
	CachedTokens      uint64 // of which came from the verified-token cache (a reused token)
}

// Print writes the comparison as a table for a person.
func (c *Comparison) Print(w io.Writer) {
	cc := c.Config
	fmt.Fprintf(w, "playkey gate against %s, one run: wrk -t%d -c%d -d%v per measurement, median of %d rounds of reference then gate (new viewers: one); %d CPUs, GOMAXPROCS %d, load average %s; no access logs\n",
		c.NginxVersion, cc.Threads, cc.Connections, cc.Duration, cc.Rounds, runtime.NumCPU(), runtime.GOMAXPROCS(0), c.Load)
	fmt.Fprintf(w, "%-44s %12s %14s %8s %7s  %s\n", "path", "gate req/s", "reference/s", "ratio", "goal", "reference")
	for _, r := range c.Rows {
		mark := ""
		if r.Ratio() < r.Goal {
			mark = " (below)"
		}
		fmt.Fprintf(w, "%-44s %12.0f %14.0f %7.2fx %6s  %s%s\n", r.Path, r.Gate, r.Reference, r.Ratio(), fmt.Sprintf(">=%.1fx", r.Goal), r.Against, mark)
	}
	fmt.Fprintf(w, "new viewers: %d multivariant requests, %d signatures verified, %d tokens from the cache\n", c.NewViewerRequests, c.Verifications, c.CachedTokens)
	if c.CachedTokens > 0 {
		fmt.Fprintf(w, "  warning: the %d fresh tokens ran out and were used again; raise --tokens for a new-viewer figure\n", cc.Tokens)
	}
	per := func(v int64) string {
		return fmt.Sprintf("%+.1f MiB (%d bytes per session)", float64(v)/(1<<20), v/int64(max(c.Sessions, 1)))
	}
	fmt.Fprintf(w, "memory for %d sessions admitted (one token and multivariant request each, all still valid):\n", c.Sessions)
	fmt.Fprintf(w, "  Go heap in use after a collection %s\n", per(c.HeapGrowth))
	if c.RSSKnown {
		fmt.Fprintf(w, "  resident set (VmRSS) %s\n", per(c.RSS))
	}
	if c.Sessions != 10_000 && c.Sessions > 0 {
		fmt.Fprintf(w, "  per 10,000 sessions: heap %+.1f MiB\n", float64(c.HeapGrowth)*10_000/float64(c.Sessions)/(1<<20))
	}
}

// Compare runs the gate and nginx side by side on this machine: nginx serves an
// ffmpeg-made HLS ladder as the origin, and on a second port proxies it (proxy_pass to a
// keepalive upstream) and answers return 200; the gate runs in front of the same origin.
// wrk drives each pair for the same duration and connections, the reference first. New
// viewers, each with a fresh token, are compared with openssl speed's ECDSA P-384
// verifications per second on every CPU.
func Compare(ctx context.Context, cc CompareConfig) (*Comparison, error) {
	if cc.Duration < time.Second || cc.Duration%time.Second != 0 {
		return nil, errors.New("the duration must be whole seconds")
	}
	cc.Rounds = max(cc.Rounds, 1)
	progress := func(format string, args ...any) {
		if cc.Progress != nil {
			fmt.Fprintf(cc.Progress, format+"\n", args...)
		}
	}
	dir, err := os.MkdirTemp("", "playkey-bench-nginx")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	store, closeStore, err := TempStore(ctx)
	if err != nil {
		return nil, err
	}
	defer closeStore()
	key, channel, err := setupChannel(ctx, store)
	if err != nil {
		return nil, err
	}

	progress("making an HLS ladder with ffmpeg")
	root := path.Join(dir, "hls")
	ladder, err := makeLadder(ctx, cc.FFmpeg, path.Join(root, "live", channel.ID))
	if err != nil {
		return nil, err
	}
	ngx, err := startNginx(ctx, cc.Nginx, path.Join(dir, "nginx"), root)
	if err != nil {
		return nil, err
	}
	defer ngx.stop()
	g, err := cc.StartGate(ctx, store, ngx.origin+"/live/{channel}/index.m3u8")
	if err != nil {
		return nil, err
	}
	defer g.Stop()
	gateURL := g.URL

	c := &Comparison{Config: cc, NginxVersion: ngx.version, SegmentBytes: ladder.segmentBytes, OpenSSLProcs: runtime.NumCPU()}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}}
	defer client.CloseIdleConnections()
	playback := gateURL + "/api/video/v1/" + channel.Region + "." + channel.Account + ".channel." + channel.ID + ".m3u8?token="

	// One admitted session, whose URLs the admitted measurements request again and again.
	tok, err := signTokens(key, channel, "session", 1)
	if err != nil {
		return nil, err
	}
	mv, err := getOK(ctx, client, playback+tok[0], "")
	if err != nil {
		return nil, fmt.Errorf("the gate's multivariant playlist: %w", err)
	}
	variant := findURI(mv, ladder.rendition+"/index.m3u8")
	if variant == "" {
		return nil, fmt.Errorf("the gate's multivariant playlist has no %s rendition", ladder.rendition)
	}
	media, err := getOK(ctx, client, gateURL+variant, "")
	if err != nil {
		return nil, fmt.Errorf("the gate's media playlist: %w", err)
	}
	segment := findURI(media, ladder.segment)
	if segment == "" {
		return nil, fmt.Errorf("the gate's media playlist has no %s", ladder.segment)
	}
	body, err := getOK(ctx, client, gateURL+segment, "")
	if err != nil || len(body) != ladder.segmentBytes {
		return nil, fmt.Errorf("the segment through the gate: %d bytes, want %d (%v)", len(body), ladder.segmentBytes, err)
	}
	refBase := ngx.proxy + "/live/" + channel.ID + "/" + ladder.rendition + "/"
	if body, err := getOK(ctx, client, refBase+ladder.segment, ""); err != nil || len(body) != ladder.segmentBytes {
		return nil, fmt.Errorf("the segment through nginx: %d bytes, want %d (%v)", len(body), ladder.segmentBytes, err)
	}

	// Memory first, on a gate that has served almost nothing.
	progress("signing %d tokens and admitting as many sessions", cc.Sessions)
	if err := c.measureMemory(ctx, client, key, channel, playback); err != nil {
		return nil, err
	}

	progress("openssl speed -seconds %d -multi %d ecdsap384", int(cc.Duration/time.Second), c.OpenSSLProcs)
	verifies, err := opensslVerifies(ctx, cc.OpenSSL, cc.Duration, c.OpenSSLProcs)
	if err != nil {
		return nil, err
	}
	if cc.Tokens == 0 {
		// openssl's figure drops when the machine is busy; the floor keeps the gate from
		// running out of tokens then.
		c.Config.Tokens = int(max(2*verifies, 8000) * cc.Duration.Seconds())
	}
	progress("signing %d fresh tokens for the new viewers", c.Config.Tokens)
	tokenFiles, err := writeTokenFiles(dir, key, channel, playback[len(gateURL):], c.Config.Tokens, cc.Threads)
	if err != nil {
		return nil, err
	}

	c.Load = loadAverage()
	w := wrk{path: cc.Wrk, threads: cc.Threads, connections: cc.Connections, duration: cc.Duration, progress: progress}
	// runGate is w.run with the process's CPU profile written to file.
	runGate := func(t wrkTarget, file string) (float64, error) {
		if cc.CPUProfile == "" {
			return w.run(ctx, t)
		}
		f, err := os.OpenFile(cc.CPUProfile+"-"+file+".pprof", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return 0, err
		}
		defer pprof.StopCPUProfile()
		return w.run(ctx, t)
	}
	pair := func(name, against string, goal float64, ref, gate wrkTarget, profile string) error {
		r := Row{Path: name, Against: against, Goal: goal}
		var refs, gates []float64
		for range cc.Rounds {
			v, err := w.run(ctx, ref)
			if err != nil {
				return fmt.Errorf("%s, reference: %w", name, err)
			}
			refs = append(refs, v)
			if v, err = runGate(gate, profile); err != nil {
				return fmt.Errorf("%s, gate: %w", name, err)
			}
			gates = append(gates, v)
		}
		r.Reference, r.Gate = median(refs), median(gates)
		c.Rows = append(c.Rows, r)
		return nil
	}
	if err := pair(fmt.Sprintf("segment (%.0f KiB) of an admitted session", float64(ladder.segmentBytes)/1024), "nginx proxy_pass", GoalSegment,
		wrkTarget{name: "segment, nginx", url: refBase + ladder.segment}, wrkTarget{name: "segment, gate", url: gateURL + segment}, "segment"); err != nil {
		return nil, err
	}
	if err := pair("media playlist of an admitted session", "nginx proxy_pass", GoalPlaylist,
		wrkTarget{name: "media playlist, nginx", url: refBase + "index.m3u8"}, wrkTarget{name: "media playlist, gate", url: gateURL + variant}, "playlist"); err != nil {
		return nil, err
	}
	if err := pair("/_playkey/auth decision for auth_request", "nginx return 200", GoalAuth,
		wrkTarget{name: "auth, nginx return 200", url: ngx.proxy + "/ok"}, wrkTarget{name: "auth, gate", url: gateURL + "/_playkey/auth", headers: []string{"X-Original-URI: " + segment}}, "auth"); err != nil {
		return nil, err
	}

	script := path.Join(dir, "newviewer.lua")
	if err := os.WriteFile(script, []byte(newViewerScript), 0o600); err != nil {
		return nil, err
	}
	m0 := g.Metrics()
	rate, err := runGate(wrkTarget{name: "new viewers, gate", url: gateURL, script: script, args: []string{tokenFiles}}, "newviewer")
	if err != nil {
		return nil, fmt.Errorf("new viewers: %w", err)
	}
	m1 := g.Metrics()
	c.NewViewerRequests, c.Verifications, c.CachedTokens = m1.Sessions-m0.Sessions, m1.Verifications-m0.Verifications, m1.CachedTokens-m0.CachedTokens
	c.Rows = append(c.Rows, Row{Path: "new viewer (fresh token, multivariant)", Gate: rate, Reference: verifies,
		Against: fmt.Sprintf("openssl speed -multi %d ecdsap384 verify/s", c.OpenSSLProcs), Goal: GoalNewViewer})
	return c, nil
}

// signTokens signs n tokens for channel, each for its own viewer, on every CPU.
func signTokens(key *ecdsa.PrivateKey, channel playkey.ARN, viewer string, n int) ([]string, error) {
	out := make([]string, n)
	exp := time.Now().Add(token.MaxRestrictedLifetime).Unix()
	var wg sync.WaitGroup
	errs := make([]error, runtime.GOMAXPROCS(0))
	for w := range errs {
		wg.Go(func() {
			for i := w; i < n; i += len(errs) {
				out[i], errs[w] = token.Sign(token.Claims{ChannelARN: channel.String(), Exp: exp, ViewerID: viewer + "-" + strconv.Itoa(i)}, key)
				if errs[w] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// viewerAddr is the client address of the i-th new viewer, as a proxy would pass it in
// X-Real-IP: new viewers come from many addresses.
func viewerAddr(i int) string {
	return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
}

// getOK fetches u and returns its body, or an error unless it answered 200.
func getOK(ctx context.Context, client *http.Client, u, realIP string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	if realIP != "" {
		req.Header.Set("X-Real-IP", realIP)
	}
	resp, err := client.Do(req)
	if ue, ok := err.(*url.Error); ok {
		return "", ue.Err // without the URL, which holds a token or a session credential
	}
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(b[:min(len(b), 300)]))
	}
	return string(b), nil
}

// findURI returns the first URI line of playlist p that ends with suffix.
func findURI(p, suffix string) string {
	sc := bufio.NewScanner(strings.NewReader(p))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			u, _, _ := strings.Cut(l, "?")
			if strings.HasSuffix(u, "/"+suffix) || u == suffix {
				return l
			}
		}
	}
	return ""
}

func median(v []float64) float64 {
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// loadAverage is the machine's 1, 5 and 15-minute load averages, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}
