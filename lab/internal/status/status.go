// Package status prints what the lab is made of right now: nodes, pods and
// Services, with the addresses a learner needs to follow a path by hand.
package status

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/podpaths/podpaths/lab/kube"
)

// Print writes the nodes, the namespace's pods and its Services as tables.
func Print(ctx context.Context, client kubernetes.Interface, namespace string, w io.Writer) error {
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	pods, err := client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list pods: %w", err)
	}
	svcs, err := client.CoreV1().Services(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list services: %w", err)
	}
	nodeRows := []string{"NODE\tROLES\tREADY\tINTERNAL-IP\tVERSION"}
	for _, n := range nodes.Items {
		nodeRows = append(nodeRows, row(n.Name, roles(n), nodeReady(n), orNone(kube.InternalIP(&n)), n.Status.NodeInfo.KubeletVersion))
	}
	podRows := []string{"POD\tREADY\tSTATUS\tRESTARTS\tIP\tNODE"}
	for _, p := range pods.Items {
		ready, restarts := containers(p)
		podRows = append(podRows, row(p.Name, ready, string(p.Status.Phase), strconv.Itoa(int(restarts)), orNone(p.Status.PodIP), orNone(p.Spec.NodeName)))
	}
	svcRows := []string{"SERVICE\tTYPE\tCLUSTER-IP\tPORTS\tEXTERNAL"}
	for _, s := range svcs.Items {
		svcRows = append(svcRows, row(s.Name, string(s.Spec.Type), orNone(s.Spec.ClusterIP), ports(s), external(s)))
	}
	var b strings.Builder
	for i, rows := range [][]string{nodeRows, podRows, svcRows} {
		if i > 0 {
			b.WriteByte('\n')
		}
		if err := table(&b, rows); err != nil {
			return err
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	return nil
}

func row(cells ...string) string { return strings.Join(cells, "\t") }

// table aligns tab-separated rows into columns, one table per section.
func table(b *strings.Builder, rows []string) error {
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		if _, err := io.WriteString(tw, r+"\n"); err != nil {
			return fmt.Errorf("format status: %w", err)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("format status: %w", err)
	}
	return nil
}

// LoadBalancerAddress returns the first ingress IP or hostname of a Service,
// or "" while it is pending.
func LoadBalancerAddress(s corev1.Service) string {
	for _, in := range s.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			return in.IP
		}
		if in.Hostname != "" {
			return in.Hostname
		}
	}
	return ""
}

func roles(n corev1.Node) string {
	var rs []string
	for k := range n.Labels {
		if r, ok := strings.CutPrefix(k, "node-role.kubernetes.io/"); ok {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return "<none>"
	}
	slices.Sort(rs)
	return strings.Join(rs, ",")
}

func nodeReady(n corev1.Node) string {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return string(c.Status)
		}
	}
	return "Unknown"
}

// containers counts ready containers, native sidecars (restartable init
// containers) included, as kubectl does.
func containers(p corev1.Pod) (string, int32) {
	var ready, total int
	var restarts int32
	statuses := slices.Concat(p.Status.InitContainerStatuses, p.Status.ContainerStatuses)
	sidecars := map[string]bool{}
	for _, c := range p.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars[c.Name] = true
		}
	}
	for i, st := range statuses {
		if i < len(p.Status.InitContainerStatuses) && !sidecars[st.Name] {
			continue
		}
		total++
		restarts += st.RestartCount
		if st.Ready {
			ready++
		}
	}
	if total == 0 {
		total = len(p.Spec.Containers) + len(sidecars)
	}
	return fmt.Sprintf("%d/%d", ready, total), restarts
}

func ports(s corev1.Service) string {
	var ps []string
	for _, p := range s.Spec.Ports {
		v := strconv.Itoa(int(p.Port))
		if p.NodePort != 0 {
			v += ":" + strconv.Itoa(int(p.NodePort))
		}
		ps = append(ps, v+"/"+string(p.Protocol))
	}
	return orNone(strings.Join(ps, ","))
}

func external(s corev1.Service) string {
	if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return "<none>"
	}
	if a := LoadBalancerAddress(s); a != "" {
		return a
	}
	return "<pending>"
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
