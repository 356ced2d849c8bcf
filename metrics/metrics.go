// Package metrics exposes playkey's Prometheus metrics: a registry holding the build, Go
// runtime and process collectors, the handler that serves it, and Store, which measures a
// playkey.Store. The gate, the API and ingest are collectors themselves (gate.Gate,
// api.Server, ingest.Server); docs/metrics.md lists every metric.
package metrics

import (
	"net/http"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a registry with playkey_build_info and the Go and process
// collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		buildInfo(),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// buildInfo is playkey_build_info: always 1, labelled with the module version, the VCS
// revision and the Go version the binary was built from.
func buildInfo() prometheus.Collector {
	version, revision := "(devel)", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "playkey_build_info",
		Help:        "Always 1; the labels say which build of playkey is running.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": runtime.Version()},
	})
	g.Set(1)
	return g
}

// Handler serves reg in the Prometheus text format (or OpenMetrics, when asked).
// Collection errors are answered 500, so that a broken scrape is seen as one.
func Handler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:          reg, // promhttp_metric_handler_errors_total
		EnableOpenMetrics: true,
		// A scrape runs the collectors; more at once only queue up.
		MaxRequestsInFlight: 4,
	}))
	return mux
}
