package pki

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/cluster/clustertest"
)

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		t.Fatalf("%s: not PEM", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cert
}

// TestPKIVerifies checks every certificate the way TLS peers will: chained
// to the CA, for its use, and (for servers) for the names clients dial.
func TestPKIVerifies(t *testing.T) {
	t.Parallel()
	c := clustertest.New(t)
	l := cluster.Layout{Dir: c.StateDir}
	now := time.Now()
	if err := Ensure(c, l, now); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(readCert(t, filepath.Join(l.PKI(), "ca.crt")))
	etcdRoots := x509.NewCertPool()
	etcdRoots.AddCert(readCert(t, filepath.Join(l.PKI(), "etcd-ca.crt")))

	servers := map[string][]string{
		filepath.Join(l.PKI(), "apiserver.crt"):                          {"10.96.0.1", "192.0.2.2", "127.0.0.1", "kubernetes.default.svc.cluster.local", "kubernetes", "localhost"},
		filepath.Join(l.Node("podpaths-a").PKI(), "kubelet-serving.crt"): {"192.0.2.2", "podpaths-a"},
		filepath.Join(l.PKI(), "etcd-server.crt"):                        {"127.0.0.1", "localhost"},
	}
	for file, names := range servers {
		cert := readCert(t, file)
		roots := roots
		if filepath.Base(file) == "etcd-server.crt" {
			roots = etcdRoots
		}
		for _, name := range names {
			_, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, CurrentTime: now,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			if err != nil {
				t.Errorf("%s for %s: %v", filepath.Base(file), name, err)
			}
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
			t.Errorf("%s verifies as a client certificate; it must not", filepath.Base(file))
		}
	}

	clients := map[string]struct {
		cn   string
		orgs []string
	}{
		"admin":                    {"podpaths-admin", []string{"system:masters"}},
		"controller-manager":       {"system:kube-controller-manager", nil},
		"scheduler":                {"system:kube-scheduler", nil},
		"kube-proxy":               {"system:kube-proxy", nil},
		"apiserver-kubelet-client": {"kube-apiserver-kubelet-client", []string{"system:masters"}},
		"apiserver-etcd-client":    {"kube-apiserver-etcd-client", nil},
	}
	for name, want := range clients {
		cert := readCert(t, filepath.Join(l.PKI(), name+".crt"))
		// etcd trusts only its own CA, and that CA signs only the API
		// server's client: no other certificate of the cluster gets in.
		mine, other := roots, etcdRoots
		if name == "apiserver-etcd-client" {
			mine, other = etcdRoots, roots
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: mine, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: other, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
			t.Errorf("%s verifies against the other CA too; etcd's CA must sign only what talks to etcd", name)
		}
		if cert.Subject.CommonName != want.cn || !slices.Equal(cert.Subject.Organization, want.orgs) {
			t.Errorf("%s: subject CN=%q O=%q, want CN=%q O=%q", name, cert.Subject.CommonName, cert.Subject.Organization, want.cn, want.orgs)
		}
	}
	kubelet := readCert(t, filepath.Join(l.Node("podpaths-a").PKI(), "kubelet.crt"))
	if kubelet.Subject.CommonName != "system:node:podpaths-a" || !slices.Equal(kubelet.Subject.Organization, []string{"system:nodes"}) {
		t.Errorf("kubelet client: CN=%q O=%q, want system:node:podpaths-a in system:nodes (the Node authorizer needs both)",
			kubelet.Subject.CommonName, kubelet.Subject.Organization)
	}
	for _, key := range []string{"ca.key", "etcd-ca.key"} {
		if fi, err := os.Stat(filepath.Join(l.PKI(), key)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", key, err, fi.Mode().Perm())
		}
	}
}

func TestKubeconfigsNameTheAPIServerAndIdentity(t *testing.T) {
	t.Parallel()
	c := clustertest.New(t)
	l := cluster.Layout{Dir: c.StateDir}
	if err := Ensure(c, l, time.Now()); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		filepath.Join(l.PKI(), "admin.kubeconfig"):                      "podpaths-admin",
		filepath.Join(l.PKI(), "scheduler.kubeconfig"):                  "system:kube-scheduler",
		filepath.Join(l.Node("podpaths-a").PKI(), "kubelet.kubeconfig"): "system:node:podpaths-a",
		filepath.Join(l.PKI(), "controller-manager.kubeconfig"):         "system:kube-controller-manager",
		filepath.Join(l.PKI(), "kube-proxy.kubeconfig"):                 "system:kube-proxy",
	}
	for file, user := range files {
		cfg, err := clientcmd.LoadFromFile(file)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		ctx := cfg.Contexts[cfg.CurrentContext]
		if ctx == nil || ctx.AuthInfo != user {
			t.Fatalf("%s: current context %+v, want user %s", filepath.Base(file), ctx, user)
		}
		if got := cfg.Clusters[ctx.Cluster].Server; got != "https://192.0.2.2:6443" {
			t.Errorf("%s: server %s, want https://192.0.2.2:6443", filepath.Base(file), got)
		}
		block, _ := pem.Decode(cfg.AuthInfos[user].ClientCertificateData)
		if block == nil {
			t.Fatalf("%s: no client certificate", filepath.Base(file))
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil || cert.Subject.CommonName != user {
			t.Errorf("%s: client certificate CN %q (%v), want %s", filepath.Base(file), cert.Subject.CommonName, err, user)
		}
	}
}

