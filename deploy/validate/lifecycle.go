package validate

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Environment variables of the podpaths services that shape their shutdown, and the services' defaults.
const (
	EnvDrainDelay          = "PODPATHS_DRAIN_DELAY"
	EnvShutdownTimeout     = "PODPATHS_SHUTDOWN_TIMEOUT"
	DefaultShutdownTimeout = 10 * time.Second
)

// Probes checks that every serving container has readiness and liveness probes over HTTP, on a port the same
// container declares. A probe on a port of the other container in the pod would pass or fail for the wrong process.
func Probes(s *Set) []error {
	var errs []error
	for _, w := range s.workloads() {
		for _, c := range containersOf(&w.template.Spec) {
			if !c.serves() {
				continue
			}
			for _, problem := range probeProblems(c) {
				errs = append(errs, fmt.Errorf("%s: %s: %s", w.ref, c, problem))
			}
		}
	}
	return errs
}

func probeProblems(c container) []string {
	var problems []string
	probes := []struct {
		kind     string
		probe    *corev1.Probe
		required bool
	}{
		{"readinessProbe", c.ReadinessProbe, true},
		{"livenessProbe", c.LivenessProbe, true},
		{"startupProbe", c.StartupProbe, false},
	}
	for _, p := range probes {
		switch {
		case p.probe == nil && p.required:
			problems = append(problems, "no "+p.kind)
		case p.probe == nil:
		case p.probe.HTTPGet == nil:
			problems = append(problems, p.kind+" is not an HTTP GET")
		case !declares(c.Container, p.probe.HTTPGet.Port):
			problems = append(problems, fmt.Sprintf("%s port %q is not one of the container's own ports", p.kind, p.probe.HTTPGet.Port.String()))
		}
	}
	return problems
}

func declares(c *corev1.Container, port intstr.IntOrString) bool {
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return true
		}
	}
	return false
}

// Drain checks that every serving container has a way to drain (the services' PODPATHS_DRAIN_DELAY, or a preStop
// sleep for a program without one), and the pod's terminationGracePeriodSeconds outlasts them all. Main containers
// stop in parallel; native sidecars get SIGTERM only after every main container has exited, so their time adds on
// top. The kubelet sends SIGKILL when the grace period ends, cutting off whatever the drain was waiting for.
// https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination
func Drain(s *Set) []error {
	var errs []error
	for _, w := range s.workloads() {
		spec := &w.template.Spec
		if spec.TerminationGracePeriodSeconds == nil {
			errs = append(errs, fmt.Errorf("%s: terminationGracePeriodSeconds is not set", w.ref))
			continue
		}
		grace := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
		var mains, sidecars time.Duration
		for _, c := range containersOf(spec) {
			if !c.serves() {
				continue
			}
			need, err := drainTime(c)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("%s: %s: %w", w.ref, c, err))
			case c.init:
				sidecars = max(sidecars, need)
			default:
				mains = max(mains, need)
			}
		}
		if need := mains + sidecars; grace <= need {
			errs = append(errs, fmt.Errorf("%s: needs %v to drain and stop (main containers %v, then native sidecars %v), terminationGracePeriodSeconds allows %v", w.ref, need, mains, sidecars, grace))
		}
	}
	return errs
}

// drainTime returns how long the container may take from the start of its termination to its exit: a preStop
// sleep, then the app's drain delay and shutdown timeout.
func drainTime(c container) (time.Duration, error) {
	hasPreStop := c.Lifecycle != nil && c.Lifecycle.PreStop != nil
	need, err := PreStopPause(c.Container)
	if err != nil {
		return 0, err
	}
	drain, hasDrain, err := envDuration(c.Container, EnvDrainDelay)
	if err != nil {
		return 0, err
	}
	if !hasDrain {
		if !hasPreStop {
			return 0, fmt.Errorf("no drain: neither %s nor a preStop hook", EnvDrainDelay)
		}
		return need, nil
	}
	if drain <= 0 {
		return 0, fmt.Errorf("%s is %v, want > 0 so readiness fails before the listener closes", EnvDrainDelay, drain)
	}
	shutdown, hasShutdown, err := envDuration(c.Container, EnvShutdownTimeout)
	if err != nil {
		return 0, err
	}
	if !hasShutdown {
		shutdown = DefaultShutdownTimeout
	}
	return need + drain + shutdown, nil
}

