package guards

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/host"
)

// restoreInput is the iptables-restore input that creates the lab's chains
// or, with --noflush, empties and refills them in one transaction: there is
// no moment without the guard.
func restoreInput(chains []chain) string {
	var b strings.Builder
	b.WriteString("*filter\n")
	for _, c := range chains {
		fmt.Fprintf(&b, ":%s - [0:0]\n", c.name)
	}
	for _, c := range chains {
		for _, r := range c.rules {
			fmt.Fprintf(&b, "-A %s %s\n", c.name, quoteRule(r))
		}
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

func quoteRule(r []string) string {
	q := make([]string, len(r))
	for i, a := range r {
		if strings.ContainsAny(a, " \t\"") {
			a = strconv.Quote(a)
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// jumpPositions finds the jump j in its chain's listing: the rule numbers
// (from 1) where it stands, and how many rules the chain has.
func jumpPositions(listing []string, j jump) (at []int, n int) {
	rule := "-A " + j.from + " -j " + j.to
	for _, line := range listing {
		if !strings.HasPrefix(line, "-A "+j.from+" ") {
			continue
		}
		n++
		if line == rule {
			at = append(at, n)
		}
	}
	return at, n
}

// jumpCommands are the iptables commands that leave exactly one jump j in
// its built-in chain, at the right end, given the chain's rules as
// `iptables -S <chain>` prints them. None when it is already so. Others'
// rules (kube-proxy puts its jumps first too) keep their order.
func jumpCommands(listing []string, j jump) [][]string {
	at, n := jumpPositions(listing, j)
	if len(at) == 1 && ((j.first && at[0] == 1) || (!j.first && at[0] == n)) {
		return nil
	}
	var cmds [][]string
	shift := 0
	if j.first {
		cmds = append(cmds, []string{"-I", j.from, "1", "-j", j.to})
		shift = 1
	} else {
		cmds = append(cmds, []string{"-A", j.from, "-j", j.to})
	}
	// Delete the old ones from the bottom, so the numbers stay right.
	for i := len(at) - 1; i >= 0; i-- {
		cmds = append(cmds, []string{"-D", j.from, strconv.Itoa(at[i] + shift)})
	}
	return cmds
}

// removeJumpCommands delete every jump from j.from to j.to.
func removeJumpCommands(listing []string, j jump) [][]string {
	at, _ := jumpPositions(listing, j)
	var cmds [][]string
	for i := len(at) - 1; i >= 0; i-- {
		cmds = append(cmds, []string{"-D", j.from, strconv.Itoa(at[i])})
	}
	return cmds
}

// Apply puts the plan in place. Every step is idempotent.
func Apply(ctx context.Context, h host.Host, p Plan) error {
	if _, err := h.Run(ctx, []byte(restoreInput(p.chains)), "iptables-restore", host.IptablesWait("--noflush")...); err != nil {
		return fmt.Errorf("guard chains: %w", err)
	}
	if err := placeJumps(ctx, h, p.jumps); err != nil {
		return err
	}
	for _, s := range p.sysctls {
		if err := h.WriteSysctl(s[0], s[1]); err != nil {
			return err
		}
	}
	for _, b := range p.bridges {
		if err := ensureBridge(ctx, h, b); err != nil {
			return err
		}
	}
	return replaceRoutes(ctx, h, p.routes)
}

// ApplyLinkRoutes adds the routes to the namespaced nodes' pods, once their
// veth pairs exist.
func ApplyLinkRoutes(ctx context.Context, h host.Host, p Plan) error {
	return replaceRoutes(ctx, h, p.linkRoutes)
}

func replaceRoutes(ctx context.Context, h host.Host, routes []host.Route) error {
	for _, r := range routes {
		if _, err := h.Run(ctx, nil, "ip", append([]string{"route", "replace"}, r.Args()...)...); err != nil {
			return fmt.Errorf("route %s: %w", strings.Join(r.Args(), " "), err)
		}
	}
	return nil
}

// PlaceJumps puts the plan's jumps where they belong. `up` runs it again
// after kube-proxy started, because kube-proxy inserts its own jumps first.
func PlaceJumps(ctx context.Context, h host.Runner, p Plan) error {
	return placeJumps(ctx, h, p.jumps)
}

// ApplyInNode puts unallocatedRules into a node's own network namespace, in
// which r runs its commands: its pods' packets for a Service address are
// rewritten, or not, by its own kube-proxy, and remembered by its own
// conntrack table. The namespace goes with everything in it, so there is
// nothing to remove.
func ApplyInNode(ctx context.Context, r host.Runner, c cluster.Cluster) error {
	restore := []byte(restoreInput([]chain{unallocatedRules(c)}))
	if _, err := r.Run(ctx, restore, "iptables-restore", host.IptablesWait("--noflush")...); err != nil {
		return err
	}
	return placeJumps(ctx, r, unallocatedJumps)
}

// placeJumps puts jumps where they belong, leaving others' rules in their
// order.
func placeJumps(ctx context.Context, h host.Runner, jumps []jump) error {
	for _, j := range jumps {
		listing, err := listChain(ctx, h, j.from)
		if err != nil {
			return err
		}
		for _, cmd := range jumpCommands(listing, j) {
			if _, err := h.Run(ctx, nil, "iptables", host.IptablesWait(cmd...)...); err != nil {
				return fmt.Errorf("jump %s -> %s: %w", j.from, j.to, err)
			}
		}
	}
	return nil
}

func listChain(ctx context.Context, h host.Runner, name string) ([]string, error) {
	out, err := h.Run(ctx, nil, "iptables", host.IptablesWait("-S", name)...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", name, err)
	}
	return strings.Split(strings.TrimSpace(out), "\n"), nil
}

// ensureBridge creates an empty bridge without IPv6 (no link-local address,
// so not even neighbour discovery) and sets it up.
func ensureBridge(ctx context.Context, h host.Host, name string) error {
	if !h.LinkExists(name) {
		if _, err := h.Run(ctx, nil, "ip", "link", "add", name, "type", "bridge"); err != nil {
			return fmt.Errorf("bridge %s: %w", name, err)
		}
	}
	for _, args := range [][]string{{"link", "set", name, "addrgenmode", "none"}, {"link", "set", name, "up"}} {
		if _, err := h.Run(ctx, nil, "ip", args...); err != nil {
			return fmt.Errorf("bridge %s: %w", name, err)
		}
	}
	return nil
}

// Remove takes the plan down again: jumps first, so no packet meets a
// half-removed chain, then the chains, routes and bridges. What is already
// gone is not an error; every step is tried, and the errors are joined.
func Remove(ctx context.Context, h host.Host, p Plan) error {
	var errs []error
	for _, j := range p.jumps {
		listing, err := listChain(ctx, h, j.from)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, cmd := range removeJumpCommands(listing, j) {
			if _, err := h.Run(ctx, nil, "iptables", host.IptablesWait(cmd...)...); err != nil {
				errs = append(errs, fmt.Errorf("remove jump %s -> %s: %w", j.from, j.to, err))
			}
		}
	}
	for _, flag := range []string{"-F", "-X"} {
		for _, c := range p.chains {
			if !h.ChainExists(ctx, c.name) {
				continue
			}
			if _, err := h.Run(ctx, nil, "iptables", host.IptablesWait(flag, c.name)...); err != nil {
				errs = append(errs, fmt.Errorf("remove chain %s: %w", c.name, err))
			}
		}
	}
	for _, r := range slices.Concat(p.linkRoutes, p.routes) {
		if !h.RouteExists(ctx, r) {
			continue
		}
		if _, err := h.Run(ctx, nil, "ip", append([]string{"route", "del"}, r.Args()...)...); err != nil {
			errs = append(errs, fmt.Errorf("remove route %s: %w", strings.Join(r.Args(), " "), err))
		}
	}
	for _, b := range p.bridges {
		errs = append(errs, host.DeleteLink(ctx, h, b))
	}
	return errors.Join(errs...)
}

// Check compares the live rules with the plan: each of the lab's chains
// holds exactly the planned rules (iptables -C finds each one, and the
// chain has no others), and each jump stands once, at its end of its
// built-in chain. It reports every difference, joined.
func Check(ctx context.Context, h host.Runner, p Plan) error {
	var errs []error
	for _, c := range p.chains {
		listing, err := listChain(ctx, h, c.name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// `iptables -S CHAIN` prints -N CHAIN, then one -A line per rule.
		if n := len(listing) - 1; n != len(c.rules) {
			errs = append(errs, fmt.Errorf("chain %s has %d rules, the plan %d", c.name, n, len(c.rules)))
		}
		for _, r := range c.rules {
			if _, err := h.Run(ctx, nil, "iptables", host.IptablesWait(append([]string{"-C", c.name}, r...)...)...); err != nil {
				errs = append(errs, fmt.Errorf("chain %s lacks %s", c.name, quoteRule(r)))
			}
		}
	}
	for _, j := range p.jumps {
		listing, err := listChain(ctx, h, j.from)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if cmds := jumpCommands(listing, j); cmds != nil {
			errs = append(errs, fmt.Errorf("the jump %s -> %s is not where it belongs (first: %t)", j.from, j.to, j.first))
		}
	}
	return errors.Join(errs...)
}
