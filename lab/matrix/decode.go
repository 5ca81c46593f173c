package matrix

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/podpaths/podpaths/platform/identity"
	"github.com/podpaths/podpaths/platform/report"
)

// decodeIdentity sets who answered a /whoami and the client IP that was
// seen. nginx passes the address it saw as X-Real-IP; the frontend's own
// client_ip is nginx on localhost, so the header, when present, says more.
func decodeIdentity(body []byte, p *report.Path) error {
	var w identity.Whoami
	if err := json.Unmarshal(body, &w); err != nil {
		return fmt.Errorf("decode identity: %w", err)
	}
	if w.Pod == "" {
		return errors.New("decode identity: answer names no pod")
	}
	p.AnsweredBy = &report.Pod{Pod: w.Pod, PodIP: w.PodIP, Node: w.Node}
	p.ClientIPSeen = w.ClientIP
	if ip := w.Forwarded["x-real-ip"]; ip != "" {
		p.ClientIPSeen = ip
	}
	return nil
}

// decodeReport reads a path report: the frontend's /api/paths and the
// backend's /api/peers.
func decodeReport(body []byte) (report.Report, error) {
	var r report.Report
	if err := json.Unmarshal(body, &r); err != nil {
		return r, fmt.Errorf("decode path report: %w", err)
	}
	if len(r.Paths) == 0 {
		return r, errors.New("path report has no paths")
	}
	return r, nil
}

// decodeSidecar returns the sidecar call that the backend's /api/whoami
// carries, if it does.
func decodeSidecar(body []byte) (report.Path, bool) {
	var w struct {
		Sidecar *report.Path `json:"sidecar"`
	}
	if json.Unmarshal(body, &w) != nil || w.Sidecar == nil || w.Sidecar.ID == "" {
		return report.Path{}, false
	}
	return *w.Sidecar, true
}

// spread is the frontend's /api/spread answer: which pods answered how many
// of the n calls, and how many calls failed, by error kind.
type spread struct {
	N         int            `json:"n"`
	KeepAlive bool           `json:"keepalive"`
	Pods      []podCount     `json:"pods"`
	Errors    map[string]int `json:"errors"`
}

type podCount struct {
	Pod   string `json:"pod"`
	Node  string `json:"node"`
	Count int    `json:"count"`
}

func decodeSpread(body []byte) (spread, error) {
	var s spread
	if err := json.Unmarshal(body, &s); err != nil {
		return s, fmt.Errorf("decode spread: %w", err)
	}
	if s.N == 0 {
		return s, errors.New("decode spread: answer made no calls")
	}
	return s, nil
}

// failed counts the calls that no pod answered.
func (s spread) failed() int {
	n := 0
	for _, c := range s.Errors {
		n += c
	}
	return n
}

// histogram prints the counts by pod name, then the failures by kind, e.g.
// "backend-0=7 backend-1=13" or "backend-0=18 refused=2".
func (s spread) histogram() string {
	var parts []string
	for _, p := range slices.SortedFunc(slices.Values(s.Pods), func(a, b podCount) int { return strings.Compare(a.Pod, b.Pod) }) {
		parts = append(parts, fmt.Sprintf("%s=%d", p.Pod, p.Count))
	}
	for _, kind := range slices.Sorted(maps.Keys(s.Errors)) {
		parts = append(parts, fmt.Sprintf("%s=%d", kind, s.Errors[kind]))
	}
	return strings.Join(parts, " ")
}
