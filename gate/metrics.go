package gate

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/playkey/playkey/token"
)

// The gate counts what it does in atomics, each in one place, read by Metrics (for tests
// and benchmarks) and by the Prometheus collector (Describe and Collect, below). Nothing
// on a request's path allocates for a count or looks up a label.

// decisionCodes are the codes a refused or failed request can carry (X-Playkey-Code): the
// label values of playkey_gate_decisions_total's code. A code not listed counts as "other",
// so that the label stays bounded whatever a future refusal is called.
var decisionCodes = [...]string{
	"other",
	string(token.Malformed), string(token.BadHeader), string(token.UnsupportedAlg),
	string(token.BadSignatureEncoding), string(token.UnknownKey), string(token.BadPayload),
	string(token.BadClaim), string(token.MissingClaim), string(token.ChannelMismatch),
	string(token.Expired), string(token.ExpTooFar), string(token.ViewerIDTooLong),
	string(token.BadMaximumResolution), string(token.BadOrigin), string(token.TooManyOrigins),
	CodeMissingToken, CodeAlreadyUsed, CodeRevoked, CodeOriginNotAllowed, CodeCountryNotAllowed,
	CodeChannelNotFound, CodeBadSession, CodeSessionExpired, CodeSessionElsewhere, CodeNoRendition,
	CodeRateLimited, CodeUnavailable, CodeOriginError, CodeOriginTimeout, CodeBusy,
	"not_found", "internal", "client_gone", "aborted",
}

var decisionIndex = func() map[string]int {
	m := make(map[string]int, len(decisionCodes))
	for i, c := range decisionCodes {
		m[c] = i
	}
	return m
}()

// The results of a request that was not admitted, by its status: refused (4xx), failed
// (5xx), or abandoned by its client (499).
const (
	resultRefused = iota
	resultFailed
	resultAbandoned
	numResults
)

var resultNames = [numResults]string{"refused", "failed", "abandoned"}

// Kinds of origin failure, the label values of playkey_gate_origin_errors_total.
const (
	originTimeout     = iota // no answer, or no bytes, in time
	originUnreachable        // connecting or sending failed
	originBadStatus          // a status the gate does not pass on: 5xx, a redirect, an odd 4xx
	originTooLarge           // a playlist over MaxPlaylistBytes or MaxRewrittenBytes
	originBody               // the body broke off
	numOriginErrors
)

var originErrorNames = [numOriginErrors]string{"timeout", "unreachable", "status", "too_large", "body"}

// maxTrackedKeys bounds the playback keys whose last verification is remembered.
const maxTrackedKeys = 4096

// DefaultMetricsChannels is Config.MetricsChannels' default.
const DefaultMetricsChannels = 100

type counters struct {
	requests, sessions, verifications, cachedTokens, tokenMisses, playlistFetches, playlistHits atomic.Uint64
	// admitted counts requests answered without a refusal code; decisions the others.
	admitted     atomic.Uint64
	decisions    [len(decisionCodes)][numResults]atomic.Uint64
	servedBytes  atomic.Uint64
	originErrors [numOriginErrors]atomic.Uint64

	originPlaylist, originSegment prometheus.Observer
	originDuration                *prometheus.HistogramVec

	// keyUse holds, per key ARN, the unix nanoseconds of the key's last verification;
	// keyCount bounds it.
	keyUse   sync.Map
	keyCount atomic.Int64
}

