package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		spread      map[string]int
		wantCode    int
		wantSummary string
		wantFail    int
	}{
		{
			name:        "healthy lab",
			spread:      map[string]int{"backend-0": 10, "backend-1": 10},
			wantSummary: "All 11 paths (11 actions) ok, 4 skipped (outside-clusterip: the fake cluster has no outside client; outside-external-lb: the fake cluster has no external load balancer; frontend-backend-env: enableServiceLinks is false)\n",
		},
		{
			name:        "a failing path exits 1",
			spread:      map[string]int{"backend-0": 20},
			wantCode:    1,
			wantSummary: "FAIL: 1 of 11 paths failed (11 actions), 4 skipped (",
			wantFail:    1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.spread = tt.spread
			junit := filepath.Join(t.TempDir(), "check.xml")
			stdout, stderr, err := e.run("check", "--junit", junit)
			if got := exitCode(err); got != tt.wantCode {
				t.Fatalf("check: exit %d (%v), want %d\n%s%s", got, err, tt.wantCode, stdout, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if len(lines) != 16 || !strings.HasPrefix(lines[15]+"\n", tt.wantSummary) {
				t.Errorf("check output: got %d lines ending %q, want 15 path lines and %q", len(lines), lines[len(lines)-1], tt.wantSummary)
			}
			if lines[0] != "outside -> localhost 127.0.0.1:30080 via nodeport: ok frontend-a@podpaths-worker "+latencyOf(lines[0]) {
				t.Errorf("first line: got %q", lines[0])
			}
			if !slices.Contains(e.provider.calls, "Kubeconfig") || string(e.kubeconfig) != "provider-kubeconfig" {
				t.Errorf("check did not use the provider's kubeconfig: calls %v, kubeconfig %q", e.provider.calls, e.kubeconfig)
			}
			raw, err := os.ReadFile(junit)
			if err != nil {
				t.Fatalf("junit file: %v", err)
			}
			var doc struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
				Skipped  int `xml:"skipped,attr"`
			}
			if err := xml.Unmarshal(raw, &doc); err != nil {
				t.Fatalf("parse junit: %v", err)
			}
			if doc.Tests != 15 || doc.Failures != tt.wantFail || doc.Skipped != 4 {
				t.Errorf("junit: got tests=%d failures=%d skipped=%d, want 15/%d/4", doc.Tests, doc.Failures, doc.Skipped, tt.wantFail)
			}
		})
	}
}

// latencyOf returns the last field of a line, the latency, which varies.
func latencyOf(line string) string {
	f := strings.Fields(line)
	return f[len(f)-1]
}

func TestCheckWithKubeconfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte("file-kubeconfig"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := e.run("check", "--kubeconfig", kc)
	if err != nil {
		t.Fatalf("check: %v\n%s", err, stdout)
	}
	if string(e.kubeconfig) != "file-kubeconfig" || slices.Contains(e.provider.calls, "Kubeconfig") {
		t.Errorf("check --kubeconfig: clients got %q, provider calls %v", e.kubeconfig, e.provider.calls)
	}
	if strings.Contains(stdout, "localhost") || !strings.Contains(stdout, "(10 actions)") || !strings.Contains(stdout, "outside-clusterip: --kubeconfig names another cluster") {
		t.Errorf("check --kubeconfig: want neither the provider's localhost mapping nor its outside client, 10 actions:\n%s", stdout)
	}
}

func TestCheckMissingKubeconfig(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing")
	_, _, err := newEnv(t).run("check", "--kubeconfig", missing)
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "--kubeconfig: open "+missing) || strings.Contains(err.Error(), "make kind-up") {
		t.Fatalf("check with a missing kubeconfig: got %v, want exit 1 naming the flag and the file, and no hint about the lab", err)
	}
}
