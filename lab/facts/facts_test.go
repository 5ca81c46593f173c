package facts

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMarshalRead(t *testing.T) {
	t.Parallel()
	want := Facts{Name: "podpaths", NodeName: "podpaths-a", NodeIP: "192.0.2.2",
		Nodes:   []Node{{Name: "podpaths-a", IP: "192.0.2.2"}, {Name: "podpaths-b", IP: "172.30.0.2", NetNS: "/run/b", HostIP: "172.30.0.1"}},
		Outside: Outside{IP: "172.31.0.2", NetNS: "/run/outside"}, Domain: "cluster.local"}
	raw, err := Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cluster.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Read(Marshal(%+v)) = %+v, %v", want, got, err)
	}
}

func TestReadRejects(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := Read(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read(missing) error = %v, want os.ErrNotExist: no local cluster here", err)
	}
	for name, body := range map[string]string{"not-json": "{", "no-node": `{"name":"x"}`} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("Read(%s) error = %v, want one naming the file", name, err)
		}
	}
}
