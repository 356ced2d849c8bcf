package events

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/internal/testenv"
)

// fakeClock advances only when delivery waits: each wait is reported on waits and passes
// at once, the clock moved on by its length.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	waits chan time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC), waits: make(chan time.Duration, 100)}
}

func (c *fakeClock) clock(jitter func(time.Duration) time.Duration) clock {
	return clock{
		now: func() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t },
		after: func(d time.Duration) <-chan time.Time {
			c.mu.Lock()
			c.t = c.t.Add(d)
			t := c.t
			c.mu.Unlock()
			c.waits <- d
			ch := make(chan time.Time, 1)
			ch <- t
			return ch
		},
		jitter: jitter,
	}
}

func fullJitter(d time.Duration) time.Duration { return d }

// request is what a test receiver saw of one delivery.
type request struct {
	signature, contentType string
	body                   []byte
}

// receiver is an httptest server answering each delivery with status(n), n counting from 1,
// and passing what it saw to got.
func receiver(t *testing.T, status func(n int, body []byte) int) (string, chan request) {
	got := make(chan request, 100)
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		got <- request{r.Header.Get(SignatureHeader), r.Header.Get("Content-Type"), body}
		w.WriteHeader(status(i, body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, got
}

func recv(t *testing.T, got chan request) request {
	t.Helper()
	select {
	case r := <-got:
		return r
	case <-time.After(10 * time.Second): // a hang guard only
		t.Fatal("no delivery")
	}
	return request{}
}

func logLines(buf *testenv.SyncBuffer, msg string) []map[string]any {
	var out []map[string]any
	for line := range strings.Lines(buf.String()) {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

var testARN = playkey.ARN{Region: "us-west-2", Account: "123456789012", Type: playkey.TypeChannel, ID: "abcdEFGH1234"}

func testEvent(name string) Event {
	return New(testARN, "ch", "st-ABCDEfghij01234KLMN5678",
		playkey.StreamEvent{Name: name, Type: playkey.EventTypeStateChange, Time: time.Now()})
}

// TestDeliverySignedAndRetried: a receiver failing twice gets the event a third time, each
// attempt signed over its own timestamp and the body, the waits doubling from a second; one
// log line per attempt, naming the URL without its credentials or query.
func TestDeliverySignedAndRetried(t *testing.T) {
	base, got := receiver(t, func(n int, _ []byte) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	hookURL := strings.Replace(base, "http://", "http://user:hunter2@", 1) + "/hook?token=s3cr3t-query"
	fc := newFakeClock()
	logs := &testenv.SyncBuffer{}
	secret := []byte("the events secret")
	w, err := newWebhooks(Config{URLs: []string{hookURL}, Secret: secret, Logger: slog.New(slog.NewJSONHandler(logs, nil))}, fc.clock(fullJitter))
	if err != nil {
		t.Fatal(err)
	}
	e := testEvent(playkey.EventStreamStart)
	w.Publish(e)
	for attempt := 1; attempt <= 3; attempt++ {
		r := recv(t, got)
		if !bytes.Equal(r.body, e.Marshal()) || r.contentType != "application/json" {
			t.Fatalf("attempt %d: body %s (%s), want %s", attempt, r.body, r.contentType, e.Marshal())
		}
		// The signature, computed here from its definition.
		ts, mac, ok := strings.Cut(r.signature, ",v1=")
		ts, tsOK := strings.CutPrefix(ts, "t=")
		h := hmac.New(sha256.New, secret)
		h.Write([]byte(ts + "." + string(r.body)))
		if !ok || !tsOK || mac != hex.EncodeToString(h.Sum(nil)) {
			t.Fatalf("attempt %d: signature %q does not verify", attempt, r.signature)
		}
		// Each attempt is signed when it is made: after 0, 1 and 1+2 seconds.
		want := []string{"1796587200", "1796587201", "1796587203"}[attempt-1]
		if ts != want {
			t.Errorf("attempt %d: t=%s, want %s", attempt, ts, want)
		}
	}
	for i, want := range []time.Duration{time.Second, 2 * time.Second} {
		if d := <-fc.waits; d != want {
			t.Errorf("wait %d: %v, want %v", i+1, d, want)
		}
	}
	w.Close(5 * time.Second)
	failed, delivered := logLines(logs, "events: delivery failed"), logLines(logs, "events: delivered")
	if len(failed) != 2 || len(delivered) != 1 {
		t.Fatalf("log lines: %d failed, %d delivered; want 2 and 1:\n%s", len(failed), len(delivered), logs)
	}
	if d := delivered[0]; d["event"] != e.ID || d["status"] != 204.0 || d["attempt"] != 3.0 || d["url"] != base+"/hook" {
		t.Errorf("delivery line %v", d)
	}
	if failed[0]["status"] != 500.0 || failed[0]["attempt"] != 1.0 {
		t.Errorf("failure line %v", failed[0])
	}
	for _, secret := range []string{"hunter2", "s3cr3t-query", string(secret)} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
}

// TestDeliveryAbandoned: an event refused for RetryFor is abandoned with a log line, and the
// next event is delivered.
func TestDeliveryAbandoned(t *testing.T) {
	refused := testEvent(playkey.EventSessionCreated)
	hook, got := receiver(t, func(_ int, body []byte) int {
		if bytes.Contains(body, []byte(refused.ID)) {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	fc := newFakeClock()
	logs := &testenv.SyncBuffer{}
	w, err := newWebhooks(Config{URLs: []string{hook}, Secret: []byte("k"), RetryFor: 3 * time.Second,
		Logger: slog.New(slog.NewJSONHandler(logs, nil))}, fc.clock(fullJitter))
	if err != nil {
		t.Fatal(err)
	}
	next := testEvent(playkey.EventStreamStart)
	w.Publish(refused, next)
	// 1 s, then the 2 s left of the 3 s, then abandoned.
	var ids []string
	for range 4 {
		var e Event
		json.Unmarshal(recv(t, got).body, &e)
		ids = append(ids, e.ID)
	}
	if want := []string{refused.ID, refused.ID, refused.ID, next.ID}; strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Fatalf("deliveries %v, want %v", ids, want)
	}
	w.Close(5 * time.Second)
	if a := logLines(logs, "events: delivery abandoned"); len(a) != 1 || a[0]["event"] != refused.ID || a[0]["attempt"] != 3.0 {
		t.Fatalf("abandon lines %v\n%s", a, logs)
	}
	if d := logLines(logs, "events: delivered"); len(d) != 1 || d[0]["event"] != next.ID {
		t.Fatalf("delivered lines %v", d)
	}
}

// TestQueueDropsOldest: while a receiver hangs, Publish returns at once and the queue keeps
// the newest QueueSize events; the drop is logged with its count.
func TestQueueDropsOldest(t *testing.T) {
	release := make(chan struct{})
	hook, got := receiver(t, func(n int, _ []byte) int {
		if n == 1 {
			<-release
		}
		return http.StatusOK
	})
	logs := &testenv.SyncBuffer{}
	w, err := newWebhooks(Config{URLs: []string{hook}, Secret: []byte("k"), QueueSize: 2,
		Logger: slog.New(slog.NewJSONHandler(logs, nil))}, newFakeClock().clock(fullJitter))
	if err != nil {
		t.Fatal(err)
	}
	var sent []Event
	for i := range 5 {
		sent = append(sent, testEvent(playkey.EventStreamStart))
		w.Publish(sent[i])
		if i == 0 {
			recv(t, got) // the first is in flight, out of the queue
		}
	}
	close(release)
	var ids []string
	for range 2 {
		var e Event
		json.Unmarshal(recv(t, got).body, &e)
		ids = append(ids, e.ID)
	}
	if ids[0] != sent[3].ID || ids[1] != sent[4].ID {
		t.Fatalf("after the first, delivered %v; want the newest two %s %s", ids, sent[3].ID, sent[4].ID)
	}
	w.Close(5 * time.Second)
	if d := logLines(logs, "events: queue full; dropped the oldest events"); len(d) != 1 || d[0]["dropped"] != 2.0 {
		t.Fatalf("drop lines %v\n%s", d, logs)
	}
}

// TestBackoff: the wait after the n-th failure lies in [b/2, b] for b = 1 s doubled n-1
// times, at most 5 minutes, whatever the jitter draws.
func TestBackoff(t *testing.T) {
	for n := 1; n <= 70; n++ {
		b := maxBackoff
		if n < 10 {
			b = min(time.Second*time.Duration(1<<(n-1)), maxBackoff)
		}
		lo := backoff(n, func(time.Duration) time.Duration { return 0 })
		hi := backoff(n, fullJitter)
		if lo != b/2 || hi != b {
			t.Errorf("attempt %d: waits from %v to %v, want %v to %v", n, lo, hi, b/2, b)
		}
		for range 20 {
			if d := backoff(n, realClock.jitter); d < b/2 || d > b {
				t.Fatalf("attempt %d: random wait %v outside [%v, %v]", n, d, b/2, b)
			}
		}
	}
}

// TestNewWebhooksRefuses: no secret, or a URL that is not http(s), is refused, and the error
// does not repeat the URL (it may hold credentials).
func TestNewWebhooksRefuses(t *testing.T) {
	if _, err := NewWebhooks(Config{URLs: []string{"http://example.com/"}}); err == nil {
		t.Error("no secret: accepted")
	}
	for _, u := range []string{"ftp://user:pw@example.com/", "example.com/hook", "http:///path", "://pw"} {
		_, err := NewWebhooks(Config{URLs: []string{u}, Secret: []byte("k")})
		if err == nil || strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), "example") {
			t.Errorf("%q: %v", u, err)
		}
	}
}

// TestCloseReportsUndelivered: events still waiting when Webhooks closes, the one waiting to
// be retried among them, are counted in a log line, as is an event published after.
func TestCloseReportsUndelivered(t *testing.T) {
	hook, got := receiver(t, func(int, []byte) int { return http.StatusBadGateway })
	logs := &testenv.SyncBuffer{}
	c := newFakeClock().clock(fullJitter)
	retried := make(chan time.Duration, 1)
	c.after = func(d time.Duration) <-chan time.Time { retried <- d; return nil } // the retry never comes
	w, err := newWebhooks(Config{URLs: []string{hook}, Secret: []byte("k"), Logger: slog.New(slog.NewJSONHandler(logs, nil))}, c)
	if err != nil {
		t.Fatal(err)
	}
	w.Publish(testEvent(playkey.EventSessionCreated), testEvent(playkey.EventStreamStart), testEvent(playkey.EventStreamEnd))
	recv(t, got)
	<-retried
	w.Close(0)
	w.Publish(testEvent(playkey.EventSessionEnded))
	lines := logLines(logs, "events: not delivered: the server stopped")
	if len(lines) != 2 || lines[0]["events"] != 3.0 || lines[1]["events"] != 1.0 {
		t.Fatalf("undelivered lines %v\n%s", lines, logs)
	}
}
