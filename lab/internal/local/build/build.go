// Package build provides the cluster's programs. Kubernetes, etcd, CoreDNS,
// MetalLB's controller and crictl are built from upstream source through the
// Go module proxy, each from a small wrapper module pinned in the repository
// (hack/local-cluster/build/<component>: go.mod, go.sum, tools.go, written by
// hack/local-cluster/pin.sh). The builds are static (CGO_ENABLED=0) and
// cached by version under /var/cache/podpaths/<component>-<version>/, outside
// the repository, so a later run and a fresh clone on the same machine find
// them and build nothing. containerd, runc and the CNI plugins are Debian
// packages (debs.go).
package build

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/podpaths/podpaths/lab/internal/local/host"
)

// Outputs are the built components: each one's cache directory, and where
// each binary is.
type Outputs struct {
	bins map[string]string
	dirs map[string]string
}

func newOutputs() Outputs { return Outputs{bins: map[string]string{}, dirs: map[string]string{}} }

// add records component c, built in dir.
func (b Outputs) add(c component, dir string) {
	b.dirs[c.name] = dir
	for _, bin := range c.binaries {
		b.bins[bin.name] = filepath.Join(dir, "bin", bin.name)
	}
}

// Bin is the path of a built program.
func (b Outputs) Bin(name string) string { return b.bins[name] }

// Dir is the cache directory of the component named name: MetalLB's CRDs
// are copied there.
func (b Outputs) Dir(name string) string { return b.dirs[name] }

// Builder builds components into the cache.
type Builder struct {
	// wrappers is hack/local-cluster/build in the repository.
	wrappers string
	// cache is /var/cache/podpaths.
	cache string
	log   *slog.Logger
	// goCmd runs the go command in dir with env; tests replace it.
	goCmd func(ctx context.Context, dir string, env []string, args ...string) ([]byte, error)
	now   func() time.Time
}

// NewBuilder returns a builder of the wrapper modules in wrappers (the
// repository's hack/local-cluster/build) into the cache directory cache.
func NewBuilder(wrappers, cache string, log *slog.Logger) Builder {
	return Builder{wrappers: wrappers, cache: cache, log: log, goCmd: runGo, now: time.Now}
}

// EnsureAll builds what is not in the cache, one component at a time (two
// cores: one big build at once).
func (b Builder) EnsureAll(ctx context.Context) (Outputs, error) {
	out := newOutputs()
	for _, c := range components {
		dir, err := b.ensure(ctx, c)
		if err != nil {
			return Outputs{}, err
		}
		out.add(c, dir)
	}
	return out, nil
}

// Locate returns where the components are or would be, without building:
// enough for `down`, which only needs crictl and kube-proxy if they exist.
func (b Builder) Locate() Outputs {
	out := newOutputs()
	for _, c := range components {
		if _, dir, _, _, err := b.lookup(c); err == nil {
			out.add(c, dir)
		}
	}
	return out
}

// Version is the version the component named name is pinned at, read as a
// build would read it: CoreDNS's image is tagged with it.
func (b Builder) Version(name string) (string, error) {
	version, _, _, _, err := b.lookup(mustComponent(name))
	return version, err
}

// cacheDir is where component c at version lives.
func (b Builder) cacheDir(c component, version string) string {
	return filepath.Join(b.cache, c.name+"-"+version)
}

// lookup returns the component's version and cache directory, and whether
// that directory holds a finished build of exactly these inputs.
func (b Builder) lookup(c component) (version, dir, inputs string, hit bool, err error) {
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
func (b Builder) ensure(ctx context.Context, c component) (string, error) {
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
func (b Builder) build(ctx context.Context, c component, version, dir string) error {
	wrapper := filepath.Join(b.wrappers, c.name)
	for i, bin := range c.binaries {
		args := append([]string{"build"}, c.buildFlags(version)...)
		args = append(args, "-o", filepath.Join(dir, "bin", bin.name), bin.pkg)
		b.log.Info("go build", "binary", bin.name, "n", fmt.Sprintf("%d/%d", i+1, len(c.binaries)))
		stop := b.heartbeat(ctx, bin.name)
		out, err := b.goCmd(ctx, wrapper, goEnv(), args...)
		stop()
		if err != nil {
			return fmt.Errorf("build %s %s: %w\n%s", c.name, bin.name, err, host.Tail(out, 20))
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
func (b Builder) heartbeat(ctx context.Context, what string) func() {
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
func (b Builder) copyModuleFiles(ctx context.Context, c component, f moduleFiles, dir string) error {
	out, err := b.goCmd(ctx, filepath.Join(b.wrappers, c.name), goEnv(), "list", "-mod=readonly", "-m", "-json", c.module)
	if err != nil {
		return fmt.Errorf("locate %s: %w\n%s", c.module, err, host.Tail(out, 5))
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		return fmt.Errorf("locate %s: no module directory in %q", c.module, host.Tail(out, 5))
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
