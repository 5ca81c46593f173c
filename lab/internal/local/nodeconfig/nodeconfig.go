// Package nodeconfig renders the files the local cluster's daemons read:
// each node's containerd, CNI, kubelet and kube-proxy configs, the files
// every node shares, CoreDNS's manifests and the external load balancer's
// HAProxy config. It only renders; the caller writes the files.
package nodeconfig

import (
	"bytes"
	"embed"
	"fmt"
	"net/netip"
	"path/filepath"
	"text/template"

	"github.com/podpaths/podpaths/lab/internal/externallb"
	"github.com/podpaths/podpaths/lab/internal/local/cluster"
)

// The config files are Go templates, so that each reads as the file it
// renders, with comments saying why a setting is there.
//
//go:embed templates/*.tmpl
var templateFS embed.FS

var templates = template.Must(template.New("local").Option("missingkey=error").ParseFS(templateFS, "templates/*.tmpl"))

// Images the cluster itself runs, built FROM scratch by hack/images.sh.
const (
	// PauseImage is every pod's sandbox (containerd's sandbox_image).
	PauseImage = "localhost/podpaths/pause:3.10"
	// coreDNSImageRepo is tagged with the CoreDNS version.
	coreDNSImageRepo = "localhost/podpaths/coredns"
	// coreDNSPort is where CoreDNS listens inside its pod; see coredns.yaml.tmpl.
	coreDNSPort = 1053
)

// blockedRegistries are mapped to 127.0.0.1:1 in containerd's registry
// config: the registries Kubernetes manifests name most. containerd 1.6 has
// no default entry for the rest; its proxy setting catches those.
var blockedRegistries = []string{
	"docker.io", "registry-1.docker.io", "registry.k8s.io", "k8s.gcr.io", "gcr.io", "quay.io", "ghcr.io",
	"mcr.microsoft.com", "public.ecr.aws", "nvcr.io", "localhost",
}

// nodeView is what the per-node templates see: a node with every path and
// address already resolved to text.
type nodeView struct {
	Name, IP, PodCIDR, Gateway, Bridge, CgroupRoot string
	PodRoutes                                      []string

	ContainerdRoot, ContainerdState, ContainerdSocket, RuncRoot string
	CNIConfDir, CNIIPAM, RegistryHosts, SandboxImage            string

	ResolvConf, PodLogs, CAFile, ServingCert, ServingKey string
	ClusterDNS, ClusterDomain                            string

	ClusterCIDR, KubeProxyKubeconfig string
}

func newNodeView(c cluster.Cluster, l cluster.Layout, n cluster.Node) nodeView {
	nl := l.Node(n.Name)
	return nodeView{
		Name: n.Name, IP: n.IP.String(), PodCIDR: n.PodCIDR.String(), Gateway: n.GatewayIP().String(),
		Bridge: n.Bridge, CgroupRoot: n.CgroupRoot, PodRoutes: podRoutes(c),

		ContainerdRoot: nl.ContainerdRoot(), ContainerdState: nl.ContainerdState(),
		ContainerdSocket: nl.ContainerdSocket(), RuncRoot: nl.RuncRoot(),
		CNIConfDir: nl.CNIConfDir(), CNIIPAM: nl.CNIIPAM(), RegistryHosts: l.RegistryHosts(), SandboxImage: PauseImage,

		ResolvConf: l.ResolvConf(), PodLogs: nl.PodLogs(), CAFile: filepath.Join(l.PKI(), "ca.crt"),
		ServingCert: filepath.Join(nl.PKI(), "kubelet-serving.crt"), ServingKey: filepath.Join(nl.PKI(), "kubelet-serving.key"),
		ClusterDNS: c.DNSIP.String(), ClusterDomain: c.Domain,

		ClusterCIDR: c.PodCIDR.String(), KubeProxyKubeconfig: filepath.Join(l.PKI(), "kube-proxy.kubeconfig"),
	}
}

