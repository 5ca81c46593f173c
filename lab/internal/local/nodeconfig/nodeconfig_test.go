package nodeconfig

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"sigs.k8s.io/yaml"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/cluster/clustertest"
	"github.com/podpaths/podpaths/lab/manifest"
)

func renderedNode(t *testing.T, c cluster.Cluster) map[string][]byte {
	t.Helper()
	files, err := Node(c, cluster.Layout{Dir: c.StateDir}, c.Nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, f := range files {
		m[filepath.Base(f.Path)] = f.Data
	}
	return m
}

// lookup walks a decoded document along keys.
func lookup(t *testing.T, doc map[string]any, keys ...string) any {
	t.Helper()
	var v any = doc
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: %v is not a map", strings.Join(keys, "."), v)
		}
		v = m[k]
	}
	return v
}

func TestContainerdConfigCannotPullAndFitsThisMachine(t *testing.T) {
	t.Parallel()
	c := clustertest.New(t)
	l := cluster.Layout{Dir: c.StateDir}
	var doc map[string]any
	if err := toml.Unmarshal(renderedNode(t, c)["containerd.toml"], &doc); err != nil {
		t.Fatalf("containerd.toml is not TOML: %v", err)
	}
	cri := []string{"plugins", "io.containerd.grpc.v1.cri"}
	runc := slices.Concat(cri, []string{"containerd", "runtimes", "runc", "options"})
	checks := []struct {
		keys []string
		want any
	}{
		{[]string{"root"}, l.Node("podpaths-a").ContainerdRoot()},
		{[]string{"grpc", "address"}, l.Node("podpaths-a").ContainerdSocket()},
		{append(slices.Clone(cri), "sandbox_image"), "localhost/podpaths/pause:3.10"},
		{append(slices.Clone(cri), "restrict_oom_score_adj"), true},
		{slices.Concat(cri, []string{"registry", "config_path"}), l.RegistryHosts()},
		{slices.Concat(cri, []string{"cni", "conf_dir"}), l.Node("podpaths-a").CNIConfDir()},
		{append(slices.Clone(runc), "SystemdCgroup"), false},
		{append(slices.Clone(runc), "Root"), l.Node("podpaths-a").RuncRoot()},
	}
	for _, ch := range checks {
		if got := lookup(t, doc, ch.keys...); got != ch.want {
			t.Errorf("containerd.toml %s: got %v, want %v", strings.Join(ch.keys, "."), got, ch.want)
		}
	}
}

func TestRegistryHostsLeadNowhere(t *testing.T) {
	t.Parallel()
	files, err := Shared(cluster.Layout{Dir: "/state"})
	if err != nil {
		t.Fatal(err)
	}
	hosts := 0
	for _, f := range files {
		if filepath.Base(f.Path) != "hosts.toml" {
			continue
		}
		hosts++
		var doc struct{ Server string }
		if err := toml.Unmarshal(f.Data, &doc); err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		if doc.Server != "http://127.0.0.1:1" {
			t.Errorf("%s: server %q, want http://127.0.0.1:1", f.Path, doc.Server)
		}
	}
	if hosts != len(blockedRegistries) || !slices.Contains(blockedRegistries, "docker.io") || !slices.Contains(blockedRegistries, "registry.k8s.io") {
		t.Errorf("hosts.toml files: %d for %v", hosts, blockedRegistries)
	}
}

