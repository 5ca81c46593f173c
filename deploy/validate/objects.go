package validate

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// object is any rendered object, seen through its metadata.
type object struct {
	kind string
	meta metav1.Object
}

func (o object) String() string {
	if o.meta.GetNamespace() == "" {
		return fmt.Sprintf("%s %s", o.kind, o.meta.GetName())
	}
	return fmt.Sprintf("%s %s/%s", o.kind, o.meta.GetNamespace(), o.meta.GetName())
}

func (s *Set) objects() []object {
	var out []object
	for _, o := range s.Namespaces {
		out = append(out, object{"Namespace", o})
	}
	for _, o := range s.ConfigMaps {
		out = append(out, object{"ConfigMap", o})
	}
	for _, o := range s.Services {
		out = append(out, object{"Service", o})
	}
	for _, o := range s.Deployments {
		out = append(out, object{"Deployment", o})
	}
	for _, o := range s.StatefulSets {
		out = append(out, object{"StatefulSet", o})
	}
	for _, o := range s.PodDisruptionBudgets {
		out = append(out, object{"PodDisruptionBudget", o})
	}
	for _, o := range s.NetworkPolicies {
		out = append(out, object{"NetworkPolicy", o})
	}
	for _, o := range s.Custom {
		out = append(out, object{o.GetKind(), o})
	}
	return out
}

// workload is what the checks need from a Deployment or a StatefulSet.
type workload struct {
	ref       string
	namespace string
	replicas  int32
	selector  *metav1.LabelSelector
	template  *corev1.PodTemplateSpec
}

func (s *Set) workloads() []workload {
	var out []workload
	for _, d := range s.Deployments {
		out = append(out, workload{
			ref:       object{"Deployment", d}.String(),
			namespace: d.Namespace,
			replicas:  replicasOf(d.Spec.Replicas),
			selector:  d.Spec.Selector,
			template:  &d.Spec.Template,
		})
	}
	for _, st := range s.StatefulSets {
		out = append(out, workload{
			ref:       object{"StatefulSet", st}.String(),
			namespace: st.Namespace,
			replicas:  replicasOf(st.Spec.Replicas),
			selector:  st.Spec.Selector,
			template:  &st.Spec.Template,
		})
	}
	return out
}

// replicasOf applies the API default: an unset replicas field means one pod.
func replicasOf(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// selectedBy returns the workloads in namespace whose pod template labels sel matches.
func (s *Set) selectedBy(namespace string, sel labels.Selector) []workload {
	var out []workload
	for _, w := range s.workloads() {
		if w.namespace == namespace && sel.Matches(labels.Set(w.template.Labels)) {
			out = append(out, w)
		}
	}
	return out
}

// container is one container of a pod template, main or init.
type container struct {
	*corev1.Container
	init bool
}

// serves reports whether the container runs for the pod's whole life: a main container, or an init container
// with restartPolicy Always (a native sidecar). Only those can serve ports and answer probes.
func (c container) serves() bool {
	return !c.init || (c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways)
}

func (c container) String() string {
	if c.init {
		return fmt.Sprintf("init container %q", c.Name)
	}
	return fmt.Sprintf("container %q", c.Name)
}

func containersOf(spec *corev1.PodSpec) []container {
	var out []container
	for i := range spec.InitContainers {
		out = append(out, container{&spec.InitContainers[i], true})
	}
	for i := range spec.Containers {
		out = append(out, container{&spec.Containers[i], false})
	}
	return out
}

// findPort returns the named port of a serving container in spec, or nil.
func findPort(spec *corev1.PodSpec, name string) *corev1.ContainerPort {
	for _, c := range containersOf(spec) {
		if !c.serves() {
			continue
		}
		for i := range c.Ports {
			if c.Ports[i].Name == name {
				return &c.Ports[i]
			}
		}
	}
	return nil
}

// protocolOr applies the API default: an unset protocol is TCP.
func protocolOr(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}
