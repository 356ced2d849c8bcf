package ingest

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Why publishes are refused: the label values of playkey_ingest_publish_refusals_total.
const (
	refusedOther        = iota // none of the below; or look at the reason's sentinel error
	refusedBusy                // MaxConns connections already
	refusedNotPublish          // an RTMP client that wants to play
	refusedNoKey               // no stream key in the URL or streamid
	refusedUnauthorized        // the Authority refused the key
	refusedPassphrase          // SRT without the channel's passphrase
	refusedAlreadyLive         // ErrAlreadyLive
	refusedUnsupported         // ErrUnsupported
	refusedNoMedia             // no media arrived in time
	refusedClosing             // ErrServerClosing
	numRefusals
)

var refusalNames = [numRefusals]string{"other", "too_many_connections", "not_publish", "no_stream_key",
	"unauthorized", "passphrase", "already_live", "unsupported", "no_media", "closing"}

// refused counts a refused publish.
func (s *Server) refused(code int, reason error) {
	if code == refusedOther {
		switch {
		case errors.Is(reason, ErrAlreadyLive):
			code = refusedAlreadyLive
		case errors.Is(reason, ErrUnsupported):
			code = refusedUnsupported
		case errors.Is(reason, ErrServerClosing):
			code = refusedClosing
		}
	}
	s.refusals[code].Add(1)
}

var (
	descLive = prometheus.NewDesc("playkey_ingest_live_streams",
		"Streams live on this ingest node (their media started).", nil, nil)
	descRefusals = prometheus.NewDesc("playkey_ingest_publish_refusals_total",
		"Publishes refused, by reason.", []string{"reason"}, nil)
	descReceived = prometheus.NewDesc("playkey_ingest_received_bytes_total",
		"Audio and video payload bytes received from publishers (without container overhead).", nil, nil)
)

// Describe sends ingest's metric descriptors: a Server is a prometheus.Collector.
func (s *Server) Describe(ch chan<- *prometheus.Desc) {
	ch <- descLive
	ch <- descRefusals
	ch <- descReceived
}

// Collect sends ingest's metrics.
func (s *Server) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	streams := make([]*liveStream, 0, len(s.live))
	for _, ls := range s.live {
		streams = append(streams, ls)
	}
	s.mu.Unlock()
	live := 0
	for _, ls := range streams { // a claimed channel is live once its media started
		ls.mu.Lock()
		if ls.started {
			live++
		}
		ls.mu.Unlock()
	}
	ch <- prometheus.MustNewConstMetric(descLive, prometheus.GaugeValue, float64(live))
	for i := range numRefusals {
		ch <- prometheus.MustNewConstMetric(descRefusals, prometheus.CounterValue, float64(s.refusals[i].Load()), refusalNames[i])
	}
	ch <- prometheus.MustNewConstMetric(descReceived, prometheus.CounterValue, float64(s.received.Load()))
}
