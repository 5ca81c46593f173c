package pki

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/host"
)

// identity is one certificate the cluster needs, where it goes, and whether
// its holder talks to the API server with it (and so needs a kubeconfig).
type identity struct {
	spec certSpec
	// dir is where the files go: the cluster's pki directory, or a node's.
	dir        string
	kubeconfig bool
	// etcd says that etcd's CA signs it, not the cluster's.
	etcd bool
}

// identities lists every certificate of the cluster. The names of the
// control plane's users are the ones Kubernetes' default RBAC bindings
// expect (system:kube-controller-manager, system:kube-scheduler,
// system:kube-proxy, and system:node:<name> in system:nodes for the Node
// authorizer); the admin and the API server's client for kubelets are in
// system:masters.
func identities(c cluster.Cluster, l cluster.Layout) []identity {
	cp := c.ControlPlane()
	apiDNS := []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc." + c.Domain, cp.Name}
	apiIPs := []netip.Addr{c.APIServerIP(), netip.MustParseAddr("127.0.0.1"), cp.IP}
	client := func(name, cn string, orgs ...string) identity {
		return identity{dir: l.PKI(), kubeconfig: true,
			spec: certSpec{name: name, cn: cn, orgs: orgs, usage: x509.ExtKeyUsageClientAuth}}
	}
	ids := []identity{
		{dir: l.PKI(), spec: certSpec{name: "apiserver", cn: "kube-apiserver", usage: x509.ExtKeyUsageServerAuth, dns: apiDNS, ips: apiIPs}},
		{dir: l.PKI(), spec: certSpec{name: "apiserver-kubelet-client", cn: "kube-apiserver-kubelet-client",
			orgs: []string{"system:masters"}, usage: x509.ExtKeyUsageClientAuth}},
		// etcd asks every client for a certificate of its own CA
		// (--client-cert-auth), so no other process of this machine can
		// write to it, not even with another of the cluster's certificates:
		// the kubelet would run any pod it found there.
		{dir: l.PKI(), etcd: true, spec: certSpec{name: "etcd-server", cn: "etcd", usage: x509.ExtKeyUsageServerAuth,
			dns: []string{"localhost"}, ips: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}},
		{dir: l.PKI(), etcd: true, spec: certSpec{name: "apiserver-etcd-client", cn: "kube-apiserver-etcd-client", usage: x509.ExtKeyUsageClientAuth}},
		client("admin", "podpaths-admin", "system:masters"),
		client("controller-manager", "system:kube-controller-manager"),
		client("scheduler", "system:kube-scheduler"),
		client("kube-proxy", "system:kube-proxy"),
	}
	for _, n := range c.Nodes {
		dir := l.Node(n.Name).PKI()
		ids = append(ids,
			identity{dir: dir, kubeconfig: true, spec: certSpec{name: "kubelet", cn: "system:node:" + n.Name,
				orgs: []string{"system:nodes"}, usage: x509.ExtKeyUsageClientAuth}},
			// The API server checks this one (--kubelet-certificate-authority)
			// when it connects for logs, exec and port-forward.
			identity{dir: dir, spec: certSpec{name: "kubelet-serving", cn: n.Name, usage: x509.ExtKeyUsageServerAuth,
				dns: []string{n.Name, "localhost"}, ips: []netip.Addr{n.IP, netip.MustParseAddr("127.0.0.1")}}},
		)
	}
	return ids
}

// Ensure makes or reuses the two CAs (ca and etcd-ca), every certificate,
// the service account key pair and a kubeconfig per client identity
// (<name>.kubeconfig next to its certificate).
func Ensure(c cluster.Cluster, l cluster.Layout, now time.Time) error {
	ca, err := ensureCA(l.PKI(), "ca", c.Name+"-ca", now)
	if err != nil {
		return err
	}
	etcdCA, err := ensureCA(l.PKI(), "etcd-ca", c.Name+"-etcd-ca", now)
	if err != nil {
		return err
	}
	if err := ensureServiceAccountKey(l.PKI()); err != nil {
		return err
	}
	for _, id := range identities(c, l) {
		signer := ca
		if id.etcd {
			signer = etcdCA
		}
		p, err := signer.ensureCert(id.dir, id.spec, now)
		if err != nil {
			return err
		}
		if !id.kubeconfig {
			continue
		}
		kc, err := kubeconfig(c.Name, c.APIServerURL(), ca.certPEM, id.spec.cn, p)
		if err != nil {
			return err
		}
		if err := host.WriteFile(filepath.Join(id.dir, id.spec.name+".kubeconfig"), kc, 0o600); err != nil {
			return fmt.Errorf("kubeconfig: %w", err)
		}
	}
	return nil
}
