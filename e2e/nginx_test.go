//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/platform/report"
)

// followTimeout bounds how long nginx may take to follow a Service change:
// it caches a resolved name for 5 s (resolver valid=5s), and CoreDNS its
// answers for a few seconds more.
const followTimeout = time.Minute

// TestNginxBackendByName proves nginx's /my-be/, which resolves the backend
// Service's name at request time: it reaches the backend, follows the
// Service when it is deleted and recreated with a new ClusterIP, and nginx
// starts even before the Service it proxies to exists.
func TestNginxBackendByName(t *testing.T) {
	r := begin(t, 5*time.Minute)
	backends := map[string]bool{}
	for _, p := range r.pods(t, cluster.Backend) {
		backends[p.Name] = true
	}
	myBe := r.entry(t) + "/my-be/whoami"

	t.Run("reaches-backend", func(t *testing.T) {
		c := fromHere(r.ctx, myBe, callTimeout).Calls[0]
		if !c.OK || c.AnsweredBy == nil || !backends[c.AnsweredBy.Pod] {
			t.Errorf("GET %s: %s; want an answer from a backend pod %v", myBe, describeCall(c), sortedKeys(backends))
		}
	})

	t.Run("follows-recreated-service", func(t *testing.T) {
		orig := r.service(t, r.ctx, "backend")
		r.undo("recreation of service backend", 2*time.Minute, func(ctx context.Context) error {
			return r.restoreService(ctx, orig)
		})
		if err := r.deleteService(r.ctx, "backend"); err != nil {
			t.Fatal(err)
		}
		t.Run("fails-while-service-is-missing", func(t *testing.T) {
			var c report.ProbeCall
			err := cluster.Eventually(r.ctx, followTimeout, time.Second, func(ctx context.Context) (string, bool) {
				c = fromHere(ctx, myBe, callTimeout).Calls[0]
				return describeCall(c), c.Status == http.StatusBadGateway || c.Status == http.StatusGatewayTimeout
			})
			if err != nil {
				t.Errorf("GET %s without the backend Service: %v; want nginx to answer 502 or 504", myBe, err)
			}
			if h := fromHere(r.ctx, r.entry(t)+"/nginx-health", callTimeout).Calls[0]; !h.OK {
				t.Errorf("nginx health without the backend Service: %s; want ok: a missing upstream must not take nginx down", describeCall(h))
			}
		})
		fresh, err := r.recreateService(r.ctx, orig)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("service backend recreated: clusterIP %s -> %s", orig.Spec.ClusterIP, fresh.Spec.ClusterIP)
		start := time.Now()
		var c report.ProbeCall
		err = cluster.Eventually(r.ctx, followTimeout, 500*time.Millisecond, func(ctx context.Context) (string, bool) {
			c = fromHere(ctx, myBe, callTimeout).Calls[0]
			return describeCall(c), c.OK && c.AnsweredBy != nil && backends[c.AnsweredBy.Pod]
		})
		if err != nil {
			t.Errorf("GET %s after the backend Service was recreated with clusterIP %s: %v; want nginx to resolve the name again and reach a backend pod",
				myBe, fresh.Spec.ClusterIP, err)
		} else {
			t.Logf("nginx followed the new clusterIP after %s", time.Since(start).Round(100*time.Millisecond))
		}
	})

	t.Run("starts-without-backend-service", func(t *testing.T) {
		// A standalone copy of the frontend pod's nginx, with the lab's own
		// configuration, pointed at a Service that does not exist yet: the
		// lab's backend Service stays in place for the other paths.
		late := "e2e-late-" + cluster.RandSuffix()
		pod := r.startNginx(t, r.fqdn(late))
		u := serviceURL(pod.Status.PodIP, nginxPort, "/my-be/whoami")
		c := probeGet(t, r.ctx, r.probe, u).Calls[0]
		if c.Status != http.StatusBadGateway {
			t.Errorf("GET %s before Service %s exists: %s; want 502 from a running nginx", u, late, describeCall(c))
		}

		t.Run("follows-service-created-later", func(t *testing.T) {
			r.createService(t, late, map[string]string{cluster.LabelName: "backend"})
			err := cluster.Eventually(r.ctx, followTimeout, time.Second, func(ctx context.Context) (string, bool) {
				out, err := r.probe.Get(ctx, u)
				if err != nil {
					return err.Error(), false
				}
				c = out.Calls[0]
				return describeCall(c), c.OK && c.AnsweredBy != nil && backends[c.AnsweredBy.Pod]
			})
			if err != nil {
				t.Errorf("GET %s after Service %s was created: %v; want an answer from a backend pod", u, late, err)
			}
		})
	})
}