func newCounters() *counters {
	c := &counters{originDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "playkey_gate_origin_request_duration_seconds",
		Help:    "Time from sending a request to the HLS origin to its response header, by request (playlist or segment).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"request"})}
	c.originPlaylist = c.originDuration.WithLabelValues("playlist")
	c.originSegment = c.originDuration.WithLabelValues("segment")
	return c
}

// decided counts a request's answer: admitted when code is empty and the status is not an
// error, else by its code and status.
func (c *counters) decided(code string, status int) {
	if code == "" && status < 400 {
		c.admitted.Add(1)
		return
	}
	result := resultRefused
	switch {
	case status == 499:
		result = resultAbandoned
	case status >= 500 || status < 400:
		result = resultFailed
	}
	c.decisions[decisionIndex[code]][result].Add(1) // an unknown code is 0, "other"
}

func (c *counters) sum(result int, codes ...string) uint64 {
	var n uint64
	for _, code := range codes {
		n += c.decisions[decisionIndex[code]][result].Load()
	}
	return n
}

// keyVerified records that the key arn verified a token at now.
func (c *counters) keyVerified(arn string, now time.Time) {
	t := now.UnixNano()
	if v, ok := c.keyUse.Load(arn); ok {
		v.(*atomic.Int64).Store(t)
		return
	}
	if c.keyCount.Load() >= maxTrackedKeys {
		return
	}
	v := new(atomic.Int64)
	v.Store(t)
	if old, loaded := c.keyUse.LoadOrStore(arn, v); loaded {
		old.(*atomic.Int64).Store(t)
		return
	}
	c.keyCount.Add(1)
}

// The gate's metrics. Labels are bounded: codes and kinds are fixed sets, channels are at
// most Config.MetricsChannels (the rest are summed as "other"), key pairs at most
// maxTrackedKeys.
var (
	descDecisions = prometheus.NewDesc("playkey_gate_decisions_total",
		"Requests the gate answered, by result (admitted, refused, failed, abandoned) and code (X-Playkey-Code; ok when admitted).",
		[]string{"result", "code"}, nil)
	descSessionsStarted = prometheus.NewDesc("playkey_gate_sessions_started_total",
		"Playback sessions started: multivariant playlists served.", nil, nil)
	descVerifications = prometheus.NewDesc("playkey_gate_token_verifications_total",
		"Token signatures checked (ECDSA P-384 verifications).", nil, nil)
	descCacheHits = prometheus.NewDesc("playkey_gate_token_cache_hits_total",
		"Tokens accepted from the verified-token cache, without a signature check.", nil, nil)
	descCacheMisses = prometheus.NewDesc("playkey_gate_token_cache_misses_total",
		"Tokens not in the verified-token cache, so verified (or refused by the limiter).", nil, nil)
	descLimiter = prometheus.NewDesc("playkey_gate_limiter_refusals_total",
		"Requests refused by the failed-verification limiter (code rate_limited).", nil, nil)
	descOriginErrors = prometheus.NewDesc("playkey_gate_origin_errors_total",
		"Failed requests to the HLS origin, by kind (timeout, unreachable, status, too_large, body).", []string{"kind"}, nil)
	descPlaylistReads = prometheus.NewDesc("playkey_gate_origin_playlist_reads_total",
		"Playlists read from the HLS origin.", nil, nil)
	descPlaylistReuses = prometheus.NewDesc("playkey_gate_playlist_reuses_total",
		"Playlist requests served from an earlier origin read.", nil, nil)
	descServedBytes = prometheus.NewDesc("playkey_gate_response_bytes_total",
		"Bytes of response bodies the gate sent.", nil, nil)
	descActive = prometheus.NewDesc("playkey_gate_active_sessions",
		"Playback sessions open now: used within the session credential lifetime.", nil, nil)
	descChannelActive = prometheus.NewDesc("playkey_gate_channel_active_sessions",
		"Open playback sessions per channel, for the channels with the most; the rest are summed under channel_arn=\"other\".",
		[]string{"channel_arn"}, nil)
	descRevocationAge = prometheus.NewDesc("playkey_gate_revocations_age_seconds",
		"Seconds since the gate last read viewer-session revocations from the store.", nil, nil)
	descKeyLastVerified = prometheus.NewDesc("playkey_gate_key_pair_last_verified_timestamp_seconds",
		"Unix time at which each playback key pair last verified a token on this gate (a cached token counts).",
		[]string{"key_pair_arn"}, nil)
)

// Describe sends the descriptors of the gate's metrics: a Gate is a prometheus.Collector.
func (g *Gate) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDecisions, descSessionsStarted, descVerifications, descCacheHits,
		descCacheMisses, descLimiter, descOriginErrors, descPlaylistReads, descPlaylistReuses, descServedBytes,
		descActive, descChannelActive, descRevocationAge, descKeyLastVerified} {
		ch <- d
	}
	g.m.originDuration.Describe(ch)
}

// Collect sends the gate's metrics as they are now.
func (g *Gate) Collect(ch chan<- prometheus.Metric) {
	m := g.m
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter(descDecisions, m.admitted.Load(), "admitted", "ok")
	for i, code := range decisionCodes {
		for r := range numResults {
			if v := m.decisions[i][r].Load(); v > 0 {
				counter(descDecisions, v, resultNames[r], code)
			}
		}
	}
	counter(descSessionsStarted, m.sessions.Load())
	counter(descVerifications, m.verifications.Load())
	counter(descCacheHits, m.cachedTokens.Load())
	counter(descCacheMisses, m.tokenMisses.Load())
	counter(descLimiter, m.sum(resultRefused, CodeRateLimited))
	for k := range numOriginErrors {
		counter(descOriginErrors, m.originErrors[k].Load(), originErrorNames[k])
	}
	counter(descPlaylistReads, m.playlistFetches.Load())
	counter(descPlaylistReuses, m.playlistHits.Load())
	counter(descServedBytes, m.servedBytes.Load())
	m.originDuration.Collect(ch)

	now := g.now()
	total, channels := g.open.active(now.Unix())
	gauge(descActive, float64(total))
	type count struct {
		arn string
		n   int
	}
	counts := make([]count, 0, len(channels))
	for arn, n := range channels {
		counts = append(counts, count{arn, n})
	}
	slices.SortFunc(counts, func(a, b count) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.arn, b.arn)) })
	other := 0
	for i, c := range counts {
		if i < g.cfg.MetricsChannels {
			gauge(descChannelActive, float64(c.n), c.arn)
		} else {
			other += c.n
		}
	}
	if other > 0 {
		gauge(descChannelActive, float64(other), "other")
	}
	g.revs.mu.RLock()
	synced := g.revs.synced
	g.revs.mu.RUnlock()
	gauge(descRevocationAge, now.Sub(synced).Seconds())
	m.keyUse.Range(func(k, v any) bool {
		gauge(descKeyLastVerified, float64(v.(*atomic.Int64).Load())/1e9, k.(string))
		return true
	})
}
