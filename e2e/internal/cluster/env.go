// Package cluster is the e2e suite's handle on a cluster: the API clients,
// what this machine knows about where it stands (the offline local cluster,
// kind, or anything a kubeconfig names), probe pods that see the cluster from
// inside, waits with deadlines, and the dump that explains a failure.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/podpaths/podpaths/lab/kube"
	"github.com/podpaths/podpaths/lab/manifest"
	"github.com/podpaths/podpaths/lab/matrix"
)

// The suite's settings. EnvCluster is required; the others are optional.
// KUBECONFIG is read the way kubectl reads it.
const (
	EnvCluster       = "PODPATHS_E2E_CLUSTER"        // local, kind or other: the lab that brought the cluster up
	EnvNamespace     = "PODPATHS_E2E_NAMESPACE"      // podpaths
	EnvClusterDomain = "PODPATHS_E2E_CLUSTER_DOMAIN" // cluster.local
	EnvProbeImage    = "PODPATHS_E2E_PROBE_IMAGE"    // localhost/podpaths/probe:<VERSION>
	EnvFacts         = "PODPATHS_E2E_FACTS"          // /var/lib/podpaths/local/cluster.json
	EnvLocalhost     = "PODPATHS_E2E_LOCALHOST"      // host:port on this machine that reaches the NodePort
	EnvOutsideNetns  = "PODPATHS_E2E_OUTSIDE_NETNS"  // a network namespace outside the cluster
	EnvOutsideIP     = "PODPATHS_E2E_OUTSIDE_IP"     // its address
	EnvDeployDir     = "PODPATHS_E2E_DEPLOY_DIR"     // ../deploy
	EnvVersionFile   = "PODPATHS_E2E_VERSION_FILE"   // ../VERSION
)

// DefaultFacts is where the local provider describes the offline cluster.
const DefaultFacts = "/var/lib/podpaths/local/cluster.json"

// FieldManager names the suite in the managedFields of what it creates or
// changes, so that those fields stay apart from the lab's own
// (manifest.FieldManager).
const FieldManager = "podpaths-e2e"

// LabNodePort is frontend-nodeport's nodePort (deploy/base), which the local
// cluster and kind also publish on this machine's 127.0.0.1.
const LabNodePort = 30080

// Options say which cluster to test and how to reach it.
type Options struct {
	// Cluster is the declared kind of cluster: "local", "kind" or
	// "other". The suite checks the declaration and never guesses, so a
	// cluster that is not what it should be fails instead of skipping the
	// tests that need it.
	Cluster       string
	Namespace     string
	ClusterDomain string
	ProbeImage    string
	FactsFile     string
	Localhost     string
	OutsideNetns  string
	OutsideIP     string
	DeployDir     string
	// domainSet says the cluster domain was given, not defaulted.
	domainSet bool
}

