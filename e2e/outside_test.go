//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/lab/matrix"
	"github.com/podpaths/podpaths/platform/report"
)

// outsideClient is a client outside the cluster, whose address nginx sees
// when nothing rewrites it.
type outsideClient struct {
	what string
	ip   string
	get  func(ctx context.Context, url string) (report.ProbeCalls, error)
}

// outside returns the outside client: the cluster's outside network
// namespace when it has one, else this machine when it is not a node
// itself (kind: the nodes are containers). A node sending to its own
// NodePort is handled by kube-proxy as local traffic, so it cannot show
// what an outside client sees; without either, the test is skipped.
func (r *run) outside(t *testing.T, nodeIP string) *outsideClient {
	t.Helper()
	if o := r.env.Outside; o != nil {
		return &outsideClient{
			what: "network namespace " + o.Netns, ip: o.IP,
			get: func(ctx context.Context, url string) (report.ProbeCalls, error) {
				return o.Get(ctx, url, "--timeout", callTimeout.String())
			},
		}
	}
	src, err := sourceIP(r.ctx, nodeIP)
	if err != nil {
		t.Fatal(err)
	}
	if r.env.IsNodeSide(src) {
		t.Skipf("no outside client: this machine reaches node %s from %s, a node address, and the cluster names no outside network namespace (%s)",
			nodeIP, src, cluster.EnvOutsideNetns)
	}
	return &outsideClient{
		what: "this machine", ip: src,
		get: func(ctx context.Context, url string) (report.ProbeCalls, error) {
			return fromHere(ctx, url, callTimeout), nil
		},
	}
}

// sourceIP is the address this machine sends from toward ip. Connecting a
// UDP socket only picks the route; no packet is sent.
func sourceIP(ctx context.Context, ip string) (string, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, "udp", net.JoinHostPort(ip, "9"))
	if err != nil {
		return "", fmt.Errorf("route to %s: %w", ip, err)
	}
	defer c.Close() //nolint:errcheck // nothing was sent
	host, _, err := net.SplitHostPort(c.LocalAddr().String())
	return host, err
}

// seenBy returns the client address nginx saw for a call through the
// NodePort: nginx passes its $remote_addr to the frontend as X-Real-IP.
func seenBy(c report.ProbeCall) string {
	return c.Forwarded["x-real-ip"]
}

