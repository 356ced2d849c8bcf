package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/playkey/playkey"
)

// Store is a playkey.Store that measures every call of the store it wraps: how long it
// took and whether it failed, by operation (the method's name). It is also a
// playkey.StreamKeyFinder, and a prometheus.Collector that reports, besides, whether the
// store answers a Ping at scrape time.
type Store struct {
	next     playkey.Store
	duration *prometheus.HistogramVec
	errs     *prometheus.CounterVec
	observer [numOps]prometheus.Observer
	up       prometheus.Gauge
}

// NewStore returns a Store that measures s.
func NewStore(s playkey.Store) *Store {
	m := &Store{
		next: s,
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "playkey_store_call_duration_seconds",
			Help:    "Time a store call took, by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"operation"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "playkey_store_errors_total",
			Help: "Store calls that failed, by operation and error code (an AWS error code such as ResourceNotFoundException, or internal, canceled).",
		}, []string{"operation", "code"}),
		up: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "playkey_store_up",
			Help: "1 when the store answered a ping at the last scrape, else 0.",
		}),
	}
	for i := range numOps {
		m.observer[i] = m.duration.WithLabelValues(opNames[i])
	}
	return m
}

// Unwrap returns the store that s measures, for what it offers beyond playkey.Store.
func (s *Store) Unwrap() playkey.Store { return s.next }

// Close closes the wrapped store.
func (s *Store) Close() error { return s.next.Close() }

func (s *Store) observe(op int, start time.Time, errp *error) {
	s.observer[op].Observe(time.Since(start).Seconds())
	if err := *errp; err != nil {
		s.errs.WithLabelValues(opNames[op], errorCode(err)).Inc()
	}
}

// errorCode names an error by a bounded set: a playkey.Error's code, canceled for an
// ended context, else internal.
func errorCode(err error) string {
	var pe *playkey.Error
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	case errors.As(err, &pe):
		return pe.Code
	}
	return "internal"
}

// pingTimeout bounds the scrape's ping: Prometheus' own scrape timeout is 10s by default.
const pingTimeout = 2 * time.Second

// Describe sends the store's metric descriptors.
func (s *Store) Describe(ch chan<- *prometheus.Desc) {
	s.duration.Describe(ch)
	s.errs.Describe(ch)
	s.up.Describe(ch)
}

// Collect pings the store, then sends the store's metrics.
func (s *Store) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	if s.Ping(ctx) == nil {
		s.up.Set(1)
	} else {
		s.up.Set(0)
	}
	s.duration.Collect(ch)
	s.errs.Collect(ch)
	s.up.Collect(ch)
}
