package metrics_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/metrics"
	"github.com/playkey/playkey/sqlite"
	"github.com/playkey/playkey/storetest"
)

func openSQLite(t *testing.T) playkey.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "playkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestStoreConformance runs the stores' conformance suite through the measuring Store: it
// passes every call and every error on unchanged.
func TestStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) playkey.Store {
		t.Parallel()
		return metrics.NewStore(openSQLite(t))
	})
}

// TestStoreCounts checks what the measuring Store reports for calls that succeed and
// fail, and that its names pass Prometheus' lint.
func TestStoreCounts(t *testing.T) {
	ctx := context.Background()
	s := metrics.NewStore(openSQLite(t))
	scope := playkey.Scope{Account: "123456789012", Region: "us-west-2"}
	if err := s.CreateKeyPair(ctx, storetest.NewKeyPair(scope)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Channel(ctx, storetest.ChannelARN(scope, "missingCHAN1")); !playkey.IsCode(err, playkey.ErrResourceNotFound) {
		t.Fatalf("a missing channel: %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.KeyPairs(canceled, scope, playkey.Page{}); err == nil {
		t.Fatal("a call with an ended context succeeded")
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	value := func(name string, labels ...string) float64 {
		for _, f := range fams {
			if f.GetName() != name {
				continue
			}
		next:
			for _, m := range f.GetMetric() {
				for i := 0; i+1 < len(labels); i += 2 {
					if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == labels[i] && l.GetValue() == labels[i+1] }) {
						continue next
					}
				}
				switch {
				case m.Histogram != nil:
					return float64(m.GetHistogram().GetSampleCount())
				case m.Counter != nil:
					return m.GetCounter().GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
		return -1
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"playkey_store_call_duration_seconds", []string{"operation", "CreateKeyPair"}, 1},
		{"playkey_store_call_duration_seconds", []string{"operation", "Channel"}, 1},
		{"playkey_store_call_duration_seconds", []string{"operation", "Ping"}, 1}, // the scrape's
		{"playkey_store_errors_total", []string{"operation", "Channel", "code", playkey.ErrResourceNotFound}, 1},
		{"playkey_store_errors_total", []string{"operation", "KeyPairs", "code", "canceled"}, 1},
		{"playkey_store_errors_total", []string{"operation", "CreateKeyPair"}, -1},
		{"playkey_store_up", nil, 1},
	} {
		if got := value(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	s.Close()
	if fams, err = reg.Gather(); err != nil {
		t.Fatal(err)
	}
	if got := value("playkey_store_up"); got != 0 {
		t.Errorf("playkey_store_up after Close = %v, want 0", got)
	}
	problems, err := testutil.CollectAndLint(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}
