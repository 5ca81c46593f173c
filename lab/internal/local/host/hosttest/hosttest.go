// Package hosttest is a fake host.Host for the tests of the network guards
// and the namespaces: it records every command and keeps just enough state
// (the built-in chains' rules, the links, routes, mounts and sysctls) for
// the code under test to find what it did, so a second run can be checked
// to change nothing.
package hosttest

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/podpaths/podpaths/lab/internal/local/host"
)

// Host records commands and keeps the state they leave.
type Host struct {
	mu   sync.Mutex
	cmds []string
	// Chains maps a built-in chain to the "-j TARGET" of each rule, in order.
	Chains map[string][]string
	// Owned are the chains created by iptables-restore.
	Owned   map[string]bool
	Links   map[string]bool
	Routes  map[string]bool
	Mounts  map[string]bool
	Sysctls map[string]string
	// Namespaces hold the iptables state of commands run with nsenter.
	Namespaces map[string]*Host
}

// New returns a host whose FORWARD chain has Docker's jumps, as on a
// machine that runs Docker.
func New() *Host {
	return &Host{
		Chains: map[string][]string{"FORWARD": {"DOCKER-USER", "DOCKER-ISOLATION-STAGE-1"}, "OUTPUT": nil},
		Owned:  map[string]bool{}, Links: map[string]bool{}, Routes: map[string]bool{}, Mounts: map[string]bool{},
		Sysctls: map[string]string{}, Namespaces: map[string]*Host{},
	}
}

// namespace is the state behind `nsenter --net=FILE`: a fresh namespace's
// chains are empty.
func (h *Host) namespace(file string) *Host {
	ns, ok := h.Namespaces[file]
	if !ok {
		ns = New()
		ns.Chains = map[string][]string{"FORWARD": nil, "OUTPUT": nil}
		h.Namespaces[file] = ns
	}
	return ns
}

// Run records the command and plays its effect on the state.
func (h *Host) Run(ctx context.Context, stdin []byte, name string, args ...string) (string, error) {
	h.mu.Lock()
	h.cmds = append(h.cmds, strings.TrimSpace(name+" "+strings.Join(args, " ")))
	if name == "nsenter" && (args[1] == "iptables" || args[1] == "iptables-restore") {
		ns := h.namespace(strings.TrimPrefix(args[0], "--net="))
		h.mu.Unlock()
		out, err := ns.Run(ctx, stdin, args[1], args[2:]...)
		ns.Commands()
		return out, err
	}
	defer h.mu.Unlock()
	args = slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "-w" || a == "10" })
	switch name {
	case "iptables-restore":
		for line := range strings.SplitSeq(string(stdin), "\n") {
			if strings.HasPrefix(line, ":") {
				h.Owned[strings.Fields(line[1:])[0]] = true
			}
		}
	case "iptables":
		return h.iptables(args)
	case "ip":
		switch {
		case args[0] == "link" && args[1] == "add":
			h.Links[args[2]] = true
		case args[0] == "link" && args[1] == "del":
			delete(h.Links, args[2])
		case args[0] == "route" && args[1] == "replace":
			h.Routes[strings.Join(args[2:], " ")] = true
		case args[0] == "route" && args[1] == "del":
			delete(h.Routes, strings.Join(args[2:], " "))
		}
	case "unshare":
		h.Mounts[strings.TrimPrefix(args[0], "--net=")] = true
	case "umount":
		delete(h.Mounts, args[0])
	}
	return "", nil
}

func (h *Host) iptables(args []string) (string, error) {
	switch args[0] {
	case "-S":
		out := "-P " + args[1] + " ACCEPT\n"
		for _, t := range h.Chains[args[1]] {
			out += "-A " + args[1] + " -j " + t + "\n"
		}
		return out, nil
	case "-I":
		pos, _ := strconv.Atoi(args[2])
		h.Chains[args[1]] = slices.Insert(h.Chains[args[1]], pos-1, args[4])
	case "-A":
		h.Chains[args[1]] = append(h.Chains[args[1]], args[3])
	case "-D":
		pos, _ := strconv.Atoi(args[2])
		h.Chains[args[1]] = slices.Delete(h.Chains[args[1]], pos-1, pos)
	case "-X":
		delete(h.Owned, args[1])
	}
	return "", nil
}

// WriteSysctl records the value.
func (h *Host) WriteSysctl(k, v string) error { h.Sysctls[k] = v; return nil }

// ReadSysctl returns the value recorded, and an error for none.
func (h *Host) ReadSysctl(k string) (string, error) {
	if v, ok := h.Sysctls[k]; ok {
		return v, nil
	}
	return "", fmt.Errorf("no sysctl %s: %w", k, fs.ErrNotExist)
}

// LinkExists reports a link added and not deleted.
func (h *Host) LinkExists(name string) bool { return h.Links[name] }

// ChainExists reports a chain created and not deleted.
func (h *Host) ChainExists(_ context.Context, name string) bool {
	return h.Owned[name]
}

// RouteExists reports a route replaced and not deleted.
func (h *Host) RouteExists(_ context.Context, r host.Route) bool {
	return h.Routes[strings.Join(r.Args(), " ")]
}

// Mounted reports a namespace pinned and not unmounted.
func (h *Host) Mounted(path string) bool { return h.Mounts[path] }

// Commands returns and forgets the recorded commands.
func (h *Host) Commands() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.cmds
	h.cmds = nil
	return c
}