// TestPKIIsReusedAndFollowsChanges runs Ensure again: unchanged specs keep
// their files; a new node IP replaces exactly the certificates that name it.
func TestPKIIsReusedAndFollowsChanges(t *testing.T) {
	t.Parallel()
	c := clustertest.New(t)
	l := cluster.Layout{Dir: c.StateDir}
	now := time.Now()
	if err := Ensure(c, l, now); err != nil {
		t.Fatal(err)
	}
	files := []string{
		filepath.Join(l.PKI(), "ca.crt"), filepath.Join(l.PKI(), "sa.key"), filepath.Join(l.PKI(), "admin.crt"),
		filepath.Join(l.PKI(), "apiserver.crt"), filepath.Join(l.Node("podpaths-a").PKI(), "kubelet-serving.crt"),
		filepath.Join(l.PKI(), "admin.kubeconfig"),
	}
	read := func() map[string][]byte {
		m := map[string][]byte{}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m[f] = b
		}
		return m
	}
	before := read()
	if err := Ensure(c, l, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for f, b := range read() {
		if !bytes.Equal(before[f], b) {
			t.Errorf("second run changed %s", filepath.Base(f))
		}
	}

	c.Nodes[0].IP = netip.MustParseAddr("192.0.2.99")
	if err := Ensure(c, l, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	after := read()
	changed := map[string]bool{}
	for f, b := range after {
		changed[filepath.Base(f)] = !bytes.Equal(before[f], b)
	}
	want := map[string]bool{"ca.crt": false, "sa.key": false, "admin.crt": false,
		"apiserver.crt": true, "kubelet-serving.crt": true, "admin.kubeconfig": true}
	for f, w := range want {
		if changed[f] != w {
			t.Errorf("after a node IP change: %s changed=%v, want %v", f, changed[f], w)
		}
	}
	cert := readCert(t, filepath.Join(l.PKI(), "apiserver.crt"))
	if !slices.ContainsFunc(cert.IPAddresses, func(ip net.IP) bool { return netip.MustParseAddr("192.0.2.99") == addrOf(ip) }) {
		t.Errorf("new apiserver certificate lacks the new node IP: %v", cert.IPAddresses)
	}
}

func addrOf(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}

// TestExpiringCertificateIsRenewed moves the clock to near a leaf's end.
func TestExpiringCertificateIsRenewed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now()
	ca, err := ensureCA(dir, "ca", "test-ca", now)
	if err != nil {
		t.Fatal(err)
	}
	spec := certSpec{name: "leaf", cn: "leaf", usage: x509.ExtKeyUsageClientAuth}
	first, err := ca.ensureCert(dir, spec, now)
	if err != nil {
		t.Fatal(err)
	}
	same, err := ca.ensureCert(dir, spec, now.Add(leafValidity-renewBefore-time.Hour))
	if err != nil || !bytes.Equal(first.certPEM, same.certPEM) {
		t.Errorf("a certificate far from its end was replaced (err %v)", err)
	}
	renewed, err := ca.ensureCert(dir, spec, now.Add(leafValidity-renewBefore+time.Hour))
	if err != nil || bytes.Equal(first.certPEM, renewed.certPEM) {
		t.Errorf("a certificate within %s of its end was kept (err %v)", renewBefore, err)
	}
}

func TestNodeBHasItsOwnKubeletIdentity(t *testing.T) {
	t.Parallel()
	c := clustertest.TwoNodes(t)
	l := cluster.Layout{Dir: c.StateDir}
	ids := identities(c, l)
	if !slices.ContainsFunc(ids, func(id identity) bool {
		return id.spec.cn == "system:node:podpaths-b" && slices.Equal(id.spec.orgs, []string{"system:nodes"})
	}) {
		t.Error("no system:node:podpaths-b client certificate in system:nodes")
	}
}
