// Package pki makes the cluster's PKI with crypto/x509 rather than openssl:
// the cluster's CA signs every serving and client certificate but etcd's,
// and etcd has a CA of its own, as kubeadm does, so that no certificate
// but the API server's etcd client can talk to etcd; each client identity
// gets a kubeconfig. Keys are ECDSA P-256, which every
// component accepts and which takes microseconds to generate. Kubernetes
// reads a client certificate's CN as the user name and its O as the groups
// (https://kubernetes.io/docs/reference/access-authn-authz/authentication/#x509-client-certificates),
// so the certificate specs (identities.go) are the cluster's identities.
//
// Ensure makes what is missing and keeps what is still right, so a second
// `up` changes nothing, and a changed node IP replaces exactly the
// certificates that name it.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/podpaths/podpaths/lab/internal/local/host"
)

const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 365 * 24 * time.Hour
	// renewBefore replaces a certificate this close to its end, so that a
	// cluster started with `up` does not expire while in use.
	renewBefore = 30 * 24 * time.Hour
)

// certSpec is one certificate: who it names and what it may be used for.
type certSpec struct {
	// name is the file base name: <name>.crt and <name>.key.
	name  string
	cn    string
	orgs  []string
	usage x509.ExtKeyUsage
	dns   []string
	ips   []netip.Addr
}

// authority is a CA: the cluster's, or etcd's.
type authority struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
}

// pair is a certificate and its key, PEM encoded.
type pair struct {
	certPEM, keyPEM []byte
}

// ensureCA loads the CA <file>.crt and <file>.key from dir, or creates it,
// named cn, when it is missing or near its end. A new CA invalidates every
// certificate signed by the old one; ensureCert notices and replaces them.
func ensureCA(dir, file, cn string, now time.Time) (*authority, error) {
	certFile, keyFile := filepath.Join(dir, file+".crt"), filepath.Join(dir, file+".key")
	if p, err := readPair(certFile, keyFile); err == nil {
		cert, key, err := parsePair(p)
		if err == nil && cert.IsCA && now.Add(renewBefore).Before(cert.NotAfter) {
			return &authority{cert: cert, key: key, certPEM: p.certPEM}, nil
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	p, err := sign(tmpl, tmpl, key, key)
	if err != nil {
		return nil, fmt.Errorf("CA: %w", err)
	}
	if err := writePair(dir, file, p); err != nil {
		return nil, err
	}
	cert, _, err := parsePair(p)
	if err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key, certPEM: p.certPEM}, nil
}

// ensureCert returns the certificate of spec from dir, signing a new one
// when the file is missing, not signed by this CA, near its end or not what
// spec asks for (say, the node IP changed since it was made).
func (a *authority) ensureCert(dir string, spec certSpec, now time.Time) (pair, error) {
	certFile, keyFile := filepath.Join(dir, spec.name+".crt"), filepath.Join(dir, spec.name+".key")
	if p, err := readPair(certFile, keyFile); err == nil {
		if cert, _, err := parsePair(p); err == nil && a.issued(cert, spec, now) {
			return p, nil
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return pair{}, fmt.Errorf("%s key: %w", spec.name, err)
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: spec.cn, Organization: spec.orgs},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(leafValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{spec.usage},
		DNSNames:    spec.dns,
	}
	for _, ip := range spec.ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(ip.AsSlice()))
	}
	p, err := sign(tmpl, a.cert, key, a.key)
	if err != nil {
		return pair{}, fmt.Errorf("%s: %w", spec.name, err)
	}
	if err := writePair(dir, spec.name, p); err != nil {
		return pair{}, err
	}
	return p, nil
}

// issued reports whether cert is this CA's current certificate for spec.
func (a *authority) issued(cert *x509.Certificate, spec certSpec, now time.Time) bool {
	if cert.CheckSignatureFrom(a.cert) != nil || !now.Add(renewBefore).Before(cert.NotAfter) {
		return false
	}
	var ips []netip.Addr
	for _, ip := range cert.IPAddresses {
		if addr, ok := netip.AddrFromSlice(ip); ok {
			ips = append(ips, addr.Unmap())
		}
	}
	return cert.Subject.CommonName == spec.cn &&
		sameSet(cert.Subject.Organization, spec.orgs) &&
		slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{spec.usage}) &&
		sameSet(cert.DNSNames, spec.dns) &&
		sameSet(ips, spec.ips)
}

func sameSet[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// sign issues tmpl for key's public half, signed by parent's key.
func sign(tmpl, parent *x509.Certificate, key *ecdsa.PrivateKey, parentKey crypto.Signer) (pair, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return pair{}, fmt.Errorf("serial: %w", err)
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return pair{}, fmt.Errorf("sign: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return pair{}, fmt.Errorf("encode key: %w", err)
	}
	return pair{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

func parsePair(p pair) (*x509.Certificate, crypto.Signer, error) {
	cb, _ := pem.Decode(p.certPEM)
	kb, _ := pem.Decode(p.keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, errors.New("not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, ok := k.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New("key cannot sign")
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, nil, errors.New("key does not match certificate")
	}
	return cert, key, nil
}

func readPair(certFile, keyFile string) (pair, error) {
	c, err := os.ReadFile(certFile)
	if err != nil {
		return pair{}, err
	}
	k, err := os.ReadFile(keyFile)
	if err != nil {
		return pair{}, err
	}
	return pair{certPEM: c, keyPEM: k}, nil
}

// writePair writes <name>.crt and <name>.key; the key only for root.
func writePair(dir, name string, p pair) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pki dir: %w", err)
	}
	certFile, keyFile := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := host.WriteFile(keyFile, p.keyPEM, 0o600); err != nil {
		return err
	}
	return host.WriteFile(certFile, p.certPEM, 0o644)
}

// ensureServiceAccountKey makes the key pair the API server signs service
// account tokens with (sa.key) and checks them with (sa.pub).
func ensureServiceAccountKey(dir string) error {
	keyFile, pubFile := filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	if _, err := os.Stat(keyFile); err == nil {
		if _, err := os.Stat(pubFile); err == nil {
			return nil
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("service account key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("service account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return fmt.Errorf("service account key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pki dir: %w", err)
	}
	if err := host.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	return host.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644)
}

// kubeconfig renders a kubeconfig for one identity, with the CA and the
// client certificate inlined so the file works on its own.
func kubeconfig(cluster, server string, caPEM []byte, user string, client pair) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[cluster] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: client.certPEM, ClientKeyData: client.keyPEM}
	cfg.Contexts[cluster] = &clientcmdapi.Context{Cluster: cluster, AuthInfo: user}
	cfg.CurrentContext = cluster
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig for %s: %w", user, err)
	}
	return b, nil
}