// deleteService deletes a Service and waits until it is gone.
func (r *run) deleteService(ctx context.Context, name string) error {
	svcs := r.env.Client.CoreV1().Services(r.env.Opts.Namespace)
	if err := svcs.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete service %s: %w", name, err)
	}
	return cluster.Eventually(ctx, time.Minute, 250*time.Millisecond, func(ctx context.Context) (string, bool) {
		_, err := svcs.Get(ctx, name, metav1.GetOptions{})
		return "service " + name + " still exists", apierrors.IsNotFound(err)
	})
}

// copyService is orig as a new object, with the given clusterIP ("" lets
// the API server allocate one).
func copyService(orig *corev1.Service, clusterIP string) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: orig.Name, Namespace: orig.Namespace, Labels: orig.Labels, Annotations: orig.Annotations,
		},
		Spec: *orig.Spec.DeepCopy(),
	}
	s.Spec.ClusterIP, s.Spec.ClusterIPs = clusterIP, nil
	if clusterIP != "" {
		s.Spec.ClusterIPs = []string{clusterIP}
	}
	return s
}

// recreateService creates orig again with a newly allocated ClusterIP, one
// that differs from the old (the allocator picks at random, so it almost
// always does; the loop makes sure).
func (r *run) recreateService(ctx context.Context, orig *corev1.Service) (*corev1.Service, error) {
	svcs := r.env.Client.CoreV1().Services(r.env.Opts.Namespace)
	for range 3 {
		fresh, err := svcs.Create(ctx, copyService(orig, ""), metav1.CreateOptions{FieldManager: cluster.FieldManager})
		if err != nil {
			return nil, fmt.Errorf("recreate service %s: %w", orig.Name, err)
		}
		if fresh.Spec.ClusterIP != orig.Spec.ClusterIP {
			return fresh, nil
		}
		if err := r.deleteService(ctx, orig.Name); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("service %s got its old clusterIP %s three times", orig.Name, orig.Spec.ClusterIP)
}

// restoreService puts orig back with its original ClusterIP, so that the
// BACKEND_SERVICE_HOST the lab's pods started with is right again.
func (r *run) restoreService(ctx context.Context, orig *corev1.Service) error {
	svcs := r.env.Client.CoreV1().Services(r.env.Opts.Namespace)
	cur, err := svcs.Get(ctx, orig.Name, metav1.GetOptions{})
	switch {
	case err == nil && cur.Spec.ClusterIP == orig.Spec.ClusterIP:
		return nil
	case err == nil:
		if err := r.deleteService(ctx, orig.Name); err != nil {
			return err
		}
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("get service %s: %w", orig.Name, err)
	}
	if err := r.createWithClusterIP(ctx, orig); err != nil {
		return err
	}
	// The restored Service reaches the same pods as its headless sibling.
	eps, err := r.env.ReadyEndpoints(ctx, "backend-headless")
	if err != nil {
		return err
	}
	if err := r.env.WaitServiceEndpoints(ctx, orig.Name, len(eps), time.Minute); err != nil {
		return err
	}
	// DNS may still hand out the interim clusterIP from its cache; the next
	// tests must find the Service where its name points.
	err = cluster.Eventually(ctx, dnsTimeout, time.Second, func(ctx context.Context) (string, bool) {
		a, err := r.probe.Lookup(ctx, r.fqdn(orig.Name))
		if err != nil {
			return err.Error(), false
		}
		return fmt.Sprintf("%s resolves to %v, want %s", r.fqdn(orig.Name), a.Addresses, orig.Spec.ClusterIP),
			slices.Equal(a.Addresses, []string{orig.Spec.ClusterIP})
	})
	if err != nil {
		return err
	}
	if err := r.awaitMyBe(ctx); err != nil {
		return err
	}
	// Calls made while it was gone, or before every node's kube-proxy had
	// it again, may have left flows that would time out a later connection
	// from the same port (kind's iptables mode).
	return r.forgetUnrewrittenFlows(ctx, orig.Spec.ClusterIP)
}

// createWithClusterIP creates svc again with its own ClusterIP. The address
// is free once the Service that held it is gone; the allocator may need a
// moment to release it.
func (r *run) createWithClusterIP(ctx context.Context, svc *corev1.Service) error {
	svcs := r.env.Client.CoreV1().Services(r.env.Opts.Namespace)
	return cluster.Eventually(ctx, 30*time.Second, time.Second, func(ctx context.Context) (string, bool) {
		_, err := svcs.Create(ctx, copyService(svc, svc.Spec.ClusterIP), metav1.CreateOptions{FieldManager: cluster.FieldManager})
		if err != nil {
			return fmt.Sprintf("create service %s with clusterIP %s: %v", svc.Name, svc.Spec.ClusterIP, err), false
		}
		return "", true
	})
}

// awaitMyBe waits until nginx's /my-be/ has answered 20 calls in a row,
// spread by kube-proxy over every nginx, so that no nginx still proxies to
// an address it resolved before a change (it keeps one for 5 s).
func (r *run) awaitMyBe(ctx context.Context) error {
	const streak = 20
	url := r.entryURL(ctx) + "/my-be/whoami"
	ok := 0
	return cluster.Eventually(ctx, followTimeout, 100*time.Millisecond, func(ctx context.Context) (string, bool) {
		c := fromHere(ctx, url, callTimeout).Calls[0]
		if !c.OK {
			ok = 0
			return "GET " + url + ": " + describeCall(c), false
		}
		ok++
		return fmt.Sprintf("%d calls in a row to %s worked, want %d", ok, url, streak), ok >= streak
	})
}

// createService creates a ClusterIP Service of the suite selecting pods by
// selector on their "http" port, deleted when the test ends.
func (r *run) createService(t *testing.T, name string, selector map[string]string) *corev1.Service {
	t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: r.env.Opts.Namespace,
			Labels: map[string]string{cluster.LabelManagedBy: cluster.ManagedBy},
		},
		Spec: corev1.ServiceSpec{
			Selector: selector,
			Ports: []corev1.ServicePort{{
				Name: "http", Port: backendPort, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP,
			}},
		},
	}
	created, err := r.env.Client.CoreV1().Services(r.env.Opts.Namespace).Create(r.ctx, svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create service %s: %v", name, err)
	}
	r.undo("service "+name, time.Minute, func(ctx context.Context) error { return r.deleteService(ctx, name) })
	return created
}

