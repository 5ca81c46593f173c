package cluster

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

func TestOptionsFromEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	version := filepath.Join(dir, "VERSION")
	if err := os.WriteFile(version, []byte("0.1.0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{EnvVersionFile: version}
	if _, err := OptionsFromEnv(func(k string) string { return env[k] }); err == nil {
		t.Errorf("no %s: no error", EnvCluster)
	}
	env[EnvCluster] = "minikube"
	if _, err := OptionsFromEnv(func(k string) string { return env[k] }); err == nil {
		t.Errorf("%s=minikube: no error", EnvCluster)
	}
	env[EnvCluster] = "local"
	o, err := OptionsFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if o.Cluster != "local" || o.Namespace != "podpaths" || o.ClusterDomain != "cluster.local" || o.ProbeImage != "localhost/podpaths/probe:0.1.0" ||
		o.FactsFile != DefaultFacts || o.DeployDir != "../deploy" || o.domainSet {
		t.Errorf("defaults = %+v", o)
	}
	env[EnvOutsideNetns] = "/run/netns/x"
	if _, err := OptionsFromEnv(func(k string) string { return env[k] }); err == nil {
		t.Errorf("%s without %s: no error", EnvOutsideNetns, EnvOutsideIP)
	}
	env[EnvVersionFile] = filepath.Join(dir, "missing")
	delete(env, EnvOutsideNetns)
	if _, err := OptionsFromEnv(func(k string) string { return env[k] }); err == nil {
		t.Error("no VERSION file and no probe image: no error")
	}
}

func node(name, ip, cidr, providerID string, labels map[string]string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec:       corev1.NodeSpec{PodCIDR: cidr, ProviderID: providerID, Taints: taints},
		Status: corev1.NodeStatus{
			Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
}

// envFor builds an Env over fake nodes, the way New does after connecting.
func envFor(t *testing.T, o Options, nodes ...*corev1.Node) *Env {
	t.Helper()
	e, err := placeFor(t, o, nodes...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// placeFor is envFor that returns learnPlace's error.
func placeFor(t *testing.T, o Options, nodes ...*corev1.Node) (*Env, error) {
	t.Helper()
	objs := make([]runtime.Object, 0, len(nodes))
	for _, n := range nodes {
		objs = append(objs, n)
	}
	e := &Env{Client: fake.NewClientset(objs...), Opts: o}
	if err := e.readNodes(t.Context()); err != nil {
		t.Fatal(err)
	}
	return e, e.learnPlace()
}

func TestLearnPlaceLocalCluster(t *testing.T) {
	t.Parallel()
	facts := filepath.Join(t.TempDir(), "cluster.json")
	raw := `{"name":"podpaths","nodeName":"podpaths-local","nodeIP":"10.88.0.2",
	  "nodes":[{"name":"podpaths-local","ip":"10.88.0.2","podCIDR":"10.244.0.0/24"}],
	  "outside":{"ip":"172.31.0.2","netns":"/var/lib/podpaths/local/outside.netns","loadBalancer":"172.31.0.2:8080"},"clusterDomain":"lab.local"}`
	if err := os.WriteFile(facts, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	e := envFor(t, Options{Cluster: "local", FactsFile: facts, ClusterDomain: "cluster.local"}, node("podpaths-local", "10.88.0.2", "10.244.0.0/24", "", nil))
	if e.Kind != "local" || e.Localhost.Address != "127.0.0.1:30080" || e.Localhost.Node != "podpaths-local" {
		t.Errorf("kind %q, localhost %+v; want local, 127.0.0.1:30080 on podpaths-local", e.Kind, e.Localhost)
	}
	if e.Outside == nil || e.Outside.IP != "172.31.0.2" || e.Outside.Netns != "/var/lib/podpaths/local/outside.netns" {
		t.Errorf("outside = %+v", e.Outside)
	}
	if e.ExternalLB != "172.31.0.2:8080" {
		t.Errorf("external load balancer = %q, want the facts' 172.31.0.2:8080", e.ExternalLB)
	}
	if e.Opts.ClusterDomain != "lab.local" {
		t.Errorf("cluster domain = %q, want the facts' lab.local", e.Opts.ClusterDomain)
	}
	if !e.IsNodeSide("10.88.0.2") || !e.IsNodeSide("10.244.0.1") || e.IsNodeSide("172.31.0.2") || e.IsNodeSide("10.244.0.7") {
		t.Error("IsNodeSide: want the node IP and the pod range's gateway only")
	}
}

func TestLearnPlaceTwoNodeLocalCluster(t *testing.T) {
	t.Parallel()
	facts := filepath.Join(t.TempDir(), "cluster.json")
	raw := `{"name":"podpaths","nodeName":"podpaths-a","nodeIP":"10.88.0.2",
	  "nodes":[{"name":"podpaths-a","ip":"10.88.0.2","podCIDR":"10.244.0.0/24"},
	           {"name":"podpaths-b","ip":"172.30.0.2","podCIDR":"10.244.1.0/24","netns":"/state/podpaths-b.netns","hostIP":"172.30.0.1"}],
	  "outside":{"ip":"172.31.0.2","netns":"/state/outside.netns"}}`
	if err := os.WriteFile(facts, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	e := envFor(t, Options{Cluster: "local", FactsFile: facts}, node("podpaths-a", "10.88.0.2", "10.244.0.0/24", "", nil),
		node("podpaths-b", "172.30.0.2", "10.244.1.0/24", "", nil))
	if e.OnNode != "podpaths-a" || !e.Localhost.OnNode {
		t.Errorf("this machine is node A: OnNode %q, localhost %+v", e.OnNode, e.Localhost)
	}
	b := e.ClientOn(Node{Name: "podpaths-b", IP: "172.30.0.2"})
	if b == nil || b.Netns != "/state/podpaths-b.netns" || b.IP != "172.30.0.2" {
		t.Errorf("client on node B: %+v; want its namespace and address", b)
	}
	if a := e.ClientOn(Node{Name: "podpaths-a", IP: "10.88.0.2"}); a != nil {
		t.Errorf("client on node A: %+v; want none (this machine is node A)", a)
	}
	// Node A masquerades traffic it forwards to node B with its end of B's link.
	if !e.IsNodeSide("172.30.0.1") || !e.IsNodeSide("172.30.0.2") || !e.IsNodeSide("10.244.1.1") || e.IsNodeSide("172.31.0.2") {
		t.Error("IsNodeSide on two nodes: want both node IPs, both gateways and node A's end of B's link, not the outside client")
	}
}

// TestLearnPlaceRefusesAWrongDeclaration: a cluster that is not what the
// script that brought it up declared fails, instead of skipping the tests
// that need what it lacks.
func TestLearnPlaceRefusesAWrongDeclaration(t *testing.T) {
	t.Parallel()
	facts := filepath.Join(t.TempDir(), "cluster.json")
	if err := os.WriteFile(facts, []byte(`{"nodeName":"podpaths-local"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	gke := node("gke-1", "10.0.0.5", "", "gce://p/z/gke-1", nil)
	for _, tc := range []struct{ name, cluster, facts string }{
		{"local, with the facts of another cluster", "local", facts},
		{"local, with no facts file", "local", filepath.Join(t.TempDir(), "none.json")},
		{"kind, with nodes that are not kind's", "kind", facts},
	} {
		if _, err := placeFor(t, Options{Cluster: tc.cluster, FactsFile: tc.facts}, gke); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	e := envFor(t, Options{Cluster: "other", FactsFile: facts}, gke)
	if e.Kind != "other" || e.Localhost.Address != "" || e.Outside != nil {
		t.Errorf("declared other: kind %q, localhost %+v, outside %+v; want other, none, none", e.Kind, e.Localhost, e.Outside)
	}
}

func TestLearnPlaceKind(t *testing.T) {
	t.Parallel()
	cp := node("podpaths-control-plane", "172.18.0.2", "10.244.0.0/24", "kind://docker/podpaths/podpaths-control-plane",
		map[string]string{"node-role.kubernetes.io/control-plane": ""},
		corev1.Taint{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule})
	w := node("podpaths-worker", "172.18.0.3", "10.244.1.0/24", "kind://docker/podpaths/podpaths-worker", nil)
	e := envFor(t, Options{Cluster: "kind", FactsFile: filepath.Join(t.TempDir(), "none.json")}, cp, w)
	if e.Kind != "kind" || e.Localhost.Address != "127.0.0.1:30080" || e.Localhost.Node != "podpaths-control-plane" {
		t.Errorf("kind %q, localhost %+v; want kind, 127.0.0.1:30080 on the control plane", e.Kind, e.Localhost)
	}
	if got := e.SchedulableNodes(); len(got) != 1 || got[0].Name != "podpaths-worker" {
		t.Errorf("schedulable nodes = %+v, want the worker only (the control plane is tainted)", got)
	}
}

func TestLearnPlaceOverrides(t *testing.T) {
	t.Parallel()
	o := Options{Cluster: "other", FactsFile: filepath.Join(t.TempDir(), "none.json"), Localhost: "127.0.0.1:8080", OutsideNetns: "/run/netns/o", OutsideIP: "192.0.2.9"}
	e := envFor(t, o, node("n", "10.0.0.5", "", "", nil))
	if e.Localhost.Address != "127.0.0.1:8080" || e.Outside == nil || e.Outside.IP != "192.0.2.9" {
		t.Errorf("localhost %+v, outside %+v; want the settings", e.Localhost, e.Outside)
	}
}

// TestLabState checks what the suite waits for beyond lab/rollout: no pod
// of a rolled-out workload left over, old or terminating, and every one of
// its pods ready.
func TestLabState(t *testing.T) {
	t.Parallel()
	three := int32(3)
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "backend"}}
	backend := func(statusReplicas int32) *appsv1.StatefulSet {
		return &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Name: "backend", Namespace: "podpaths"},
			Spec:       appsv1.StatefulSetSpec{Replicas: &three, Selector: sel},
			Status:     appsv1.StatefulSetStatus{Replicas: statusReplicas, ReadyReplicas: 3, UpdatedReplicas: 3},
		}
	}
	pod := func(name string, ready, terminating bool) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "podpaths", Labels: sel.MatchLabels}}
		status := corev1.ConditionFalse
		if ready {
			status = corev1.ConditionTrue
		}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}
		if terminating {
			p.DeletionTimestamp = &metav1.Time{}
			p.Finalizers = []string{"test"}
		}
		return p
	}
	tests := []struct {
		name    string
		objects []runtime.Object
		want    []string
	}{
		{name: "nothing deployed", want: []string{"no workloads in namespace podpaths (is the lab deployed?)"}},
		{
			name:    "ready",
			objects: []runtime.Object{backend(3), pod("backend-0", true, false), pod("backend-1", true, false), pod("backend-2", true, false)},
		},
		{
			name:    "a fourth pod still counted",
			objects: []runtime.Object{backend(4), pod("backend-0", true, false), pod("backend-1", true, false), pod("backend-2", true, false)},
			want:    []string{"statefulset/backend: 4 pods counted, want 3"},
		},
		{
			name: "a pod terminating",
			objects: []runtime.Object{backend(3), pod("backend-0", true, false), pod("backend-1", true, false), pod("backend-2", true, false),
				pod("backend-3", true, true)},
			want: []string{"statefulset/backend: pod backend-3 still terminating"},
		},
		{
			name:    "a pod not ready",
			objects: []runtime.Object{backend(3), pod("backend-0", true, false), pod("backend-1", false, false), pod("backend-2", true, false)},
			want:    []string{"statefulset/backend: 3 pods of which 2 ready, want 3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := &Env{Client: fake.NewClientset(tt.objects...), Opts: Options{Namespace: "podpaths"}}
			got, err := e.LabState(t.Context(), false)
			if err != nil {
				t.Fatalf("LabState: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("LabState:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
