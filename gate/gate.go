package gate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/internal/accesslog"
	"github.com/playkey/playkey/internal/httppath"
	"github.com/playkey/playkey/playback"
	"github.com/playkey/playkey/token"
)

// SecretName is the name of the State secret that keys session MACs. Every gate node on
// one store shares it, so a session started on one node plays on all of them.
const SecretName = "gate-session"

// Config configures a Gate. State and Origin are required; every other field has a default.
type Config struct {
	// State is the store, seen through the narrow interface the gate needs.
	State State
	// Origin is the URL of a channel's multivariant playlist on the operator's HLS origin,
	// with {region}, {account} and {channel} placeholders, for example
	// http://127.0.0.1:8888/{channel}/index.m3u8. Every URI a playlist names must resolve
	// into that playlist's directory on the same scheme, host and port.
	Origin string
	// Logger receives one line per request (no token, no session credential) and errors;
	// nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Leeway is the clock difference tolerated around a token's exp.
	Leeway time.Duration
	// SessionLifetime is how long a session plays after its token was accepted: exp is
	// checked when playback starts, not during it. Default 24h.
	SessionLifetime time.Duration
	// CredentialLifetime is how long the URIs of a served playlist may be fetched; players
	// reloading live playlists get new ones, and a session's playlist URLs work while it
	// was used within that time (see renew.go). Default 5 minutes.
	CredentialLifetime time.Duration
	// SessionBindIPv4 and SessionBindIPv6, when positive, bind each session to the first
	// that many bits of the client address that started it: a request from outside is
	// refused. Off by default: a phone moving between networks loses its session.
	SessionBindIPv4, SessionBindIPv6 int
	// CountryHeader names the request header, set by a trusted proxy or CDN, that holds the
	// viewer's ISO 3166-1 alpha-2 country (CloudFront-Viewer-Country, CF-IPCountry...).
	// Without it, a public channel whose policy restricts countries refuses everyone.
	CountryHeader string
	// ClientIPHeader names the header, set by a trusted proxy, that holds the client's
	// address (X-Real-IP, X-Forwarded-For); empty means the connection's peer. It only
	// keys the failed-verification limiter.
	ClientIPHeader string
	// TrustedProxies are the peers whose ClientIPHeader is believed; from any other peer
	// the header is ignored. Empty means loopback only (a proxy on the same host).
	TrustedProxies []netip.Prefix
	// StateRefresh is how long keys and channels are cached. Default 1s.
	StateRefresh time.Duration
	// RevocationPoll is how often revocations are read. Default 1s.
	RevocationPoll time.Duration
	// RevocationStaleAfter is how long the gate serves viewer sessions without a
	// successful revocation read before it refuses them with 503. Default 15s.
	RevocationStaleAfter time.Duration
	// ConnectTimeout, HeaderTimeout and IdleTimeout bound origin requests: connecting,
	// waiting for the response header, and waiting for the next bytes of a body.
	// Defaults 5s, 10s and 30s.
	ConnectTimeout, HeaderTimeout, IdleTimeout time.Duration
	// Transport reaches the origin; nil means a transport with the timeouts above.
	Transport http.RoundTripper
	// OriginHeader is sent with every origin request, e.g. the Authorization that MediaMTX's
	// hlsCDNSecret asks for. Its values are never logged.
	OriginHeader http.Header
	// WriteTimeout bounds each write to a client: a client that reads nothing for that
	// long loses its connection, so slow or stalled readers cannot hold the gate.
	// Default 30s.
	WriteTimeout time.Duration
	// MaxPlaylistBytes caps a playlist read from the origin. Default 4 MiB.
	MaxPlaylistBytes int64
	// MaxRewrittenBytes caps a rewritten playlist (each URI grows by its credential).
	// Default 8 MiB.
	MaxRewrittenBytes int64
	// MaxConcurrentRewrites bounds the playlists fetched and rewritten at once, and
	// RewriteWait how long a request waits for a turn before it gets 503. Defaults 4 and 2s.
	MaxConcurrentRewrites int
	RewriteWait           time.Duration
	// PlaylistReuse is how long a playlist read from the origin is served again to every
	// session: a multivariant or VOD playlist for PlaylistReuse, a live media playlist for
	// half its target duration (half its part target with LL-HLS), and never longer than
	// the origin's Cache-Control allows. Concurrent requests for one playlist always share
	// one origin read. Default 1s; negative: no reuse.
	PlaylistReuse time.Duration
	// FailureRate and FailureBurst shape each client address's bucket of failed token
	// verifications. Defaults 1 per second and 20.
	FailureRate  float64
	FailureBurst int
	// BadTokenTTL is how long a rejected token is remembered. Default 1 minute.
	BadTokenTTL time.Duration
	// Viewers, when set, hears of every admitted request of a playback session, for
	// viewer counts (see ViewerReporter).
	Viewers Viewers
	// Ping, when set, tells /readyz whether the store answers now (playkey.Store's Ping);
	// without it /readyz judges the store by the revocations' freshness alone.
	Ping func(ctx context.Context) error
	// MetricsChannels is how many channels get their own series of open sessions in the
	// gate's metrics (the channels with the most); the rest are summed as "other".
	// Default DefaultMetricsChannels; negative: none.
	MetricsChannels int
}

