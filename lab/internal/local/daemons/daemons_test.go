package daemons

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/cluster/clustertest"
)

// testPrograms maps each program to its component: a build puts it under
// /cache/<component>/bin.
type testPrograms map[string]string

func (p testPrograms) Bin(name string) string { return "/cache/" + p[name] + "/bin/" + name }

func testBuilds() testPrograms {
	return testPrograms{
		"kube-apiserver": "kubernetes", "kube-controller-manager": "kubernetes", "kube-scheduler": "kubernetes",
		"kubelet": "kubernetes", "kube-proxy": "kubernetes", "kubectl": "kubernetes",
		"etcd": "etcd", "coredns": "coredns", "metallb-controller": "metallb", "crictl": "crictl",
	}
}

func daemonNamed(t *testing.T, ds []Daemon, name string) Daemon {
	t.Helper()
	i := slices.IndexFunc(ds, func(d Daemon) bool { return d.name == name })
	if i < 0 {
		t.Fatalf("no daemon %s", name)
	}
	return ds[i]
}

func TestControlPlaneFlags(t *testing.T) {
	t.Parallel()
	c := clustertest.New(t)
	l := cluster.Layout{Dir: c.StateDir}
	ds := ControlPlane(c, l, testBuilds())
	if names := []string{ds[0].name, ds[1].name, ds[2].name, ds[3].name}; !slices.Equal(names, []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}) {
		t.Errorf("start order %v", names)
	}
	api := strings.Join(daemonNamed(t, ds, "kube-apiserver").args, " ")
	for _, want := range []string{
		"--service-cluster-ip-range=10.96.0.0/16", "--bind-address=192.0.2.2", "--advertise-address=192.0.2.2",
		"--enable-admission-plugins=NodeRestriction,PodSecurity", "--authorization-mode=Node,RBAC",
		"--kubelet-certificate-authority=" + filepath.Join(l.PKI(), "ca.crt"), "--etcd-servers=https://127.0.0.1:2379",
		"--etcd-certfile=" + filepath.Join(l.PKI(), "apiserver-etcd-client.crt"), "--etcd-cafile=" + filepath.Join(l.PKI(), "etcd-ca.crt"),
		"--service-node-port-range=30000-32767", "--allow-privileged=false",
	} {
		if !strings.Contains(api, want) {
			t.Errorf("kube-apiserver lacks %s", want)
		}
	}
	kcm := strings.Join(daemonNamed(t, ds, "kube-controller-manager").args, " ")
	for _, want := range []string{"--cluster-cidr=10.244.0.0/16", "--node-cidr-mask-size=24", "--allocate-node-cidrs=true", "--bind-address=127.0.0.1"} {
		if !strings.Contains(kcm, want) {
			t.Errorf("kube-controller-manager lacks %s", want)
		}
	}
	etcd := strings.Join(daemonNamed(t, ds, "etcd").args, " ")
	if strings.Contains(etcd, "0.0.0.0") || !strings.Contains(etcd, "--listen-client-urls=https://127.0.0.1:2379") {
		t.Errorf("etcd must listen on loopback only, with TLS: %s", etcd)
	}
	if !strings.Contains(etcd, "--client-cert-auth=true") || !strings.Contains(etcd, "--trusted-ca-file="+filepath.Join(l.PKI(), "etcd-ca.crt")) {
		t.Errorf("etcd must ask every client for a certificate from etcd's own CA: %s", etcd)
	}
}

