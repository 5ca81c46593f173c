package validate_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podpaths/podpaths/deploy/validate"
)

// The names, ports and values below are the project's public interface (docs/design.md):
// docs, the lab CLI and the e2e tests depend on them.

// TestServicesContract checks each Service of the kind overlay against the design.
func TestServicesContract(t *testing.T) {
	t.Parallel()
	set := renderSet(t, filepath.Join(deployDir(t), "overlays", "kind"))
	tests := []struct {
		name     string
		typ      corev1.ServiceType
		headless bool
		port     int32
		nodePort int32
		affinity corev1.ServiceAffinity
		selects  string
		// pinned is a fixed spec.clusterIP; distribution the trafficDistribution.
		pinned, distribution string
		// externalName makes the Service a DNS alias, with no ports.
		externalName string
	}{
		{name: "backend", typ: corev1.ServiceTypeClusterIP, port: 8080, affinity: corev1.ServiceAffinityNone, selects: "backend", pinned: "10.96.0.80"},
		{name: "backend-headless", typ: corev1.ServiceTypeClusterIP, headless: true, port: 8080, affinity: corev1.ServiceAffinityNone, selects: "backend"},
		{name: "backend-sticky", typ: corev1.ServiceTypeClusterIP, port: 8080, affinity: corev1.ServiceAffinityClientIP, selects: "backend"},
		{name: "backend-nearby", typ: corev1.ServiceTypeClusterIP, port: 8080, affinity: corev1.ServiceAffinityNone, selects: "backend", distribution: corev1.ServiceTrafficDistributionPreferSameNode},
		{name: "backend-alias", typ: corev1.ServiceTypeExternalName, externalName: "backend.podpaths.svc.cluster.local"},
		{name: "frontend", typ: corev1.ServiceTypeLoadBalancer, port: 80, affinity: corev1.ServiceAffinityNone, selects: "frontend"},
		{name: "frontend-nodeport", typ: corev1.ServiceTypeNodePort, port: 80, nodePort: 30080, affinity: corev1.ServiceAffinityNone, selects: "frontend"},
	}
	if got := len(set.Services); got != len(tests) {
		t.Errorf("kind overlay: %d Services, want %d", got, len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc := service(set, tc.name)
			if svc == nil {
				t.Fatalf("Service %s missing", tc.name)
			}
			typ := svc.Spec.Type
			if typ == "" {
				typ = corev1.ServiceTypeClusterIP
			}
			if tc.externalName != "" {
				if typ != tc.typ || svc.Spec.ExternalName != tc.externalName || len(svc.Spec.Ports) != 0 || svc.Spec.Selector != nil {
					t.Errorf("Service %s: type %s externalName %q, %d ports, selector %v; want %s %q, no ports, no selector",
						tc.name, typ, svc.Spec.ExternalName, len(svc.Spec.Ports), svc.Spec.Selector, tc.typ, tc.externalName)
				}
				return
			}
			affinity := svc.Spec.SessionAffinity
			if affinity == "" {
				affinity = corev1.ServiceAffinityNone
			}
			if len(svc.Spec.Ports) != 1 {
				t.Fatalf("Service %s: %d ports, want 1", tc.name, len(svc.Spec.Ports))
			}
			p := svc.Spec.Ports[0]
			pinned, distribution := "", ""
			if svc.Spec.ClusterIP != corev1.ClusterIPNone {
				pinned = svc.Spec.ClusterIP
			}
			if svc.Spec.TrafficDistribution != nil {
				distribution = *svc.Spec.TrafficDistribution
			}
			got := fmt.Sprintf("type=%s headless=%v port=%s/%d target=%s nodePort=%d affinity=%s selects=%s clusterIP=%q distribution=%q",
				typ, svc.Spec.ClusterIP == corev1.ClusterIPNone, p.Name, p.Port, p.TargetPort.String(), p.NodePort, affinity, svc.Spec.Selector[validate.LabelName],
				pinned, distribution)
			want := fmt.Sprintf("type=%s headless=%v port=http/%d target=http nodePort=%d affinity=%s selects=%s clusterIP=%q distribution=%q",
				tc.typ, tc.headless, tc.port, tc.nodePort, tc.affinity, tc.selects, tc.pinned, tc.distribution)
			if got != want {
				t.Errorf("Service %s:\n got %s\nwant %s", tc.name, got, want)
			}
		})
	}
}

