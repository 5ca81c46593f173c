// Package doctor checks what the lab needs on this machine, and says what to
// do about what is missing, before `make kind-up` or `make local-up` tries
// and fails half way (`make doctor`).
package doctor

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
)

// Status is how a check came out.
type Status int

// The statuses, from fine to fatal.
const (
	OK   Status = iota
	Warn        // the lab works, with less (no LoadBalancer address, say)
	Fail        // the lab cannot come up
)

// Result is one check's outcome: what was found and, unless it is fine,
// what to do.
type Result struct {
	Status Status
	Found  string
	Fix    string
}

// Check is one thing the lab needs.
type Check struct {
	Name string
	Run  func(ctx context.Context) Result
}

// Machine is what the checks look at; tests replace it.
type Machine interface {
	LookPath(name string) (string, error)
	Output(ctx context.Context, name string, args ...string) ([]byte, error)
	ReadFile(path string) ([]byte, error)
	// CanListen reports whether addr (host:port) is free to listen on.
	CanListen(addr string) bool
	UID() int
	GOOS() string
}

// Run runs every check, prints one line each and a summary, and returns
// how many failed.
func Run(ctx context.Context, w io.Writer, checks []Check) (int, error) {
	var fails, warns int
	var b strings.Builder
	for _, c := range checks {
		r := c.Run(ctx)
		mark := map[Status]string{OK: "ok  ", Warn: "warn", Fail: "FAIL"}[r.Status]
		fmt.Fprintf(&b, "%s %s: %s\n", mark, c.Name, r.Found)
		if r.Status != OK && r.Fix != "" {
			fmt.Fprintf(&b, "     -> %s\n", r.Fix)
		}
		switch r.Status {
		case Fail:
			fails++
		case Warn:
			warns++
		}
	}
	fmt.Fprintf(&b, "doctor: %d of %d checks ok, %d warnings, %d problems\n", len(checks)-fails-warns, len(checks), warns, fails)
	_, err := io.WriteString(w, b.String())
	return fails, err
}

// Kind are the checks for the lab on kind.
func Kind(m Machine) []Check {
	return []Check{
		dockerClient(m), dockerEngine(m), cgroupVersion(m, "kind"),
		portFree(m, "127.0.0.1:30080", "the dashboard's NodePort mapping (deploy/kind/cluster.yaml)"),
		cloudProviderKind(m), dockerDesktop(m),
	}
}

// localFacts exists while the local lab is up (lab/facts).
const localFacts = "/var/lib/podpaths/local/cluster.json"

// Local are the checks for the offline local cluster.
func Local(m Machine) []Check {
	checks := []Check{
		{Name: "linux", Run: func(context.Context) Result {
			if m.GOOS() != "linux" {
				return Result{Fail, m.GOOS(), "the local cluster runs Kubernetes as processes of this machine: Linux only; use make kind-up"}
			}
			return Result{OK, "linux", ""}
		}},
		{Name: "root", Run: func(context.Context) Result {
			if m.UID() != 0 {
				return Result{Fail, fmt.Sprintf("uid %d", m.UID()), "make local-up starts a kubelet and sets up routes and iptables rules: run it as root"}
			}
			return Result{OK, "uid 0", ""}
		}},
		{Name: "apt", Run: func(context.Context) Result {
			if _, err := m.LookPath("apt-get"); err != nil {
				return Result{Fail, "no apt-get", "the local cluster takes containerd, runc and the CNI plugins from Debian's packages: Debian 12 (or a derivative) only"}
			}
			return Result{OK, "apt-get found", ""}
		}},
		cgroupVersion(m, "local"),
	}
	if _, err := m.ReadFile(localFacts); err == nil {
		return append(checks, Check{Name: "ports", Run: func(context.Context) Result {
			return Result{OK, "the local lab is up and holds them (make local-down frees them)", ""}
		}})
	}
	for _, p := range []struct{ addr, what string }{
		{"0.0.0.0:30080", "the dashboard's NodePort"}, {"0.0.0.0:6443", "the API server"},
		{"127.0.0.1:2379", "etcd"}, {"0.0.0.0:10250", "the kubelet"},
	} {
		checks = append(checks, portFree(m, p.addr, p.what))
	}
	return checks
}