// Gate is the playback data plane, an http.Handler. Close stops its background work.
type Gate struct {
	cfg       Config
	state     State
	log       *slog.Logger
	now       func() time.Time
	origin    originTemplate
	sign      signer
	verifier  token.Verifier
	keys      *ttlCache[playkey.Scope, keySet]
	prepared  preparedKeys
	channels  *ttlCache[playkey.ARN, channelResult]
	revs      revocations
	open      *openSessions
	tokens    *tokenCache
	limit     *limiter
	client    *http.Client
	mux       *http.ServeMux
	m         *counters
	rewrites  chan struct{} // a slot per rewrite under way
	playlists *playlistCache
	// origins holds each channel's *channelOrigin, read without a lock by every request
	// (see channelOrigin); originCount bounds it.
	origins     sync.Map
	originCount atomic.Int64

	stop context.CancelFunc
	done chan struct{}
	wake chan struct{} // a revocation was announced: poll now
}

type channelResult struct {
	ch    Channel
	found bool
}

// New checks cfg, reads the session secret and every revocation, and starts polling for
// new revocations. It fails if the state cannot be read.
func New(ctx context.Context, cfg Config) (*Gate, error) {
	if cfg.State == nil {
		return nil, errors.New("gate: no State")
	}
	origin, err := parseOriginTemplate(cfg.Origin)
	if err != nil {
		return nil, fmt.Errorf("gate: %w", err)
	}
	setDefaults(&cfg)
	key, err := cfg.State.Secret(ctx, SecretName)
	if err != nil {
		return nil, fmt.Errorf("gate: session secret: %w", err)
	}
	g := &Gate{
		cfg:       cfg,
		state:     cfg.State,
		log:       cfg.Logger,
		now:       cfg.Now,
		origin:    origin,
		sign:      newSigner(slices.Clone(key)),
		verifier:  token.Verifier{Leeway: cfg.Leeway},
		revs:      revocations{max: make(map[revocationKey]int64)},
		open:      newOpenSessions(maxOpenSessions, cfg.CredentialLifetime),
		tokens:    newTokenCache(),
		limit:     newLimiter(cfg.FailureRate, cfg.FailureBurst),
		mux:       http.NewServeMux(),
		done:      make(chan struct{}),
		wake:      make(chan struct{}, 1),
		rewrites:  make(chan struct{}, cfg.MaxConcurrentRewrites),
		playlists: newPlaylistCache(),
		m:         newCounters(),
	}
	g.keys = newTTLCache(cfg.StateRefresh, cfg.RevocationStaleAfter, g.now, g.fetchKeys)
	g.channels = newTTLCache(cfg.StateRefresh, cfg.RevocationStaleAfter, g.now, g.fetchChannel)
	g.client = &http.Client{
		Transport:     cfg.Transport,
		CheckRedirect: sameOriginRedirect,
	}
	if g.client.Transport == nil {
		g.client.Transport = newTransport(cfg)
	}
	if err := g.revs.poll(ctx, g.state, g.now()); err != nil {
		return nil, fmt.Errorf("gate: %w", err)
	}
	g.routes()
	pollCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	g.stop = stop
	go g.pollRevocations(pollCtx)
	return g, nil
}

