package gate

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/playkey/playkey/token"
)

// TestSlowClientsAreCutOff: clients that ask for a big segment and never read it lose
// their connections once a write has waited WriteTimeout, instead of holding the gate.
func TestSlowClientsAreCutOff(t *testing.T) {
	// The playlists the test reads first are bounded by WriteTimeout too, from the start of
	// their answer to its last write: the timeout must outlast a pause of a loaded machine
	// there, and each stalled client waits it out once.
	h := newHarness(t, func(c *Config) { c.WriteTimeout = time.Second })
	chunk := make([]byte, 1<<20)
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/360p/index.m3u8") {
			w.Write([]byte("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.000,\nbig.m4s\n"))
			return true
		}
		if !strings.HasSuffix(r.URL.Path, "big.m4s") {
			return false
		}
		w.Header().Set("Content-Length", "67108864")
		for range 64 {
			if _, err := w.Write(chunk); err != nil {
				return true
			}
		}
		return true
	})
	mv := h.play(h.sign(token.Claims{}))
	seg := find(t, h.get(find(t, mv.body, "360p/index.m3u8")).body, "big.m4s")

	const n = 20
	for range n {
		c, err := net.Dial("tcp", strings.TrimPrefix(h.srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.(*net.TCPConn).SetReadBuffer(4096)
		if _, err := io.WriteString(c, "GET "+seg+" HTTP/1.1\r\nHost: gate\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	// Each stalled response ends with an access-log line; without a write deadline none
	// ever does.
	took := eventually(t, "every stalled response ended", func() bool { return strings.Count(h.logs.String(), "big.m4s status=200") == n })
	t.Logf("%d stalled clients cut off within %v", n, took.Round(time.Millisecond))
}

// TestSlowAnswerIsNotCutOff: WriteTimeout bounds the writing of an answer, not the gate's
// work before it. A playlist that the origin takes longer than WriteTimeout to give still
// reaches a client that reads it.
func TestSlowAnswerIsNotCutOff(t *testing.T) {
	const writeTimeout = time.Second
	h := newHarness(t, func(c *Config) { c.WriteTimeout = writeTimeout })
	mv := h.play(h.sign(token.Claims{}))
	variant := find(t, mv.body, "360p/index.m3u8")
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/360p/index.m3u8") {
			time.Sleep(2 * writeTimeout) // a slow origin: the condition under test, not a wait
		}
		return false
	})
	// A connection of its own: a client retries a GET that fails on a connection it reused,
	// and the retry would find the playlist in the gate's cache.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(h.srv.URL + variant)
	if err != nil {
		t.Fatalf("a playlist the origin was slow to give: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "#EXTINF") {
		t.Fatalf("a playlist the origin was slow to give: %s %q %v", resp.Status, b, err)
	}
}

func TestConnectionsPerClientAddress(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	}))
	srv.Listener = LimitConnections(srv.Listener, 3, nil)
	srv.Start()
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	get := func(c net.Conn) int {
		t.Helper()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if s := get(c); s != 200 {
			t.Fatalf("connection %d: %d", len(held), s)
		}
		held = append(held, c)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if s := get(c); s != http.StatusServiceUnavailable {
		t.Fatalf("a 4th connection from one address: %d, want 503", s)
	}
	held[0].Close()
	// The slot comes back once the server sees the close.
	start := time.Now()
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		s := get(c)
		c.Close()
		if s == 200 {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("a closed connection's slot never came back")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
