//go:build e2e

package e2e

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/e2e/internal/probecmd"
	"github.com/podpaths/podpaths/lab/localnodes"
	"github.com/podpaths/podpaths/lab/matrix"
	"github.com/podpaths/podpaths/lab/rollout"
)

// How long the suite waits, before any test, for the lab to be ready and
// then for every path of the matrix to pass.
const (
	readyTimeout = 5 * time.Minute
	lbTimeout    = 2 * time.Minute
	// lbQuiet is how long a LoadBalancer Service may go without any
	// controller's event before the suite concludes none runs.
	lbQuiet       = 20 * time.Second
	matrixTimeout = 3 * time.Minute
)

// lab is the cluster under test and the shared probe pod, set up once by
// TestMain for all tests. Tests only read it; the objects they create and
// the changes they make are their own and undone in their cleanups.
var lab *suite

type suite struct {
	env *cluster.Env
	// probe is a probe pod in the lab's namespace that read-only tests
	// share; tests that need a pod of their own start one.
	probe *cluster.Probe
	// lbPending says why the LoadBalancer has no address, when it has none.
	lbPending string
}

func TestMain(m *testing.M) {
	// The outside client runs this binary again inside another network
	// namespace to act as the probe there (cluster.Outside.Get).
	if os.Getenv(cluster.ProbeEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		code := probecmd.Run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	ctx := context.Background()
	s, err := setUp(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	lab = s
	code := m.Run()
	if err := s.tearDown(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	return code
}

func setUp(ctx context.Context) (*suite, error) {
	opts, err := cluster.OptionsFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	env, err := cluster.New(ctx, opts)
	if err != nil {
		return nil, err
	}
	describe(env)
	if err := removeLeftovers(ctx, env); err != nil {
		return nil, err
	}
	s := &suite{env: env}
	if err := s.waitForLab(ctx); err != nil {
		return nil, err
	}
	s.probe, err = env.StartProbe(ctx, cluster.ProbeOptions{})
	if err != nil {
		return nil, fmt.Errorf("shared probe pod (is %s loaded into the nodes? hack/images.sh builds it): %w", opts.ProbeImage, err)
	}
	return s, nil
}

func (s *suite) tearDown() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return s.probe.Delete(ctx)
}

func describe(env *cluster.Env) {
	var nodes []string
	for _, n := range env.Nodes {
		nodes = append(nodes, fmt.Sprintf("%s (%s, schedulable %t)", n.Name, n.IP, n.Schedulable))
	}
	fmt.Printf("e2e: cluster %s (%s), namespace %s, nodes: %s\n", env.Config.Host, env.Kind, env.Opts.Namespace, strings.Join(nodes, ", "))
	fmt.Printf("e2e: localhost entry %q, probe image %s\n", env.Localhost.Address, env.Opts.ProbeImage)
	switch {
	case env.Outside != nil:
		fmt.Printf("e2e: outside client: network namespace %s, address %s\n", env.Outside.Netns, env.Outside.IP)
	case env.Unrouted:
		fmt.Println("e2e: outside client for a ClusterIP: this machine, which has no route to the Service range")
	}
	if env.ExternalLB != "" {
		fmt.Printf("e2e: external load balancer in front of the NodePorts: %s\n", env.ExternalLB)
	}
}

// removeLeftovers deletes what an interrupted earlier run left behind: every
// pod and Service with the suite's label.
func removeLeftovers(ctx context.Context, env *cluster.Env) error {
	sel := metav1.ListOptions{LabelSelector: cluster.LabelManagedBy + "=" + cluster.ManagedBy}
	ns := env.Opts.Namespace
	pods, err := env.Client.CoreV1().Pods(ns).List(ctx, sel)
	if err != nil {
		return fmt.Errorf("list leftover pods: %w", err)
	}
	svcs, err := env.Client.CoreV1().Services(ns).List(ctx, sel)
	if err != nil {
		return fmt.Errorf("list leftover services: %w", err)
	}
	for _, p := range pods.Items {
		fmt.Printf("e2e: deleting leftover pod %s\n", p.Name)
		if err := env.Client.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete leftover pod: %w", err)
		}
	}
	for _, sv := range svcs.Items {
		fmt.Printf("e2e: deleting leftover service %s\n", sv.Name)
		if err := env.Client.CoreV1().Services(ns).Delete(ctx, sv.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete leftover service: %w", err)
		}
	}
	return nil
}

// waitForLab waits until the workloads are ready, the LoadBalancer has an
// address and every path of the matrix passes, and says how long that took
// after the lab was last applied. A matrix that never passes is not fatal
// here: the tests then fail one by one, each saying what is wrong.
func (s *suite) waitForLab(ctx context.Context) error {
	// attempts counts the checks; more than the two below that pass at
	// once means the suite saw the lab not ready yet.
	attempts := 0
	err := cluster.Eventually(ctx, readyTimeout, time.Second, func(ctx context.Context) (string, bool) {
		attempts++
		pending, err := s.env.LabState(ctx, false)
		if err != nil {
			return err.Error(), false
		}
		return strings.Join(pending, "; "), len(pending) == 0
	})
	if err != nil {
		return fmt.Errorf("the lab in namespace %s is not ready: %w", s.env.Opts.Namespace, err)
	}
	s.lbPending = s.waitForLoadBalancer(ctx)
	if s.lbPending != "" {
		fmt.Printf("e2e: %s\n", s.lbPending)
	}
	applied := s.lastApply(ctx)
	var res matrix.Result
	err = cluster.Eventually(ctx, matrixTimeout, 2*time.Second, func(ctx context.Context) (string, bool) {
		attempts++
		res, err = matrix.New(s.env.Client, s.matrixConfig()).Run(ctx)
		if err != nil {
			return err.Error(), false
		}
		sum := res.Summary()
		return sum.String(), sum.Passed() && (sum.Skipped == 0 || s.lbPending != "")
	})
	if err != nil {
		fmt.Printf("e2e: the matrix does not pass yet; the tests will say why: %v\n", err)
		return nil
	}
	if applied.IsZero() {
		return nil
	}
	// Only a run that saw the matrix fail first measured the moment it
	// turned green; otherwise the lab was ready before the suite started
	// and the time since the apply is an upper bound.
	since := time.Since(applied).Round(time.Second)
	if attempts > 2 {
		fmt.Printf("summary: apply to every path ok: %s (last apply %s)\n", since, applied.UTC().Format(time.RFC3339))
	} else {
		fmt.Printf("summary: apply to every path ok: at most %s (every path was ok when the suite started; last apply %s)\n",
			since, applied.UTC().Format(time.RFC3339))
	}
	return nil
}

// waitForLoadBalancer waits for every LoadBalancer address and returns why
// there is none, or "". When no controller has acted on a Service (no event
// about it) after lbQuiet, none runs, and waiting longer would only delay
// the suite: kind without cloud-provider-kind.
func (s *suite) waitForLoadBalancer(ctx context.Context) string {
	start := time.Now()
	var unattended []string
	err := cluster.Eventually(ctx, lbTimeout, time.Second, func(ctx context.Context) (string, bool) {
		pending, err := s.env.LabState(ctx, true)
		if err != nil {
			return err.Error(), false
		}
		if len(pending) == 0 {
			return "", true
		}
		if time.Since(start) >= lbQuiet {
			unattended, err = rollout.LoadBalancersUnattended(ctx, s.env.Client, s.env.Opts.Namespace)
			if err == nil && len(unattended) > 0 {
				return "", true
			}
		}
		return strings.Join(pending, "; "), false
	})
	switch {
	case err != nil:
		return "no LoadBalancer controller assigned an address: " + err.Error()
	case len(unattended) > 0:
		return fmt.Sprintf("no LoadBalancer controller runs: %s has no address and no event after %s",
			strings.Join(unattended, ", "), lbQuiet)
	}
	return ""
}

// lastApply is when the lab's objects were last applied (server-side apply
// records the time per field manager), or zero when nothing says.
func (s *suite) lastApply(ctx context.Context) time.Time {
	var last time.Time
	note := func(fields []metav1.ManagedFieldsEntry) {
		for _, f := range fields {
			if f.Operation == metav1.ManagedFieldsOperationApply && f.Time != nil && f.Time.After(last) {
				last = f.Time.Time
			}
		}
	}
	ns := s.env.Opts.Namespace
	if list, err := s.env.Client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, o := range list.Items {
			note(o.ManagedFields)
		}
	}
	if list, err := s.env.Client.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, o := range list.Items {
			note(o.ManagedFields)
		}
	}
	if list, err := s.env.Client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, o := range list.Items {
			note(o.ManagedFields)
		}
	}
	return last
}

