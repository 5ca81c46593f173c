package main

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/lab/exercises"
)

// TestExerciseRefusesBadInput: an unknown exercise, or a second one while
// one is active, gets a one-line error and changes nothing in the lab.
func TestExerciseRefusesBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		active  string
		args    []string
		wantErr string
	}{
		{name: "unknown exercise", args: []string{"exercise", "99"}, wantErr: `no exercise "99" (have: 1 scale, 2 keepalive`},
		{name: "unknown name", args: []string{"exercise", "carrier-pigeon"}, wantErr: `no exercise "carrier-pigeon"`},
		{name: "one is active", active: "links", args: []string{"exercise", "1"}, wantErr: "exercise links is active: make exercise-reset first"},
		{name: "check without one", args: []string{"exercise", "check"}, wantErr: "no exercise is active"},
		{name: "too many arguments", args: []string{"exercise", "1", "2"}, wantErr: "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if tt.active != "" {
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "podpaths-workshop", Namespace: "podpaths"},
					Data: map[string]string{"active": tt.active, "step": "0"}}
				if _, err := e.kube.CoreV1().ConfigMaps("podpaths").Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			before := len(e.kube.Actions())
			_, _, err := e.run(tt.args...)
			usage := tt.wantErr == "usage" && errors.Is(err, errUsage)
			if err == nil || !usage && !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("lab %s = %v, want an error saying %q", strings.Join(tt.args, " "), err, tt.wantErr)
			}
			for _, a := range e.kube.Actions()[before:] {
				if a.GetVerb() != "get" && a.GetVerb() != "list" {
					t.Errorf("lab %s changed the lab: %s %s", strings.Join(tt.args, " "), a.GetVerb(), a.GetResource().Resource)
				}
			}
			if len(e.applied) != 0 {
				t.Errorf("lab %s applied %v", strings.Join(tt.args, " "), e.applied)
			}
		})
	}
}

func TestExerciseList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	stdout, _, err := e.run("exercise")
	if err != nil {
		t.Fatal(err)
	}
	for i, ex := range exercises.All() {
		if !strings.Contains(stdout, ex.Slug) || !strings.Contains(stdout, ex.Title) {
			t.Errorf("lab exercise lists no exercise %d (%s):\n%s", i+1, ex.Slug, stdout)
		}
	}
}

func TestExerciseDocs(t *testing.T) {
	t.Parallel()
	stdout, _, err := newEnv(t).run("exercise", "docs")
	if err != nil || stdout != exercises.Markdown() {
		t.Errorf("lab exercise docs = %v, want the generated workshop page", err)
	}
}