func TestKubeletConfig(t *testing.T) {
	t.Parallel()
	c := clustertest.New(t)
	l := cluster.Layout{Dir: c.StateDir}
	var doc map[string]any
	if err := yaml.UnmarshalStrict(renderedNode(t, c)["kubelet.yaml"], &doc); err != nil {
		t.Fatalf("kubelet.yaml: %v", err)
	}
	checks := []struct {
		keys []string
		want any
	}{
		{[]string{"kind"}, "KubeletConfiguration"},
		{[]string{"cgroupDriver"}, "cgroupfs"},
		{[]string{"failSwapOn"}, false},
		{[]string{"failCgroupV1"}, false},
		{[]string{"resolvConf"}, l.ResolvConf()},
		{[]string{"clusterDomain"}, "cluster.local"},
		{[]string{"imageGCHighThresholdPercent"}, float64(100)},
		{[]string{"evictionHard", "nodefs.available"}, "0%"},
		{[]string{"evictionHard", "imagefs.available"}, "0%"},
		{[]string{"containerRuntimeEndpoint"}, "unix://" + l.Node("podpaths-a").ContainerdSocket()},
		{[]string{"address"}, "192.0.2.2"},
		{[]string{"authentication", "anonymous", "enabled"}, false},
		{[]string{"authorization", "mode"}, "Webhook"},
	}
	for _, ch := range checks {
		if got := lookup(t, doc, ch.keys...); got != ch.want {
			t.Errorf("kubelet.yaml %s: got %v, want %v", strings.Join(ch.keys, "."), got, ch.want)
		}
	}
	if dns := lookup(t, doc, "clusterDNS").([]any); len(dns) != 1 || dns[0] != "10.96.0.10" {
		t.Errorf("kubelet.yaml clusterDNS: got %v, want [10.96.0.10]", dns)
	}
	if _, ok := doc["cgroupRoot"]; ok {
		t.Error("node A sets cgroupRoot; it runs at the root")
	}

	c.Nodes[0].CgroupRoot = "/nodeb"
	if err := yaml.UnmarshalStrict(renderedNode(t, c)["kubelet.yaml"], &doc); err != nil {
		t.Fatal(err)
	}
	if doc["cgroupRoot"] != "/nodeb" {
		t.Errorf("a node with its own cgroup root: got %v, want /nodeb", doc["cgroupRoot"])
	}
}

func TestKubeProxyConfig(t *testing.T) {
	t.Parallel()
	c := clustertest.New(t)
	var doc map[string]any
	if err := yaml.UnmarshalStrict(renderedNode(t, c)["kube-proxy.yaml"], &doc); err != nil {
		t.Fatalf("kube-proxy.yaml: %v", err)
	}
	checks := []struct {
		keys []string
		want any
	}{
		{[]string{"mode"}, "iptables"},
		{[]string{"hostnameOverride"}, "podpaths-a"},
		{[]string{"clusterCIDR"}, "10.244.0.0/16"},
		{[]string{"conntrack", "maxPerCore"}, float64(0)},
		{[]string{"iptables", "localhostNodePorts"}, true},
		// The external load balancer asks it from another machine.
		{[]string{"healthzBindAddress"}, "0.0.0.0:10256"},
	}
	for _, ch := range checks {
		if got := lookup(t, doc, ch.keys...); got != ch.want {
			t.Errorf("kube-proxy.yaml %s: got %v, want %v", strings.Join(ch.keys, "."), got, ch.want)
		}
	}
	addrs := lookup(t, doc, "nodePortAddresses").([]any)
	if !slices.Contains(addrs, any("127.0.0.1/32")) || !slices.Contains(addrs, any("primary")) {
		t.Errorf("nodePortAddresses %v: NodePorts must answer on the node IP (primary) and on 127.0.0.1", addrs)
	}
}

func TestCNIConfigGivesPodsNoDefaultRoute(t *testing.T) {
	t.Parallel()
	c := clustertest.New(t)
	var doc struct {
		Plugins []struct {
			Type   string
			Bridge string
			IPAM   struct {
				DataDir string
				Ranges  [][]struct{ Subnet, Gateway string }
				Routes  []struct{ Dst string }
			}
		}
	}
	if err := json.Unmarshal(renderedNode(t, c)["10-podpaths.conflist"], &doc); err != nil {
		t.Fatalf("CNI config is not JSON: %v", err)
	}
	br := doc.Plugins[0]
	if br.Type != "bridge" || br.Bridge != "cni0" {
		t.Fatalf("first plugin: %+v, want the bridge cni0", br)
	}
	if r := br.IPAM.Ranges[0][0]; r.Subnet != "10.244.0.0/24" || r.Gateway != "10.244.0.1" {
		t.Errorf("range %+v, want 10.244.0.0/24 via 10.244.0.1", r)
	}
	var routes []string
	for _, r := range br.IPAM.Routes {
		routes = append(routes, r.Dst)
	}
	for _, want := range []string{"10.96.0.0/16", "10.97.0.0/24", "10.244.0.0/16", "172.31.0.0/30", "192.0.2.2/32"} {
		if !slices.Contains(routes, want) {
			t.Errorf("pod routes %v lack %s", routes, want)
		}
	}
	if slices.Contains(routes, "0.0.0.0/0") {
		t.Errorf("pod routes %v include a default route", routes)
	}
}

