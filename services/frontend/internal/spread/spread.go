// Package spread shows how a Service spreads calls over its pods. kube-proxy
// balances connections, not requests: with keep-alive every call rides the
// same connection to the same pod; without it each call is a new connection
// and may land anywhere.
//
// See https://kubernetes.io/docs/reference/networking/virtual-ips/.
package spread

import (
	"context"
	"sort"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

// Run makes n calls to target one after another with prober and counts the
// answering pods. The prober's client decides about keep-alive.
func Run(ctx context.Context, prober *probe.Prober, target discovery.Target, n int) (pods []report.PodCount, errs map[string]int) {
	counts := make(map[report.Pod]int)
	errs = make(map[string]int)
	for range n {
		var p report.Path
		probe.Fill(&p, prober.Get(ctx, target.Addr, "/whoami", target.Name))
		if p.AnsweredBy == nil {
			kind := string(p.ErrorKind)
			if kind == "" {
				kind = string(report.ErrorOther)
			}
			errs[kind]++
			continue
		}
		counts[*p.AnsweredBy]++
	}
	for pod, c := range counts {
		pods = append(pods, report.PodCount{Pod: pod.Pod, Node: pod.Node, Count: c})
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Pod < pods[j].Pod })
	return pods, errs
}
