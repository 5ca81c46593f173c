package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/podpaths/podpaths/lab/exercises"
	"github.com/podpaths/podpaths/lab/kube"
	"github.com/podpaths/podpaths/lab/matrix"
	"github.com/podpaths/podpaths/lab/workshop"
)

// lab exercise: the workshop's exercises against the running lab.

const exerciseUsage = `usage: lab exercise [list | N | check | reset | docs]

  list     the exercises, and which one is active (the default)
  N        run exercise N (a number or a name): predict, change, wait, compare
  check    compare the lab with the active exercise again; exit 1 when an
           expected observation is missing
  reset    take the lab back to the base and prove every path green
  docs     print docs/workshop.md, generated from the exercises
`

func (a *app) exercise(ctx context.Context, args []string) error {
	fs := a.flags("exercise")
	fs.Usage = func() { fmt.Fprint(fs.Output(), exerciseUsage) } //nolint:errcheck // stderr is the last resort
	timeout := fs.Duration("timeout", 3*time.Minute, "how long one step may take to show in the lab")
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	cmd := "list"
	switch fs.NArg() {
	case 0:
	case 1:
		cmd = fs.Arg(0)
	default:
		fs.Usage()
		return errUsage
	}
	if cmd == "docs" {
		_, err := fmt.Fprint(a.stdout, exercises.Markdown())
		return err
	}
	r, err := a.workshop(ctx, *timeout)
	if err != nil {
		return err
	}
	switch cmd {
	case "list":
		return r.List(ctx)
	case "check":
		err := r.Check(ctx)
		if errors.Is(err, workshop.ErrExpectation) {
			a.log.Error(err.Error())
			return errCheckFailed
		}
		return err
	case "reset":
		return r.Reset(ctx)
	default:
		return r.Start(ctx, cmd)
	}
}

// workshop connects a runner to the lab this provider runs.
func (a *app) workshop(ctx context.Context, timeout time.Duration) (*workshop.Runner, error) {
	p, err := a.d.newProvider(a.g, a.log)
	if err != nil {
		return nil, err
	}
	c, err := a.clients(ctx, p, "")
	if err != nil {
		return nil, err
	}
	cfg := matrix.DefaultConfig()
	cfg.Namespace = a.g.namespace
	cfg.DialContext = a.d.dial
	cfg.Localhost = a.localhost(p, "", "")
	cfg.NodeIPsUnreachable = p.NodeIPsUnreachable()
	cfg.OutsideDial, cfg.NoOutside = p.OutsideClient()
	cfg.ExternalLB, cfg.NoExternalLB = p.ExternalLB()
	env := &workshop.Env{
		Clients: c, Namespace: a.g.namespace, Root: a.g.root, Overlay: p.Overlay(), Provider: p.Name(),
		// kind's network plugin, kindnet, enforces NetworkPolicy; the local
		// cluster's bridge plugin does not.
		EnforcesPolicy: p.Name() == "kind",
		Matrix:         cfg,
		Entries:        a.entries(ctx, c, p, cfg.Localhost),
		Out:            a.stdout,
		Timeout:        timeout,
		Poll:           time.Second,
	}
	if f, ok := p.(workshop.NodeFaults); ok {
		env.Faults = f
	}
	if o, ok := p.(workshop.OutsideNetwork); ok {
		env.Outside = o
	}
	return &workshop.Runner{Env: env, Exercises: exercises.All()}, nil
}

// entries are the base URLs that reach the frontend's nginx from here:
// the localhost mapping, the nodes this machine reaches, the LoadBalancer.
func (a *app) entries(ctx context.Context, c kube.Clients, p provider, lh matrix.Localhost) []string {
	var out []string
	if lh.Address != "" {
		out = append(out, "http://"+lh.Address)
	}
	if hc, ok := p.(hostCluster); ok {
		for _, u := range hc.NodeURLs() {
			out = append(out, strings.TrimSuffix(u, "/"))
		}
	}
	if u := a.lbURL(ctx, c); strings.HasPrefix(u, "http://") {
		out = append(out, strings.TrimSuffix(u, "/"))
	}
	return out
}
