package events

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// SignatureHeader carries a delivery's signature: "t=" the Unix time of the attempt in
// seconds, ",v1=" the lowercase hex HMAC-SHA256, keyed with the events secret, of the
// decimal timestamp, a ".", and the body. A receiver recomputes it and compares in constant
// time, and refuses timestamps far from its clock, so that a recorded delivery cannot be
// replayed later.
const SignatureHeader = "X-Playkey-Signature"

// Sign returns the SignatureHeader value of body sent at t with secret.
func Sign(secret, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Delivery defaults.
const (
	DefaultRetryFor  = time.Hour // how long an event is retried before it is abandoned
	DefaultQueueSize = 10000     // events waiting per URL; the oldest go first past it
	firstBackoff     = time.Second
	maxBackoff       = 5 * time.Minute
	attemptTimeout   = 10 * time.Second
	maxResponseBody  = 64 << 10
)

// Config configures Webhooks.
type Config struct {
	URLs     []string // http or https URLs; each gets every event
	Secret   []byte   // the HMAC key (SignatureHeader); required
	Logger   *slog.Logger
	RetryFor time.Duration // DefaultRetryFor when 0
	// QueueSize bounds the events waiting for each URL (DefaultQueueSize when 0). Only
	// ingests create events, not anonymous requests, but the queue stays bounded anyway: when
	// a receiver is down long enough for it to fill, the oldest events are dropped and the
	// count logged.
	QueueSize int
	Client    *http.Client // http.DefaultClient's transport with a timeout per attempt when nil
}

// Webhooks delivers events to URLs: each URL has its own queue and one delivery at a time,
// so each receiver gets the events in the order they were published. A failed delivery
// (a transport error, or a status other than 2xx) is retried with exponential backoff and
// jitter, the event holding its queue, until it has waited RetryFor; then it is abandoned.
// Every attempt logs one line, with the URL stripped of its credentials and query.
type Webhooks struct {
	targets []*target
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closed  atomic.Bool
}

type target struct {
	url     string
	logURL  string // without credentials, query or fragment
	secret  []byte
	client  *http.Client
	log     *slog.Logger
	retry   time.Duration
	size    int
	clock   clock
	mu      sync.Mutex
	queue   []item
	dropped int
	busy    bool          // a delivery is under way
	wake    chan struct{} // one pending signal: the queue changed
}

type item struct {
	id   string
	body []byte
	at   time.Time // when it was published
}

// clock is what delivery reads of time; tests replace it.
type clock struct {
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
	// jitter returns a duration in [0, d].
	jitter func(d time.Duration) time.Duration
}

var realClock = clock{
	now:    time.Now,
	after:  time.After,
	jitter: func(d time.Duration) time.Duration { return rand.N(d + 1) },
}

// NewWebhooks checks cfg and starts delivering; Close stops it.
func NewWebhooks(cfg Config) (*Webhooks, error) {
	return newWebhooks(cfg, realClock)
}

func newWebhooks(cfg Config, c clock) (*Webhooks, error) {
	if len(cfg.Secret) == 0 {
		return nil, errors.New("events: a secret is required to sign deliveries")
	}
	if cfg.RetryFor <= 0 {
		cfg.RetryFor = DefaultRetryFor
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.Client == nil {
		// A redirect is a failed delivery: the body is never re-sent elsewhere.
		cfg.Client = &http.Client{Timeout: attemptTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Webhooks{cancel: cancel}
	for _, raw := range cfg.URLs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			cancel()
			// The URL may hold credentials: the error names its position only.
			return nil, fmt.Errorf("events: URL %d is not an http:// or https:// URL", len(w.targets)+1)
		}
		w.targets = append(w.targets, &target{
			url: raw, logURL: (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String(),
			secret: cfg.Secret, client: cfg.Client, log: cfg.Logger, retry: cfg.RetryFor,
			size: cfg.QueueSize, clock: c, wake: make(chan struct{}, 1),
		})
	}
	for _, t := range w.targets {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			t.run(ctx)
		}()
	}
	return w, nil
}

// Publish queues events for every URL, in order, and returns at once.
func (w *Webhooks) Publish(events ...Event) {
	if len(events) == 0 {
		return
	}
	items := make([]item, len(events))
	for i, e := range events {
		items[i] = item{id: e.ID, body: e.Marshal()}
	}
	for _, t := range w.targets {
		if w.closed.Load() {
			t.log.Warn("events: not delivered: the server stopped", "url", t.logURL, "events", len(items))
			continue
		}
		t.push(items)
	}
}

// Close waits up to grace for the queues to empty, then stops delivering and logs the
// events left undelivered.
func (w *Webhooks) Close(grace time.Duration) {
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) && !w.idle() {
		time.Sleep(20 * time.Millisecond)
	}
	w.closed.Store(true)
	w.cancel()
	w.wg.Wait()
	for _, t := range w.targets {
		t.mu.Lock()
		n := len(t.queue)
		t.mu.Unlock()
		if n > 0 {
			t.log.Warn("events: not delivered: the server stopped", "url", t.logURL, "events", n)
		}
	}
}

func (w *Webhooks) idle() bool {
	for _, t := range w.targets {
		t.mu.Lock()
		busy := t.busy || len(t.queue) > 0
		t.mu.Unlock()
		if busy {
			return false
		}
	}
	return true
}

func (t *target) push(items []item) {
	now := t.clock.now()
	t.mu.Lock()
	for _, it := range items {
		it.at = now
		if len(t.queue) == t.size {
			t.queue[0] = item{}
			t.queue = t.queue[1:]
			t.dropped++
		}
		t.queue = append(t.queue, it)
	}
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// next takes the oldest queued event, waiting for one; false when ctx ends.
func (t *target) next(ctx context.Context) (item, bool) {
	for {
		t.mu.Lock()
		t.busy = false
		dropped := t.dropped
		t.dropped = 0
		it, ok := item{}, len(t.queue) > 0
		if ok {
			it = t.queue[0]
			t.queue[0] = item{}
			t.queue = t.queue[1:]
			t.busy = true
		}
		t.mu.Unlock()
		if dropped > 0 {
			t.log.Warn("events: queue full; dropped the oldest events", "url", t.logURL, "dropped", dropped)
		}
		if ok {
			return it, true
		}
		select {
		case <-t.wake:
		case <-ctx.Done():
			return item{}, false
		}
	}
}

func (t *target) run(ctx context.Context) {
	for {
		it, ok := t.next(ctx)
		if !ok {
			return
		}
		if !t.deliver(ctx, it) {
			// Stopped mid-delivery: count the event with those left.
			t.mu.Lock()
			t.queue = append([]item{it}, t.queue...)
			t.mu.Unlock()
			return
		}
	}
}

// deliver posts it until it is accepted or abandoned; false when ctx ended first.
func (t *target) deliver(ctx context.Context, it item) bool {
	for attempt := 1; ; attempt++ {
		status, err := t.post(ctx, it.body)
		if ctx.Err() != nil {
			return false
		}
		if err == nil && status/100 == 2 {
			t.log.Info("events: delivered", "url", t.logURL, "event", it.id, "status", status, "attempt", attempt)
			return true
		}
		why := fmt.Sprintf("status %d", status)
		if err != nil {
			why = err.Error()
		}
		waited := t.clock.now().Sub(it.at)
		if waited >= t.retry {
			t.log.Error("events: delivery abandoned", "url", t.logURL, "event", it.id, "status", status, "attempt", attempt,
				"err", why, "retried_for", waited.Round(time.Second).String())
			return true
		}
		d := min(backoff(attempt, t.clock.jitter), t.retry-waited)
		t.log.Warn("events: delivery failed", "url", t.logURL, "event", it.id, "status", status, "attempt", attempt,
			"err", why, "retry_in", d.Round(time.Millisecond).String())
		select {
		case <-t.clock.after(d):
		case <-ctx.Done():
			return false
		}
	}
}

// backoff is the wait after the attempt-th failure: firstBackoff doubled with each
// attempt, at most maxBackoff, of which the upper half is random ("equal jitter"), so that
// receivers coming back are not hit by every sender at once.
func backoff(attempt int, jitter func(time.Duration) time.Duration) time.Duration {
	d := maxBackoff
	if attempt <= 20 {
		d = min(firstBackoff<<(attempt-1), maxBackoff)
	}
	return d/2 + jitter(d/2)
}

// post sends body once and returns the response status; the error never holds the URL
// (which may carry credentials).
func (t *target) post(ctx context.Context, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("cannot build the request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "playkey-events")
	req.Header.Set(SignatureHeader, Sign(t.secret, body, t.clock.now()))
	resp, err := t.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	resp.Body.Close()
	return resp.StatusCode, nil
}
