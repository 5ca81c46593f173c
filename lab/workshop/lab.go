package workshop

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/podpaths/podpaths/lab/manifest"
	"github.com/podpaths/podpaths/lab/rollout"
)

// What the runner and the actions (package actions) both do to the lab.

// Apply renders the kustomization in dir and server-side applies it as the
// lab's field manager.
func (env *Env) Apply(ctx context.Context, dir string) error {
	objs, err := manifest.Render(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return err
	}
	return env.ApplyObjects(ctx, objs)
}

// ApplyObjects server-side applies objects rendered before, as the lab's
// field manager.
func (env *Env) ApplyObjects(ctx context.Context, objs []*unstructured.Unstructured) error {
	return manifest.Apply(ctx, env.Clients.Dynamic, env.Clients.Mapper, objs, func(string) {})
}

// ApplyOverlay applies the provider's overlay again: every change the lab's
// field manager made is taken back, and deleted objects come back.
func (env *Env) ApplyOverlay(ctx context.Context) error {
	return env.Apply(ctx, filepath.Join(env.Root, env.Overlay))
}

// WaitRolledOut waits until workload w, in namespace ns (the lab's when
// ""), has rolled out: every replica updated and ready.
func (env *Env) WaitRolledOut(ctx context.Context, ns string, w Workload) error {
	ns = cmp.Or(ns, env.Namespace)
	return WaitFor(ctx, env, "rollout of "+w.String(), func(ctx context.Context) (string, error) {
		ws, err := rollout.Workloads(ctx, env.Clients.Kube, ns)
		if err != nil {
			return "", err
		}
		for _, got := range ws {
			if got.Name == w.String() {
				return got.Pending, nil
			}
		}
		return "", fmt.Errorf("no %s in namespace %s", w, ns)
	})
}

// Record keeps what an action saw under name, for the Watched expectations
// that read it.
func (env *Env) Record(name string, seen []string) {
	if env.Watched == nil {
		env.Watched = map[string][]string{}
	}
	env.Watched[name] = seen
}

// Pods lists the lab's pods that match selector.
func (env *Env) Pods(ctx context.Context, selector string) ([]corev1.Pod, error) {
	pods, err := env.Clients.Kube.CoreV1().Pods(env.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	return pods.Items, nil
}