func TestCoreDNSNeverForwards(t *testing.T) {
	t.Parallel()
	c := clustertest.New(t)
	raw, err := CoreDNS(c, "v1.14.7")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, o := range objs {
		kinds[o.GetKind()] = true
		switch o.GetKind() {
		case "ConfigMap":
			corefile := lookup(t, o.Object, "data", "Corefile").(string)
			for _, bad := range []string{"forward", "proxy", "/etc/resolv.conf"} {
				if strings.Contains(corefile, bad) {
					t.Errorf("Corefile mentions %q; CoreDNS must not send a lookup anywhere:\n%s", bad, corefile)
				}
			}
			if !strings.Contains(corefile, "kubernetes cluster.local") {
				t.Errorf("Corefile does not serve cluster.local:\n%s", corefile)
			}
		case "Service":
			if got := lookup(t, o.Object, "spec", "clusterIP"); got != "10.96.0.10" {
				t.Errorf("kube-dns clusterIP %v, want 10.96.0.10 (the kubelet's clusterDNS)", got)
			}
		case "Deployment":
			containers := lookup(t, o.Object, "spec", "template", "spec", "containers").([]any)
			ctr := containers[0].(map[string]any)
			if ctr["image"] != "localhost/podpaths/coredns:v1.14.7" || ctr["imagePullPolicy"] != "Never" {
				t.Errorf("CoreDNS container image %v, pull policy %v", ctr["image"], ctr["imagePullPolicy"])
			}
			// The drills stop node B's kubelet; DNS must stay.
			if got := lookup(t, o.Object, "spec", "template", "spec", "nodeSelector", "kubernetes.io/hostname"); got != "podpaths-a" {
				t.Errorf("CoreDNS runs on %v, want node A (podpaths-a)", got)
			}
		}
	}
	for _, k := range []string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "Service"} {
		if !kinds[k] {
			t.Errorf("CoreDNS manifests lack a %s", k)
		}
	}
}

// TestPodRoutesReachTheNodeLinks: with node B, pods answer the host end of
// its link (a NodePort call from the host), node A and the outside client.
func TestPodRoutesReachTheNodeLinks(t *testing.T) {
	t.Parallel()
	c := clustertest.TwoNodes(t)
	routes := podRoutes(c)
	for _, want := range []string{"172.30.0.0/24", "192.0.2.2/32", "172.31.0.0/30"} {
		if !slices.Contains(routes, want) {
			t.Errorf("pod routes %v lack %s: pods answer the host end of node B's link, node A and the outside client", routes, want)
		}
	}
	if slices.Contains(routes, "172.30.0.2/32") {
		t.Errorf("pod routes %v repeat node B inside the node link range", routes)
	}
	if single := podRoutes(clustertest.New(t)); slices.Contains(single, "172.30.0.0/24") {
		t.Errorf("a single node's pods get a route to the node links: %v", single)
	}
}

func TestNodeBConfigs(t *testing.T) {
	t.Parallel()
	c := clustertest.TwoNodes(t)
	l := cluster.Layout{Dir: c.StateDir}
	b := c.Nodes[1]
	files, err := Node(c, l, b)
	if err != nil {
		t.Fatal(err)
	}
	kubeletYAML := string(files[2].Data)
	for _, want := range []string{"cgroupRoot: /podpaths-b", "podLogsDir: " + l.Node("podpaths-b").PodLogs(), "address: 172.30.0.2"} {
		if !strings.Contains(kubeletYAML, want) {
			t.Errorf("node B's kubelet.yaml lacks %q", want)
		}
	}
	if cni := string(files[1].Data); !strings.Contains(cni, `"subnet": "10.244.1.0/24"`) || !strings.Contains(cni, l.Node("podpaths-b").CNIIPAM()) {
		t.Errorf("node B's CNI config must hand out 10.244.1.0/24 from its own IPAM dir:\n%s", cni)
	}
}

// TestExternalLBConfig checks HAProxy's configuration: it listens on the
// outside client, has one server per node's NodePort, and checks each node's
// kube-proxy.
func TestExternalLBConfig(t *testing.T) {
	t.Parallel()
	c := clustertest.TwoNodes(t)
	raw, err := ExternalLB(c, 30080)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(raw)
	for _, want := range []string{
		"bind 172.31.0.2:8080",
		"server podpaths-a 192.0.2.2:30080 check port 10256",
		"server podpaths-b 172.30.0.2:30080 check port 10256",
		"option httpchk GET /healthz",
		"http-response set-header X-Podpaths-Node %[srv_name]",
		"user haproxy",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("haproxy.cfg lacks %q:\n%s", want, cfg)
		}
	}
	if n := strings.Count(cfg, "\n    server "); n != len(c.Nodes) {
		t.Errorf("haproxy.cfg has %d servers, want one per node (%d)", n, len(c.Nodes))
	}
}
