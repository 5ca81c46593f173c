package matrix

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/podpaths/podpaths/platform/report"
)

// decodeIdentity sets who answered a /whoami and the client IP that was
// seen. nginx passes the address it saw as X-Real-IP; the frontend's own
// client_ip is nginx on localhost, so the header, when present, says more.
func decodeIdentity(body []byte, p *report.Path) error {
	w, err := report.DecodeWhoami(body)
	if err != nil {
		return err
	}
	p.AnsweredBy = w.AnsweredBy()
	p.ClientIPSeen = cmp.Or(w.Forwarded["x-real-ip"], w.ClientIP)
	return nil
}

// histogram prints a spread's counts by pod name, then the failures by
// kind, e.g. "backend-0=7 backend-1=13" or "backend-0=18 refused=2".
func histogram(s report.Spread) string {
	var parts []string
	for _, p := range slices.SortedFunc(slices.Values(s.Pods), func(a, b report.PodCount) int { return strings.Compare(a.Pod, b.Pod) }) {
		parts = append(parts, fmt.Sprintf("%s=%d", p.Pod, p.Count))
	}
	for _, kind := range slices.Sorted(maps.Keys(s.Errors)) {
		parts = append(parts, fmt.Sprintf("%s=%d", kind, s.Errors[kind]))
	}
	return strings.Join(parts, " ")
}