func setDefaults(c *Config) {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.SessionLifetime, 24*time.Hour)
	def(&c.CredentialLifetime, 5*time.Minute)
	def(&c.StateRefresh, time.Second)
	def(&c.RevocationPoll, time.Second)
	def(&c.RevocationStaleAfter, 15*time.Second)
	def(&c.ConnectTimeout, 5*time.Second)
	def(&c.HeaderTimeout, 10*time.Second)
	def(&c.IdleTimeout, 30*time.Second)
	def(&c.WriteTimeout, 30*time.Second)
	def(&c.BadTokenTTL, time.Minute)
	if c.MaxPlaylistBytes <= 0 {
		c.MaxPlaylistBytes = 4 << 20
	}
	if c.MaxRewrittenBytes <= 0 {
		c.MaxRewrittenBytes = 8 << 20
	}
	if c.MaxConcurrentRewrites <= 0 {
		c.MaxConcurrentRewrites = 4
	}
	def(&c.RewriteWait, 2*time.Second)
	if c.PlaylistReuse == 0 {
		c.PlaylistReuse = time.Second
	}
	if c.FailureRate <= 0 {
		c.FailureRate = 1
	}
	if c.FailureBurst <= 0 {
		c.FailureBurst = 20
	}
	switch {
	case c.MetricsChannels == 0:
		c.MetricsChannels = DefaultMetricsChannels
	case c.MetricsChannels < 0:
		c.MetricsChannels = 0
	}
}

func newTransport(cfg Config) *http.Transport {
	d := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		ResponseHeaderTimeout: cfg.HeaderTimeout,
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		// Segments pass through as the origin sends them; asking for gzip would change
		// their length and break ranges.
		DisableCompression: true,
		ForceAttemptHTTP2:  true,
	}
}

// Close stops polling for revocations. Requests in flight are not affected.
func (g *Gate) Close() error {
	g.stop()
	<-g.done
	return nil
}

func (g *Gate) pollRevocations(ctx context.Context) {
	defer close(g.done)
	t := time.NewTicker(g.cfg.RevocationPoll)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-g.wake:
		}
		pctx, cancel := context.WithTimeout(ctx, stateTimeout)
		err := g.revs.poll(pctx, g.state, g.now())
		cancel()
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			g.log.Error("gate: cannot read revocations; viewer sessions will be refused if this lasts", "err", err, "stale_after", g.cfg.RevocationStaleAfter)
			failing = true
		case err == nil && failing:
			g.log.Info("gate: reading revocations again")
			failing = false
		}
	}
}

// A store that announces changes as they commit (PostgreSQL's NOTIFY) can tell the gate,
// which then reads what changed again on its next use instead of when the cache expires.
// What it read before stays only as the fallback for a store that cannot be read, within
// RevocationStaleAfter, as without an announcement. The caches' own expiry still bounds
// propagation when announcements are lost.

// KeysChanged makes the gate read the playback keys of scope again.
func (g *Gate) KeysChanged(scope playkey.Scope) { g.keys.drop(scope) }

// ChannelChanged makes the gate read the channel arn again.
func (g *Gate) ChannelChanged(arn playkey.ARN) { g.channels.drop(arn) }

// PoliciesChanged makes the gate read every channel again, since any of them may use a
// changed policy.
func (g *Gate) PoliciesChanged() { g.channels.dropAll() }

// RevocationsChanged reads the new revocations now rather than at the next poll.
func (g *Gate) RevocationsChanged() {
	select {
	case g.wake <- struct{}{}:
	default: // a poll is already due
	}
}

// AllChanged makes the gate read every key and channel again, and the revocations now.
func (g *Gate) AllChanged() {
	g.keys.dropAll()
	g.channels.dropAll()
	g.RevocationsChanged()
}

