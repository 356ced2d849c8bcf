package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/playkey/playkey/internal/testenv"
	"github.com/playkey/playkey/keypair"
	"github.com/playkey/playkey/token"
)

var metricsLine = regexp.MustCompile(`playkey metrics: (http://\S+/metrics)`)

// scrape reads a /metrics page with Prometheus' own text parser.
func scrape(t *testing.T, url string) metricFamilies {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the Prometheus text parser refuses %s: %v", url, err)
	}
	return fams
}

type metricFamilies map[string]*dto.MetricFamily

// find returns the sample of name whose labels include labels (name, value pairs), or nil.
func (m metricFamilies) find(name string, labels ...string) *dto.Metric {
	f := m[name]
	if f == nil {
		return nil
	}
next:
	for _, s := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range s.GetLabel() {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return s
	}
	return nil
}

// value returns a counter's, gauge's or untyped sample's value, or a histogram's count;
// -1 when there is no such sample.
func (m metricFamilies) value(name string, labels ...string) float64 {
	s := m.find(name, labels...)
	switch {
	case s == nil:
		return -1
	case s.Counter != nil:
		return s.GetCounter().GetValue()
	case s.Gauge != nil:
		return s.GetGauge().GetValue()
	case s.Histogram != nil:
		return float64(s.GetHistogram().GetSampleCount())
	}
	return s.GetUntyped().GetValue()
}

