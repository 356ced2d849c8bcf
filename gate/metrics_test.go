package gate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/playkey/playkey/token"
)

// gathered returns the value of the sample of name with the given label pairs: a
// counter's or a gauge's; -1 when there is none.
func gathered(t *testing.T, fams []*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel())*2 != len(labels) {
				continue
			}
			for i, l := range m.GetLabel() { // sorted by name
				if l.GetName() != labels[2*i] || l.GetValue() != labels[2*i+1] {
					continue next
				}
			}
			if m.Counter != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

// TestMetricsCollector counts requests of each kind through a gate and reads them back
// from its collector: decisions by code, the limiter, origin failures by kind, open
// sessions per channel within the bound, and the key's last verification. The names pass
// Prometheus' own lint.
func TestMetricsCollector(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.FailureBurst = 1; c.FailureRate = 0.01; c.MetricsChannels = 1 })
	start := time.Now()
	var media []string
	for range 2 {
		mv := h.play(h.sign(token.Claims{}))
		media = append(media, find(t, mv.body, "360p/index.m3u8"))
	}
	pub := h.get(playbackPath(h.public))
	if pub.StatusCode != 200 {
		t.Fatalf("public channel: %s", pub.Status)
	}
	media = append(media, find(t, pub.body, "360p/index.m3u8"))
	var segment string
	for _, u := range media {
		r := h.get(u)
		if r.StatusCode != 200 {
			t.Fatalf("media playlist: %s %s", r.Status, r.body)
		}
		segment = uris(r.body)[len(uris(r.body))-1]
	}
	verified := time.Now()

	other, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for _, code := range [][2]string{{ivsInvalidToken, string(token.UnknownKey)}, {CodeRateLimited, CodeRateLimited}} {
		tok, _ := token.Sign(token.Claims{ChannelARN: h.private.String(), Exp: time.Now().Add(time.Minute).Unix()}, other)
		wantRefused(t, h.get(playbackPath(h.private)+"?token="+tok), 403, code[0], code[1])
	}
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, ".m3u8") {
			return false
		}
		http.Error(w, "broken", http.StatusInternalServerError)
		return true
	})
	if r := h.get(segment); r.StatusCode != http.StatusBadGateway {
		t.Fatalf("segment from a failing origin: %s", r.Status)
	}

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(h.gate)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name   string
		labels []string
		v      float64
	}{
		{"playkey_gate_decisions_total", []string{"code", string(token.UnknownKey), "result", "refused"}, 1},
		{"playkey_gate_decisions_total", []string{"code", CodeRateLimited, "result", "refused"}, 1},
		{"playkey_gate_decisions_total", []string{"code", CodeOriginError, "result", "failed"}, 1},
		{"playkey_gate_decisions_total", []string{"code", "ok", "result", "admitted"}, 6},
		{"playkey_gate_limiter_refusals_total", nil, 1},
		{"playkey_gate_token_verifications_total", nil, 3},
		{"playkey_gate_token_cache_misses_total", nil, 4},
		{"playkey_gate_origin_errors_total", []string{"kind", "status"}, 1},
		{"playkey_gate_origin_errors_total", []string{"kind", "timeout"}, 0},
		{"playkey_gate_sessions_started_total", nil, 3},
		{"playkey_gate_active_sessions", nil, 3},
		{"playkey_gate_channel_active_sessions", []string{"channel_arn", h.private.String()}, 2},
		{"playkey_gate_channel_active_sessions", []string{"channel_arn", "other"}, 1},
		{"playkey_gate_channel_active_sessions", []string{"channel_arn", h.public.String()}, -1},
	}
	for _, w := range want {
		if got := gathered(t, fams, w.name, w.labels...); got != w.v {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.v)
		}
	}
	last := gathered(t, fams, "playkey_gate_key_pair_last_verified_timestamp_seconds", "key_pair_arn", h.keyARN)
	if last < float64(start.UnixNano())/1e9 || last > float64(verified.UnixNano())/1e9 {
		t.Errorf("the key's last verification at %v, want between %v and %v", last, start, verified)
	}
	if m := h.gate.Metrics(); m.Refused != 1 || m.RateLimited != 1 || m.OriginErrors != 1 {
		t.Errorf("Metrics() %+v: want 1 refused, 1 rate limited, 1 origin error", m)
	}
	problems, err := testutil.CollectAndLint(h.gate)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}
