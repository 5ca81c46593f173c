package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/podpaths/podpaths/lab/matrix"
)

// lab check: the reachability matrix against the running lab.

func (a *app) check(ctx context.Context, args []string) error {
	fs := a.flags("check")
	junit := fs.String("junit", "", "write JUnit XML to this file")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file (default: the provider's cluster)")
	localhost := fs.String("localhost", "", "host:port that forwards to a NodePort (default: the provider's mapping; none with --kubeconfig)")
	outside := fs.Duration("timeout", 5*time.Second, "timeout of each call from outside")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	p, err := a.d.newProvider(a.g, a.log)
	if err != nil {
		return err
	}
	c, err := a.clients(ctx, p, *kubeconfig)
	if err != nil {
		return err
	}
	cfg := matrix.DefaultConfig()
	cfg.Namespace = a.g.namespace
	cfg.OutsideTimeout = *outside
	cfg.DialContext = a.d.dial
	cfg.Localhost = a.localhost(p, *localhost, *kubeconfig)
	if *kubeconfig == "" {
		cfg.NodeIPsUnreachable = p.NodeIPsUnreachable()
		cfg.OutsideDial, cfg.NoOutside = p.OutsideClient()
		cfg.ExternalLB, cfg.NoExternalLB = p.ExternalLB()
	} else {
		cfg.NoOutside = "--kubeconfig names another cluster, whose clients outside it the lab does not know"
		cfg.NoExternalLB = "--kubeconfig names another cluster, whose load balancers the lab does not know"
	}
	started := time.Now()
	res, err := matrix.New(c.Kube, cfg).Run(ctx)
	if err != nil {
		return err
	}
	if err := res.Write(a.stdout); err != nil {
		return err
	}
	if *junit != "" {
		if err := writeJUnit(*junit, res, started); err != nil {
			return err
		}
	}
	if !res.Passed() {
		return errCheckFailed
	}
	return nil
}

// localhost picks the localhost entry: the flag, else the provider's mapping
// unless another cluster's kubeconfig was given.
func (a *app) localhost(p provider, flagAddr, kubeconfig string) matrix.Localhost {
	if flagAddr != "" {
		return matrix.Localhost{Address: flagAddr}
	}
	if kubeconfig != "" {
		return matrix.Localhost{}
	}
	lh, err := p.Localhost()
	if err != nil {
		a.log.Warn("not checking the NodePort on localhost", "err", err)
		return matrix.Localhost{}
	}
	return lh
}

func writeJUnit(path string, res matrix.Result, started time.Time) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("junit: %w", cerr)
		}
	}()
	return res.WriteJUnit(f, "podpaths check", started)
}