// TestWorkloadsContract checks the shape of both workloads: replicas, containers, ports and the wiring env.
func TestWorkloadsContract(t *testing.T) {
	t.Parallel()
	set := renderSet(t, filepath.Join(deployDir(t), "overlays", "kind"))
	be, fe := backend(t, set), frontend(t, set)
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"backend replicas", fmt.Sprint(*be.Spec.Replicas), "3"},
		{"backend serviceName", be.Spec.ServiceName, "backend-headless"},
		{"backend containers", fmt.Sprint(names(be.Spec.Template.Spec.Containers)), "[backend sidecar]"},
		{"backend ports", ports(be.Spec.Template.Spec.Containers), "backend:http=8080,admin=9090 sidecar:sidecar-admin=9091"},
		{"frontend replicas", fmt.Sprint(*fe.Spec.Replicas), "2"},
		{"frontend containers", fmt.Sprint(names(fe.Spec.Template.Spec.Containers)), "[nginx frontend]"},
		{"frontend ports", ports(fe.Spec.Template.Spec.Containers), "nginx:http=8080 frontend:admin=9090"},
		{"frontend sticky", envOf(t, fe.Spec.Template.Spec.Containers, "frontend", "PODPATHS_STICKY_SERVICE"), "backend-sticky"},
		{"frontend nearby", envOf(t, fe.Spec.Template.Spec.Containers, "frontend", "PODPATHS_NEARBY_SERVICE"), "backend-nearby"},
		{"frontend alias", envOf(t, fe.Spec.Template.Spec.Containers, "frontend", "PODPATHS_ALIAS_SERVICE"), "backend-alias"},
		// The hand-made copy must be the address the manifest pins.
		{"frontend static copy", envOf(t, fe.Spec.Template.Spec.Containers, "frontend", "PODPATHS_BACKEND_ADDR"), service(set, "backend").Spec.ClusterIP + ":8080"},
		{"frontend methods", envOf(t, fe.Spec.Template.Spec.Containers, "frontend", "PODPATHS_BACKEND_METHODS"), "env,dns,static,headless"},
		{"frontend headless", envOf(t, fe.Spec.Template.Spec.Containers, "frontend", "PODPATHS_HEADLESS_SERVICE"), "backend-headless"},
		{"frontend backend service", envOf(t, fe.Spec.Template.Spec.Containers, "frontend", "PODPATHS_BACKEND_SERVICE"), "backend"},
		{"frontend app addr", envOf(t, fe.Spec.Template.Spec.Containers, "frontend", "PODPATHS_APP_ADDR"), "127.0.0.1:3000"},
		{"backend sidecar addr", envOf(t, be.Spec.Template.Spec.Containers, "backend", "PODPATHS_SIDECAR_ADDR"), "127.0.0.1:9000"},
		{"sidecar app addr", envOf(t, be.Spec.Template.Spec.Containers, "sidecar", "PODPATHS_APP_ADDR"), "127.0.0.1:9000"},
		{"nginx backend host", envOf(t, fe.Spec.Template.Spec.Containers, "nginx", "PODPATHS_BACKEND_HOST"), "backend.podpaths.svc.cluster.local"},
		{"nginx resolvers", envOf(t, fe.Spec.Template.Spec.Containers, "nginx", "NGINX_ENTRYPOINT_LOCAL_RESOLVERS"), "1"},
		{"nginx envsubst filter", envOf(t, fe.Spec.Template.Spec.Containers, "nginx", "NGINX_ENVSUBST_FILTER"), "^(PODPATHS_|NGINX_LOCAL_RESOLVERS)"},
		{"nginx backend port", envOf(t, fe.Spec.Template.Spec.Containers, "nginx", "PODPATHS_BACKEND_PORT"), "8080"},
		{"nginx image", container(t, fe.Spec.Template.Spec.Containers, "nginx").Image, "nginxinc/nginx-unprivileged:1.28.0-alpine"},
		{"nginx uid", fmt.Sprint(*container(t, fe.Spec.Template.Spec.Containers, "nginx").SecurityContext.RunAsUser), "101"},
		{"nginx mounts", mounts(container(t, fe.Spec.Template.Spec.Containers, "nginx")), "/etc/nginx/templates(ro) /etc/nginx/conf.d /tmp"},
		{"nginx preStop sleep", preStopSleep(container(t, fe.Spec.Template.Spec.Containers, "nginx")), "5"},
		{"nginx templates mounted", configMapItems(fe.Spec.Template.Spec.Volumes, "nginx-templates"), "default.conf.template=>default.conf.template"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.got != tc.want {
				t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
			}
		})
	}
}

