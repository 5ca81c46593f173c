package probe

import (
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podpaths/podpaths/platform/report"
)

// Metrics counts and times path results, the way kubenurse exports its
// checks: one series per path id (pod names, never pod IPs, so a restarted
// pod does not start new series), discovery method and address family.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	failures *prometheus.CounterVec
}

// NewMetrics registers the path metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "podpaths_path_requests_total",
			Help: "Calls made along a path, by path id, discovery method, address family and outcome (ok, failed, skipped).",
		}, []string{"path", "method", "family", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "podpaths_path_request_duration_seconds",
			Help:    "Latency of the calls made along a path, by path id, discovery method and address family.",
			Buckets: prometheus.DefBuckets,
		}, []string{"path", "method", "family"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "podpaths_path_failures_total",
			Help: "Calls along a path whose result did not match its expectation, by path id and error kind.",
		}, []string{"path", "error_kind"}),
	}
	reg.MustRegister(m.requests, m.duration, m.failures)
	return m
}

// Observe records one path result. A skipped path made no call, so it has
// no latency.
func (m *Metrics) Observe(p report.Path) {
	family := Family(p)
	outcome := p.Outcome()
	m.requests.WithLabelValues(p.ID, string(p.Method), family, string(outcome)).Inc()
	switch outcome {
	case report.OutcomeSkip:
		return
	case report.OutcomeFail:
		m.failures.WithLabelValues(p.ID, string(p.ErrorKind)).Inc()
	}
	m.duration.WithLabelValues(p.ID, string(p.Method), family).Observe(p.LatencyMS / float64(time.Second/time.Millisecond))
}

// Family is the address family a path called: "ipv4", "ipv6", or "" when it
// got no address.
func Family(p report.Path) string {
	if len(p.Addresses) == 0 {
		return ""
	}
	host := p.Addresses[0]
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	switch ip := net.ParseIP(host); {
	case ip == nil:
		return ""
	case ip.To4() != nil:
		return "ipv4"
	default:
		return "ipv6"
	}
}
