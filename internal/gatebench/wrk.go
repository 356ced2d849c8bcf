package gatebench

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/playkey/playkey"
)

// wrk runs the wrk load generator.
type wrk struct {
	path                 string
	threads, connections int
	duration             time.Duration
	progress             func(format string, args ...any)
}

// wrkTarget is what one wrk run requests.
type wrkTarget struct {
	name    string // for the progress lines: the URLs hold session credentials
	url     string
	headers []string // "Name: value"
	script  string   // a Lua script, with args after --
	args    []string
}

// run drives t for the duration and returns its requests per second. Any answer but 2xx,
// and any socket error, fails the run: cheap refusals would make a fast figure.
func (w *wrk) run(ctx context.Context, t wrkTarget) (float64, error) {
	args := []string{"-t", strconv.Itoa(w.threads), "-c", strconv.Itoa(w.connections), "-d", strconv.Itoa(int(w.duration/time.Second)) + "s", "--timeout", "10s"}
	for _, h := range t.headers {
		args = append(args, "-H", h)
	}
	if t.script != "" {
		args = append(args, "-s", t.script)
	}
	args = append(args, t.url)
	if len(t.args) > 0 {
		args = append(append(args, "--"), t.args...)
	}
	w.progress("wrk: %s", t.name)
	b, err := exec.CommandContext(ctx, w.path, args...).CombinedOutput()
	out := withoutURL(string(b))
	if err != nil {
		return 0, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	var rate float64
	for l := range strings.SplitSeq(out, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "Requests/sec:"):
			rate, err = strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(l, "Requests/sec:")), 64)
			if err != nil {
				return 0, fmt.Errorf("wrk: %q: %v", l, err)
			}
		case strings.HasPrefix(l, "Non-2xx or 3xx responses:"), strings.HasPrefix(l, "Socket errors:"):
			return 0, fmt.Errorf("wrk had errors:\n%s", out)
		}
	}
	if rate <= 0 {
		return 0, fmt.Errorf("wrk measured nothing:\n%s", out)
	}
	return rate, nil
}

// withoutURL is wrk's output without the line that names the URL, which holds a session
// credential: it may reach an error message.
func withoutURL(out string) string {
	var b strings.Builder
	for l := range strings.Lines(out) {
		if !strings.HasPrefix(l, "Running ") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// newViewerScript makes every request a new viewer: the multivariant playlist with a token
// never used before, from its own client address. wrk runs the script once per thread;
// each thread reads its own file of "address path" lines (args[1] followed by .{thread}),
// so that no two threads send the same token. When a thread runs out it starts over, and
// the gate answers those from its verified-token cache, which its counters show.
const newViewerScript = `
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local reqs = {}
local i = 0
function init(args)
  for line in io.lines(args[1] .. "." .. tid) do
    local addr, path = line:match("^(%S+) (%S+)$")
    reqs[#reqs + 1] = wrk.format("GET", path, {["X-Real-IP"] = addr})
  end
  if #reqs == 0 then
    error("no tokens in " .. args[1] .. "." .. tid)
  end
end

function request()
  i = i % #reqs + 1
  return reqs[i]
end
`

// writeTokenFiles signs n tokens and writes them, as the new-viewer script reads them, to
// one file per wrk thread; it returns the files' common prefix. Each line is a client
// address and the playback path with its token.
func writeTokenFiles(dir string, key *ecdsa.PrivateKey, channel playkey.ARN, playbackPath string, n, threads int) (string, error) {
	toks, err := signTokens(key, channel, "new", n)
	if err != nil {
		return "", err
	}
	prefix := filepath.Join(dir, "new-viewers")
	for t := range threads {
		f, err := os.OpenFile(prefix+"."+strconv.Itoa(t), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return "", err
		}
		bw := bufio.NewWriter(f)
		for i := t; i < n; i += threads {
			fmt.Fprintf(bw, "%s %s%s\n", viewerAddr(1000000+i), playbackPath, toks[i])
		}
		if err := bw.Flush(); err != nil {
			f.Close()
			return "", err
		}
		if err := f.Close(); err != nil {
			return "", err
		}
	}
	return prefix, nil
}

// measureMemory admits cc.Sessions sessions, each with its own token and client address,
// and records the growth of the Go heap (in use after a collection) and of the resident
// set. The tokens are signed before the first reading.
func (c *Comparison) measureMemory(ctx context.Context, client *http.Client, key *ecdsa.PrivateKey, channel playkey.ARN, playback string) error {
	n := c.Config.Sessions
	toks, err := signTokens(key, channel, "memory", n)
	if err != nil {
		return err
	}
	client.CloseIdleConnections()
	heap0, rss0, rssOK0 := memory()
	var wg sync.WaitGroup
	workers := 8
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n && errs[w] == nil; i += workers {
				_, errs[w] = getOK(ctx, client, playback+toks[i], viewerAddr(i))
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("admitting a session: %w", err)
		}
	}
	client.CloseIdleConnections()
	heap1, rss1, rssOK1 := memory()
	runtime.KeepAlive(toks) // allocated before the first reading: freed after the second
	c.Sessions = n
	c.HeapGrowth = int64(heap1) - int64(heap0)
	c.RSS, c.RSSKnown = rss1-rss0, rssOK0 && rssOK1
	return nil
}

// memory returns the Go heap in use after a collection, and the resident set size when
// /proc tells it.
func memory() (heap uint64, rss int64, rssOK bool) {
	runtime.GC()
	runtime.GC() // a second cycle frees what the first one's finalizers released
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ms.HeapAlloc, 0, false
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return ms.HeapAlloc, kb << 10, true
			}
		}
	}
	return ms.HeapAlloc, 0, false
}