func dockerClient(m Machine) Check {
	return Check{Name: "docker client", Run: func(context.Context) Result {
		path, err := m.LookPath("docker")
		if err != nil {
			return Result{Fail, "not found", "install Docker (Docker Desktop, or your distribution's docker.io) and start it"}
		}
		return Result{OK, path, ""}
	}}
}

func dockerEngine(m Machine) Check {
	return Check{Name: "docker engine", Run: func(ctx context.Context) Result {
		out, err := m.Output(ctx, "docker", "info", "--format", "{{.ServerVersion}}")
		if err != nil {
			return Result{Fail, "does not answer", "start Docker: Docker Desktop, or `sudo systemctl start docker`; then `docker info` must answer"}
		}
		return Result{OK, "Docker Engine " + strings.TrimSpace(string(out)) + " answers", ""}
	}}
}

// cgroupVersion: kubelet 1.35+ refuses cgroup v1 unless told otherwise.
// Both labs tell it (failCgroupV1: false), so v1 is a warning: Kubernetes
// is dropping it.
func cgroupVersion(m Machine, provider string) Check {
	return Check{Name: "cgroup version", Run: func(context.Context) Result {
		if _, err := m.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil {
			return Result{OK, "v2", ""}
		}
		where := "deploy/kind/cluster.yaml"
		if provider == "local" {
			where = "the local cluster's kubelet configuration"
		}
		return Result{Warn, "v1", "kubelet 1.35+ refuses cgroup v1 by default; " + where + " sets failCgroupV1: false, so the lab runs, " +
			"but Kubernetes is dropping v1: prefer a host with cgroup v2 (systemd.unified_cgroup_hierarchy=1)"}
	}}
}

func portFree(m Machine, addr, what string) Check {
	return Check{Name: "port " + addr, Run: func(context.Context) Result {
		if !m.CanListen(addr) {
			return Result{Fail, "in use", "the lab needs it for " + what + ": stop what listens there (`ss -ltnp`), or take down a lab that is still up"}
		}
		return Result{OK, "free", ""}
	}}
}

func cloudProviderKind(m Machine) Check {
	return Check{Name: "cloud-provider-kind", Run: func(context.Context) Result {
		path, err := m.LookPath("cloud-provider-kind")
		if err != nil {
			return Result{Warn, "not found", "without it the LoadBalancer Service gets no address and its rows are skipped: " +
				"go install sigs.k8s.io/cloud-provider-kind@latest (docs/lab.md)"}
		}
		return Result{OK, path, ""}
	}}
}

// dockerDesktop: on macOS, Windows and WSL, kind's node IPs live inside
// Docker Desktop's VM, so only the localhost mapping reaches the NodePort.
func dockerDesktop(m Machine) Check {
	return Check{Name: "node IPs reachable", Run: func(context.Context) Result {
		version, _ := m.ReadFile("/proc/version") //nolint:errcheck // absent outside Linux, which the GOOS says
		switch {
		case m.GOOS() != "linux":
			return Result{Warn, "no (" + m.GOOS() + ": Docker Desktop)", "the nodes' IPs are inside Docker Desktop's VM: use http://localhost:30080; make check skips the node lines"}
		case strings.Contains(strings.ToLower(string(version)), "microsoft"):
			return Result{Warn, "no (WSL)", "under WSL with Docker Desktop the nodes' IPs are inside its VM: use http://localhost:30080"}
		}
		return Result{OK, "yes (Linux)", ""}
	}}
}

// Host is the real machine.
type Host struct{}

// GOOS implements Machine.
func (Host) GOOS() string { return runtime.GOOS }