// TestMetrics runs `playkey serve --metrics-addr`, drives real traffic (the AWS CLI and
// SDK against the API, tokens through the gate, ffmpeg publishing to ingest), scrapes
// /metrics with Prometheus' text parser and checks the values.
func TestMetrics(t *testing.T) {
	t.Parallel()
	testenv.Need(t, "aws")
	testenv.Need(t, "ffmpeg")
	ctx := context.Background()
	origin := testOrigin(t)
	data := filepath.Join(t.TempDir(), "data")
	s := startServer(t, data, "--origin", origin.URL+"/{channel}/index.m3u8",
		"--metrics-addr", "127.0.0.1:0", "--metrics-max-channels", "1")
	m := metricsLine.FindStringSubmatch(s.Stdout.String())
	g := gateLine.FindStringSubmatch(s.Stdout.String())
	r := ingestLine.FindStringSubmatch(s.Stdout.String())
	if m == nil || g == nil || r == nil {
		t.Fatalf("serve did not say where metrics, the gate and ingest listen:\n%s", s.Stdout)
	}
	metricsURL, gateURL := m[1], g[1]
	c := sdkClient(s)

	// The API: the AWS CLI and the SDK, one refused signature, one missing resource.
	cli := testenv.StartAWSCLI(t, awsEnv(t, s.env))
	awsIVS(t, cli, s.endpoint, "list-channels")
	priv, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	pub, err := keypair.MarshalPublicKeyPEM(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(string(pub))})
	if err != nil {
		t.Fatal(err)
	}
	keyARN := *kp.KeyPair.Arn
	var chans []*ivs.CreateChannelOutput
	for _, authorized := range []bool{true, true, false} {
		out, err := c.CreateChannel(ctx, &ivs.CreateChannelInput{Authorized: authorized})
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, out)
	}
	a, b, live := chans[0].Channel, chans[1].Channel, chans[2]
	if _, err := c.GetChannel(ctx, &ivs.GetChannelInput{Arn: aws.String(*a.Arn + "x")}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("GetChannel of a missing channel: %v", err)
	}
	bad := ivs.New(ivs.Options{Region: "us-west-2", BaseEndpoint: aws.String(s.endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(s.envValue("AWS_ACCESS_KEY_ID"), "wrong-secret", "")})
	if _, err := bad.ListChannels(ctx, &ivs.ListChannelsInput{}); err == nil {
		t.Fatal("a wrong secret was accepted")
	}

	// The gate: a session on a, the same token again (from the cache), two sessions on b;
	// each opens its session by fetching a media playlist, a's also a segment. Then a
	// missing token and an unknown channel.
	sign := func(arn string) string {
		t.Helper()
		tok, err := token.Sign(token.Claims{ChannelARN: arn, Exp: time.Now().Add(10 * time.Minute).Unix()}, priv)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	before := time.Now()
	aURL := *a.PlaybackUrl + "?token=" + sign(*a.Arn)
	mv := waitStatus(t, aURL, 200)
	media := variant(t, gateURL, mv)
	if code, body, _ := httpGet(t, gateURL+firstURI(t, media, "seg0.ts")); code != 200 || len(body) != 8000 {
		t.Fatalf("segment: %d, %d bytes", code, len(body))
	}
	waitStatus(t, aURL, 200)
	for range 2 {
		variant(t, gateURL, waitStatus(t, *b.PlaybackUrl+"?token="+sign(*b.Arn), 200))
	}
	after := time.Now()
	if code, _, _ := httpGet(t, *a.PlaybackUrl); code != 403 {
		t.Fatalf("no token: %d", code)
	}
	if code, _, _ := httpGet(t, strings.Replace(*a.PlaybackUrl, ".channel.", ".channel.x", 1)); code != 404 {
		t.Fatalf("unknown channel: %d", code)
	}

	// Ingest: a publisher on the public channel, and one with an unknown key.
	publish(t, r[1]+"/app/"+*live.StreamKey.Value, 60)
	// (The origin serves every channel, so playback says nothing: ask the API.)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := c.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: live.Channel.Arn}); err == nil {
			break
		} else if !isNotBroadcasting(err) || time.Now().After(deadline) {
			t.Fatalf("GetStream while ffmpeg publishes: %v", err)
		}
	}
	refused := publish(t, r[1]+"/app/sk_us-west-2_AAAAAAAAAAAA_"+strings.Repeat("x", 30), 30)
	if !refused.wait(15 * time.Second) {
		t.Fatal("a publish with an unknown key was not refused")
	}

	f := scrape(t, metricsURL)
	type want struct {
		name   string
		labels []string
		ok     func(float64) bool
		what   string
	}
	eq := func(v float64) func(float64) bool { return func(x float64) bool { return x == v } }
	atLeast := func(v float64) func(float64) bool { return func(x float64) bool { return x >= v } }
	wants := []want{
		{"playkey_build_info", []string{"goversion", ""}, eq(1), "1"},
		{"go_goroutines", nil, atLeast(1), ">= 1"},
		{"process_start_time_seconds", nil, atLeast(1), "> 0"},

		{"playkey_api_requests_total", []string{"operation", "ListChannels", "status", "200"}, eq(1), "1 (the AWS CLI's)"},
		{"playkey_api_requests_total", []string{"operation", "CreateChannel", "status", "200"}, eq(3), "3"},
		{"playkey_api_requests_total", []string{"operation", "GetChannel", "status", "404"}, eq(1), "1"},
		{"playkey_api_requests_total", []string{"operation", "none", "status", "403"}, eq(1), "1 (the wrong secret)"},
		{"playkey_api_request_duration_seconds", []string{"operation", "ImportPlaybackKeyPair"}, eq(1), "1 observation"},
		{"playkey_api_sigv4_failures_total", []string{"code", "InvalidSignatureException"}, eq(1), "1"},
		{"playkey_store_up", nil, eq(1), "1"},
		{"playkey_store_call_duration_seconds", []string{"operation", "CreateChannel"}, eq(3), "3 observations"},
		{"playkey_store_errors_total", []string{"operation", "Channel", "code", "ResourceNotFoundException"}, atLeast(1), ">= 1"},

		{"playkey_gate_token_verifications_total", nil, eq(3), "3 (a, b, b)"},
		{"playkey_gate_token_cache_hits_total", nil, eq(1), "1 (a again)"},
		{"playkey_gate_token_cache_misses_total", nil, eq(3), "3"},
		{"playkey_gate_limiter_refusals_total", nil, eq(0), "0"},
		{"playkey_gate_decisions_total", []string{"result", "refused", "code", "missing_token"}, eq(1), "1"},
		{"playkey_gate_decisions_total", []string{"result", "refused", "code", "channel_not_found"}, eq(1), "1"},
		{"playkey_gate_decisions_total", []string{"result", "admitted", "code", "ok"}, atLeast(8), ">= 8"},
		{"playkey_gate_sessions_started_total", nil, atLeast(4), ">= 4"},
		{"playkey_gate_active_sessions", nil, eq(3), "3 (the sessions that fetched a media playlist)"},
		{"playkey_gate_channel_active_sessions", []string{"channel_arn", *b.Arn}, eq(2), "2 (b has the most)"},
		{"playkey_gate_channel_active_sessions", []string{"channel_arn", "other"}, eq(1), "1 (a, past --metrics-max-channels 1)"},
		{"playkey_gate_response_bytes_total", nil, atLeast(8000), ">= 8000 (the segment)"},
		{"playkey_gate_origin_request_duration_seconds", []string{"request", "segment"}, atLeast(1), ">= 1 observation"},
		{"playkey_gate_origin_request_duration_seconds", []string{"request", "playlist"}, atLeast(3), ">= 3 observations"},
		{"playkey_gate_origin_errors_total", []string{"kind", "timeout"}, eq(0), "0"},
		{"playkey_gate_revocations_age_seconds", nil, func(x float64) bool { return x >= 0 && x < 15 }, "under 15s"},
		{"playkey_gate_key_pair_last_verified_timestamp_seconds", []string{"key_pair_arn", keyARN},
			func(x float64) bool { return x >= float64(before.Unix()) && x <= float64(after.Unix()+1) }, "within the playback above"},

		{"playkey_ingest_live_streams", nil, eq(1), "1"},
		{"playkey_ingest_received_bytes_total", nil, atLeast(1), "> 0"},
		{"playkey_ingest_publish_refusals_total", []string{"reason", "unauthorized"}, eq(1), "1 (the unknown key)"},
	}
	for _, w := range wants {
		if w.name == "playkey_build_info" {
			if s := f.find(w.name); s == nil || s.GetGauge().GetValue() != 1 || !hasLabel(s, "goversion") || !hasLabel(s, "version") {
				t.Errorf("playkey_build_info: %v", s)
			}
			continue
		}
		if v := f.value(w.name, w.labels...); !w.ok(v) {
			t.Errorf("%s%v = %v, want %s", w.name, w.labels, v, w.what)
		}
	}
	if s := f.find("playkey_gate_channel_active_sessions", "channel_arn", *a.Arn); s != nil {
		t.Errorf("a has its own series past --metrics-max-channels 1: %v", s)
	}
	if t.Failed() {
		t.Logf("scraped:\n%s", dump(f))
	}

	// The metrics listener serves /metrics and nothing else; the API listener no metrics.
	for _, tc := range []struct {
		method, url string
		want        int
	}{
		{http.MethodGet, strings.TrimSuffix(metricsURL, "/metrics") + "/", 404},
		{http.MethodGet, strings.TrimSuffix(metricsURL, "/metrics") + "/healthz", 404},
		{http.MethodPost, metricsURL, 405},
	} {
		req, _ := http.NewRequest(tc.method, tc.url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.url, resp.StatusCode, tc.want)
		}
	}
	if log := s.Stderr.String(); strings.Contains(log, *live.StreamKey.Value) {
		t.Error("a stream key reached the log")
	}

	// A separate `playkey gate` on the same store reports what it served itself, and has
	// no API.
	node := startGate(t, "--data", data, "--origin", origin.URL+"/{channel}/index.m3u8", "--metrics-addr", "127.0.0.1:0")
	nm := metricsLine.FindStringSubmatch(node.Stdout.String())
	if nm == nil {
		t.Fatalf("gate did not say where its metrics are:\n%s", node.Stdout)
	}
	waitStatus(t, node.url+strings.TrimPrefix(*b.PlaybackUrl, gateURL)+"?token="+sign(*b.Arn), 200)
	nf := scrape(t, nm[1])
	if v := nf.value("playkey_gate_token_verifications_total"); v != 1 {
		t.Errorf("the second gate's verifications: %v, want 1", v)
	}
	if v := nf.value("playkey_gate_key_pair_last_verified_timestamp_seconds", "key_pair_arn", keyARN); v < float64(after.Unix()) {
		t.Errorf("the second gate's last verification of the key: %v, want after %v", v, after.Unix())
	}
	if v := nf.value("playkey_store_up"); v != 1 {
		t.Errorf("the second gate's playkey_store_up: %v", v)
	}
	if nf["playkey_api_requests_total"] != nil || nf["playkey_ingest_live_streams"] != nil {
		t.Error("a lone gate reports API or ingest metrics")
	}
}

func hasLabel(s *dto.Metric, name string) bool {
	for _, l := range s.GetLabel() {
		if l.GetName() == name && l.GetValue() != "" {
			return true
		}
	}
	return false
}

func dump(f metricFamilies) string {
	var b strings.Builder
	for name, fam := range f {
		if !strings.HasPrefix(name, "playkey_") {
			continue
		}
		for _, m := range fam.GetMetric() {
			b.WriteString(name + " " + m.String() + "\n")
		}
	}
	return b.String()
}

// envValue returns one of the AWS_* variables serve printed.
func (s *server) envValue(name string) string {
	for _, kv := range s.env {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v
		}
	}
	return ""
}