// matrixConfig is `make check`'s configuration with this machine's entries.
func (s *suite) matrixConfig() matrix.Config {
	cfg := matrix.DefaultConfig()
	cfg.Namespace = s.env.Opts.Namespace
	cfg.Localhost = s.env.Localhost
	switch o := s.env.Outside; {
	case o != nil:
		cfg.OutsideDial = localnodes.DialFrom(o.Netns)
	case s.env.Unrouted:
		cfg.OutsideDial = matrix.DialUnrouted
	default:
		cfg.NoOutside = noOutside
	}
	cfg.ExternalLB = s.env.ExternalLB
	cfg.NoExternalLB = cmp.Or(s.env.NoExternalLB, "the cluster has no external load balancer of the lab's in front of its nodes")
	return cfg
}

// nodePort returns the frontend-nodeport Service's node port.
func (s *suite) nodePort(t *testing.T, ctx context.Context) int32 {
	t.Helper()
	svc := s.service(t, ctx, "frontend-nodeport")
	if len(svc.Spec.Ports) == 0 || svc.Spec.Ports[0].NodePort == 0 {
		t.Fatalf("service frontend-nodeport has no nodePort: %+v", svc.Spec.Ports)
	}
	return svc.Spec.Ports[0].NodePort
}

func (s *suite) service(t *testing.T, ctx context.Context, name string) *corev1.Service {
	t.Helper()
	svc, err := s.env.Client.CoreV1().Services(s.env.Opts.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get service %s: %v", name, err)
	}
	return svc
}