func (g *Gate) fetchKeys(ctx context.Context, scope playkey.Scope) (keySet, error) {
	keys, err := playback.PublicKeys(ctx, g.state, scope)
	if err != nil {
		return keySet{}, err
	}
	// The generation identifies the set by its ARNs: a deleted and re-imported key gets a
	// new ARN, so any change gives a new generation.
	arns := make([]string, len(keys))
	for i, k := range keys {
		arns[i] = k.ARN
	}
	slices.Sort(arns)
	h := fnv.New64a()
	for _, a := range arns {
		h.Write([]byte(a))
		h.Write([]byte{0})
	}
	return keySet{keys: keys, gen: h.Sum64(), prepared: g.prepared.prepare(keys, g.now(), 10*g.cfg.StateRefresh)}, nil
}

func (g *Gate) fetchChannel(ctx context.Context, arn playkey.ARN) (channelResult, error) {
	ch, err := g.state.Channel(ctx, arn)
	if playkey.IsCode(err, playkey.ErrResourceNotFound) {
		return channelResult{}, nil
	}
	if err != nil {
		return channelResult{}, err
	}
	return channelResult{ch: ch, found: true}, nil
}

// Metrics are counters since the gate started: a few of those the gate's Prometheus
// collector reports (see metrics.go).
type Metrics struct {
	Requests uint64 // every request
	Sessions uint64 // sessions started: multivariant playlists served
	// Verifications counts token signature checks: each costs up to one ECDSA P-384
	// verification per key of the account and region.
	Verifications uint64
	CachedTokens  uint64 // tokens accepted from the verified-token cache
	Refused       uint64 // 401, 403 and 404 answers of the gate itself
	RateLimited   uint64 // refusals of the failed-verification limiter (403 rate_limited)
	OriginErrors  uint64 // 502 and 504 answers
	// PlaylistFetches counts playlists read from the origin; PlaylistReuses the playlist
	// requests served from one read before (see PlaylistReuse).
	PlaylistFetches, PlaylistReuses uint64
}

// Metrics returns the gate's counters.
func (g *Gate) Metrics() Metrics {
	return Metrics{
		Requests:        g.m.requests.Load(),
		Sessions:        g.m.sessions.Load(),
		Verifications:   g.m.verifications.Load(),
		CachedTokens:    g.m.cachedTokens.Load(),
		Refused:         g.m.sum(resultRefused, decisionCodes[:]...) - g.m.sum(resultRefused, CodeRateLimited),
		RateLimited:     g.m.sum(resultRefused, CodeRateLimited),
		OriginErrors:    g.m.sum(resultFailed, CodeOriginError, CodeOriginTimeout),
		PlaylistFetches: g.m.playlistFetches.Load(),
		PlaylistReuses:  g.m.playlistHits.Load(),
	}
}

func (g *Gate) routes() {
	g.mux.HandleFunc("GET /healthz", g.serveHealth)
	g.mux.HandleFunc("GET /livez", g.serveLive)
	g.mux.HandleFunc("GET /readyz", g.serveReady)
	g.mux.HandleFunc("GET /api/video/v1/{playback}", g.serveMultivariant)
	g.mux.HandleFunc("GET /api/video/v1/s/{cred}/{rest...}", g.serveSession)
	g.mux.HandleFunc("OPTIONS /api/video/v1/", g.servePreflight)
	g.mux.HandleFunc("GET /_playkey/auth", g.serveAuth)
	g.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		g.fail(w, r, &failure{status: http.StatusNotFound, code: "not_found", reason: "nothing is served at this path"})
	})
}

