package build

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// component is one upstream program, or a set of them from one module.
type component struct {
	// name is the wrapper's directory and the cache directory's prefix.
	name string
	// module is the upstream module whose version (from the wrapper's
	// go.mod) names the build.
	module   string
	binaries []binary
	// trimPath drops this machine's paths from the binaries. Kubernetes is
	// built without it: -trimpath changes the build cache key of every
	// package, and without it a machine that built Kubernetes once (the
	// cached build in /var/cache/podpaths/warm) only links again.
	trimPath bool
	// ldflags adds to "-s -w" for version.
	ldflags func(version string) []string
	// files are copied from the module into the cache, next to bin/.
	files []moduleFiles
}

// binary is one main package and the name of its program.
type binary struct{ name, pkg string }

// moduleFiles copies module files matching glob in dir to the cache
// directory to.
type moduleFiles struct{ dir, glob, to string }

// components are the programs of the local cluster. containerd, runc and
// the CNI plugins come from Debian instead (debs.go).
var components = []component{
	{
		name:   "kubernetes",
		module: "k8s.io/kubernetes",
		binaries: []binary{
			{"kube-apiserver", "k8s.io/kubernetes/cmd/kube-apiserver"},
			{"kube-controller-manager", "k8s.io/kubernetes/cmd/kube-controller-manager"},
			{"kube-scheduler", "k8s.io/kubernetes/cmd/kube-scheduler"},
			{"kubelet", "k8s.io/kubernetes/cmd/kubelet"},
			{"kube-proxy", "k8s.io/kubernetes/cmd/kube-proxy"},
			{"kubectl", "k8s.io/kubernetes/cmd/kubectl"},
			// The local cluster never runs kubeadm; CI's kind node image
			// (hack/ci-kind) does, and takes it from this cache.
			{"kubeadm", "k8s.io/kubernetes/cmd/kubeadm"},
		},
		ldflags: kubernetesVersionFlags,
	},
	{
		// The etcd server module is itself etcd's main package.
		name: "etcd", module: "go.etcd.io/etcd/server/v3", trimPath: true,
		binaries: []binary{{"etcd", "go.etcd.io/etcd/server/v3"}},
	},
	{
		name: "coredns", module: "github.com/coredns/coredns", trimPath: true,
		binaries: []binary{{"coredns", "github.com/coredns/coredns"}},
	},
	{
		// The controller only: it assigns LoadBalancer addresses. The speaker,
		// which would announce them with ARP on the real network, is never
		// built.
		name: "metallb", module: "go.universe.tf/metallb", trimPath: true,
		binaries: []binary{{"metallb-controller", "go.universe.tf/metallb/controller"}},
		files:    []moduleFiles{{dir: "config/crd/bases", glob: "*.yaml", to: "crds"}},
	},
	{
		// crictl removes pod sandboxes through the CRI at teardown, which runs
		// the CNI DEL that frees their network namespaces.
		name: "crictl", module: "sigs.k8s.io/cri-tools", trimPath: true,
		binaries: []binary{{"crictl", "sigs.k8s.io/cri-tools/cmd/crictl"}},
	},
}

// kubernetesVersionFlags stamp the version the way Kubernetes' own build
// does (hack/lib/version.sh); without them every binary says v0.0.0-master.
func kubernetesVersionFlags(version string) []string {
	major, minor := "1", ""
	if parts := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 3); len(parts) >= 2 {
		major, minor = parts[0], parts[1]
	}
	var flags []string
	for _, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		flags = append(flags, "-X", pkg+".gitVersion="+version, "-X", pkg+".gitMajor="+major,
			"-X", pkg+".gitMinor="+minor, "-X", pkg+".gitTreeState=clean")
	}
	return flags
}

// buildFlags are the `go build` flags of c at version, without -o.
func (c component) buildFlags(version string) []string {
	flags := []string{"-mod=readonly", "-buildvcs=false"}
	if c.trimPath {
		flags = append(flags, "-trimpath")
	}
	ld := append([]string{"-s", "-w"}, extraLDFlags(c.ldflags, version)...)
	return append(flags, "-ldflags", strings.Join(ld, " "))
}

func extraLDFlags(f func(string) []string, version string) []string {
	if f == nil {
		return nil
	}
	return f(version)
}

// requiredVersion finds the version of module in a go.mod's require
// directives, in a block or on one line.
func requiredVersion(gomod []byte, module string) (string, error) {
	inBlock := false
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "require" && f[1] == "(":
			inBlock = true
		case inBlock && len(f) == 1 && f[0] == ")":
			inBlock = false
		case inBlock && len(f) == 2 && f[0] == module:
			return f[1], nil
		case !inBlock && len(f) == 3 && f[0] == "require" && f[1] == module:
			return f[2], nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("go.mod requires no %s", module)
}

// stamp is written next to a finished build. A cache directory counts only
// with a stamp whose inputs match.
type stamp struct {
	Component string `json:"component"`
	Version   string `json:"version"`
	// Inputs is the hash of everything the build depends on: the wrapper
	// module's files, the flags and the platform.
	Inputs    string  `json:"inputs"`
	GoVersion string  `json:"goVersion"`
	Built     string  `json:"built"`
	Seconds   float64 `json:"seconds"`
}

// inputsHash hashes what decides a build's result.
func (c component) inputsHash(wrapperDir, version string) (string, error) {
	var in bytes.Buffer
	fmt.Fprintf(&in, "%s %s %s/%s %q\n", c.name, version, runtime.GOOS, runtime.GOARCH, c.buildFlags(version))
	for _, b := range c.binaries {
		fmt.Fprintf(&in, "%s=%s\n", b.name, b.pkg)
	}
	for _, f := range c.files {
		fmt.Fprintf(&in, "files %s/%s -> %s\n", f.dir, f.glob, f.to)
	}
	// tools.go only tells go mod tidy what to keep; go.mod and go.sum
	// decide what is built.
	for _, name := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(wrapperDir, name))
		if err != nil {
			return "", fmt.Errorf("%s wrapper module: %w", c.name, err)
		}
		fmt.Fprintf(&in, "%s %d\n", name, len(b))
		in.Write(b)
	}
	sum := sha256.Sum256(in.Bytes())
	return hex.EncodeToString(sum[:]), nil
}

// mustComponent returns the component named name, one of the constants in
// components.
func mustComponent(name string) component {
	for _, c := range components {
		if c.name == name {
			return c
		}
	}
	panic("no component " + name)
}