// PreStopPause is how long a container's preStop hook keeps it from getting its stop signal: the kubelet's
// sleep action, or an exec hook whose shell command ends in "sleep N" (nginx's, which first creates its drain
// file). A hook of another shape pauses for an unknown time, which is an error: the grace period could not be
// checked against it.
func PreStopPause(c *corev1.Container) (time.Duration, error) {
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil {
		return 0, nil
	}
	h := c.Lifecycle.PreStop
	switch {
	case h.Sleep != nil:
		return time.Duration(h.Sleep.Seconds) * time.Second, nil
	case h.Exec != nil && len(h.Exec.Command) > 0:
		words := strings.Fields(h.Exec.Command[len(h.Exec.Command)-1])
		if n := len(words); n >= 2 && words[n-2] == "sleep" {
			if secs, err := strconv.Atoi(words[n-1]); err == nil && secs >= 0 {
				return time.Duration(secs) * time.Second, nil
			}
		}
		return 0, fmt.Errorf("preStop exec %q does not end in \"sleep N\"", h.Exec.Command)
	default:
		return 0, errors.New("preStop hook is neither a sleep nor an exec")
	}
}

// ProxyFirst checks that in a pod where a program without a drain of its own (nginx) pauses in its preStop hook
// in front of podpaths services, each service drains for longer than that pause: the proxy stops taking requests
// first, and the service behind it still listens for the requests the proxy finishes. If the service stopped
// first, the proxy would answer its clients 502.
func ProxyFirst(s *Set) []error {
	var errs []error
	for _, w := range s.workloads() {
		var proxies, services []container
		for _, c := range containersOf(&w.template.Spec) {
			if _, ok, _ := envDuration(c.Container, EnvDrainDelay); ok {
				services = append(services, c)
			} else if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
				proxies = append(proxies, c)
			}
		}
		for _, p := range proxies {
			pause, err := PreStopPause(p.Container)
			if err != nil {
				continue // Drain reports it
			}
			for _, c := range services {
				if drain, _, err := envDuration(c.Container, EnvDrainDelay); err == nil && drain <= pause {
					errs = append(errs, fmt.Errorf("%s: %s drains %v, not longer than %s's preStop pause %v: it would stop before the proxy in front of it", w.ref, c, drain, p, pause))
				}
			}
		}
	}
	return errs
}

// envDuration reads a literal duration variable from the container's env.
func envDuration(c *corev1.Container, name string) (time.Duration, bool, error) {
	for _, e := range c.Env {
		if e.Name != name {
			continue
		}
		if e.ValueFrom != nil {
			return 0, true, fmt.Errorf("%s comes from valueFrom; want a literal the checks can read", name)
		}
		d, err := time.ParseDuration(e.Value)
		if err != nil {
			return 0, true, fmt.Errorf("%s=%q: %w", name, e.Value, err)
		}
		return d, true, nil
	}
	return 0, false, nil
}

// Availability checks that rollouts and voluntary disruptions never take away capacity that is not replaced.
// Deployments surge one pod and keep maxUnavailable 0; StatefulSets, which cannot surge, roll one pod at a time;
// every workload with more than one replica has a PodDisruptionBudget and spreads over nodes. The spread is a
// preference (ScheduleAnyway), so a cluster with fewer nodes than replicas, or with a node down, still runs them.
func Availability(s *Set) []error {
	var errs []error
	for _, d := range s.Deployments {
		errs = append(errs, deploymentStrategy(d)...)
	}
	for _, st := range s.StatefulSets {
		if st.Spec.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType {
			errs = append(errs, fmt.Errorf("%s: updateStrategy %q, want RollingUpdate", object{"StatefulSet", st}, st.Spec.UpdateStrategy.Type))
		}
	}
	for _, w := range s.workloads() {
		if w.replicas < 2 {
			continue
		}
		if !s.hasPDB(w) {
			errs = append(errs, fmt.Errorf("%s: %d replicas but no PodDisruptionBudget selects its pods", w.ref, w.replicas))
		}
		if !spreadsOverNodes(w) {
			errs = append(errs, fmt.Errorf("%s: %d replicas but no topologySpreadConstraint over kubernetes.io/hostname (ScheduleAnyway, selecting its own pods)", w.ref, w.replicas))
		}
	}
	return errs
}

