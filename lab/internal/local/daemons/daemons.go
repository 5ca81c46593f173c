// Package daemons runs the cluster's long-running programs the way
// hack/local-up-cluster.sh in Kubernetes does: host processes, each with its
// own log file and pid file, started in order and waited for. It derives
// every daemon's command line from the cluster (ControlPlane, ForNode,
// MetalLBController), starts one unless it already runs with the same
// command and configs (Ensure), so a second `up` is quick, and stops it by
// its recorded pid (Stop).
package daemons

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
)

// Daemon is one long-running process of the cluster: a host process with
// its own log file and pid file.
type Daemon struct {
	// name is the program's role: etcd, kube-apiserver, kubelet, ...
	name string
	// node is "" for the control plane and MetalLB, else the node's name.
	node string
	bin  string
	args []string
	// env is the whole environment besides PATH: a daemon inherits nothing
	// from the shell that ran the lab (no KUBECONFIG, no proxy settings).
	env []string
	// netns runs the daemon in a node's network namespace (nsenter --net),
	// keeping the host's mounts and cgroups, which the kubelet needs.
	netns string
	// configs are files the daemon reads at start; a change restarts it.
	configs []string
	// grace is how long SIGTERM gets before SIGKILL. The API server may
	// ignore SIGTERM for 20 s while it drains; nothing here needs that.
	grace time.Duration
	// logFile and pidFile are where its output and pid go.
	logFile, pidFile string
}

// daemonPath is the PATH of every daemon: containerd finds runc and its
// shim, the kubelet mount and nsenter, kube-proxy iptables.
const daemonPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// command is the argv proc.Start runs: env(1) with a clean environment,
// then nsenter for a node in its own namespace, then the program. Each
// execs the next, so the recorded pid ends up being the program's.
func (d Daemon) command() []string {
	cmd := append([]string{"-i", daemonPath}, d.env...)
	if d.netns != "" {
		cmd = append(cmd, "nsenter", "--net="+d.netns)
	}
	cmd = append(cmd, d.bin)
	return append(cmd, d.args...)
}

// specHash identifies what a running daemon was started with: its command
// and the content of its config files. `up` restarts a daemon whose spec
// changed and leaves the others running.
func (d Daemon) specHash() (string, error) {
	var in bytes.Buffer
	fmt.Fprintf(&in, "%q\n", d.command())
	for _, f := range d.configs {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("%s config: %w", d.name, err)
		}
		fmt.Fprintf(&in, "%s %d\n", f, len(b))
		in.Write(b)
	}
	sum := sha256.Sum256(in.Bytes())
	return hex.EncodeToString(sum[:]), nil
}

func (d Daemon) specFile() string { return d.pidFile + ".spec" }

// String names the daemon in logs: kubelet@podpaths-a.
func (d Daemon) String() string {
	if d.node == "" {
		return d.name
	}
	return d.name + "@" + d.node
}

// Well-known local ports of the control plane, and the health endpoints
// `up` waits on.
const (
	// EtcdClientURL is where the API server reaches etcd, with a client
	// certificate; EtcdHealthURL is on etcd's metrics listener, which
	// needs none.
	EtcdClientURL = "https://127.0.0.1:2379"
	EtcdHealthURL = etcdMetricURL + "/health"
	etcdPeerURL   = "http://127.0.0.1:2380"
	etcdMetricURL = "http://127.0.0.1:2381"
	// ControllerManagerHealthURL and SchedulerHealthURL are served with
	// certificates the components make themselves (see ProbeClient).
	ControllerManagerHealthURL = "https://127.0.0.1:10257/healthz"
	SchedulerHealthURL         = "https://127.0.0.1:10259/healthz"
	// KubeletHealthURL and KubeProxyHealthURL are on the node's own
	// loopback: the host's for node A.
	KubeletHealthURL   = "http://127.0.0.1:10248/healthz"
	KubeProxyHealthURL = "http://127.0.0.1:10256/healthz"
	// MetalLBPort is where MetalLB's controller serves its metrics, which
	// `up` waits for.
	MetalLBPort = 7472
	metallbNS   = "metallb-system"
)