// OptionsFromEnv reads the options from the environment, with defaults for a
// run from the e2e directory of the repository.
func OptionsFromEnv(getenv func(string) string) (Options, error) {
	o := Options{
		Cluster:       getenv(EnvCluster),
		Namespace:     or(getenv(EnvNamespace), "podpaths"),
		ClusterDomain: or(getenv(EnvClusterDomain), "cluster.local"),
		ProbeImage:    getenv(EnvProbeImage),
		FactsFile:     or(getenv(EnvFacts), DefaultFacts),
		Localhost:     getenv(EnvLocalhost),
		OutsideNetns:  getenv(EnvOutsideNetns),
		OutsideIP:     getenv(EnvOutsideIP),
		DeployDir:     or(getenv(EnvDeployDir), "../deploy"),
		domainSet:     getenv(EnvClusterDomain) != "",
	}
	switch o.Cluster {
	case "local", "kind", "other":
	default:
		return o, fmt.Errorf("%s=%q: want local, kind or other, the lab that brought the cluster up (hack/e2e.sh sets it)", EnvCluster, o.Cluster)
	}
	if o.ProbeImage == "" {
		// The probe image carries the repository's version, like the
		// services' images (never "latest").
		raw, err := os.ReadFile(or(getenv(EnvVersionFile), "../VERSION"))
		if err != nil {
			return o, fmt.Errorf("probe image tag: %w (set %s)", err, EnvProbeImage)
		}
		o.ProbeImage = "localhost/podpaths/probe:" + strings.TrimSpace(string(raw))
	}
	if (o.OutsideNetns == "") != (o.OutsideIP == "") {
		return o, fmt.Errorf("set both %s and %s, or neither", EnvOutsideNetns, EnvOutsideIP)
	}
	return o, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Node is a node and what the suite needs of it.
type Node struct {
	Name string
	// IP is the InternalIP; "" when the node has none.
	IP       string
	PodCIDRs []string
	// Schedulable is false for a node that ordinary pods do not land on
	// (cordoned, or tainted NoSchedule like kind's control plane).
	Schedulable bool
	Ready       bool
	// BehindExternalLB: the lab's load balancer in front of the NodePorts
	// sends traffic to this node (not kubeadm's control planes).
	BehindExternalLB bool
}

// Outside is a client outside the cluster: a network namespace that is not
// a node, from which NodePorts and LoadBalancers are reached as a user's
// machine would reach them.
type Outside struct {
	Netns string
	IP    string
}

// Env is one cluster under test.
type Env struct {
	Config    *rest.Config
	Client    kubernetes.Interface
	Dynamic   dynamic.Interface
	Mapper    meta.RESTMapper
	Opts      Options
	Nodes     []Node
	Localhost matrix.Localhost
	// Outside is nil when this machine has no outside client.
	Outside *Outside
	// ExternalLB is host:port of the lab's load balancer in front of the
	// nodes' NodePorts; "" when there is none, and NoExternalLB says why.
	ExternalLB, NoExternalLB string
	// Unrouted says that this machine has no route to the Service range:
	// without an Outside it is then the client outside the cluster that
	// calls a ClusterIP, a call that fails here without a packet sent.
	Unrouted bool
	// OnNode names the node this machine is (the local cluster's node A),
	// "" when it is none (kind, other).
	OnNode string
	// NodeNetns maps the local cluster's other nodes to their network
	// namespace files: `nsenter --net=FILE` is a client on that node.
	NodeNetns map[string]string
	// LinkIPs are this machine's ends of the links to the local cluster's
	// other nodes: a node address too, as masquerading may pick it.
	LinkIPs []string
	// Kind names the kind of cluster found: "local", "kind" or "other".
	Kind string
}

// New connects to the cluster that KUBECONFIG (or kubectl's default) names
// and learns where this machine stands.
func New(ctx context.Context, o Options) (*Env, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	// The suite's own calls (probe execs, waits) are many but light; the
	// default 5 QPS would make it wait on its own client.
	cfg.QPS, cfg.Burst = 50, 100
	c, err := kube.New(cfg)
	if err != nil {
		return nil, err
	}
	e := &Env{Config: c.Config, Client: c.Kube, Dynamic: c.Dynamic, Mapper: c.Mapper, Opts: o}
	if err := e.readNodes(ctx); err != nil {
		return nil, err
	}
	if err := e.learnPlace(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Env) readNodes(ctx context.Context) error {
	list, err := e.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list nodes (is the cluster up?): %w", err)
	}
	if len(list.Items) == 0 {
		return errors.New("the cluster has no nodes")
	}
	e.Nodes = nil
	for _, n := range list.Items {
		e.Nodes = append(e.Nodes, nodeOf(n))
	}
	slices.SortFunc(e.Nodes, func(a, b Node) int { return strings.Compare(a.Name, b.Name) })
	return nil
}

func nodeOf(n corev1.Node) Node {
	node := Node{Name: n.Name, IP: kube.InternalIP(&n), PodCIDRs: n.Spec.PodCIDRs, Schedulable: !n.Spec.Unschedulable,
		BehindExternalLB: kube.BehindExternalLB(&n)}
	if len(node.PodCIDRs) == 0 && n.Spec.PodCIDR != "" {
		node.PodCIDRs = []string{n.Spec.PodCIDR}
	}
	for _, taint := range n.Spec.Taints {
		if taint.Effect == corev1.TaintEffectNoSchedule || taint.Effect == corev1.TaintEffectNoExecute {
			node.Schedulable = false
		}
	}
	node.Ready, _ = kube.NodeReady(&n)
	return node
}

// Manifests applies and reverts deploy/'s components as the suite.
func (e *Env) Manifests() manifest.Client {
	return manifest.Client{Dynamic: e.Dynamic, Mapper: e.Mapper, FieldManager: FieldManager}
}

// Warnings collects the warnings the API server sends with its answers,
// e.g. Pod Security's "would violate" for a warn-level policy.
type Warnings struct {
	mu   sync.Mutex
	msgs []string
}

// HandleWarningHeader implements rest.WarningHandler.
func (w *Warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

// Take returns the warnings collected so far and forgets them.
func (w *Warnings) Take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	msgs := w.msgs
	w.msgs = nil
	return msgs
}

// WarningClient is a client whose answers' warnings are collected instead
// of logged.
func (e *Env) WarningClient() (kubernetes.Interface, *Warnings, error) {
	w := &Warnings{}
	cfg := rest.CopyConfig(e.Config)
	cfg.WarningHandler = w
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return c, w, nil
}

// Clients are the Env's API clients, for the lab's helpers that take them.
func (e *Env) Clients() kube.Clients {
	return kube.Clients{Config: e.Config, Kube: e.Client, Dynamic: e.Dynamic, Mapper: e.Mapper}
}

// Exec runs cmd in a container, as kube.Clients.Exec does.
func (e *Env) Exec(ctx context.Context, namespace, pod, container string, cmd []string) (kube.ExecResult, error) {
	return e.Clients().Exec(ctx, namespace, pod, container, cmd)
}

// PortForward forwards a local port into a pod, as kube.Clients.PortForward
// does.
func (e *Env) PortForward(ctx context.Context, namespace, pod string, port int) (addr string, stop func() error, err error) {
	return e.Clients().PortForward(ctx, namespace, pod, port)
}
