package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Identity describes one running service instance: the pod, node and
// addresses the kubelet handed it through the downward API.
type Identity struct {
	Service   string    `json:"service"`
	Version   string    `json:"version"`
	Pod       string    `json:"pod"`
	Namespace string    `json:"namespace"`
	PodIP     string    `json:"pod_ip"`
	Node      string    `json:"node"`
	NodeIP    string    `json:"node_ip"`
	Hostname  string    `json:"hostname"`
	StartedAt time.Time `json:"started_at"`
}

// Whoami is every service's GET /whoami answer: who answered, and what the
// caller looked like from there.
type Whoami struct {
	Identity
	// ClientIP is the address of the connection's other end: the previous
	// hop, not necessarily the original client.
	ClientIP string `json:"client_ip"`
	// Forwarded holds the forwarding headers a proxy added (x-forwarded-for,
	// x-real-ip, ...), keyed in lower case.
	Forwarded map[string]string `json:"forwarded,omitempty"`
}

// AnsweredBy is the pod that gave this answer.
func (w Whoami) AnsweredBy() *Pod {
	return &Pod{Pod: w.Pod, PodIP: w.PodIP, Node: w.Node}
}

// DecodeWhoami reads a /whoami answer. An answer that names no pod is not
// one: nginx's own error pages and a path report are JSON too.
func DecodeWhoami(body []byte) (Whoami, error) {
	var w Whoami
	if err := json.Unmarshal(body, &w); err != nil {
		return w, fmt.Errorf("decode whoami: %w", err)
	}
	if w.Pod == "" {
		return w, errors.New("decode whoami: answer names no pod")
	}
	return w, nil
}

// BackendWhoami is the backend's GET /api/whoami answer: its whoami and how
// its own call to its sidecar went, which is how a path through the backend
// carries the sidecar hop back.
type BackendWhoami struct {
	Whoami
	Sidecar Path `json:"sidecar"`
}

// DecodeSidecar returns the sidecar call that a backend's /api/whoami
// answer carries, if it carries one.
func DecodeSidecar(body []byte) (Path, bool) {
	var w struct {
		Sidecar *Path `json:"sidecar"`
	}
	if json.Unmarshal(body, &w) != nil || w.Sidecar == nil || w.Sidecar.ID == "" {
		return Path{}, false
	}
	return *w.Sidecar, true
}

// DecodeReport reads a path report: the frontend's /api/paths and the
// backend's /api/peers answers.
func DecodeReport(body []byte) (Report, error) {
	var r Report
	if err := json.Unmarshal(body, &r); err != nil {
		return r, fmt.Errorf("decode path report: %w", err)
	}
	if len(r.Paths) == 0 {
		return r, errors.New("path report has no paths")
	}
	return r, nil
}

// Spread is the frontend's GET /api/spread answer: which backend pod
// answered each of N calls through the backend's ClusterIP. kube-proxy picks
// a pod per connection, so with keep-alive the calls stay on one pod.
type Spread struct {
	Service string `json:"service"`
	// Method, Query and Address say how the ClusterIP was found.
	Method    Method `json:"method"`
	Query     string `json:"query"`
	Address   string `json:"address"`
	N         int    `json:"n"`
	KeepAlive bool   `json:"keepalive"`
	// Pods counts the answers by pod, sorted by pod name.
	Pods []PodCount `json:"pods"`
	// Errors counts the calls that no pod answered, by error kind.
	Errors map[string]int `json:"errors"`
	// Error says why no call could be made at all (with status 502).
	Error string `json:"error,omitempty"`
}

// PodCount is how many calls of a spread one pod answered.
type PodCount struct {
	Pod   string `json:"pod"`
	Node  string `json:"node"`
	Count int    `json:"count"`
}

// Failed counts the calls that no pod answered.
func (s Spread) Failed() int {
	n := 0
	for _, c := range s.Errors {
		n += c
	}
	return n
}

// DecodeSpread reads an /api/spread answer.
func DecodeSpread(body []byte) (Spread, error) {
	var s Spread
	if err := json.Unmarshal(body, &s); err != nil {
		return s, fmt.Errorf("decode spread: %w", err)
	}
	if s.N == 0 {
		return s, errors.New("decode spread: answer made no calls")
	}
	return s, nil
}

// Links is the frontend's GET /api/links answer: the service-link
// variables (<SVC>_SERVICE_HOST, <SVC>_SERVICE_PORT...) the pod started
// with, sorted by name.
type Links struct {
	Links []Link `json:"links"`
}

// Link is one service-link variable.
type Link struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}