func ports(cs []corev1.Container) string {
	var parts []string
	for _, c := range cs {
		var ps []string
		for _, p := range c.Ports {
			ps = append(ps, fmt.Sprintf("%s=%d", p.Name, p.ContainerPort))
		}
		parts = append(parts, c.Name+":"+strings.Join(ps, ","))
	}
	return strings.Join(parts, " ")
}

func envOf(t *testing.T, cs []corev1.Container, containerName, name string) string {
	t.Helper()
	v, ok := env(container(t, cs, containerName), name)
	if !ok {
		return "<unset>"
	}
	return v
}

func mounts(c *corev1.Container) string {
	var out []string
	for _, m := range c.VolumeMounts {
		if m.ReadOnly {
			out = append(out, m.MountPath+"(ro)")
			continue
		}
		out = append(out, m.MountPath)
	}
	return strings.Join(out, " ")
}

// configMapItems describes which keys of a ConfigMap volume are mounted under which file names.
func configMapItems(vols []corev1.Volume, name string) string {
	for _, v := range vols {
		if v.Name != name || v.ConfigMap == nil {
			continue
		}
		var out []string
		for _, it := range v.ConfigMap.Items {
			out = append(out, it.Key+"=>"+it.Path)
		}
		return strings.Join(out, " ")
	}
	return "<no configMap volume " + name + ">"
}

func preStopSleep(c *corev1.Container) string {
	d, err := validate.PreStopPause(c)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return fmt.Sprint(d.Seconds())
}

// TestDownwardAPI checks that every podpaths container learns its identity from the downward API.
func TestDownwardAPI(t *testing.T) {
	t.Parallel()
	set := renderSet(t, filepath.Join(deployDir(t), "overlays", "kind"))
	want := map[string]string{
		"PODPATHS_POD_NAME":  "metadata.name",
		"PODPATHS_NAMESPACE": "metadata.namespace",
		"PODPATHS_POD_IP":    "status.podIP",
		"PODPATHS_NODE_NAME": "spec.nodeName",
		"PODPATHS_NODE_IP":   "status.hostIP",
	}
	for _, spec := range podSpecs(set) {
		for _, c := range spec.Containers {
			if !strings.HasPrefix(c.Image, "localhost/podpaths/") {
				continue
			}
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				got := map[string]string{}
				for _, e := range c.Env {
					if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
						got[e.Name] = e.ValueFrom.FieldRef.FieldPath
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("container %q fieldRef env:\n got %v\nwant %v", c.Name, got, want)
				}
			})
		}
	}
}

// TestVersionPinned checks that the podpaths images and the version label carry the tag in the repo's VERSION
// file, the tag hack/build.sh and the image build use. A bump that misses one place fails here, not with
// ErrImageNeverPull on a cluster.
func TestVersionPinned(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(deployDir(t), "..", "VERSION"))
	if err != nil {
		t.Fatalf("read VERSION: %v", err)
	}
	version := strings.TrimSpace(string(raw))
	set := renderSet(t, filepath.Join(deployDir(t), "overlays", "kind"))
	var images []string
	for _, spec := range podSpecs(set) {
		for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
			if strings.HasPrefix(c.Image, "localhost/podpaths/") {
				images = append(images, c.Image)
				if want := ":" + version; !strings.HasSuffix(c.Image, want) {
					t.Errorf("container %q image got %q, want tag %q from VERSION", c.Name, c.Image, version)
				}
			}
		}
	}
	if len(images) != 3 {
		t.Errorf("podpaths images got %v, want backend, sidecar and frontend", images)
	}
	for _, d := range set.Deployments {
		if got := d.Spec.Template.Labels[validate.LabelVersion]; got != version {
			t.Errorf("Deployment %s pod label %s got %q, want %q", d.Name, validate.LabelVersion, got, version)
		}
	}
	for _, st := range set.StatefulSets {
		if got := st.Spec.Template.Labels[validate.LabelVersion]; got != version {
			t.Errorf("StatefulSet %s pod label %s got %q, want %q", st.Name, validate.LabelVersion, got, version)
		}
	}
}

