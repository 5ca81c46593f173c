package kind

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

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
