package guards

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/podpaths/podpaths/lab/internal/local/cluster/clustertest"
	"github.com/podpaths/podpaths/lab/internal/local/host/hosttest"
)

func TestRestoreInputReplacesChainsInOneTransaction(t *testing.T) {
	t.Parallel()
	got := restoreInput([]chain{{name: "A", rules: [][]string{{"-o", "lo", "-m", "comment", "--comment", "two words", "-j", "RETURN"}}}, {name: "B"}})
	want := "*filter\n:A - [0:0]\n:B - [0:0]\n-A A -o lo -m comment --comment \"two words\" -j RETURN\nCOMMIT\n"
	if got != want {
		t.Errorf("restore input:\n got %q\nwant %q", got, want)
	}
}

func TestJumpCommands(t *testing.T) {
	t.Parallel()
	listing := func(targets ...string) []string {
		out := []string{"-P FORWARD DROP"}
		for _, tg := range targets {
			out = append(out, "-A FORWARD -j "+tg)
		}
		return out
	}
	first := jump{from: "FORWARD", to: "G", first: true}
	last := jump{from: "FORWARD", to: "A", first: false}
	tests := []struct {
		name    string
		listing []string
		j       jump
		want    string
	}{
		{"first, missing", listing("DOCKER-USER"), first, "[[-I FORWARD 1 -j G]]"},
		{"first, in place", listing("G", "DOCKER-USER"), first, "[]"},
		{"first, pushed down by kube-proxy", listing("KUBE-FORWARD", "G", "X"), first, "[[-I FORWARD 1 -j G] [-D FORWARD 3]]"},
		{"first, twice", listing("G", "X", "G"), first, "[[-I FORWARD 1 -j G] [-D FORWARD 4] [-D FORWARD 2]]"},
		{"last, missing", listing("X"), last, "[[-A FORWARD -j A]]"},
		{"last, in place", listing("X", "A"), last, "[]"},
		{"last, not last", listing("A", "X"), last, "[[-A FORWARD -j A] [-D FORWARD 1]]"},
		{"other chain's rule ignored", append(listing("G"), "-A OUTPUT -j G"), first, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := fmt.Sprint(jumpCommands(tt.listing, tt.j)); got != tt.want {
				t.Errorf("jumpCommands(%q, %+v): got %s, want %s", tt.listing, tt.j, got, tt.want)
			}
		})
	}
	if got := fmt.Sprint(removeJumpCommands(listing("G", "X", "G"), first)); got != "[[-D FORWARD 3] [-D FORWARD 1]]" {
		t.Errorf("removeJumpCommands: got %s", got)
	}
}

// TestApplyNetworkIsIdempotentAndRemovable applies the plan twice, lets
// "kube-proxy" push the guard down, re-places it, and removes it all.
func TestApplyNetworkIsIdempotentAndRemovable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	h := hosttest.New()
	p := NewPlan(clustertest.New(t))
	if err := Apply(ctx, h, p); err != nil {
		t.Fatal(err)
	}
	if got := h.Chains["FORWARD"]; !slices.Equal(got, []string{forwardChain, "DOCKER-USER", "DOCKER-ISOLATION-STAGE-1", acceptChain}) {
		t.Errorf("FORWARD after apply: %v", got)
	}
	if got := h.Chains["OUTPUT"]; !slices.Equal(got, []string{guardChain, unallocatedChain}) {
		t.Errorf("OUTPUT after apply: %v", got)
	}
	if !h.Links["podpaths-svc"] || h.Sysctls["net/ipv4/ip_forward"] != "1" || !h.Routes["unreachable 10.244.0.0/16"] {
		t.Errorf("apply: links %v, sysctls %v, routes %v", h.Links, h.Sysctls, h.Routes)
	}
	// The first command of all is the guard chains: nothing before them.
	if cmds := h.Commands(); !strings.HasPrefix(cmds[0], "iptables-restore") {
		t.Errorf("first command %q; the guard chains must come first", cmds[0])
	}

	if err := Apply(ctx, h, p); err != nil {
		t.Fatal(err)
	}
	for _, c := range h.Commands() {
		if strings.HasPrefix(c, "iptables -w 10 -I") || strings.HasPrefix(c, "iptables -w 10 -A") || strings.Contains(c, "link add") {
			t.Errorf("second apply changed something: %s", c)
		}
	}

	h.Chains["FORWARD"] = slices.Insert(h.Chains["FORWARD"], 0, "KUBE-FORWARD")
	if err := PlaceJumps(ctx, h, p); err != nil {
		t.Fatal(err)
	}
	if got := h.Chains["FORWARD"]; got[0] != forwardChain || strings.Count(fmt.Sprint(got), forwardChain) != 1 {
		t.Errorf("FORWARD after kube-proxy and PlaceJumps: %v", got)
	}

	if err := Remove(ctx, h, p); err != nil {
		t.Fatal(err)
	}
	if got := h.Chains["FORWARD"]; !slices.Equal(got, []string{"KUBE-FORWARD", "DOCKER-USER", "DOCKER-ISOLATION-STAGE-1"}) {
		t.Errorf("FORWARD after remove: %v (others' rules must stay)", got)
	}
	if len(h.Chains["OUTPUT"]) != 0 || len(h.Links) != 0 || len(h.Routes) != 0 || len(h.Owned) != 0 {
		t.Errorf("left after remove: OUTPUT %v, links %v, routes %v, chains %v", h.Chains["OUTPUT"], h.Links, h.Routes, h.Owned)
	}
	h.Commands()
	if err := Remove(ctx, h, p); err != nil {
		t.Errorf("removing again: %v", err)
	}
	for _, c := range h.Commands() {
		if !strings.Contains(c, " -S ") {
			t.Errorf("removing what is gone ran %q", c)
		}
	}
}

