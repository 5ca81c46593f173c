package component

import (
	"strings"
	"testing"
)

// The tests render the repository's real deploy/ directory, so they also
// pin what each component the e2e suite uses changes.

func TestChangesOfNoServiceLinks(t *testing.T) {
	t.Parallel()
	changes, err := Changes("../../../deploy", "no-service-links")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range changes {
		if c.New {
			t.Errorf("unexpected new object %s", c.Describe())
		}
		got[c.Object.GetKind()+"/"+c.Object.GetName()] = string(c.Patch) + " <-> " + string(c.Inverse)
	}
	want := `{"spec":{"template":{"spec":{"enableServiceLinks":false}}}} <-> {"spec":{"template":{"spec":{"enableServiceLinks":true}}}}`
	for _, name := range []string{"Deployment/frontend", "StatefulSet/backend"} {
		if got[name] != want {
			t.Errorf("%s: patch <-> inverse = %q, want %q", name, got[name], want)
		}
	}
	if len(got) != 2 {
		t.Errorf("changed objects = %v, want only the two workloads", got)
	}
}

func TestChangesOfExternalTrafficLocal(t *testing.T) {
	t.Parallel()
	changes, err := Changes("../../../deploy", "external-traffic-local")
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 {
		t.Fatalf("got %d changes, want the two outside Services", len(changes))
	}
	for _, c := range changes {
		if c.Object.GetKind() != "Service" || string(c.Patch) != `{"spec":{"externalTrafficPolicy":"Local"}}` ||
			string(c.Inverse) != `{"spec":{"externalTrafficPolicy":"Cluster"}}` {
			t.Errorf("change %s, inverse %s; want Service externalTrafficPolicy Local <-> Cluster", c.Describe(), c.Inverse)
		}
	}
}

func TestChangesOfInternalTrafficLocal(t *testing.T) {
	t.Parallel()
	changes, err := Changes("../../../deploy", "internal-traffic-local")
	if err != nil {
		t.Fatal(err)
	}
	var created, patched []string
	for _, c := range changes {
		if c.New {
			created = append(created, c.Object.GetKind()+"/"+c.Object.GetName())
		} else {
			patched = append(patched, c.Object.GetKind()+"/"+c.Object.GetName()+" "+string(c.Patch))
		}
	}
	if strings.Join(created, ",") != "Service/backend-local" {
		t.Errorf("new objects = %q, want Service/backend-local", created)
	}
	// Containers and env merge by name: the patch adds one variable to the
	// frontend container and names nothing else.
	want := `Deployment/frontend {"spec":{"template":{"spec":{"containers":[{"env":[{"name":"PODPATHS_LOCAL_SERVICE","value":"backend-local"}],"name":"frontend"}]}}}}`
	if len(patched) != 1 || patched[0] != want {
		t.Errorf("patched = %q, want only %q", patched, want)
	}
}

func TestDiffRejectsARemovedObject(t *testing.T) {
	t.Parallel()
	base, err := Render("../../../deploy", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Diff(base, base[1:]); err == nil || !strings.Contains(err.Error(), "removes objects") {
		t.Errorf("Diff with an object missing: err = %v, want one about removed objects", err)
	}
	if changes, err := Diff(base, base); err != nil || len(changes) != 0 {
		t.Errorf("Diff of a rendering with itself = %v, %v; want nothing", changes, err)
	}
}