// TestDrainSettings pins the values the docs quote: the backend drains 10s (it takes the Service traffic of a
// StatefulSet that restarts one pod at a time), every other app 5s, and all shut down within 10s; the frontend
// pod has 30s, the backend pod 45s (room for a native sidecar that stops after backend).
func TestDrainSettings(t *testing.T) {
	t.Parallel()
	set := renderSet(t, filepath.Join(deployDir(t), "overlays", "kind"))
	for _, spec := range podSpecs(set) {
		for _, c := range spec.Containers {
			drain := map[string]time.Duration{"backend": 10 * time.Second, "frontend": 15 * time.Second}[c.Name]
			if drain == 0 {
				drain = 5 * time.Second
			}
			for name, want := range map[string]time.Duration{validate.EnvDrainDelay: drain, validate.EnvShutdownTimeout: 10 * time.Second} {
				v, ok := env(&c, name)
				if !ok && !strings.HasPrefix(c.Image, "localhost/podpaths/") {
					continue
				}
				if d, err := time.ParseDuration(v); err != nil || d != want {
					t.Errorf("container %q %s got %q, want %v", c.Name, name, v, want)
				}
			}
		}
	}
	if got := *frontend(t, set).Spec.Template.Spec.TerminationGracePeriodSeconds; got != 30 {
		t.Errorf("frontend terminationGracePeriodSeconds got %d, want 30", got)
	}
	if got := *backend(t, set).Spec.Template.Spec.TerminationGracePeriodSeconds; got != 45 {
		t.Errorf("backend terminationGracePeriodSeconds got %d, want 45", got)
	}
}

// TestNamespaceEnforcesRestricted checks the Pod Security labels of the namespace.
func TestNamespaceEnforcesRestricted(t *testing.T) {
	t.Parallel()
	set := renderSet(t, filepath.Join(deployDir(t), "overlays", "kind"))
	if len(set.Namespaces) != 1 || set.Namespaces[0].Name != "podpaths" {
		t.Fatalf("namespaces got %d, want exactly podpaths", len(set.Namespaces))
	}
	l := set.Namespaces[0].Labels
	for _, mode := range []string{"enforce", "warn", "audit"} {
		if got := l["pod-security.kubernetes.io/"+mode]; got != validate.PSSRestricted {
			t.Errorf("namespace podpaths label pod-security.kubernetes.io/%s got %q, want restricted", mode, got)
		}
	}
}

// TestApplyOrder checks the order `kubectl apply -k` creates objects in: the Namespace first, and every Service
// and ConfigMap before any workload, so that the first pods find their Service-link variables and their config.
func TestApplyOrder(t *testing.T) {
	t.Parallel()
	set := renderSet(t, filepath.Join(deployDir(t), "overlays", "kind"))
	if len(set.Order) == 0 || !strings.HasPrefix(set.Order[0], "Namespace ") {
		t.Fatalf("render order got %v, want the Namespace first", set.Order)
	}
	firstWorkload := len(set.Order)
	for i, o := range set.Order {
		if strings.HasPrefix(o, "Deployment ") || strings.HasPrefix(o, "StatefulSet ") {
			firstWorkload = min(firstWorkload, i)
		}
		if (strings.HasPrefix(o, "Service ") || strings.HasPrefix(o, "ConfigMap ")) && i > firstWorkload {
			t.Errorf("render order: %s comes after workload %s, want every Service and ConfigMap first (order %v)", o, set.Order[firstWorkload], set.Order)
		}
	}
}
