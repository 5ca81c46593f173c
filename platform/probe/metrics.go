package probe

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podpaths/podpaths/platform/report"
)

// Metrics counts and times path results.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the path metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "podpaths_path_requests_total",
			Help: "Calls made to peers, by path (from-to), discovery method and outcome.",
		}, []string{"path", "method", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "podpaths_path_request_duration_seconds",
			Help:    "Latency of calls to peers, by path (from-to) and discovery method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"path", "method"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// Observe records one path result. The path label is from-to, not the path
// id, whose pod names would make a new series for every pod ever seen.
func (m *Metrics) Observe(p report.Path) {
	label := p.From + "-" + p.To
	m.requests.WithLabelValues(label, string(p.Method), string(p.Outcome())).Inc()
	if p.Outcome() != report.OutcomeSkip {
		m.duration.WithLabelValues(label, string(p.Method)).Observe(p.LatencyMS / float64(time.Second/time.Millisecond))
	}
}