// TestOutside proves the ways in from outside the cluster: the NodePort on
// every node and on this machine's localhost mapping, the LoadBalancer
// address, the API server's guard on the nodePort range, and which client
// address nginx sees under each externalTrafficPolicy.
func TestOutside(t *testing.T) {
	r := begin(t, 3*time.Minute)
	port := r.nodePort(t, r.ctx)

	for _, n := range r.env.Nodes {
		t.Run("nodeport/"+n.Name, func(t *testing.T) {
			if n.IP == "" {
				t.Fatalf("node %s has no InternalIP", n.Name)
			}
			u := "http://" + cluster.NodePortAddr(n.IP, port) + "/whoami"
			if c := fromHere(r.ctx, u, callTimeout).Calls[0]; !c.OK || c.AnsweredBy == nil {
				t.Errorf("GET %s (NodePort on node %s): %s", u, n.Name, describeCall(c))
			}
		})
	}
	t.Run("nodeport/localhost", func(t *testing.T) {
		if r.env.Localhost.Address == "" {
			t.Skipf("this machine has no known localhost mapping of the NodePort (local and kind clusters have one; set %s)", cluster.EnvLocalhost)
		}
		u := "http://" + r.env.Localhost.Address + "/whoami"
		if c := fromHere(r.ctx, u, callTimeout).Calls[0]; !c.OK || c.AnsweredBy == nil {
			t.Errorf("GET %s (NodePort through localhost): %s", u, describeCall(c))
		}
	})
	t.Run("clusterip-is-cluster-internal", func(t *testing.T) {
		r.clusterIPFromOutside(t)
	})
	t.Run("nodeport/out-of-range-rejected", func(t *testing.T) {
		r.outOfRangeNodePort(t)
	})
	t.Run("loadbalancer", func(t *testing.T) {
		if r.lbPending != "" {
			t.Skip(r.lbPending)
		}
		u := r.loadBalancerEntry(t) + "/whoami"
		if c := fromHere(r.ctx, u, callTimeout).Calls[0]; !c.OK || c.AnsweredBy == nil {
			t.Errorf("GET %s (LoadBalancer address): %s", u, describeCall(c))
		}
	})

	t.Run("client-ip", func(t *testing.T) {
		node := r.frontendNode(t)
		client := r.outside(t, node.IP)
		u := "http://" + cluster.NodePortAddr(node.IP, port) + "/whoami"
		t.Run("etp-cluster-sees-a-node-address", func(t *testing.T) {
			out, err := client.get(r.ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			c := out.Calls[0]
			if !c.OK {
				t.Fatalf("GET %s from %s: %s", u, client.what, describeCall(c))
			}
			ip := seenBy(c)
			if ip == client.ip || !r.env.IsNodeSide(ip) {
				t.Errorf("with externalTrafficPolicy Cluster nginx saw client %q for a call from %s (%s); want a node-side address: the node masquerades it",
					ip, client.what, client.ip)
			}
			t.Logf("externalTrafficPolicy Cluster: a call from %s (%s) to %s reached nginx from %s", client.what, client.ip, u, ip)
		})
		t.Run("etp-local-sees-the-client", func(t *testing.T) {
			r.applyComponent(t, "external-traffic-local")
			var c report.ProbeCall
			err := cluster.Eventually(r.ctx, time.Minute, time.Second, func(ctx context.Context) (string, bool) {
				out, err := client.get(ctx, u)
				if err != nil {
					return err.Error(), false
				}
				c = out.Calls[0]
				return describeCall(c) + ", nginx saw " + seenBy(c), c.OK && seenBy(c) == client.ip
			})
			if err != nil {
				t.Errorf("with externalTrafficPolicy Local nginx should see the client's own address %s for a call from %s to %s: %v",
					client.ip, client.what, u, err)
				return
			}
			t.Logf("externalTrafficPolicy Local: a call from %s (%s) to %s reached nginx from %s", client.what, client.ip, u, seenBy(c))
		})
	})
}

// frontendNode is a node with a ready frontend pod, where a NodePort with
// externalTrafficPolicy Local answers.
func (r *run) frontendNode(t *testing.T) cluster.Node {
	t.Helper()
	eps := r.readyEndpoints(t, "frontend-nodeport")
	for _, n := range r.env.Nodes {
		for _, e := range eps {
			if e.Node == n.Name && n.IP != "" {
				return n
			}
		}
	}
	t.Fatalf("no node with an InternalIP has a ready frontend pod (endpoints %+v)", eps)
	return cluster.Node{}
}

// outOfRangeNodePort asks for a nodePort below the cluster's range: the API
// server must refuse the Service. Should it be created, it is deleted again.
func (r *run) outOfRangeNodePort(t *testing.T) {
	t.Helper()
	const bad = 29999
	name := "e2e-badport-" + cluster.RandSuffix()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: r.env.Opts.Namespace,
			Labels: map[string]string{cluster.LabelManagedBy: cluster.ManagedBy},
		},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeNodePort,
			Selector: map[string]string{cluster.LabelName: "frontend"},
			Ports: []corev1.ServicePort{{
				Port: 80, TargetPort: intstr.FromString("http"), NodePort: bad, Protocol: corev1.ProtocolTCP,
			}},
		},
	}
	_, err := r.env.Client.CoreV1().Services(r.env.Opts.Namespace).Create(r.ctx, svc, metav1.CreateOptions{})
	if err == nil {
		r.undo("service "+name, time.Minute, func(ctx context.Context) error { return r.deleteService(ctx, name) })
		t.Fatalf("the API server accepted a NodePort Service with nodePort %d; want it rejected as outside the node port range", bad)
	}
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "valid range") {
		t.Errorf("creating a Service with nodePort %d: %v; want an Invalid error about the valid port range", bad, err)
	}
	t.Logf("rejected as expected: %v", err)
}

// clusterIPFromOutside calls the backend's ClusterIP from the outside
// client, which has no route to the Service range: the call must fail at
// once, as unreachable. The outside network namespace shows it, or this
// machine when it has no route there either; with one, the call would
// leave the machine.
func (r *run) clusterIPFromOutside(t *testing.T) {
	t.Helper()
	svc := r.service(t, r.ctx, "backend")
	u := serviceURL(svc.Spec.ClusterIP, backendPort, "/whoami")
	var c report.ProbeCall
	from := "this machine"
	switch o := r.env.Outside; {
	case o != nil:
		out, err := o.Get(r.ctx, u, "--timeout", callTimeout.String())
		if err != nil {
			t.Fatal(err)
		}
		c, from = out.Calls[0], "the outside client "+o.IP
	case r.env.Unrouted && matrix.Unrouted(netip.MustParseAddr(svc.Spec.ClusterIP)):
		c = fromHere(r.ctx, u, callTimeout).Calls[0]
	default:
		t.Skip(noOutside)
	}
	if c.OK || c.ErrorKind != report.ErrorOther || !strings.Contains(c.Error, "network is unreachable") {
		t.Errorf("GET %s from %s: %s; want it to fail at once as unreachable (other): a ClusterIP is cluster-internal",
			u, from, describeCall(c))
	}
}

// noOutside is why a ClusterIP is not called from outside the cluster.
var noOutside = "the cluster names no outside network namespace (" + cluster.EnvOutsideNetns +
	"), and this machine has a route to the Service range (usually its default route): the call would leave the machine"
