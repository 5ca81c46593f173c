package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/lab/matrix"
	"github.com/podpaths/podpaths/platform/report"
)

// logTail is how many log lines per container a dump shows.
const logTail = 40

// Dump returns what explains a failure: every pod with its state, the
// namespace's events in time order, the last log lines of every container
// (and of its previous run, when it restarted), and the frontend's own path
// report. It keeps going past errors and reports them inline: a dump is
// read when something is already wrong.
func (e *Env) Dump(ctx context.Context) string {
	var w strings.Builder
	e.dump(ctx, &w)
	return w.String()
}

func (e *Env) dump(ctx context.Context, w *strings.Builder) {
	ns := e.Opts.Namespace
	fmt.Fprintf(w, "==== dump of namespace %s at %s\n", ns, time.Now().UTC().Format(time.RFC3339))
	pods, err := e.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		fmt.Fprintf(w, "list pods: %v\n", err)
	} else {
		e.dumpPods(ctx, w, pods.Items)
	}
	e.dumpEvents(ctx, w)
	e.dumpPathReport(ctx, w)
}

func (e *Env) dumpPods(ctx context.Context, w *strings.Builder, pods []corev1.Pod) {
	fmt.Fprintln(w, "---- pods")
	for i := range pods {
		p := &pods[i]
		fmt.Fprintf(w, "%s on %s, IP %s, ready %t: %s\n", p.Name, p.Spec.NodeName, p.Status.PodIP, PodReady(p), podState(p))
	}
	for i := range pods {
		p := &pods[i]
		for _, c := range slices.Concat(p.Spec.InitContainers, p.Spec.Containers) {
			e.dumpLog(ctx, w, p, c.Name, false)
			if restarted(p, c.Name) {
				e.dumpLog(ctx, w, p, c.Name, true)
			}
		}
	}
}

func restarted(p *corev1.Pod, container string) bool {
	for _, s := range slices.Concat(p.Status.InitContainerStatuses, p.Status.ContainerStatuses) {
		if s.Name == container {
			return s.RestartCount > 0
		}
	}
	return false
}

func (e *Env) dumpLog(ctx context.Context, w *strings.Builder, p *corev1.Pod, container string, previous bool) {
	tail := int64(logTail)
	raw, err := e.Client.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{
		Container: container, TailLines: &tail, Previous: previous,
	}).DoRaw(ctx)
	which := ""
	if previous {
		which = " (previous run)"
	}
	fmt.Fprintf(w, "---- logs %s/%s%s, last %d lines\n", p.Name, container, which, logTail)
	if err != nil {
		fmt.Fprintf(w, "get logs: %v\n", err)
		return
	}
	w.Write(bytes.TrimRight(raw, "\n"))
	w.WriteByte('\n')
}

func (e *Env) dumpEvents(ctx context.Context, w *strings.Builder) {
	fmt.Fprintln(w, "---- events")
	list, err := e.Client.CoreV1().Events(e.Opts.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		fmt.Fprintf(w, "list events: %v\n", err)
		return
	}
	events := list.Items
	slices.SortFunc(events, func(a, b corev1.Event) int { return eventTime(a).Compare(eventTime(b)) })
	for _, ev := range events {
		fmt.Fprintf(w, "%s %s %s/%s %s: %s (x%d)\n", eventTime(ev).UTC().Format(time.TimeOnly), ev.Type,
			strings.ToLower(ev.InvolvedObject.Kind), ev.InvolvedObject.Name, ev.Reason, ev.Message, max(ev.Count, 1))
	}
}

func eventTime(ev corev1.Event) time.Time {
	switch {
	case !ev.LastTimestamp.IsZero():
		return ev.LastTimestamp.Time
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	default:
		return ev.CreationTimestamp.Time
	}
}

// dumpPathReport asks the frontend for /api/paths through the API server's
// service proxy, which needs nothing but the kubeconfig: the report must show
// up even when the NodePort is what broke.
func (e *Env) dumpPathReport(ctx context.Context, w *strings.Builder) {
	fmt.Fprintln(w, "---- frontend path report (/api/paths through the API server proxy)")
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	raw, err := e.Client.CoreV1().Services(e.Opts.Namespace).ProxyGet("http", "frontend", "80", "/api/paths", nil).DoRaw(ctx)
	if err != nil {
		fmt.Fprintf(w, "get /api/paths: %v\n", err)
		return
	}
	var r report.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		fmt.Fprintf(w, "decode /api/paths: %v: %s\n", err, raw)
		return
	}
	fmt.Fprintf(w, "reporter %s, %d ok, %d failed, %d skipped\n", r.Reporter, r.Summary.OK, r.Summary.Failed, r.Summary.Skipped)
	for _, p := range r.Paths {
		fmt.Fprintf(w, "%s: %s\n", p.ID, matrix.Line(matrix.Check{Path: p}))
	}
}
