// Package matrix runs podpaths' reachability matrix against a cluster.
//
// From outside the cluster it calls the frontend's nginx through the NodePort
// on every node's InternalIP and on the localhost mapping, and through the
// LoadBalancer address. Through the first of those entries that answered it
// then asks the pods for their own view: the frontend's /api/paths (every path
// inside counts), /api/spread, and, through nginx's /my-be/, the backend's
// /api/peers and /api/whoami. `lab check` prints the result and the e2e suite
// asserts on it, so both judge a cluster the same way.
//
// Besides the Kubernetes client, only the HTTP dialer touches the network,
// and it is injectable: tests map node addresses to loopback servers there.
package matrix

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

// Localhost is an address on this machine that forwards to a node's NodePort,
// as kind's extraPortMappings do for 127.0.0.1:30080.
type Localhost struct {
	// Address is host:port, e.g. 127.0.0.1:30080.
	Address string
	// Node is the node the mapping reaches (kind: the control plane). It
	// decides the expectation under externalTrafficPolicy Local; "" means
	// unknown, and the path is then expected to work.
	Node string
	// OnNode says that this machine is Node itself (the local cluster's
	// node A), not a client forwarded to it: kube-proxy handles a call from
	// here to the NodePort on 127.0.0.1 or on Node's IP as the node's own
	// traffic, which externalTrafficPolicy Local sends to any endpoint.
	OnNode bool
}

// Config says where the matrix looks and how long it waits.
type Config struct {
	// Namespace holds the lab's workloads and Services.
	Namespace string
	// NodePortService is the NodePort Service in front of nginx.
	NodePortService string
	// LoadBalancerService is the LoadBalancer Service in front of nginx.
	LoadBalancerService string
	// BackendService is the ClusterIP Service that /api/spread balances over;
	// its ready endpoints are the replicas a spread can reach.
	BackendService string
	// Localhost, when its Address is set, is tried like a node.
	Localhost Localhost
	// NodeIPsUnreachable, when set, says why this machine cannot reach the
	// nodes' InternalIPs (Docker Desktop keeps kind's nodes inside its VM on
	// macOS and Windows); the NodePort checks on node IPs are then skipped
	// with that reason and localhost is the way in.
	NodeIPsUnreachable string
	// SpreadCalls is the n of /api/spread.
	SpreadCalls int
	// OutsideTimeout bounds each call from outside to an entry.
	OutsideTimeout time.Duration
	// InsideTimeout bounds each call through the entry. It is longer because
	// the frontend calls its own peers, each with its own timeout, before it
	// answers.
	InsideTimeout time.Duration
	// APIProxy lets the matrix fall back to the API server's service proxy
	// when no outside entry answered, so that the pods' own view is still
	// reported when only the NodePort or the LoadBalancer is broken.
	APIProxy bool
	// DialContext dials every outside connection; nil means a net.Dialer.
	DialContext probe.DialFunc
	// OutsideDial dials from a client outside the cluster: the local
	// cluster's outside network namespace, or this machine when it has no
	// route to the Service range (see Unrouted). From there the matrix
	// checks that the backend's ClusterIP does not answer: it is
	// cluster-internal. nil means there is no such client, and the check is
	// skipped with NoOutside as its reason.
	OutsideDial probe.DialFunc
	NoOutside   string
	// ExternalLB is host:port of a load balancer in front of the nodes'
	// NodePorts (the local cluster's HAProxy), with a server per node that
	// it names in the X-Podpaths-Node header of each answer. "" means there
	// is none, and its checks are skipped with NoExternalLB as the reason.
	ExternalLB   string
	NoExternalLB string

	// PerNode asks a frontend on every node that runs one for its own path
	// report and spread, through the API server's pod proxy, when the
	// frontends run on more than one node: each node's view, with the node
	// names of both ends, and the spread counted by node.
	PerNode bool
}

// DefaultConfig returns the names of docs/design.md and the timeouts
// `lab check` uses.
func DefaultConfig() Config {
	return Config{
		Namespace:           "podpaths",
		NodePortService:     "frontend-nodeport",
		LoadBalancerService: "frontend",
		BackendService:      "backend",
		SpreadCalls:         20,
		OutsideTimeout:      5 * time.Second,
		InsideTimeout:       20 * time.Second,
		APIProxy:            true,
		PerNode:             true,
	}
}

// Checker runs the matrix against one cluster.
type Checker struct {
	client kubernetes.Interface
	prober *probe.Prober
	cfg    Config
}

// New returns a Checker that reads the cluster through client.
func New(client kubernetes.Interface, cfg Config) *Checker {
	return &Checker{client: client, prober: &probe.Prober{Client: newHTTPClient(cfg.DialContext)}, cfg: cfg}
}

// newHTTPClient returns the client for outside calls: the probe's client,
// which never uses a proxy from the environment and never follows
// redirects, without keep-alive, so that every call really goes through
// the Service again instead of reusing a connection to one pod. The calls'
// contexts bound them.
func newHTTPClient(dial probe.DialFunc) *http.Client {
	return probe.NewClient(probe.ClientOptions{Dial: dial})
}

// Run runs every action and returns the result. It returns an error only when
// the cluster cannot be read at all; unreachable entries are results.
func (c *Checker) Run(ctx context.Context) (Result, error) {
	start := time.Now()
	t, err := c.discover(ctx)
	if err != nil {
		return Result{}, err
	}
	outside := c.outsideActions(t)
	actions := make([]action, len(outside))
	for i, o := range outside {
		actions[i] = o.action
	}
	results := runActions(ctx, actions)
	entry := c.pickEntry(outside, results, t)
	inside := c.insideActions(entry, t)
	results = append(results, runActions(ctx, inside)...)
	return Result{Actions: results, Entry: entryName(entry), Duration: time.Since(start)}, nil
}

// action is one call the matrix makes. It yields at least one check: the
// call itself, plus the paths that the answer carries.
type action struct {
	name string
	run  func(ctx context.Context) []Check
}

// runActions runs actions concurrently, because each may wait for its whole
// timeout, and returns their results in the order given.
func runActions(ctx context.Context, actions []action) []ActionResult {
	results := make([]ActionResult, len(actions))
	var wg sync.WaitGroup
	for i, a := range actions {
		wg.Go(func() {
			checks := a.run(ctx)
			for j := range checks {
				checks[j].Action = a.name
			}
			results[i] = ActionResult{Name: a.name, Checks: checks}
		})
	}
	wg.Wait()
	return results
}

// skipped is a check that could not run, with the reason. The unconfigured
// error kind makes report.Path.Outcome count it as skipped.
func skipped(p report.Path, reason string) Check {
	p.ErrorKind = report.ErrorUnconfigured
	p.Error = reason
	return Check{Path: normalize(p)}
}

// broken is a check that failed before any call, e.g. a missing Service.
func broken(p report.Path, err error) Check {
	markFailed(&p, err)
	return Check{Path: normalize(p)}
}

// markFailed marks p failed for a reason that is not the network's: an
// answer that could not be read, or one that does not meet the expectation.
func markFailed(p *report.Path, err error) {
	p.OK, p.ErrorKind, p.Error = false, report.ErrorOther, err.Error()
}

func entryName(e entry) string {
	if e == nil {
		return ""
	}
	return fmt.Sprintf("%s %s", e.method(), e.address())
}