// podRoutes are the only routes a pod gets besides its own node's range:
// there is no default route, so a pod that tries an address outside the
// cluster fails at once ("network is unreachable") and sends nothing. Pods
// reach the Service and LoadBalancer ranges (kube-proxy rewrites those on the
// node), the other nodes' pods, every node, and the outside client, which
// they must answer when a Service keeps the client's address
// (externalTrafficPolicy: Local).
func podRoutes(c cluster.Cluster) []string {
	routes := []string{c.ServiceCIDR.String(), c.LBCIDR.String(), c.PodCIDR.String(), c.Outside.IP.Masked().String()}
	linked := len(c.Namespaced()) > 0
	for _, n := range c.Nodes {
		if c.PodCIDR.Contains(n.IP) || (linked && c.NodeLinkCIDR.Contains(n.IP)) {
			continue
		}
		routes = append(routes, netip.PrefixFrom(n.IP, n.IP.BitLen()).String())
	}
	if linked {
		// The node links: a namespaced node's own address and the host's
		// end, from which the host calls a NodePort on that node (and which
		// externalTrafficPolicy Local keeps as the client's address).
		routes = append(routes, c.NodeLinkCIDR.String())
	}
	return routes
}

// File is one rendered file and where it belongs.
type File struct {
	Path string
	Data []byte
}

// Node renders a node's containerd, CNI, kubelet and kube-proxy
// configs.
func Node(c cluster.Cluster, l cluster.Layout, n cluster.Node) ([]File, error) {
	v := newNodeView(c, l, n)
	nl := l.Node(n.Name)
	files := []struct{ tmpl, path string }{
		{"containerd.toml.tmpl", nl.ContainerdConfig()},
		{"cni.conflist.tmpl", filepath.Join(nl.CNIConfDir(), "10-podpaths.conflist")},
		{"kubelet.yaml.tmpl", nl.KubeletConfig()},
		{"kube-proxy.yaml.tmpl", nl.KubeProxyConfig()},
	}
	out := make([]File, 0, len(files))
	for _, f := range files {
		b, err := render(f.tmpl, v)
		if err != nil {
			return nil, err
		}
		out = append(out, File{Path: f.path, Data: b})
	}
	return out, nil
}

// Shared renders the files every node reads: the pods' resolv.conf and
// containerd's registry redirects.
func Shared(l cluster.Layout) ([]File, error) {
	b, err := render("resolv.conf.tmpl", nil)
	if err != nil {
		return nil, err
	}
	files := []File{{Path: l.ResolvConf(), Data: b}}
	for _, r := range blockedRegistries {
		b, err := render("hosts.toml.tmpl", r)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: filepath.Join(l.RegistryHosts(), r, "hosts.toml"), Data: b})
	}
	return files, nil
}

// coreDNSView is what coredns.yaml.tmpl sees.
type coreDNSView struct {
	Domain, Image, ClusterIP string
	Port                     int
	// Node is the node CoreDNS runs on: node A.
	Node string
}

// CoreDNS renders the CoreDNS manifests for the image of version.
func CoreDNS(c cluster.Cluster, version string) ([]byte, error) {
	return render("coredns.yaml.tmpl", coreDNSView{
		Domain: c.Domain, Image: coreDNSImage(version), ClusterIP: c.DNSIP.String(), Port: coreDNSPort,
		Node: c.ControlPlane().Name,
	})
}

// coreDNSImage is the image hack/images.sh builds from the cached CoreDNS.
func coreDNSImage(version string) string { return coreDNSImageRepo + ":" + version }

func render(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := templates.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// ExternalLB renders HAProxy's configuration: every node's NodePort. HAProxy
// starts as root in the outside client and drops to its own user.
func ExternalLB(c cluster.Cluster, nodePort int32) ([]byte, error) {
	cfg := externallb.Config{Listen: c.ExternalLB().String(), User: "haproxy", Where: "the local cluster's outside client"}
	for _, n := range c.Nodes {
		cfg.Servers = append(cfg.Servers, externallb.Server{Name: n.Name, Addr: netip.AddrPortFrom(n.IP, uint16(nodePort))})
	}
	return externallb.Render(cfg)
}