// ServeHTTP serves the gate's routes and logs one line per request.
func (g *Gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := g.now()
	g.m.requests.Add(1)
	info := &requestInfo{}
	rec := accesslog.NewRecorder(&answerWriter{ResponseWriter: w, timeout: g.cfg.WriteTimeout})
	r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
	defer func() {
		v := recover()
		switch {
		case v == http.ErrAbortHandler: // a stream cut short: logged, then re-raised below
			info.code = "aborted"
		case v != nil:
			g.log.Error("gate: panic serving request", "panic", v, "path", quotePath(r.URL.Path))
			if !rec.Wrote {
				g.fail(rec, r, &failure{status: http.StatusInternalServerError, code: "internal", reason: "internal error; the gate's log has details"})
			}
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", quotePath(r.URL.Path)),
			slog.Int("status", rec.Status),
			slog.Int64("bytes", rec.Bytes),
			slog.Duration("latency", g.now().Sub(start).Round(time.Microsecond)),
		}
		if info.session != "" {
			attrs = append(attrs, slog.String("session", info.session))
		}
		if info.token != "" {
			attrs = append(attrs, slog.String("token", info.token))
		}
		if info.code != "" {
			attrs = append(attrs, slog.String("code", info.code))
		}
		g.m.decided(info.code, rec.Status)
		g.m.servedBytes.Add(uint64(rec.Bytes))
		g.log.LogAttrs(r.Context(), slog.LevelInfo, "playback", attrs...)
		if v == http.ErrAbortHandler {
			panic(v) // net/http closes the connection without logging
		}
	}()
	if len(r.URL.RawPath) > maxRequestPath || len(r.URL.Path) > maxRequestPath {
		g.fail(rec, r, &failure{status: http.StatusNotFound, code: "not_found", reason: "nothing is served at this path: it is longer than " + strconv.Itoa(maxRequestPath) + " bytes"})
		return
	}
	if p := r.URL.EscapedPath(); r.Method != http.MethodConnect && !httppath.IsClean(p) {
		// ServeMux would answer an HTML redirect to the cleaned path. No URL the gate
		// serves or writes into a playlist has empty or dot segments, so say so instead.
		g.fail(rec, r, &failure{status: http.StatusNotFound, code: "not_found", reason: "nothing is served at this path: it has empty or dot segments"})
		return
	}
	g.mux.ServeHTTP(rec, r)
}

// answerWriter bounds the writes of playlists and refusals by WriteTimeout from the moment
// the answer starts (its header or first bytes); a streamed body renews the deadline per
// write (copyFlushing). Counting from the request's arrival instead would charge the
// client with the gate's own work before it answers (a token's verification, the origin's
// playlist, its rewrite), and cut off a client that reads at once from a slow gate.
type answerWriter struct {
	http.ResponseWriter
	timeout time.Duration
	started bool
}

func (a *answerWriter) start() {
	if !a.started {
		a.started = true
		// Wall-clock time, not g.now: the deadline is the network's.
		http.NewResponseController(a.ResponseWriter).SetWriteDeadline(time.Now().Add(a.timeout))
	}
}

func (a *answerWriter) WriteHeader(status int) {
	a.start()
	a.ResponseWriter.WriteHeader(status)
}

func (a *answerWriter) Write(b []byte) (int, error) {
	a.start()
	return a.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushes, deadlines).
func (a *answerWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

func (g *Gate) serveHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !g.revs.fresh(g.now(), g.cfg.RevocationStaleAfter) {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("revocations not read recently\n"))
		return
	}
	w.Write([]byte("ok\n"))
}

type requestInfoKey struct{}

// requestInfo carries what the access log needs from the handlers.
type requestInfo struct {
	session string // session id, hex
	token   string // short hash of the token
	code    string // why the request was refused
}

func infoOf(r *http.Request) *requestInfo {
	if i, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		return i
	}
	return &requestInfo{}
}

// shortHash names a token in logs: the first 12 hex digits of its SHA-256.
func shortHash(h tokenHash) string { return hex.EncodeToString(h[:6]) }

func hashToken(tok string) tokenHash { return sha256.Sum256([]byte(tok)) }

// redactPath hides a session credential, which is a bearer secret, from logs.
func redactPath(p string) string {
	const prefix = "/api/video/v1/s/"
	rest, ok := strings.CutPrefix(p, prefix)
	if !ok {
		return p
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return prefix + "…" + rest[i:]
	}
	return prefix + "…"
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// maxOriginRedirects bounds the redirects followed for one origin request.
const maxOriginRedirects = 3

// sameOriginRedirect follows a redirect only to the same scheme, host and port as the
// request that led to it (MediaMTX since v1.18 answers a multivariant playlist request with
// a 302 to the same URL plus ?cookieCheck=1); any other target is not followed, and the
// redirect reaches the gate as an origin error. The origin is the only place served: a
// redirect elsewhere could lead anywhere.
func sameOriginRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxOriginRedirects {
		return http.ErrUseLastResponse
	}
	prev := via[len(via)-1].URL
	if req.URL.Scheme != prev.Scheme || !strings.EqualFold(req.URL.Host, prev.Host) || req.URL.User != nil {
		return http.ErrUseLastResponse
	}
	return nil
}
