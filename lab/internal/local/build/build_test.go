package build

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRequiredVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, gomod, module, want string
	}{
		{"one line", "module x\n\ngo 1.26.0\n\nrequire github.com/coredns/coredns v1.14.7\n", "github.com/coredns/coredns", "v1.14.7"},
		{"block", "module x\n\nrequire (\n\tk8s.io/api v0.37.2 // indirect\n\tk8s.io/kubernetes v1.37.2\n)\n", "k8s.io/kubernetes", "v1.37.2"},
		{"comment after", "require (\n\tgo.etcd.io/etcd/server/v3 v3.6.16 // pinned\n)\n", "go.etcd.io/etcd/server/v3", "v3.6.16"},
		{"replace is not require", "require a v1.0.0\nreplace k8s.io/api => k8s.io/api v0.37.2\n", "k8s.io/api", ""},
		{"prefix is not the module", "require go.etcd.io/etcd/server/v3 v3.6.16\n", "go.etcd.io/etcd/server", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := requiredVersion([]byte(tt.gomod), tt.module)
			if got != tt.want || (tt.want == "") != (err != nil) {
				t.Errorf("requiredVersion(%s): got %q, %v; want %q", tt.module, got, err, tt.want)
			}
		})
	}
}

// TestPinnedWrappersNameEveryComponent reads the repository's own wrapper
// modules, so a component without a pinned version fails here, not at `up`.
func TestPinnedWrappersNameEveryComponent(t *testing.T) {
	t.Parallel()
	want := map[string]string{"kubernetes": "v1.37.", "etcd": "v3.6.", "coredns": "v1.14.", "metallb": "v0.15.", "crictl": "v1."}
	for _, c := range components {
		gomod, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "hack", "local-cluster", "build", c.name, "go.mod"))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		v, err := requiredVersion(gomod, c.module)
		if err != nil || !strings.HasPrefix(v, want[c.name]) {
			t.Errorf("%s: pinned %q (%v), want %s*", c.name, v, err, want[c.name])
		}
		for _, b := range c.binaries {
			tools, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "hack", "local-cluster", "build", c.name, "tools.go"))
			if err != nil || !strings.Contains(string(tools), `"`+b.pkg+`"`) {
				t.Errorf("%s: tools.go does not import %s, so go mod tidy would not keep its dependencies", c.name, b.pkg)
			}
		}
	}
}

func TestKubernetesVersionIsStamped(t *testing.T) {
	t.Parallel()
	flags := strings.Join(mustComponent("kubernetes").buildFlags("v1.37.2"), " ")
	for _, want := range []string{
		"k8s.io/component-base/version.gitVersion=v1.37.2",
		"k8s.io/component-base/version.gitMinor=37",
		"k8s.io/client-go/pkg/version.gitVersion=v1.37.2",
		"-mod=readonly",
	} {
		if !strings.Contains(flags, want) {
			t.Errorf("kubernetes build flags %q lack %q", flags, want)
		}
	}
	if strings.Contains(flags, "-trimpath") {
		t.Error("kubernetes is built with -trimpath, which throws away the machine's build cache")
	}
	if !strings.Contains(strings.Join(mustComponent("etcd").buildFlags("v3.6.16"), " "), "-trimpath") {
		t.Error("etcd is built without -trimpath")
	}
}

// fakeGo stands in for the go command: `go build -o FILE` writes FILE.
type fakeGo struct {
	mu     sync.Mutex
	builds []string
	fail   bool
	modDir string
}

func (f *fakeGo) run(_ context.Context, _ string, env []string, args ...string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(env, "CGO_ENABLED=0") || !slices.Contains(env, "GOWORK=off") {
		return nil, errors.New("build without CGO_ENABLED=0 and GOWORK=off")
	}
	switch args[0] {
	case "build":
		f.builds = append(f.builds, args[len(args)-1])
		if f.fail {
			return []byte("compile error"), errors.New("exit status 1")
		}
		out := args[slices.Index(args, "-o")+1]
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return nil, err
		}
		return nil, os.WriteFile(out, []byte("binary"), 0o755)
	case "list":
		return []byte(`{"Dir": "` + f.modDir + `"}`), nil
	}
	return []byte("go1.26.8\n"), nil
}

