//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/lab/facts"
	"github.com/podpaths/podpaths/lab/localnodes"
	"github.com/podpaths/podpaths/platform/report"
)

// The LAN neighbour: a network namespace of its own, joined to this machine
// by a veth pair whose host end is no interface of the cluster's, as a
// laptop on the same café Wi-Fi reaches this machine through eth0. Its
// addresses come from the benchmarking range (RFC 2544), which no real
// network routes. The namespace belongs to a process (`unshare --net`), not
// to a file under /run/netns: `ip netns add` would remount /run/netns,
// after which the pods' network namespaces there can no longer be removed.
const (
	lanHostLink = "pp-e2e-lan"
	lanPeerLink = "pp-e2e-lan-ns"
	lanHostIP   = "198.18.0.1"
	lanIP       = "198.18.0.2"
	// lanClusterIP is the LoadBalancer range's last address, which no
	// Service has (MetalLB's pool ends at .200). The test routes it
	// through the neighbour's link, as a mistaken route would, and the guard
	// must drop what this machine sends to it.
	lanClusterIP = "10.97.0.254"
	lanLBRange   = "10.97.0.0/24"
)

// TestGuards proves the lab's guards on the live cluster. On every cluster
// the lab made, CoreDNS answers cluster names only. On the local cluster,
// whose daemons are this machine's, also: etcd answers only clients with a
// certificate, the rules are the plan `up` applied, a LAN neighbour reaches
// no port of the cluster, and a packet for a cluster range that would leave
// through an interface not the cluster's is dropped, with the guard's
// counter rising. Every packet stays on this machine: the neighbour is a
// namespace the test creates.
func TestGuards(t *testing.T) {
	r := begin(t, 3*time.Minute)
	t.Run("dns-answers-cluster-names-only", r.dnsAnswersClusterNamesOnly)
	if r.env.Kind != "local" {
		t.Logf("the other guards are the local cluster's daemons and rules; this is a %s cluster", r.env.Kind)
		return
	}
	f, err := facts.Read(r.env.Opts.FactsFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("etcd-asks-for-a-client-certificate", func(t *testing.T) {
		etcdAsksForACertificate(t, r.ctx, filepath.Join(filepath.Dir(r.env.Opts.FactsFile), "pki"))
	})
	t.Run("live-rules-are-the-plan", func(t *testing.T) {
		if err := localnodes.CheckGuards(r.ctx, f.Name); err != nil {
			t.Errorf("the live guards differ from the plan:\n%v", err)
		}
	})
	if f.LBCIDR != lanLBRange {
		t.Fatalf("the cluster's LoadBalancer range is %s; the test knows %s", f.LBCIDR, lanLBRange)
	}
	lan := newLANNeighbour(t, r.ctx, f.NodeIP)
	t.Run("lan-neighbour-reaches-no-cluster-port", func(t *testing.T) {
		lan.reachesNoClusterPort(t, r.ctx, f.NodeIP)
	})
	t.Run("cluster-range-never-leaves", func(t *testing.T) {
		lan.keepsClusterRangeIn(t, r.ctx)
	})
}

// dnsAnswersClusterNamesOnly reads every CoreDNS pod's metrics through the
// API server's pod proxy: each live server must run the kubernetes plugin
// and no forward, so no lookup of a pod leaves the cluster. (kind's Corefile
// forwards until the lab removes it; the local cluster's never has.)
func (r *run) dnsAnswersClusterNamesOnly(t *testing.T) {
	pods, err := r.env.Client.CoreV1().Pods(metav1.NamespaceSystem).List(r.ctx, metav1.ListOptions{LabelSelector: "k8s-app=kube-dns"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) == 0 {
		t.Fatal("no CoreDNS pod (k8s-app=kube-dns in kube-system)")
	}
	for _, p := range pods.Items {
		raw, err := r.env.Client.CoreV1().Pods(p.Namespace).ProxyGet("http", p.Name, "9153", "/metrics", nil).DoRaw(r.ctx)
		if err != nil {
			t.Errorf("CoreDNS pod %s's metrics: %v", p.Name, err)
			continue
		}
		plugins := enabledPlugins(raw)
		if !plugins["kubernetes"] {
			t.Errorf("CoreDNS pod %s runs no kubernetes plugin (enabled: %v)", p.Name, plugins)
		}
		if plugins["forward"] {
			t.Errorf("CoreDNS pod %s forwards names outside the cluster (enabled: %v)", p.Name, plugins)
		}
	}
}

// pluginEnabled is CoreDNS's gauge of a plugin in a server block's chain.
var pluginEnabled = regexp.MustCompile(`(?m)^coredns_plugin_enabled\{[^}]*name="([^"]+)"[^}]*\} 1$`)

// enabledPlugins are the plugins a CoreDNS's metrics say it runs.
func enabledPlugins(metrics []byte) map[string]bool {
	out := map[string]bool{}
	for _, m := range pluginEnabled.FindAllSubmatch(metrics, -1) {
		out[string(m[1])] = true
	}
	return out
}

// etcdAsksForACertificate calls etcd on loopback as any process of this
// machine could: without a client certificate it must not answer, nor with
// another certificate of the cluster (the admin's), and with the API
// server's it must (so the refusal is the certificate's doing).
func etcdAsksForACertificate(t *testing.T, ctx context.Context, pkiDir string) {
	t.Helper()
	caPEM, err := os.ReadFile(filepath.Join(pkiDir, "etcd-ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("etcd-ca.crt holds no certificate")
	}
	pair := func(name string) tls.Certificate {
		cert, err := tls.LoadX509KeyPair(filepath.Join(pkiDir, name+".crt"), filepath.Join(pkiDir, name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		return cert
	}
	get := func(certs ...tls.Certificate) (int, error) {
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: certs, MinVersion: tls.VersionTLS12}}}
		defer client.CloseIdleConnections()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://127.0.0.1:2379/version", nil)
		if err != nil {
			return 0, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close() //nolint:errcheck // read-only body
		return resp.StatusCode, nil
	}
	if status, err := get(); err == nil {
		t.Errorf("etcd answered %d to a client without a certificate", status)
	}
	if status, err := get(pair("admin")); err == nil {
		t.Errorf("etcd answered %d to the cluster admin's certificate; it must trust only its own CA", status)
	}
	if status, err := get(pair("apiserver-etcd-client")); err != nil || status != http.StatusOK {
		t.Errorf("etcd with the API server's client certificate: %d, %v; want 200", status, err)
	}
}

type lanNeighbour struct {
	netns   string
	outside *cluster.Outside
}

// newLANNeighbour creates the neighbour's namespace, with a route to
// nodeIP, and removes it when the test ends.
func newLANNeighbour(t *testing.T, ctx context.Context, nodeIP string) *lanNeighbour {
	t.Helper()
	if out, err := exec.CommandContext(ctx, "ip", "-4", "-o", "addr", "show", "to", "198.18.0.0/15").Output(); err != nil || len(out) > 0 {
		t.Fatalf("this machine already has an address in 198.18.0.0/15 (%q, %v); the test would disturb it", out, err)
	}
	holder := exec.CommandContext(ctx, "unshare", "--net", "sleep", "infinity")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The namespace, and the veth pair with it, go with its last process.
		_ = holder.Process.Kill() //nolint:errcheck // it may have ended
		_ = holder.Wait()         //nolint:errcheck // killed on purpose
	})
	netns := fmt.Sprintf("/proc/%d/ns/net", holder.Process.Pid)
	waitForOwnNetns(t, ctx, netns)
	pid := strconv.Itoa(holder.Process.Pid)
	in := func(args ...string) []string { return append([]string{"--net=" + netns, "ip"}, args...) }
	for _, cmd := range [][]string{
		{"ip", "link", "add", lanHostLink, "type", "veth", "peer", "name", lanPeerLink, "netns", pid},
		{"ip", "addr", "add", lanHostIP + "/30", "dev", lanHostLink},
		{"ip", "link", "set", lanHostLink, "up"},
		append([]string{"nsenter"}, in("link", "set", "lo", "up")...),
		append([]string{"nsenter"}, in("addr", "add", lanIP+"/30", "dev", lanPeerLink)...),
		append([]string{"nsenter"}, in("link", "set", lanPeerLink, "up")...),
		append([]string{"nsenter"}, in("route", "add", nodeIP+"/32", "via", lanHostIP)...),
	} {
		runCmd(t, ctx, cmd...)
	}
	return &lanNeighbour{netns: netns, outside: &cluster.Outside{Netns: netns, IP: lanIP}}
}

// waitForOwnNetns waits until netns, a process's namespace, is not this
// process's: `unshare` makes the new namespace only after it started.
func waitForOwnNetns(t *testing.T, ctx context.Context, netns string) {
	t.Helper()
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if ns, err := os.Readlink(netns); err == nil && ns != self {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never left this machine's network namespace", netns)
		case <-tick.C:
		}
	}
}

