// Package workshop runs the lab's exercises as code. An exercise asks the
// participant to predict something, changes one thing in the running lab,
// waits until the cluster shows the change, and then shows what changed
// against the state before it, each line marked as predicted or
// unexpected; its expectations say what must be observed, and a reset
// takes the lab back to the base and proves every path green.
//
// This package is the engine: an exercise's shape, the runner, the state
// it observes and the expectations it checks. What the steps do is package
// actions; the exercises themselves are package lab/exercises (the drills
// lab/exercises/drills). The same definitions are what `make exercise` runs
// for a participant, what the e2e suite runs in CI, and what
// docs/workshop.md is generated from, so the prose cannot claim what the
// lab does not do.
package workshop

import (
	"context"
	"io"
	"time"

	"github.com/podpaths/podpaths/lab/kube"
	"github.com/podpaths/podpaths/lab/matrix"
)

// Exercise is one workshop exercise.
type Exercise struct {
	// Slug names the exercise in commands and anchors, e.g. "scale".
	Slug  string
	Title string
	// Goal is one sentence: what the participant will see.
	Goal string
	// Predict are the questions to answer before the change.
	Predict []string
	// Steps are the changes, in order, each with what it must show.
	Steps []Step
	// Explain is the explanation, in Markdown.
	Explain string
	// Notes are Markdown paragraphs after the explanation, e.g. how the
	// two providers differ.
	Notes []string
	// Undo ends what the exercise did outside the lab's namespace (a fault
	// it started: CoreDNS scaled away, a node's daemon stopped), which
	// applying the overlay again cannot. The reset runs it first.
	Undo []Action
	// Only names the one provider the exercise runs on, "" for both.
	Only string
}

// Step is one change and what it must show once the cluster has followed.
type Step struct {
	// Name says what the step does, e.g. "scale to 0".
	Name string
	Do   []Action
	// Expect are the observations; the step has converged when all hold.
	Expect []Expectation
	// Within bounds the wait for convergence; 0 means Env.Timeout. A step
	// that waits for DNS caches to expire needs longer than one that waits
	// for a rollout.
	Within time.Duration
	// Hold is how long every expectation must keep holding before the step
	// counts as converged, for a change that reaches some clients later
	// than others: nginx's worker processes each cache DNS answers
	// (valid=5s), so one answer from nginx does not speak for the next.
	Hold time.Duration
}

// Action is one change to the lab.
type Action interface {
	// Command is what a participant would type to make the change, for
	// the docs and the runner's output.
	Command() string
	Run(ctx context.Context, env *Env) error
}

// Expectation is one observation that must hold after a step.
type Expectation interface {
	// Text says what is observed, in Markdown, as the docs print it.
	Text() string
	// Check returns nil when the observation holds in s (and the
	// cluster); else an error that says what is seen instead.
	Check(ctx context.Context, env *Env, s *State) error
}

// Covering is an Expectation about paths of the report or of `make
// check`: the runner marks a changed path as predicted when an expectation
// covers its id.
type Covering interface {
	Covers(id string) bool
}

// Env is the lab the exercises run against.
type Env struct {
	Clients   kube.Clients
	Namespace string
	// Root is the repository; DeployDir and Overlay are relative to it.
	Root string
	// Overlay is the provider's overlay, e.g. deploy/overlays/local.
	Overlay string
	// Provider is "kind" or "local": some observations differ.
	Provider string
	// EnforcesPolicy says the cluster's network plugin enforces
	// NetworkPolicy; observations that need it are not asserted elsewhere.
	EnforcesPolicy bool
	// Matrix is how the state is observed, as `make check` does.
	Matrix matrix.Config
	// Entries are base URLs that reach the frontend's nginx from here
	// (localhost, node IPs, the LoadBalancer), tried in order.
	Entries []string
	// Out gets the progress and the results.
	Out io.Writer
	// Timeout bounds the wait for a step to converge.
	Timeout time.Duration
	// Poll is the pause between two observations while waiting.
	Poll time.Duration
	// Watched holds what an action such as actions.WatchDelete saw, by
	// name, for the expectations that read it.
	Watched map[string][]string
	// Faults stops and starts a node's own daemons, where the provider can
	// (the local cluster's nodes are processes of this machine); nil
	// elsewhere.
	Faults NodeFaults
	// Outside changes what the local cluster's outside client can reach;
	// nil elsewhere.
	Outside OutsideNetwork
}

// OutsideNetwork is the local cluster's outside client, a network
// namespace whose routes the exercises may change.
type OutsideNetwork interface {
	// RouteServices gives the outside client a route to the Service range
	// through node A (add), or takes it away.
	RouteServices(ctx context.Context, add bool) error
	// OutsideIP is the outside client's own address.
	OutsideIP() (string, error)
}

// NodeFaults stops and starts the daemons of a node, for the drills.
type NodeFaults interface {
	// Stop stops daemon ("kube-proxy" or "kubelet") on node; what it set
	// up (iptables rules, running containers) stays, as after a crash.
	Stop(ctx context.Context, node, daemon string) error
	// Start starts it again.
	Start(ctx context.Context, node, daemon string) error
}

// Workload names a Deployment or a StatefulSet of the lab.
type Workload struct {
	Kind string // "deployment" or "statefulset", as kubectl spells it
	Name string
}

// The lab's workloads.
var (
	Backend  = Workload{Kind: "statefulset", Name: "backend"}
	Frontend = Workload{Kind: "deployment", Name: "frontend"}
)

func (w Workload) String() string { return w.Kind + "/" + w.Name }