func deploymentStrategy(d *appsv1.Deployment) []error {
	ref := object{"Deployment", d}
	ru := d.Spec.Strategy.RollingUpdate
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil || ru.MaxUnavailable == nil || ru.MaxSurge == nil {
		return []error{fmt.Errorf("%s: want strategy RollingUpdate with explicit maxSurge and maxUnavailable", ref)}
	}
	replicas := int(replicasOf(d.Spec.Replicas))
	var errs []error
	// Percentages round as the Deployment controller rounds them: maxUnavailable down, maxSurge up.
	if u, err := intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, replicas, false); err != nil || u != 0 {
		errs = append(errs, fmt.Errorf("%s: maxUnavailable %s, want 0", ref, ru.MaxUnavailable.String()))
	}
	if sg, err := intstr.GetScaledValueFromIntOrPercent(ru.MaxSurge, replicas, true); err != nil || sg < 1 {
		errs = append(errs, fmt.Errorf("%s: maxSurge %s, want at least 1 (with maxUnavailable 0 nothing could roll)", ref, ru.MaxSurge.String()))
	}
	return errs
}

func (s *Set) hasPDB(w workload) bool {
	for _, pdb := range s.PodDisruptionBudgets {
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err == nil && pdb.Namespace == w.namespace && !sel.Empty() && sel.Matches(labels.Set(w.template.Labels)) {
			return true
		}
	}
	return false
}

func spreadsOverNodes(w workload) bool {
	return slices.ContainsFunc(w.template.Spec.TopologySpreadConstraints, func(tsc corev1.TopologySpreadConstraint) bool {
		sel, err := metav1.LabelSelectorAsSelector(tsc.LabelSelector)
		return err == nil && tsc.TopologyKey == corev1.LabelHostname &&
			tsc.WhenUnsatisfiable == corev1.ScheduleAnyway &&
			!sel.Empty() && sel.Matches(labels.Set(w.template.Labels))
	})
}

// Recommended labels. https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
const (
	LabelName      = "app.kubernetes.io/name"
	LabelPartOf    = "app.kubernetes.io/part-of"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelVersion   = "app.kubernetes.io/version"
)

// Labels checks that every object says it is part of podpaths and managed by kustomize, so `kubectl get all -l
// app.kubernetes.io/part-of=podpaths -A` finds all of it; Services, workloads and their pods also carry a name.
func Labels(s *Set) []error {
	var errs []error
	for _, o := range s.objects() {
		l := o.meta.GetLabels()
		if l[LabelPartOf] != "podpaths" || l[LabelManagedBy] != "kustomize" {
			errs = append(errs, fmt.Errorf("%s: labels %v, want %s=podpaths and %s=kustomize", o, l, LabelPartOf, LabelManagedBy))
		}
	}
	for _, svc := range s.Services {
		if svc.Labels[LabelName] == "" {
			errs = append(errs, fmt.Errorf("%s: no %s label", object{"Service", svc}, LabelName))
		}
	}
	for _, w := range s.workloads() {
		if w.template.Labels[LabelName] == "" {
			errs = append(errs, fmt.Errorf("%s: pod template has no %s label", w.ref, LabelName))
		}
		if w.template.Labels[LabelPartOf] != "podpaths" {
			errs = append(errs, fmt.Errorf("%s: pod template has no %s=podpaths label", w.ref, LabelPartOf))
		}
	}
	return errs
}

// Pod Security Admission labels. https://kubernetes.io/docs/concepts/security/pod-security-admission/
const (
	LabelPSSEnforce = "pod-security.kubernetes.io/enforce"
	PSSRestricted   = "restricted"
)

// Namespaces checks that every namespaced object names a namespace the tree creates, and every namespace that runs
// pods enforces Pod Security "restricted", so admission, not only these checks, rejects a weaker pod.
func Namespaces(s *Set) []error {
	defined := map[string]*corev1.Namespace{}
	for _, ns := range s.Namespaces {
		defined[ns.Name] = ns
	}
	var errs []error
	for _, o := range s.objects() {
		if o.kind == "Namespace" {
			continue
		}
		if _, ok := defined[o.meta.GetNamespace()]; !ok {
			errs = append(errs, fmt.Errorf("%s: namespace %q is not created by this tree", o, o.meta.GetNamespace()))
		}
	}
	for _, w := range s.workloads() {
		ns, ok := defined[w.namespace]
		if ok && ns.Labels[LabelPSSEnforce] != PSSRestricted {
			errs = append(errs, fmt.Errorf("%s: runs pods in Namespace %s, which does not set %s=%s", w.ref, ns.Name, LabelPSSEnforce, PSSRestricted))
		}
	}
	return errs
}
