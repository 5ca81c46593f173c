package workshop

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// storeName is the ConfigMap in the lab's namespace that remembers the
// active exercise. It lives in the cluster, not on this machine, so that
// any terminal (or a second participant) sees the same lab state.
const storeName = "podpaths-workshop"

// progress is what the store holds.
type progress struct {
	// Active is the slug of the exercise in progress, "" when none.
	Active string
	// Step is the index of the last step applied.
	Step int
	// Before is the state before that step, for exercise-check.
	Before Outcomes
	// Done are the exercises reset after a run, in order.
	Done []string
}

func loadProgress(ctx context.Context, env *Env) (progress, error) {
	cm, err := env.Clients.Kube.CoreV1().ConfigMaps(env.Namespace).Get(ctx, storeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return progress{}, nil
	}
	if err != nil {
		return progress{}, fmt.Errorf("read the workshop's state: %w", err)
	}
	p := progress{Active: cm.Data["active"]}
	if s := cm.Data["done"]; s != "" {
		p.Done = strings.Split(s, ",")
	}
	if _, err := fmt.Sscan(cm.Data["step"], &p.Step); err != nil && p.Active != "" {
		return p, fmt.Errorf("workshop state: step %q: %w", cm.Data["step"], err)
	}
	if b := cm.Data["before"]; b != "" {
		if err := json.Unmarshal([]byte(b), &p.Before); err != nil {
			return p, fmt.Errorf("workshop state: %w", err)
		}
	}
	return p, nil
}

func saveProgress(ctx context.Context, env *Env, p progress) error {
	before, err := json.Marshal(p.Before)
	if err != nil {
		return err
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: storeName, Namespace: env.Namespace,
			Labels: map[string]string{"app.kubernetes.io/part-of": "podpaths"}},
		Data: map[string]string{
			"active": p.Active, "step": fmt.Sprint(p.Step), "before": string(before),
			"done": strings.Join(slices.Compact(p.Done), ","),
		},
	}
	cms := env.Clients.Kube.CoreV1().ConfigMaps(env.Namespace)
	_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
	}
	if err != nil {
		return fmt.Errorf("save the workshop's state: %w", err)
	}
	return nil
}
