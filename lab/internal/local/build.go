package local

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// The cluster's programs are built from upstream source through the Go
// module proxy, each from a small wrapper module pinned in the repository
// (hack/local-cluster/build/<component>: go.mod, go.sum, tools.go, written by
// hack/local-cluster/pin.sh). The builds are static (CGO_ENABLED=0) and
// cached by version under /var/cache/podpaths/<component>-<version>/, outside
// the repository, so a later run and a fresh clone on the same machine find
// them and build nothing.

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
// the CNI plugins come from Debian instead (see debs.go).
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

// builds are the built components: each one's cache directory, and where
// each binary is.
type builds struct {
	bins map[string]string
	dirs map[string]string
}

func newBuilds() builds { return builds{bins: map[string]string{}, dirs: map[string]string{}} }

// add records component c, built in dir.
func (b builds) add(c component, dir string) {
	b.dirs[c.name] = dir
	for _, bin := range c.binaries {
		b.bins[bin.name] = filepath.Join(dir, "bin", bin.name)
	}
}

// bin is the path of a built program.
func (b builds) bin(name string) string { return b.bins[name] }

// builder builds components into the cache.
type builder struct {
	// wrappers is hack/local-cluster/build in the repository.
	wrappers string
	// cache is /var/cache/podpaths.
	cache string
	log   *slog.Logger
	// goCmd runs the go command in dir with env; tests replace it.
	goCmd func(ctx context.Context, dir string, env []string, args ...string) ([]byte, error)
	now   func() time.Time
}

// ensureAll builds what is not in the cache, one component at a time (two
// cores: one big build at once).
func (b builder) ensureAll(ctx context.Context) (builds, error) {
	out := newBuilds()
	for _, c := range components {
		dir, err := b.ensure(ctx, c)
		if err != nil {
			return builds{}, err
		}
		out.add(c, dir)
	}
	return out, nil
}

// locate returns where the components are or would be, without building:
// enough for `down`, which only needs crictl and kube-proxy if they exist.
func (b builder) locate() builds {
	out := newBuilds()
	for _, c := range components {
		if _, dir, _, _, err := b.lookup(c); err == nil {
			out.add(c, dir)
		}
	}
	return out
}

// cacheDir is where component c at version lives.
func (b builder) cacheDir(c component, version string) string {
	return filepath.Join(b.cache, c.name+"-"+version)
}

// lookup returns the component's version and cache directory, and whether
// that directory holds a finished build of exactly these inputs.
func (b builder) lookup(c component) (version, dir, inputs string, hit bool, err error) {
	wrapper := filepath.Join(b.wrappers, c.name)
	gomod, err := os.ReadFile(filepath.Join(wrapper, "go.mod"))
	if err != nil {
		return "", "", "", false, fmt.Errorf("%s wrapper module: %w", c.name, err)
	}
	if version, err = requiredVersion(gomod, c.module); err != nil {
		return "", "", "", false, fmt.Errorf("%s: %w", c.name, err)
	}
	if inputs, err = c.inputsHash(wrapper, version); err != nil {
		return "", "", "", false, err
	}
	dir = b.cacheDir(c, version)
	return version, dir, inputs, cached(dir, c, inputs), nil
}

