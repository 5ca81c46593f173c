package cluster

import "path/filepath"

// Layout names every file and directory under the state directory
// (/var/lib/podpaths/local), so that `up`, `down` and the tests agree on them.
type Layout struct {
	// Dir is the state directory.
	Dir string
}

// PKI holds the CA, the control plane's certificates and their kubeconfigs.
func (l Layout) PKI() string { return filepath.Join(l.Dir, "pki") }

// AdminKubeconfig is the admin kubeconfig, published once the API answers.
func (l Layout) AdminKubeconfig() string { return filepath.Join(l.Dir, "admin.kubeconfig") }

// FactsFile is cluster.json, what the e2e suite reads.
func (l Layout) FactsFile() string { return filepath.Join(l.Dir, "cluster.json") }

// Logs holds the control plane's and MetalLB's logs.
func (l Layout) Logs() string { return filepath.Join(l.Dir, "logs") }

// Run holds the control plane's and MetalLB's pid files.
func (l Layout) Run() string { return filepath.Join(l.Dir, "run") }

// Etcd is etcd's data directory.
func (l Layout) Etcd() string { return filepath.Join(l.Dir, "etcd") }

// config holds the files every node reads.
func (l Layout) config() string { return filepath.Join(l.Dir, "config") }

// ExternalLBConfig is HAProxy's configuration, the external load balancer.
func (l Layout) ExternalLBConfig() string { return filepath.Join(l.config(), "haproxy.cfg") }

// LinkRangesFile keeps the link ranges `up` used (cluster.LinkRanges), for
// the commands after it.
func (l Layout) LinkRangesFile() string { return filepath.Join(l.Dir, "link-ranges.json") }

// SysctlsFile keeps the machine's own values of the sysctls the cluster
// changes, for `down` to put back.
func (l Layout) SysctlsFile() string { return filepath.Join(l.Dir, "sysctls.json") }

// ResolvConf is the pods' resolv.conf.
func (l Layout) ResolvConf() string { return filepath.Join(l.config(), "resolv.conf") }

// RegistryHosts is containerd's registry config directory.
func (l Layout) RegistryHosts() string { return filepath.Join(l.config(), "certs.d") }

// Node is the node named name's part of the state directory.
func (l Layout) Node(name string) NodeLayout {
	return NodeLayout{Dir: filepath.Join(l.Dir, "nodes", name)}
}

// NodeLayout is one node's part of the state directory. Two nodes on one
// machine must share nothing: containerd, its runc and the kubelet each keep
// state that another instance would trip over.
type NodeLayout struct {
	// Dir is the node's directory.
	Dir string
}

// ContainerdRoot is the image store. `down` keeps it, so the next `up` finds
// the images already unpacked.
func (n NodeLayout) ContainerdRoot() string { return filepath.Join(n.Dir, "containerd", "root") }

// ContainerdState is containerd's state directory.
func (n NodeLayout) ContainerdState() string { return filepath.Join(n.Dir, "containerd", "state") }

// ContainerdSocket is containerd's socket, the kubelet's CRI endpoint.
func (n NodeLayout) ContainerdSocket() string { return filepath.Join(n.Dir, "containerd.sock") }

// ContainerdConfig is containerd's config file.
func (n NodeLayout) ContainerdConfig() string { return filepath.Join(n.Dir, "containerd.toml") }

// RuncRoot is runc's state directory.
func (n NodeLayout) RuncRoot() string { return filepath.Join(n.Dir, "runc") }

// CNIConfDir holds the node's CNI config.
func (n NodeLayout) CNIConfDir() string { return filepath.Join(n.Dir, "cni", "net.d") }

// CNIIPAM is where host-local records the pod addresses it handed out.
func (n NodeLayout) CNIIPAM() string { return filepath.Join(n.Dir, "cni", "ipam") }

// Kubelet is the kubelet's root directory.
func (n NodeLayout) Kubelet() string { return filepath.Join(n.Dir, "kubelet") }

// KubeletConfig is the kubelet's config file.
func (n NodeLayout) KubeletConfig() string { return filepath.Join(n.Dir, "kubelet.yaml") }

// KubeProxyConfig is kube-proxy's config file.
func (n NodeLayout) KubeProxyConfig() string { return filepath.Join(n.Dir, "kube-proxy.yaml") }

// PodLogs is the kubelet's pod log directory.
func (n NodeLayout) PodLogs() string { return filepath.Join(n.Dir, "pod-logs") }

// Logs holds the node's daemons' logs.
func (n NodeLayout) Logs() string { return filepath.Join(n.Dir, "logs") }

// Run holds the node's daemons' pid files.
func (n NodeLayout) Run() string { return filepath.Join(n.Dir, "run") }

// PKI holds the node's kubelet certificates and kubeconfig.
func (n NodeLayout) PKI() string { return filepath.Join(n.Dir, "pki") }