func runCmd(t *testing.T, ctx context.Context, cmd ...string) {
	t.Helper()
	if out, err := exec.CommandContext(ctx, cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(cmd, " "), err, out)
	}
}

// reachesNoClusterPort calls every port the cluster opens on node A's
// address from the neighbour: each must time out, dropped by the INPUT
// guard (the NodePort by the FORWARD one, after kube-proxy's rewrite), while a port of this machine that is not the cluster's answers
// (so the neighbour's link works, and only the guard stops it).
func (l *lanNeighbour) reachesNoClusterPort(t *testing.T, ctx context.Context, nodeIP string) {
	t.Helper()
	control := serveOn(t, nodeIP)
	if c := l.get(t, ctx, "http://"+control+"/"); c.ErrorKind != report.ErrorNone {
		t.Fatalf("the neighbour cannot reach a port of this machine that is not the cluster's (%s): %s %s", control, c.ErrorKind, c.Error)
	}
	// The NodePort is rewritten to a pod's address before INPUT, so its
	// drop counts in the FORWARD chain.
	drops := func() int {
		return dropped(t, ctx, "PODPATHS-INPUT", "no cluster port") + dropped(t, ctx, "PODPATHS-FORWARD", "nothing from other interfaces")
	}
	before := drops()
	ports := map[string]string{
		"6443": "the API server", "10250": "the kubelet", "7472": "MetalLB's metrics",
		strconv.Itoa(cluster.LabNodePort): "the frontend's NodePort", "2379": "etcd",
	}
	for port, what := range ports {
		c := l.get(t, ctx, "http://"+net.JoinHostPort(nodeIP, port)+"/")
		if c.ErrorKind != report.ErrorTimeout {
			t.Errorf("from the LAN neighbour, %s (%s:%s): %q %s, want it dropped (timeout)", what, nodeIP, port, c.ErrorKind, c.Error)
		}
	}
	if after := drops(); after < before+len(ports) {
		t.Errorf("the guards' drop counters went from %d to %d, want at least %d more", before, after, len(ports))
	}
}