// startNginx starts a pod with the frontend pod's nginx container alone,
// its configuration from the lab's ConfigMap, and backendHost in place of
// the backend's name; it waits until nginx is ready and deletes the pod when
// the test ends.
func (r *run) startNginx(t *testing.T, backendHost string) *corev1.Pod {
	t.Helper()
	d, err := r.env.Client.AppsV1().Deployments(r.env.Opts.Namespace).Get(r.ctx, "frontend", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := d.Spec.Template.Spec.DeepCopy()
	var nginx *corev1.Container
	for i := range spec.Containers {
		if spec.Containers[i].Name == "nginx" {
			nginx = &spec.Containers[i]
		}
	}
	if nginx == nil {
		t.Fatal("deployment frontend has no container nginx")
	}
	for i := range nginx.Env {
		if nginx.Env[i].Name == "PODPATHS_BACKEND_HOST" {
			nginx.Env[i].Value = backendHost
		}
	}
	spec.Containers = []corev1.Container{*nginx}
	spec.TopologySpreadConstraints = nil
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "e2e-nginx-" + cluster.RandSuffix(), Namespace: r.env.Opts.Namespace,
			// Not the frontend's labels: no Service of the lab may send
			// traffic to this pod.
			Labels: map[string]string{cluster.LabelName: "e2e-nginx", cluster.LabelManagedBy: cluster.ManagedBy},
		},
		Spec: *spec,
	}
	pods := r.env.Client.CoreV1().Pods(r.env.Opts.Namespace)
	if _, err := pods.Create(r.ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod %s: %v", pod.Name, err)
	}
	r.undo("pod "+pod.Name, time.Minute, func(ctx context.Context) error {
		err := pods.Delete(ctx, pod.Name, metav1.DeleteOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	})
	err = cluster.Eventually(r.ctx, 2*time.Minute, 500*time.Millisecond, func(ctx context.Context) (string, bool) {
		cur, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err.Error(), false
		}
		pod = cur
		return fmt.Sprintf("pod %s: %s, IP %q", cur.Name, cur.Status.Phase, cur.Status.PodIP), cluster.PodReady(cur)
	})
	if err != nil {
		t.Fatalf("nginx without its backend Service did not become ready: %v", err)
	}
	return pod
}
