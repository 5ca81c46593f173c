package doctor

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// fakeMachine is a machine described by its fields.
type fakeMachine struct {
	paths    map[string]bool
	engine   bool
	files    map[string]string
	busy     map[string]bool
	uid      int
	goos     string
	commands []string
}

func (f *fakeMachine) LookPath(name string) (string, error) {
	if f.paths[name] {
		return "/usr/bin/" + name, nil
	}
	return "", errors.New("not found")
}

func (f *fakeMachine) Output(_ context.Context, name string, args ...string) ([]byte, error) {
	f.commands = append(f.commands, name+" "+strings.Join(args, " "))
	if name == "docker" && f.engine {
		return []byte("28.2.2\n"), nil
	}
	return nil, errors.New("exit status 1")
}

func (f *fakeMachine) ReadFile(path string) ([]byte, error) {
	if s, ok := f.files[path]; ok {
		return []byte(s), nil
	}
	return nil, errors.New("no such file")
}

func (f *fakeMachine) CanListen(addr string) bool { return !f.busy[addr] }
func (f *fakeMachine) UID() int                   { return f.uid }
func (f *fakeMachine) GOOS() string               { return f.goos }

func healthy() *fakeMachine {
	return &fakeMachine{
		paths: map[string]bool{"docker": true, "cloud-provider-kind": true, "apt-get": true}, engine: true,
		files: map[string]string{"/sys/fs/cgroup/cgroup.controllers": "cpu memory", "/proc/version": "Linux version 6.1"},
		busy:  map[string]bool{}, goos: "linux",
	}
}

func run(t *testing.T, checks []Check) (int, string) {
	t.Helper()
	var out bytes.Buffer
	fails, err := Run(t.Context(), &out, checks)
	if err != nil {
		t.Fatal(err)
	}
	return fails, out.String()
}

func TestHealthyMachines(t *testing.T) {
	t.Parallel()
	for name, checks := range map[string][]Check{"kind": Kind(healthy()), "local": Local(healthy())} {
		if fails, out := run(t, checks); fails != 0 || strings.Contains(out, "\nwarn ") || strings.HasPrefix(out, "warn ") {
			t.Errorf("%s on a healthy machine: %d failed\n%s", name, fails, out)
		}
	}
}

func TestProblemsSayWhatToDo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		change    func(*fakeMachine)
		local     bool
		wantFails int
		want      string
	}{
		{"no docker", func(m *fakeMachine) { m.paths["docker"] = false; m.engine = false }, false, 2, "install Docker"},
		{"engine stopped", func(m *fakeMachine) { m.engine = false }, false, 1, "start Docker"},
		{"port taken", func(m *fakeMachine) { m.busy["127.0.0.1:30080"] = true }, false, 1, "stop what listens there"},
		{"no cloud-provider-kind", func(m *fakeMachine) { m.paths["cloud-provider-kind"] = false }, false, 0, "go install sigs.k8s.io/cloud-provider-kind"},
		{"cgroup v1", func(m *fakeMachine) { delete(m.files, "/sys/fs/cgroup/cgroup.controllers") }, false, 0, "failCgroupV1: false"},
		{"macOS", func(m *fakeMachine) { m.goos = "darwin" }, false, 0, "use http://localhost:30080"},
		{"WSL", func(m *fakeMachine) { m.files["/proc/version"] = "Linux version 5.15 microsoft-standard-WSL2" }, false, 0, "under WSL"},
		{"not root", func(m *fakeMachine) { m.uid = 1000 }, true, 1, "run it as root"},
		{"API port taken", func(m *fakeMachine) { m.busy["0.0.0.0:6443"] = true }, true, 1, "for the API server"},
		{"not Debian", func(m *fakeMachine) { m.paths["apt-get"] = false }, true, 1, "Debian 12"},
		{"the lab holds its ports", func(m *fakeMachine) { m.busy["0.0.0.0:6443"] = true; m.files[localFacts] = "{}" }, true, 0, "the local lab is up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := healthy()
			tt.change(m)
			checks := Kind(m)
			if tt.local {
				checks = Local(m)
			}
			fails, out := run(t, checks)
			if fails != tt.wantFails || !strings.Contains(out, tt.want) {
				t.Errorf("%d failed, want %d, and the advice %q:\n%s", fails, tt.wantFails, tt.want, out)
			}
		})
	}
}