// keepsClusterRangeIn routes a LoadBalancer-range address through the
// neighbour's link, which the neighbour holds, and calls it from this
// machine: the OUTPUT guard must drop the packet. Had it left, the
// neighbour (no listener) would have refused at once.
func (l *lanNeighbour) keepsClusterRangeIn(t *testing.T, ctx context.Context) {
	t.Helper()
	runCmd(t, ctx, "nsenter", "--net="+l.netns, "ip", "addr", "add", lanClusterIP+"/32", "dev", lanPeerLink)
	runCmd(t, ctx, "ip", "route", "add", lanClusterIP+"/32", "dev", lanHostLink)
	before := dropped(t, ctx, "PODPATHS-GUARD", lanLBRange)
	c := fromHere(ctx, "http://"+lanClusterIP+":8080/", time.Second).Calls[0]
	if c.ErrorKind != report.ErrorTimeout {
		t.Errorf("to %s through %s: %q %s, want it dropped (timeout)", lanClusterIP, lanHostLink, c.ErrorKind, c.Error)
	}
	if after := dropped(t, ctx, "PODPATHS-GUARD", lanLBRange); after <= before {
		t.Errorf("the guard's drop counter for %s stayed at %d", lanLBRange, after)
	}
}

func (l *lanNeighbour) get(t *testing.T, ctx context.Context, url string) report.ProbeCall {
	t.Helper()
	out, err := l.outside.Get(ctx, url, "--timeout", "1s")
	if err != nil || len(out.Calls) != 1 {
		t.Fatalf("GET %s from the LAN neighbour: %v (%d calls)", url, err, len(out.Calls))
	}
	return out.Calls[0]
}

// serveOn serves 200 on ip, on a port the kernel picks (from its ephemeral
// range, above the NodePorts), until the test ends.
func serveOn(t *testing.T, ip string) string {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
	go srv.Serve(ln)                  //nolint:errcheck // ends with Close
	t.Cleanup(func() { srv.Close() }) //nolint:errcheck // test cleanup
	return ln.Addr().String()
}

// counterLine is a rule in `iptables -L -v -x -n`: packets, bytes, target.
var counterLine = regexp.MustCompile(`^\s*(\d+)\s+\d+\s+DROP\s`)

// dropped sums the packet counters of the DROP rules in chain whose listing
// contains match.
func dropped(t *testing.T, ctx context.Context, chain, match string) int {
	t.Helper()
	out, err := exec.CommandContext(ctx, "iptables", "-w", "10", "-L", chain, "-v", "-x", "-n").Output()
	if err != nil {
		t.Fatalf("iptables -L %s: %v", chain, err)
	}
	sum, found := 0, false
	for line := range strings.SplitSeq(string(out), "\n") {
		if m := counterLine.FindStringSubmatch(line); m != nil && strings.Contains(line, match) {
			n, err := strconv.Atoi(m[1])
			if err != nil {
				t.Fatal(err)
			}
			sum, found = sum+n, true
		}
	}
	if !found {
		t.Fatalf("no DROP rule matching %q in %s:\n%s", match, chain, out)
	}
	return sum
}
