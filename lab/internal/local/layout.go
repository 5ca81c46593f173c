package local

import "path/filepath"

// layout names every file and directory under the state directory
// (/var/lib/podpaths/local), so that `up`, `down` and the tests agree on them.
type layout struct{ dir string }

func (l layout) pki() string             { return filepath.Join(l.dir, "pki") }
func (l layout) adminKubeconfig() string { return filepath.Join(l.dir, "admin.kubeconfig") }
func (l layout) facts() string           { return filepath.Join(l.dir, "cluster.json") }
func (l layout) logs() string            { return filepath.Join(l.dir, "logs") }
func (l layout) run() string             { return filepath.Join(l.dir, "run") }
func (l layout) etcd() string            { return filepath.Join(l.dir, "etcd") }
func (l layout) config() string          { return filepath.Join(l.dir, "config") }
func (l layout) sysctls() string         { return filepath.Join(l.dir, "sysctls.json") }
func (l layout) resolvConf() string      { return filepath.Join(l.config(), "resolv.conf") }
func (l layout) registryHosts() string   { return filepath.Join(l.config(), "certs.d") }
func (l layout) node(name string) nodeLayout {
	return nodeLayout{dir: filepath.Join(l.dir, "nodes", name)}
}

// nodeLayout is one node's part of the state directory. Two nodes on one
// machine must share nothing: containerd, its runc and the kubelet each keep
// state that another instance would trip over.
type nodeLayout struct{ dir string }

// containerdRoot is the image store. `down` keeps it, so the next `up` finds
// the images already unpacked.
func (n nodeLayout) containerdRoot() string   { return filepath.Join(n.dir, "containerd", "root") }
func (n nodeLayout) containerdState() string  { return filepath.Join(n.dir, "containerd", "state") }
func (n nodeLayout) containerdSocket() string { return filepath.Join(n.dir, "containerd.sock") }
func (n nodeLayout) containerdConfig() string { return filepath.Join(n.dir, "containerd.toml") }
func (n nodeLayout) runcRoot() string         { return filepath.Join(n.dir, "runc") }
func (n nodeLayout) cniConfDir() string       { return filepath.Join(n.dir, "cni", "net.d") }
func (n nodeLayout) cniIPAM() string          { return filepath.Join(n.dir, "cni", "ipam") }
func (n nodeLayout) kubelet() string          { return filepath.Join(n.dir, "kubelet") }
func (n nodeLayout) kubeletConfig() string    { return filepath.Join(n.dir, "kubelet.yaml") }
func (n nodeLayout) kubeProxyConfig() string  { return filepath.Join(n.dir, "kube-proxy.yaml") }
func (n nodeLayout) podLogs() string          { return filepath.Join(n.dir, "pod-logs") }
func (n nodeLayout) logs() string             { return filepath.Join(n.dir, "logs") }
func (n nodeLayout) run() string              { return filepath.Join(n.dir, "run") }
func (n nodeLayout) pki() string              { return filepath.Join(n.dir, "pki") }