func (f *fakeGo) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.builds)
}

func testBuilder(t *testing.T, g *fakeGo) Builder {
	t.Helper()
	wrappers := t.TempDir()
	for _, c := range components {
		dir := filepath.Join(wrappers, c.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range map[string]string{
			"go.mod":   "module w\n\nrequire " + c.module + " v1.2.3\n",
			"go.sum":   c.module + " v1.2.3 h1:abc=\n",
			"tools.go": "package tools\n",
		} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	g.modDir = t.TempDir()
	crds := filepath.Join(g.modDir, "config", "crd", "bases")
	if err := os.MkdirAll(crds, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(crds, "metallb.io_ipaddresspools.yaml"), []byte("kind: CustomResourceDefinition\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	return Builder{wrappers: wrappers, cache: t.TempDir(), log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		goCmd: g.run, now: time.Now}
}

func TestBuildCacheHitSkipsBuilding(t *testing.T) {
	t.Parallel()
	g := &fakeGo{}
	b := testBuilder(t, g)
	got, err := b.EnsureAll(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	binaries := 0
	for _, c := range components {
		binaries += len(c.binaries)
	}
	if g.count() != binaries {
		t.Errorf("cold: %d go builds, want %d", g.count(), binaries)
	}
	if want := filepath.Join(b.cache, "kubernetes-v1.2.3", "bin", "kubelet"); got.Bin("kubelet") != want {
		t.Errorf("kubelet at %s, want %s", got.Bin("kubelet"), want)
	}
	if _, err := os.Stat(filepath.Join(b.cache, "metallb-v1.2.3", "crds", "metallb.io_ipaddresspools.yaml")); err != nil {
		t.Error("MetalLB's CRDs were not copied into the cache")
	}

	if _, err := b.EnsureAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if g.count() != binaries {
		t.Errorf("warm: %d more go builds, want none", g.count()-binaries)
	}

	// A changed go.sum is a different build of the same version.
	sum := filepath.Join(b.wrappers, "etcd", "go.sum")
	if err := os.WriteFile(sum, []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := b.EnsureAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if g.count() != binaries+1 || g.builds[len(g.builds)-1] != "go.etcd.io/etcd/server/v3" {
		t.Errorf("after a go.sum change: builds %v, want etcd rebuilt only", g.builds[binaries:])
	}
}

func TestBuildCacheMissesWithoutStampOrBinary(t *testing.T) {
	t.Parallel()
	g := &fakeGo{}
	b := testBuilder(t, g)
	c := mustComponent("crictl")
	if _, err := b.ensure(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	_, dir, inputs, hit, err := b.lookup(c)
	if err != nil || !hit {
		t.Fatalf("after a build: hit %v, err %v", hit, err)
	}
	if err := os.Remove(filepath.Join(dir, "bin", "crictl")); err != nil {
		t.Fatal(err)
	}
	if cached(dir, c, inputs) {
		t.Error("a cache without its binary counts as a hit")
	}
	if cached(dir, c, "other inputs") {
		t.Error("a stamp of other inputs counts as a hit")
	}
}

func TestFailedBuildLeavesNoCache(t *testing.T) {
	t.Parallel()
	g := &fakeGo{fail: true}
	b := testBuilder(t, g)
	_, err := b.ensure(t.Context(), mustComponent("coredns"))
	if err == nil || !strings.Contains(err.Error(), "compile error") {
		t.Fatalf("failed build: got %v, want the compiler's output", err)
	}
	entries, err := os.ReadDir(b.cache)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("a failed build left %v in the cache", entries)
	}
}