// cached reports whether dir holds a finished build with these inputs.
func cached(dir string, c component, inputs string) bool {
	raw, err := os.ReadFile(filepath.Join(dir, "stamp.json"))
	if err != nil {
		return false
	}
	var s stamp
	if json.Unmarshal(raw, &s) != nil || s.Inputs != inputs {
		return false
	}
	for _, bin := range c.binaries {
		if fi, err := os.Stat(filepath.Join(dir, "bin", bin.name)); err != nil || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// ensure builds c unless the cache has it, and returns its directory.
func (b builder) ensure(ctx context.Context, c component) (string, error) {
	version, dir, inputs, hit, err := b.lookup(c)
	if err != nil {
		return "", err
	}
	if hit {
		b.log.Debug("cached", "component", c.name, "version", version, "dir", dir)
		return dir, nil
	}
	start := b.now()
	b.log.Info("building from the Go module proxy (once per machine; cached by version)", "component", c.name, "version", version, "cache", dir)
	if err := os.MkdirAll(b.cache, 0o755); err != nil {
		return "", fmt.Errorf("build cache: %w", err)
	}
	// Build next to the final directory and rename: a build that fails or is
	// interrupted never looks finished.
	tmp, err := os.MkdirTemp(b.cache, "."+c.name+"-"+version+"-")
	if err != nil {
		return "", fmt.Errorf("build cache: %w", err)
	}
	defer os.RemoveAll(tmp) //nolint:errcheck // only left when the build failed
	if err := b.build(ctx, c, version, tmp); err != nil {
		return "", err
	}
	secs := b.now().Sub(start).Seconds()
	// The Go version is only recorded, for people; a failure to read it is
	// not worth failing a finished build for.
	goVersion, err := b.goCmd(ctx, filepath.Join(b.wrappers, c.name), goEnv(), "env", "GOVERSION")
	if err != nil {
		goVersion = nil
	}
	s := stamp{Component: c.name, Version: version, Inputs: inputs, GoVersion: strings.TrimSpace(string(goVersion)),
		Built: b.now().UTC().Format(time.RFC3339), Seconds: float64(int(secs*10)) / 10}
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, "stamp.json"), append(raw, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("build cache: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("build cache: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", fmt.Errorf("build cache: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", fmt.Errorf("build cache: %w", err)
	}
	b.log.Info("built", "component", c.name, "version", version, "seconds", s.Seconds)
	return dir, nil
}

// build runs `go build` for each binary of c into dir/bin, and copies the
// module files.
func (b builder) build(ctx context.Context, c component, version, dir string) error {
	wrapper := filepath.Join(b.wrappers, c.name)
	for i, bin := range c.binaries {
		args := append([]string{"build"}, c.buildFlags(version)...)
		args = append(args, "-o", filepath.Join(dir, "bin", bin.name), bin.pkg)
		b.log.Info("go build", "binary", bin.name, "n", fmt.Sprintf("%d/%d", i+1, len(c.binaries)))
		stop := b.heartbeat(ctx, bin.name)
		out, err := b.goCmd(ctx, wrapper, goEnv(), args...)
		stop()
		if err != nil {
			return fmt.Errorf("build %s %s: %w\n%s", c.name, bin.name, err, tail(out, 20))
		}
	}
	for _, f := range c.files {
		if err := b.copyModuleFiles(ctx, c, f, dir); err != nil {
			return err
		}
	}
	return nil
}

// heartbeat logs every minute while a long build runs, so a cold build
// does not look hung.
func (b builder) heartbeat(ctx context.Context, what string) func() {
	done := make(chan struct{})
	start := b.now()
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				b.log.Info("still building", "binary", what, "elapsed", b.now().Sub(start).Round(time.Second).String())
			}
		}
	}()
	return func() { close(done) }
}

// copyModuleFiles copies f from the module's directory in the module cache.
func (b builder) copyModuleFiles(ctx context.Context, c component, f moduleFiles, dir string) error {
	out, err := b.goCmd(ctx, filepath.Join(b.wrappers, c.name), goEnv(), "list", "-mod=readonly", "-m", "-json", c.module)
	if err != nil {
		return fmt.Errorf("locate %s: %w\n%s", c.module, err, tail(out, 5))
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		return fmt.Errorf("locate %s: no module directory in %q", c.module, tail(out, 5))
	}
	matches, err := filepath.Glob(filepath.Join(m.Dir, f.dir, f.glob))
	if err != nil || len(matches) == 0 {
		return fmt.Errorf("%s: no %s in %s", c.name, f.glob, filepath.Join(m.Dir, f.dir))
	}
	if err := os.MkdirAll(filepath.Join(dir, f.to), 0o755); err != nil {
		return err
	}
	for _, src := range matches {
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		// Module cache files are read-only; the copies need not be.
		if err := os.WriteFile(filepath.Join(dir, f.to, filepath.Base(src)), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// goEnv is the environment of the builds: static binaries, the wrapper
// module alone (the repository's go.work does not list it), and no GOFLAGS
// from the caller's environment (the flags are explicit).
func goEnv() []string {
	env := []string{"CGO_ENABLED=0", "GOWORK=off", "GOFLAGS="}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != "CGO_ENABLED" && k != "GOWORK" && k != "GOFLAGS" && k != "GOOS" && k != "GOARCH" {
			env = append(env, kv)
		}
	}
	return env
}

// runGo runs the go command.
func runGo(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if errors.Is(err, exec.ErrNotFound) {
		err = fmt.Errorf("%w (the local cluster builds its components with Go)", err)
	}
	return out.Bytes(), err
}

// tail returns the last n lines of out.
func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