// Programs says where each built program is; build.Outputs does.
type Programs interface {
	Bin(name string) string
}

func controlDaemon(l cluster.Layout, name, bin string, args ...string) Daemon {
	return Daemon{name: name, bin: bin, args: args, grace: 10 * time.Second,
		logFile: filepath.Join(l.Logs(), name+".log"), pidFile: filepath.Join(l.Run(), name+".pid")}
}

// ControlPlane are etcd, the API server, the controller manager and the
// scheduler, in start order.
func ControlPlane(c cluster.Cluster, l cluster.Layout, b Programs) []Daemon {
	cp := c.ControlPlane()
	pki := func(f string) string { return filepath.Join(l.PKI(), f) }
	etcd := controlDaemon(l, "etcd", b.Bin("etcd"),
		"--name="+cp.Name, "--data-dir="+l.Etcd(),
		"--listen-client-urls="+EtcdClientURL, "--advertise-client-urls="+EtcdClientURL,
		"--listen-peer-urls="+etcdPeerURL, "--initial-advertise-peer-urls="+etcdPeerURL,
		"--initial-cluster="+cp.Name+"="+etcdPeerURL, "--listen-metrics-urls="+etcdMetricURL,
		"--cert-file="+pki("etcd-server.crt"), "--key-file="+pki("etcd-server.key"),
		"--client-cert-auth=true", "--trusted-ca-file="+pki("etcd-ca.crt"),
		// The data is thrown away at `down`; not waiting for the disk on
		// every write makes the API server much faster on a small VM.
		"--unsafe-no-fsync=true",
	)
	api := controlDaemon(l, "kube-apiserver", b.Bin("kube-apiserver"),
		"--etcd-servers="+EtcdClientURL, "--etcd-cafile="+pki("etcd-ca.crt"),
		"--etcd-certfile="+pki("apiserver-etcd-client.crt"), "--etcd-keyfile="+pki("apiserver-etcd-client.key"),
		"--bind-address="+cp.IP.String(), "--advertise-address="+cp.IP.String(),
		"--secure-port="+strconv.Itoa(c.APIServerPort),
		"--tls-cert-file="+pki("apiserver.crt"), "--tls-private-key-file="+pki("apiserver.key"),
		"--client-ca-file="+pki("ca.crt"),
		"--kubelet-client-certificate="+pki("apiserver-kubelet-client.crt"),
		"--kubelet-client-key="+pki("apiserver-kubelet-client.key"),
		"--kubelet-certificate-authority="+pki("ca.crt"),
		"--kubelet-preferred-address-types=InternalIP",
		"--service-account-key-file="+pki("sa.pub"), "--service-account-signing-key-file="+pki("sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc."+c.Domain,
		"--service-cluster-ip-range="+c.ServiceCIDR.String(),
		"--service-node-port-range="+c.NodePortRange,
		"--authorization-mode=Node,RBAC",
		// PodSecurity is on by default; naming it says that the namespace
		// label pod-security.kubernetes.io/enforce: restricted is enforced.
		"--enable-admission-plugins=NodeRestriction,PodSecurity",
		// No pod of the lab needs a privileged container (kind's API
		// server allows them for its own kube-proxy and CNI pods).
		"--allow-privileged=false",
		"--profiling=false",
	)
	api.grace = 5 * time.Second
	kcm := controlDaemon(l, "kube-controller-manager", b.Bin("kube-controller-manager"),
		"--kubeconfig="+pki("controller-manager.kubeconfig"),
		"--authentication-kubeconfig="+pki("controller-manager.kubeconfig"),
		"--authorization-kubeconfig="+pki("controller-manager.kubeconfig"),
		"--bind-address=127.0.0.1", "--leader-elect=false", "--use-service-account-credentials=true",
		"--service-account-private-key-file="+pki("sa.key"), "--root-ca-file="+pki("ca.crt"),
		"--cluster-signing-cert-file="+pki("ca.crt"), "--cluster-signing-key-file="+pki("ca.key"),
		"--allocate-node-cidrs=true", "--cluster-cidr="+c.PodCIDR.String(), "--node-cidr-mask-size=24",
		"--service-cluster-ip-range="+c.ServiceCIDR.String(),
		"--profiling=false",
	)
	sched := controlDaemon(l, "kube-scheduler", b.Bin("kube-scheduler"),
		"--kubeconfig="+pki("scheduler.kubeconfig"),
		"--authentication-kubeconfig="+pki("scheduler.kubeconfig"),
		"--authorization-kubeconfig="+pki("scheduler.kubeconfig"),
		"--bind-address=127.0.0.1", "--leader-elect=false", "--profiling=false",
	)
	return []Daemon{etcd, api, kcm, sched}
}

// ForNode are a node's containerd, kubelet and kube-proxy, in start order.
func ForNode(l cluster.Layout, n cluster.Node, b Programs) []Daemon {
	nl := l.Node(n.Name)
	nodeDaemon := func(name, bin string, args ...string) Daemon {
		return Daemon{name: name, node: n.Name, bin: bin, args: args, netns: n.NetNS, grace: 10 * time.Second,
			logFile: filepath.Join(nl.Logs(), name+".log"), pidFile: filepath.Join(nl.Run(), name+".pid")}
	}
	containerd := nodeDaemon("containerd", "/usr/bin/containerd", "--config="+nl.ContainerdConfig())
	// Belt and braces for "nothing can be pulled": a registry that the
	// hosts.toml files do not name would be reached through this proxy, and
	// nothing listens on 127.0.0.1:1. Go's HTTP client never proxies
	// localhost, so localhost/ images still resolve locally.
	containerd.env = []string{"HTTPS_PROXY=http://127.0.0.1:1", "HTTP_PROXY=http://127.0.0.1:1", "NO_PROXY="}
	containerd.configs = []string{nl.ContainerdConfig(), filepath.Join(nl.CNIConfDir(), "10-podpaths.conflist")}

	kubelet := nodeDaemon("kubelet", b.Bin("kubelet"),
		"--config="+nl.KubeletConfig(),
		"--kubeconfig="+filepath.Join(nl.PKI(), "kubelet.kubeconfig"),
		"--root-dir="+nl.Kubelet(),
		"--node-ip="+n.IP.String(),
		"--hostname-override="+n.Name,
	)
	kubelet.configs = []string{nl.KubeletConfig()}

	proxy := nodeDaemon("kube-proxy", b.Bin("kube-proxy"), "--config="+nl.KubeProxyConfig())
	proxy.configs = []string{nl.KubeProxyConfig()}
	return []Daemon{containerd, kubelet, proxy}
}

// MetalLBController assigns LoadBalancer addresses from deploy/local-lb's
// pool. It runs as a host process, without its webhooks (which would need a
// Service and certificates in the cluster), and without the speaker.
func MetalLBController(l cluster.Layout, b Programs) Daemon {
	d := controlDaemon(l, "metallb-controller", b.Bin("metallb-controller"),
		"--namespace="+metallbNS, "--webhook-mode=disabled", "--disable-cert-rotation",
		"--port="+strconv.Itoa(MetalLBPort), "--log-level=info")
	d.env = []string{"KUBECONFIG=" + filepath.Join(l.PKI(), "admin.kubeconfig")}
	return d
}

// ExternalLB is HAProxy in the outside client's network namespace: the
// load balancer in front of the nodes' NodePorts (haproxy.cfg.tmpl).
func ExternalLB(c cluster.Cluster, l cluster.Layout) Daemon {
	d := controlDaemon(l, "haproxy", "/usr/sbin/haproxy", "-db", "-f", l.ExternalLBConfig())
	d.netns = c.Outside.NetNS
	d.configs = []string{l.ExternalLBConfig()}
	return d
}

// allDaemons lists every daemon of the cluster in start order; `down` stops
// them in the reverse.
func allDaemons(c cluster.Cluster, l cluster.Layout, b Programs) []Daemon {
	ds := slices.Clone(ControlPlane(c, l, b))
	for _, n := range c.Nodes {
		ds = append(ds, ForNode(l, n, b)...)
	}
	return append(ds, MetalLBController(l, b), ExternalLB(c, l))
}
