package kind

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	kinderrors "sigs.k8s.io/kind/pkg/errors"
	kindexec "sigs.k8s.io/kind/pkg/exec"

	"github.com/podpaths/podpaths/lab/matrix"
)

func TestLocalhostFromConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		config  string
		want    matrix.Localhost
		wantErr bool
	}{
		{
			name: "the lab's cluster: control plane maps 127.0.0.1:30080",
			config: `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
  extraPortMappings:
  - containerPort: 30080
    hostPort: 30080
    listenAddress: 127.0.0.1
    protocol: TCP
- role: worker
- role: worker
`,
			want: matrix.Localhost{Address: "127.0.0.1:30080", Node: "podpaths-control-plane"},
		},
		{
			name: "all addresses and another host port, on the second worker",
			config: `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
- role: worker
- role: worker
  extraPortMappings:
  - containerPort: 30080
    hostPort: 8080
`,
			want: matrix.Localhost{Address: "127.0.0.1:8080", Node: "podpaths-worker2"},
		},
		{
			name: "no mapping of the nodePort",
			config: `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
  extraPortMappings:
  - containerPort: 80
    hostPort: 80
`,
			wantErr: true,
		},
		{name: "not yaml", config: "nodes: [", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := localhostFromConfig([]byte(tt.config), "podpaths", 30080)
			if (err != nil) != tt.wantErr {
				t.Fatalf("localhostFromConfig: got err %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("localhostFromConfig: got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLogger(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	l := newLogger(slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})), 1)
	l.V(0).Infof("Ensuring node image (%s)", "kindest/node")
	l.V(1).Info("debug detail")
	l.V(2).Info("too verbose")
	l.Warnf("careful %d", 1)
	out := b.String()
	for _, want := range []string{`level=INFO msg="Ensuring node image (kindest/node)"`, `level=DEBUG msg="debug detail"`, `level=WARN msg="careful 1"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "too verbose") || l.V(2).Enabled() {
		t.Errorf("V(2) logged at verbosity 1:\n%s", out)
	}
}

// kind's status lines as its Status writes them when no terminal is attached.
func TestLoggerTidiesStatusLines(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	l := newLogger(slog.New(slog.NewTextHandler(&b, nil)), 0)
	l.V(0).Infof(" • %s  ...\n", "Preparing nodes 📦 📦 📦")
	l.V(0).Infof(" ✓ %s\n", "Starting control-plane 🕹️")
	l.V(0).Infof(" ✗ %s\n", "Starting control-plane 🕹️")
	want := []string{
		`level=INFO msg="Preparing nodes"`,
		`level=INFO msg="done: Starting control-plane"`,
		`level=ERROR msg="failed: Starting control-plane"`,
	}
	got := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), b.String())
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("line %d: got %s, want it to contain %s", i, got[i], want[i])
		}
	}
}

func TestCreateErrorShowsTheCommandsOutput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	output := strings.Repeat("kubeadm detail\n", 40) + "[ERROR SystemVerification]: cgroups v1 support is unsupported\n"
	kindErr := kinderrors.Wrap(&kindexec.RunError{
		Command: []string{"docker", "exec", "podpaths-control-plane", "kubeadm", "init"},
		Output:  []byte(output),
		Inner:   errors.New("exit status 1"),
	}, "failed to init node with kubeadm")
	for _, keep := range []bool{false, true} {
		p := New(Options{Name: "podpaths", StateDir: dir, Keep: keep, Logger: slog.New(slog.DiscardHandler)})
		msg := p.createError(kindErr).Error()
		for _, want := range []string{"failed to init node with kubeadm", "cgroups v1 support is unsupported", "kind-create.log"} {
			if !strings.Contains(msg, want) {
				t.Errorf("keep=%v: error lacks %q:\n%s", keep, want, msg)
			}
		}
		if n := strings.Count(msg, "kubeadm detail"); n != outputTail-1 {
			t.Errorf("keep=%v: error shows %d lines of detail, want the last %d lines in all", keep, n, outputTail)
		}
		if hint := "KEEP=1"; strings.Contains(msg, hint) == keep {
			t.Errorf("keep=%v: error mentions %s: %v", keep, hint, !keep)
		}
	}
	saved, err := os.ReadFile(filepath.Join(dir, "kind-create.log"))
	if err != nil || string(saved) != output {
		t.Errorf("kind-create.log: got %d bytes (err %v), want the whole output (%d bytes)", len(saved), err, len(output))
	}
}

func TestLocalClusterOnly(t *testing.T) {
	t.Parallel()
	for archive, want := range map[string]bool{
		"_output/images/localhost_podpaths_pause_3.10.tar":      true,
		"_output/images/localhost_podpaths_coredns_v1.13.1.tar": true,
		"_output/images/localhost_podpaths_backend_0.2.0.tar":   false,
		"_output/images/nginxinc_nginx-unprivileged_1.28.0.tar": false,
		"_output/images/localhost_podpaths_probe_0.2.0.tar":     false,
	} {
		if got := localClusterOnly(archive); got != want {
			t.Errorf("localClusterOnly(%s) = %v, want %v", archive, got, want)
		}
	}
}