func TestSysctlsAreRestored(t *testing.T) {
	t.Parallel()
	h := hosttest.New()
	file := t.TempDir() + "/sysctls.json"
	// The machine's own values; bridge-nf-call-iptables does not exist
	// before br_netfilter is loaded.
	h.Sysctls["net/ipv4/conf/all/route_localnet"] = "0"
	h.Sysctls["net/ipv4/ip_forward"] = "0"
	if err := RecordSysctls(h, file); err != nil {
		t.Fatal(err)
	}
	if err := Apply(t.Context(), h, NewPlan(clustertest.New(t))); err != nil {
		t.Fatal(err)
	}
	h.Sysctls["net/ipv4/conf/all/route_localnet"] = "1" // kube-proxy
	if err := RecordSysctls(h, file); err != nil {
		t.Fatal(err)
	}
	if err := RestoreSysctls(h, file); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"net/ipv4/conf/all/route_localnet":   "0",
		"net/ipv4/ip_forward":                "0",
		"net/bridge/bridge-nf-call-iptables": "1", // not the machine's: it had none
	}
	for k, v := range want {
		if h.Sysctls[k] != v {
			t.Errorf("%s after restore: %s, want %s (a second up must not record the cluster's values)", k, h.Sysctls[k], v)
		}
	}
	if err := RestoreSysctls(h, t.TempDir()+"/none.json"); err != nil {
		t.Errorf("nothing recorded: %v", err)
	}
}

// TestCheckFindsEveryDifference runs Check against a fake iptables that
// answers `-S` from a listing and `-C` from a set of rules.
func TestCheckFindsEveryDifference(t *testing.T) {
	t.Parallel()
	p := Plan{
		chains: []chain{{name: "PODPATHS-T", rules: [][]string{{"-i", "lo", "-j", "RETURN"}, {"-p", "tcp", "-j", "DROP"}}}},
		jumps:  []jump{{from: "INPUT", to: "PODPATHS-T", first: true}},
	}
	good := fakeIptables{
		"-S PODPATHS-T":                 "-N PODPATHS-T\n-A PODPATHS-T -i lo -j RETURN\n-A PODPATHS-T -p tcp -j DROP",
		"-S INPUT":                      "-P INPUT ACCEPT\n-A INPUT -j PODPATHS-T\n-A INPUT -j KUBE-FIREWALL",
		"-C PODPATHS-T -i lo -j RETURN": "", "-C PODPATHS-T -p tcp -j DROP": "",
	}
	if err := Check(t.Context(), good, p); err != nil {
		t.Errorf("Check of the planned rules: %v", err)
	}
	for name, change := range map[string]func(fakeIptables){
		"a rule missing": func(f fakeIptables) { delete(f, "-C PODPATHS-T -p tcp -j DROP") },
		"a rule added": func(f fakeIptables) {
			f["-S PODPATHS-T"] += "\n-A PODPATHS-T -j ACCEPT"
		},
		"the jump below another": func(f fakeIptables) {
			f["-S INPUT"] = "-P INPUT ACCEPT\n-A INPUT -j KUBE-FIREWALL\n-A INPUT -j PODPATHS-T"
		},
		"the chain gone": func(f fakeIptables) { delete(f, "-S PODPATHS-T") },
	} {
		f := maps.Clone(good)
		change(f)
		if err := Check(t.Context(), f, p); err == nil {
			t.Errorf("%s: Check found nothing", name)
		}
	}
}

// fakeIptables answers iptables commands (without the -w flags) from a map;
// a command not in it fails.
type fakeIptables map[string]string

func (f fakeIptables) Run(_ context.Context, _ []byte, name string, args ...string) (string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		if args[i] == "-w" {
			i++ // and its value
			continue
		}
		rest = append(rest, args[i])
	}
	out, ok := f[strings.Join(rest, " ")]
	if !ok || name != "iptables" {
		return "", fmt.Errorf("%s %s: exit status 1", name, strings.Join(rest, " "))
	}
	return out, nil
}
