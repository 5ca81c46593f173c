// Package report is podpaths' wire contract: every JSON shape that crosses a
// process (the path result and report, the whoami answers, the spread and
// service-link answers) and the ids of the paths. The services write these
// shapes; the dashboard, `make check` and the e2e suite read them, so nobody
// defines a shape or spells a path id anywhere else. docs/design.md describes
// the same contract for people.
package report

import (
	"time"
)

// Method names how a caller found its peer.
type Method string

// The discovery methods a path can use.
const (
	// MethodLocalhost is a fixed loopback address: containers in one pod share
	// a network namespace, so no Service is involved at all.
	MethodLocalhost Method = "localhost"
	// MethodEnv reads the <SVC>_SERVICE_HOST and <SVC>_SERVICE_PORT variables
	// that the kubelet injects into pods created after the Service.
	MethodEnv Method = "env"
	// MethodDNS looks up the Service's CoreDNS name, which resolves to its ClusterIP.
	MethodDNS Method = "dns"
	// MethodHeadless looks up a headless Service, which resolves to every ready
	// pod's IP, and calls each pod by its own per-pod name.
	MethodHeadless Method = "headless"
	// MethodStatic uses an address given in config.
	MethodStatic Method = "static"
)

// The methods of the paths that `make check` and e2e try from outside the
// cluster, besides the pods' own discovery methods above.
const (
	// MethodNodePort reaches the frontend's nginx on <node IP>:<nodePort>,
	// where kube-proxy forwards to a ready endpoint on any node.
	MethodNodePort Method = "nodeport"
	// MethodLoadBalancer reaches it on the LoadBalancer ingress address.
	MethodLoadBalancer Method = "loadbalancer"
	// MethodAPIProxy reaches it through the API server's service or pod
	// proxy, which dials a pod directly and bypasses kube-proxy.
	MethodAPIProxy Method = "apiserver-proxy"
	// MethodSpread is the frontend calling the backend ClusterIP many times.
	MethodSpread Method = "spread"
)

// ErrorKind classifies a failed call, as Kubernetes' agnhost connect does.
type ErrorKind string

// The error kinds of a failed path. A passing path has the empty kind.
const (
	ErrorNone ErrorKind = ""
	// ErrorRefused: something answered with a TCP reset. For a Service this
	// usually means it has no ready endpoints: kube-proxy rejects the SYN.
	ErrorRefused ErrorKind = "refused"
	// ErrorTimeout: nothing answered in time, e.g. a packet dropped by a
	// traffic policy or a peer that accepts but never replies.
	ErrorTimeout ErrorKind = "timeout"
	// ErrorDNS: the name did not resolve.
	ErrorDNS ErrorKind = "dns"
	// ErrorHTTP: the peer answered with a non-2xx status.
	ErrorHTTP ErrorKind = "http"
	// ErrorUnconfigured: the method cannot be tried here, e.g. no
	// BACKEND_SERVICE_HOST because the pod started before the Service.
	ErrorUnconfigured ErrorKind = "unconfigured"
	// ErrorOther is any failure that fits none of the above.
	ErrorOther ErrorKind = "other"
)

// Expectation says whether a path must work or must not.
type Expectation string

// The two expectations.
const (
	ExpectOK   Expectation = "ok"
	ExpectFail Expectation = "fail"
)

// Pod identifies the pod that answered a call.
type Pod struct {
	Pod   string `json:"pod"`
	PodIP string `json:"pod_ip"`
	Node  string `json:"node"`
}

// Path is the result of calling one peer by one method.
type Path struct {
	ID           string      `json:"id"`
	From         string      `json:"from"`
	To           string      `json:"to"`
	Method       Method      `json:"method"`
	Query        string      `json:"query"`
	Addresses    []string    `json:"addresses"`
	OK           bool        `json:"ok"`
	Status       int         `json:"status"`
	ErrorKind    ErrorKind   `json:"error_kind"`
	Error        string      `json:"error"`
	LatencyMS    float64     `json:"latency_ms"`
	AnsweredBy   *Pod        `json:"answered_by,omitempty"`
	ClientIPSeen string      `json:"client_ip_seen"`
	Hops         []Path      `json:"hops"`
	Expected     Expectation `json:"expected"`
	// FromNode and ToNode name the nodes of both ends, so that same-node and
	// cross-node paths can be told apart.
	FromNode string `json:"from_node,omitempty"`
	ToNode   string `json:"to_node,omitempty"`
}

// Outcome is how a path counts in a summary.
type Outcome string

// The three outcomes.
const (
	OutcomePass Outcome = "ok"
	OutcomeFail Outcome = "failed"
	OutcomeSkip Outcome = "skipped"
)

// Outcome reports whether the path passed, failed or was skipped. A path passes
// when its result matches its expectation. An unconfigured path is skipped: the
// method was not available here, which is not a failure of the network. (The
// e2e suite's skip budget, zero on the local cluster, makes an unexpected
// skip fail there.)
func (p Path) Outcome() Outcome {
	if p.ErrorKind == ErrorUnconfigured {
		return OutcomeSkip
	}
	if p.OK == (p.Expected != ExpectFail) {
		return OutcomePass
	}
	return OutcomeFail
}

// Summary counts the paths of a report by outcome.
type Summary struct {
	Total   int `json:"total"`
	OK      int `json:"ok"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
}

// Report is what /api/paths returns.
type Report struct {
	Reporter    string    `json:"reporter"`
	GeneratedAt time.Time `json:"generated_at"`
	Paths       []Path    `json:"paths"`
	Summary     Summary   `json:"summary"`
}

// New builds a report and its summary from paths.
func New(reporter string, now time.Time, paths []Path) Report {
	return Report{Reporter: reporter, GeneratedAt: now.UTC(), Paths: paths, Summary: Summarize(paths)}
}

// Summarize counts paths by outcome.
func Summarize(paths []Path) Summary {
	s := Summary{Total: len(paths)}
	for _, p := range paths {
		switch p.Outcome() {
		case OutcomePass:
			s.OK++
		case OutcomeFail:
			s.Failed++
		case OutcomeSkip:
			s.Skipped++
		}
	}
	return s
}
