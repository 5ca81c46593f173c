package report

import "encoding/json"

// The answers of the e2e suite's probe (e2e/probe), which runs inside the
// cluster (a pod, a node's network namespace, the outside client) and
// prints what it saw as JSON, for the suite and the workshop's runner.

// ProbeCalls is what `probe get` prints: every call in order and their tally.
type ProbeCalls struct {
	URL       string      `json:"url"`
	Count     int         `json:"count"`
	KeepAlive bool        `json:"keepalive"`
	Timeout   string      `json:"timeout"`
	Calls     []ProbeCall `json:"calls"`
	OK        int         `json:"ok"`
	Failed    int         `json:"failed"`
	// ErrorKinds counts the failed calls by error kind.
	ErrorKinds map[ErrorKind]int `json:"error_kinds,omitempty"`
}

// ProbeCall is one HTTP request of `probe get`.
type ProbeCall struct {
	Seq       int       `json:"seq"`
	OK        bool      `json:"ok"`
	Status    int       `json:"status"`
	ErrorKind ErrorKind `json:"error_kind"`
	Error     string    `json:"error,omitempty"`
	LatencyMS float64   `json:"latency_ms"`
	// LocalAddr and RemoteAddr are the two ends of the TCP connection the
	// request used; Reused says it was a kept-alive one. Together they show
	// whether calls shared a connection.
	LocalAddr  string `json:"local_addr,omitempty"`
	RemoteAddr string `json:"remote_addr,omitempty"`
	Reused     bool   `json:"reused"`
	// AnsweredBy, Hostname, ClientIP and Forwarded come from a /whoami-style
	// answer: who answered and what it saw of the caller.
	AnsweredBy *Pod              `json:"answered_by,omitempty"`
	Hostname   string            `json:"hostname,omitempty"`
	ClientIP   string            `json:"client_ip,omitempty"`
	Forwarded  map[string]string `json:"forwarded,omitempty"`
	// Body is the answer when it is JSON (a path report, the backend's
	// /api/whoami with its sidecar call), else absent.
	Body json.RawMessage `json:"body,omitempty"`
}

// Pods returns how many calls each pod answered.
func (o ProbeCalls) Pods() map[string]int {
	pods := map[string]int{}
	for _, c := range o.Calls {
		if c.AnsweredBy != nil {
			pods[c.AnsweredBy.Pod]++
		}
	}
	return pods
}

// Connections returns the distinct client-side addresses the calls used:
// one per TCP connection.
func (o ProbeCalls) Connections() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range o.Calls {
		if c.LocalAddr != "" && !seen[c.LocalAddr] {
			seen[c.LocalAddr] = true
			out = append(out, c.LocalAddr)
		}
	}
	return out
}

// ProbeLookup is what `probe lookup` and `probe srv` print.
type ProbeLookup struct {
	Name string `json:"name"`
	// Type is A or SRV.
	Type      string     `json:"type"`
	Addresses []string   `json:"addresses,omitempty"`
	Records   []ProbeSRV `json:"records,omitempty"`
	ErrorKind ErrorKind  `json:"error_kind"`
	Error     string     `json:"error,omitempty"`
}

// ProbeSRV is one SRV record.
type ProbeSRV struct {
	Target   string `json:"target"`
	Port     uint16 `json:"port"`
	Priority uint16 `json:"priority"`
	Weight   uint16 `json:"weight"`
}

// ProbeEnv is what `probe env` prints: the container's environment, which
// the kubelet filled with service links at start.
type ProbeEnv struct {
	Env map[string]string `json:"env"`
}
