package api

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/sigv4"
)

// metrics are the API's Prometheus metrics. The operation label is a route's IVS name, or
// "none" for a request refused before it was routed (a bad signature, an unknown path), so
// it is bounded by the route table; status by the statuses the API writes.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	sigv4    *prometheus.CounterVec
}

func newMetrics() *metrics {
	return &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "playkey_api_requests_total",
			Help: "IVS API requests answered, by operation and HTTP status.",
		}, []string{"operation", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "playkey_api_request_duration_seconds",
			Help:    "Time to answer an IVS API request, by operation.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"operation"}),
		sigv4: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "playkey_api_sigv4_failures_total",
			Help: "Requests refused by the SigV4 check, by AWS error code.",
		}, []string{"code"}),
	}
}

// observe counts one answered request.
func (m *metrics) observe(op string, status int, d time.Duration) {
	if op == "-" {
		op = "none"
	}
	m.requests.WithLabelValues(op, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(op).Observe(d.Seconds())
}

// authFailed counts a refused signature by its code: a sigv4.Error's, a playkey.Error's
// (both fixed sets), else "other".
func (m *metrics) authFailed(err error) {
	code := "other"
	var se *sigv4.Error
	var pe *playkey.Error
	switch {
	case errors.As(err, &se):
		code = se.Code
	case errors.As(err, &pe):
		code = pe.Code
	}
	m.sigv4.WithLabelValues(code).Inc()
}

// Describe sends the API's metric descriptors: a Server is a prometheus.Collector.
func (s *Server) Describe(ch chan<- *prometheus.Desc) {
	s.metrics.requests.Describe(ch)
	s.metrics.duration.Describe(ch)
	s.metrics.sigv4.Describe(ch)
}

// Collect sends the API's metrics.
func (s *Server) Collect(ch chan<- prometheus.Metric) {
	s.metrics.requests.Collect(ch)
	s.metrics.duration.Collect(ch)
	s.metrics.sigv4.Collect(ch)
}
