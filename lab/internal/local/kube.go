package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/daemons"
	"github.com/podpaths/podpaths/lab/kube"
	"github.com/podpaths/podpaths/lab/manifest"
)

// nodeObject is the Node a node's kubelet will register as, created first so
// that it carries the node's pod range: the CNI config hands out addresses
// from that range, and the controller manager would otherwise pick a range
// itself (and, with several nodes, sometimes skip one). The kubelet adopts an
// existing Node and adds its labels and status.
//
// It starts tainted not-ready, so that no pod is scheduled to it before its
// kubelet reports Ready; the node lifecycle controller then removes the
// taint, as for any node that turns Ready.
func nodeObject(n cluster.Node) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: map[string]string{
			corev1.LabelHostname: n.Name, corev1.LabelOSStable: "linux",
		}},
		Spec: corev1.NodeSpec{
			PodCIDR: n.PodCIDR.String(), PodCIDRs: []string{n.PodCIDR.String()},
			Taints: []corev1.Taint{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}},
		},
	}
}

// ensureNodeObjects creates the missing Node objects.
func ensureNodeObjects(ctx context.Context, client kubernetes.Interface, c cluster.Cluster) error {
	for _, n := range c.Nodes {
		existing, err := client.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		switch {
		case err == nil:
			if existing.Spec.PodCIDR != n.PodCIDR.String() {
				return fmt.Errorf("node %s has pod range %q, not %s; `lab down --provider local` starts over", n.Name, existing.Spec.PodCIDR, n.PodCIDR)
			}
		case apierrors.IsNotFound(err):
			if _, err := client.CoreV1().Nodes().Create(ctx, nodeObject(n), metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("create node %s: %w", n.Name, err)
			}
		default:
			return fmt.Errorf("get node %s: %w", n.Name, err)
		}
	}
	return nil
}

// nodesPending lists the nodes that are not Ready, with the reason.
func nodesPending(ctx context.Context, client kubernetes.Interface, names []string) ([]string, error) {
	var pending []string
	for _, name := range names {
		n, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("get node %s: %w", name, err)
		}
		if msg := nodeNotReady(n); msg != "" {
			pending = append(pending, "node/"+name+" "+msg)
		}
	}
	return pending, nil
}

// nodeNotReady is "" for a Ready node, else what its Ready condition says.
func nodeNotReady(n *corev1.Node) string {
	switch ready, status := kube.NodeReady(n); {
	case ready:
		return ""
	case status == "":
		return "not registered by its kubelet yet"
	default:
		return "not ready: " + status
	}
}

// waitNodesReady polls until every node is Ready, printing what it waits for
// when that changes.
func waitNodesReady(ctx context.Context, client kubernetes.Interface, names []string, timeout time.Duration, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for {
		pending, err := nodesPending(ctx, client, names)
		if err == nil && len(pending) == 0 {
			return nil
		}
		now := strings.Join(pending, "; ")
		if err != nil {
			now = err.Error()
		}
		if now != last {
			fmt.Fprintln(out, "waiting:", now) //nolint:errcheck // progress only
			last = now
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nodes not ready after %s: %s", timeout, last)
		case <-tick.C:
		}
	}
}

// apply server-side applies objects with the lab's field manager.
func apply(ctx context.Context, k kube.Clients, objs []*unstructured.Unstructured) error {
	return manifest.Apply(ctx, k.Dynamic, k.Mapper, objs, func(string) {})
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// waitEstablished waits until the CRDs are served: applying an object of a
// kind whose CRD is not Established yet fails with "no matches for kind".
func waitEstablished(ctx context.Context, k kube.Clients, names []string, timeout time.Duration) error {
	check := func(ctx context.Context) error {
		for _, name := range names {
			crd, err := k.Dynamic.Resource(crdResource).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			conds, _, err := unstructured.NestedSlice(crd.Object, "status", "conditions")
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(conds, func(c any) bool {
				m, ok := c.(map[string]any)
				return ok && m["type"] == "Established" && m["status"] == "True"
			}) {
				return fmt.Errorf("CRD %s not established yet", name)
			}
		}
		return nil
	}
	err := daemons.WaitFor(ctx, "MetalLB CRDs", timeout, 250*time.Millisecond, check, nil)
	// Discovery learned the API before these kinds existed.
	if m, ok := k.Mapper.(meta.ResettableRESTMapper); ok {
		m.Reset()
	}
	return err
}

// adminKube returns the admin's clients, from the kubeconfig `up` published.
func (p *Provider) adminKube() (kube.Clients, error) {
	raw, err := os.ReadFile(p.layout.AdminKubeconfig())
	if err != nil {
		return kube.Clients{}, fmt.Errorf("admin kubeconfig: %w", err)
	}
	return kube.FromKubeconfig(raw)
}