func TestNodeDaemons(t *testing.T) {
	t.Parallel()
	c := clustertest.New(t)
	l := cluster.Layout{Dir: c.StateDir}
	ds := ForNode(l, c.Nodes[0], testBuilds())
	containerd := daemonNamed(t, ds, "containerd")
	cmd := containerd.command()
	if cmd[0] != "-i" || !slices.Contains(cmd, "HTTPS_PROXY=http://127.0.0.1:1") || slices.Contains(cmd, "nsenter") {
		t.Errorf("containerd command %q: want a clean environment with the dead-end proxy, in the host namespace", cmd)
	}
	kubelet := strings.Join(daemonNamed(t, ds, "kubelet").command(), " ")
	for _, want := range []string{"--node-ip=192.0.2.2", "--hostname-override=podpaths-a", "--root-dir=" + l.Node("podpaths-a").Kubelet()} {
		if !strings.Contains(kubelet, want) {
			t.Errorf("kubelet command lacks %s: %s", want, kubelet)
		}
	}
	if !strings.HasPrefix(daemonNamed(t, ds, "kube-proxy").logFile, l.Node("podpaths-a").Logs()) {
		t.Error("kube-proxy logs outside its node's directory")
	}

	c.Nodes[0].NetNS = "/state/b.netns"
	in := strings.Join(ForNode(l, c.Nodes[0], testBuilds())[1].command(), " ")
	if !strings.Contains(in, "nsenter --net=/state/b.netns /cache/kubernetes/bin/kubelet") {
		t.Errorf("a node in its own namespace: kubelet command %s", in)
	}
}

func TestMetalLBControllerHasNoWebhooksAndNoSpeaker(t *testing.T) {
	t.Parallel()
	c := clustertest.New(t)
	l := cluster.Layout{Dir: c.StateDir}
	d := MetalLBController(l, testBuilds())
	args := strings.Join(d.args, " ")
	if !strings.Contains(args, "--webhook-mode=disabled") || !strings.Contains(args, "--namespace=metallb-system") {
		t.Errorf("metallb-controller args %s", args)
	}
	for _, d := range allDaemons(c, l, testBuilds()) {
		if strings.Contains(d.bin, "speaker") {
			t.Errorf("the speaker is started: %s", d.bin)
		}
	}
	if !slices.Contains(d.env, "KUBECONFIG="+filepath.Join(l.PKI(), "admin.kubeconfig")) {
		t.Errorf("metallb-controller env %v", d.env)
	}
}

func TestSpecHashFollowsConfigContent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "kubelet.yaml")
	if err := os.WriteFile(cfg, []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := Daemon{name: "kubelet", bin: "/bin/kubelet", args: []string{"--config=" + cfg}, configs: []string{cfg}}
	first, err := d.specHash()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := d.specHash(); again != first {
		t.Error("the same spec hashes differently")
	}
	if err := os.WriteFile(cfg, []byte("a: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if changed, _ := d.specHash(); changed == first {
		t.Error("a changed config file keeps the hash: `up` would not restart the kubelet")
	}
	d.args = append(d.args, "--v=2")
	if changed, _ := d.specHash(); changed == first {
		t.Error("a changed flag keeps the hash")
	}
	d.configs = []string{filepath.Join(dir, "missing")}
	if _, err := d.specHash(); err == nil {
		t.Error("a missing config file: got no error")
	}
}

func TestNodeBDaemonsRunInItsNamespace(t *testing.T) {
	t.Parallel()
	c := clustertest.TwoNodes(t)
	l := cluster.Layout{Dir: c.StateDir}
	b := c.Nodes[1]
	for _, d := range ForNode(l, b, testBuilds()) {
		cmd := d.command()
		i := slices.Index(cmd, "nsenter")
		if i < 0 || cmd[i+1] != "--net="+b.NetNS || slices.Contains(cmd, "netns") {
			t.Errorf("%s: %q; want nsenter --net=%s", d, cmd, b.NetNS)
		}
		if !strings.HasPrefix(d.pidFile, l.Node(b.Name).Dir) {
			t.Errorf("%s keeps its pid file outside node B's directory: %s", d, d.pidFile)
		}
	}
	kubelet := strings.Join(ForNode(l, b, testBuilds())[1].command(), " ")
	for _, want := range []string{"--node-ip=172.30.0.2", "--hostname-override=podpaths-b", "--root-dir=" + l.Node("podpaths-b").Kubelet()} {
		if !strings.Contains(kubelet, want) {
			t.Errorf("node B's kubelet lacks %s: %s", want, kubelet)
		}
	}
}
