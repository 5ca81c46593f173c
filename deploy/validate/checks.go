package validate

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Check is one rule over a rendered tree. It returns every violation it finds, or nil.
type Check func(*Set) []error

// NamedCheck is a Check with the name tests and messages use for it.
type NamedCheck struct {
	Name string
	Run  Check
}

// Checks returns every rule that each rendered tree of deploy/ must pass.
func Checks() []NamedCheck {
	return []NamedCheck{
		{"ServiceSelectors", ServiceSelectors},
		{"TargetPorts", TargetPorts},
		{"NodePorts", NodePorts},
		{"Headless", Headless},
		{"PolicySelectors", PolicySelectors},
		{"PodSecurity", PodSecurity},
		{"Resources", Resources},
		{"Images", Images},
		{"Probes", Probes},
		{"Drain", Drain},
		{"Availability", Availability},
		{"Labels", Labels},
		{"Namespaces", Namespaces},
		{"ConfigMapRefs", ConfigMapRefs},
	}
}

// ServiceSelectors checks that every Service selects the pods of at least one workload, and every workload's
// selector matches its own pod template. A selector that matches nothing is valid to the API server and gives a
// Service without endpoints: connections are refused and nothing says why.
func ServiceSelectors(s *Set) []error {
	var errs []error
	for _, svc := range s.Services {
		ref := object{"Service", svc}
		if len(svc.Spec.Selector) == 0 {
			errs = append(errs, fmt.Errorf("%s: no selector (its endpoints would be managed by hand)", ref))
			continue
		}
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		if len(s.selectedBy(svc.Namespace, sel)) == 0 {
			errs = append(errs, fmt.Errorf("%s: selector %s matches no Deployment or StatefulSet pod template", ref, sel))
		}
	}
	for _, w := range s.workloads() {
		sel, err := metav1.LabelSelectorAsSelector(w.selector)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: selector: %w", w.ref, err))
		case w.selector == nil || sel.Empty():
			errs = append(errs, fmt.Errorf("%s: empty selector", w.ref))
		case !sel.Matches(labels.Set(w.template.Labels)):
			errs = append(errs, fmt.Errorf("%s: selector %s does not match its pod template labels %v", w.ref, sel, w.template.Labels))
		}
	}
	return errs
}

// TargetPorts checks that every Service port targets a port by name, and every selected pod has a serving container
// port of that name and protocol. Named target ports keep the number in one place, the container, and let different
// pods behind one Service use different numbers.
func TargetPorts(s *Set) []error {
	var errs []error
	for _, svc := range s.Services {
		ref := object{"Service", svc}
		if len(svc.Spec.Selector) == 0 {
			continue // ServiceSelectors reports it; an empty selector would match every pod here
		}
		selected := s.selectedBy(svc.Namespace, labels.SelectorFromSet(svc.Spec.Selector))
		for _, p := range svc.Spec.Ports {
			if p.TargetPort.Type != intstr.String || p.TargetPort.StrVal == "" {
				errs = append(errs, fmt.Errorf("%s: port %q has targetPort %q, want a container port name", ref, p.Name, p.TargetPort.String()))
				continue
			}
			for _, w := range selected {
				cp := findPort(&w.template.Spec, p.TargetPort.StrVal)
				switch {
				case cp == nil:
					errs = append(errs, fmt.Errorf("%s: port %q targets %q, which %s does not declare", ref, p.Name, p.TargetPort.StrVal, w.ref))
				case protocolOr(cp.Protocol) != protocolOr(p.Protocol):
					errs = append(errs, fmt.Errorf("%s: port %q is %s but %s declares %q as %s", ref, p.Name, protocolOr(p.Protocol), w.ref, cp.Name, protocolOr(cp.Protocol)))
				}
			}
		}
	}
	return errs
}

// NodePort range the API server allocates from by default (--service-node-port-range).
const (
	MinNodePort = 30000
	MaxNodePort = 32767
)

// NodePorts checks that fixed node ports lie in the default range and are unique, and only NodePort and
// LoadBalancer Services have them.
func NodePorts(s *Set) []error {
	var errs []error
	seen := map[int32]string{}
	for _, svc := range s.Services {
		ref := object{"Service", svc}
		exposed := svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer
		for _, p := range svc.Spec.Ports {
			if p.NodePort == 0 {
				continue
			}
			if !exposed {
				errs = append(errs, fmt.Errorf("%s: port %q sets nodePort %d on a %q Service", ref, p.Name, p.NodePort, svc.Spec.Type))
			}
			if p.NodePort < MinNodePort || p.NodePort > MaxNodePort {
				errs = append(errs, fmt.Errorf("%s: port %q nodePort %d, want %d-%d", ref, p.Name, p.NodePort, MinNodePort, MaxNodePort))
			}
			if other, dup := seen[p.NodePort]; dup {
				errs = append(errs, fmt.Errorf("%s: nodePort %d is also used by %s", ref, p.NodePort, other))
			}
			seen[p.NodePort] = ref.String()
		}
	}
	return errs
}

// Headless checks that each StatefulSet's serviceName names a headless Service in its namespace that selects its
// pods, lists only ready pods and names its ports (SRV records are _<port name>._<protocol>); and each headless
// Service is some StatefulSet's serviceName, the one thing that gives pods their per-pod DNS names.
func Headless(s *Set) []error {
	var errs []error
	governing := map[string]bool{}
	for _, st := range s.StatefulSets {
		ref := object{"StatefulSet", st}
		governing[st.Namespace+"/"+st.Spec.ServiceName] = true
		svc := s.service(st.Namespace, st.Spec.ServiceName)
		if svc == nil {
			errs = append(errs, fmt.Errorf("%s: serviceName %q names no Service in its namespace", ref, st.Spec.ServiceName))
			continue
		}
		errs = append(errs, checkHeadlessService(svc, st)...)
	}
	for _, svc := range s.Services {
		if svc.Spec.ClusterIP == corev1.ClusterIPNone && !governing[svc.Namespace+"/"+svc.Name] {
			errs = append(errs, fmt.Errorf("%s: headless, but no StatefulSet has it as serviceName", object{"Service", svc}))
		}
	}
	return errs
}

func checkHeadlessService(svc *corev1.Service, st *appsv1.StatefulSet) []error {
	ref := object{"Service", svc}
	var errs []error
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		errs = append(errs, fmt.Errorf("%s: serviceName of %s but clusterIP is %q, want %q", ref, object{"StatefulSet", st}, svc.Spec.ClusterIP, corev1.ClusterIPNone))
	}
	if svc.Spec.PublishNotReadyAddresses {
		errs = append(errs, fmt.Errorf("%s: publishNotReadyAddresses true would put draining pods in DNS", ref))
	}
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(st.Spec.Template.Labels)) {
		errs = append(errs, fmt.Errorf("%s: selector %v does not select the pods of %s", ref, svc.Spec.Selector, object{"StatefulSet", st}))
	}
	for _, p := range svc.Spec.Ports {
		if p.Name == "" {
			errs = append(errs, fmt.Errorf("%s: port %d has no name, so it has no SRV record", ref, p.Port))
		}
	}
	return errs
}

func (s *Set) service(namespace, name string) *corev1.Service {
	for _, svc := range s.Services {
		if svc.Namespace == namespace && svc.Name == name {
			return svc
		}
	}
	return nil
}

// PolicySelectors checks that PodDisruptionBudgets and NetworkPolicies select existing pods, and the named ports in
// NetworkPolicy rules exist on the pods they apply to. A typo in either is accepted by the API server and silently
// protects nothing, or silently blocks a path.
func PolicySelectors(s *Set) []error {
	var errs []error
	for _, pdb := range s.PodDisruptionBudgets {
		ref := object{"PodDisruptionBudget", pdb}
		if _, err := s.selectNonEmpty(pdb.Namespace, pdb.Spec.Selector); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ref, err))
		}
	}
	for _, np := range s.NetworkPolicies {
		errs = append(errs, s.checkNetworkPolicy(np)...)
	}
	return errs
}

// selectNonEmpty returns the workloads sel selects in namespace; a nil or empty selector, or one that selects no
// workload, is an error.
func (s *Set) selectNonEmpty(namespace string, sel *metav1.LabelSelector) ([]workload, error) {
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return nil, fmt.Errorf("empty selector")
	}
	ls, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, fmt.Errorf("selector: %w", err)
	}
	selected := s.selectedBy(namespace, ls)
	if len(selected) == 0 {
		return nil, fmt.Errorf("selector %s matches no Deployment or StatefulSet pod template", ls)
	}
	return selected, nil
}

func (s *Set) checkNetworkPolicy(np *networkingv1.NetworkPolicy) []error {
	ref := object{"NetworkPolicy", np}
	var errs []error
	// An empty podSelector deliberately selects every pod in the namespace.
	targets := s.selectedBy(np.Namespace, labels.Everything())
	if len(np.Spec.PodSelector.MatchLabels) > 0 || len(np.Spec.PodSelector.MatchExpressions) > 0 {
		selected, err := s.selectNonEmpty(np.Namespace, &np.Spec.PodSelector)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: podSelector: %w", ref, err))
		}
		targets = selected
	}
	for i, rule := range np.Spec.Ingress {
		// The sources must exist; the named ports are those of the receiving side, the policy's own pods.
		if _, err := s.peers(np.Namespace, rule.From); err != nil {
			errs = append(errs, fmt.Errorf("%s: ingress[%d]: %w", ref, i, err))
		}
		errs = append(errs, namedPortsExist(fmt.Sprintf("%s: ingress[%d]", ref, i), rule.Ports, targets)...)
	}
	for i, rule := range np.Spec.Egress {
		peers, err := s.peers(np.Namespace, rule.To)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: egress[%d]: %w", ref, i, err))
		}
		errs = append(errs, namedPortsExist(fmt.Sprintf("%s: egress[%d]", ref, i), rule.Ports, peers)...)
	}
	return errs
}

// peers returns the workloads of this namespace that the peers select. Peers with a namespaceSelector or an
// ipBlock point outside the tree and are not followed.
func (s *Set) peers(namespace string, peers []networkingv1.NetworkPolicyPeer) ([]workload, error) {
	var out []workload
	for j, p := range peers {
		if p.PodSelector == nil || p.NamespaceSelector != nil || p.IPBlock != nil {
			continue
		}
		selected, err := s.selectNonEmpty(namespace, p.PodSelector)
		if err != nil {
			return nil, fmt.Errorf("peer[%d] podSelector: %w", j, err)
		}
		out = append(out, selected...)
	}
	return out, nil
}

func namedPortsExist(where string, ports []networkingv1.NetworkPolicyPort, on []workload) []error {
	var errs []error
	for _, p := range ports {
		if p.Port == nil || p.Port.Type != intstr.String {
			continue
		}
		for _, w := range on {
			if findPort(&w.template.Spec, p.Port.StrVal) == nil {
				errs = append(errs, fmt.Errorf("%s: port %q is not declared by %s", where, p.Port.StrVal, w.ref))
			}
		}
	}
	return errs
}

// allowedVolume reports whether Pod Security "restricted" allows a volume's source.
// https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
func allowedVolume(v corev1.Volume) bool {
	src := v.VolumeSource
	return src.ConfigMap != nil || src.CSI != nil || src.DownwardAPI != nil || src.EmptyDir != nil ||
		src.Ephemeral != nil || src.PersistentVolumeClaim != nil || src.Projected != nil || src.Secret != nil
}

// PodSecurity checks that every pod meets Pod Security "restricted", with every field set on every container (init
// containers too) rather than inherited from the pod, plus a read-only root filesystem, which "restricted" does not
// demand but these images never need to write.
func PodSecurity(s *Set) []error {
	var errs []error
	for _, w := range s.workloads() {
		spec := &w.template.Spec
		if spec.HostNetwork || spec.HostPID || spec.HostIPC {
			errs = append(errs, fmt.Errorf("%s: shares a host namespace (hostNetwork, hostPID or hostIPC)", w.ref))
		}
		if psc := spec.SecurityContext; psc != nil && psc.SeccompProfile != nil && psc.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined {
			errs = append(errs, fmt.Errorf("%s: pod seccompProfile Unconfined", w.ref))
		}
		for _, v := range spec.Volumes {
			if !allowedVolume(v) {
				errs = append(errs, fmt.Errorf("%s: volume %q has a type Pod Security restricted forbids", w.ref, v.Name))
			}
		}
		for _, c := range containersOf(spec) {
			for _, problem := range containerSecurity(c) {
				errs = append(errs, fmt.Errorf("%s: %s: %s", w.ref, c, problem))
			}
		}
	}
	return errs
}

func containerSecurity(c container) []string {
	sc := c.SecurityContext
	if sc == nil {
		return []string{"no securityContext"}
	}
	var problems []string
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		problems = append(problems, "runAsNonRoot is not true")
	}
	if sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		problems = append(problems, "runAsUser is unset or 0, want a fixed non-root uid")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		problems = append(problems, "readOnlyRootFilesystem is not true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		problems = append(problems, "allowPrivilegeEscalation is not false")
	}
	if sc.Privileged != nil && *sc.Privileged {
		problems = append(problems, "privileged")
	}
	if sc.Capabilities == nil || !dropsAll(sc.Capabilities.Drop) {
		problems = append(problems, `capabilities do not drop "ALL"`)
	}
	if sc.Capabilities != nil && len(sc.Capabilities.Add) > 0 {
		problems = append(problems, fmt.Sprintf("capabilities add %v", sc.Capabilities.Add))
	}
	if sc.SeccompProfile == nil || (sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault && sc.SeccompProfile.Type != corev1.SeccompProfileTypeLocalhost) {
		problems = append(problems, "seccompProfile is not RuntimeDefault or Localhost")
	}
	for _, p := range c.Ports {
		if p.HostPort != 0 {
			problems = append(problems, fmt.Sprintf("port %q uses hostPort %d", p.Name, p.HostPort))
		}
	}
	return problems
}

func dropsAll(caps []corev1.Capability) bool {
	for _, c := range caps {
		if c == "ALL" {
			return true
		}
	}
	return false
}

// Resources checks that every container requests CPU and memory, so the scheduler can place it, and is limited in
// both, so one misbehaving pod cannot starve its node; requests do not exceed limits.
func Resources(s *Set) []error {
	var errs []error
	for _, w := range s.workloads() {
		for _, c := range containersOf(&w.template.Spec) {
			for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				req, hasReq := c.Resources.Requests[name]
				lim, hasLim := c.Resources.Limits[name]
				switch {
				case !hasReq:
					errs = append(errs, fmt.Errorf("%s: %s: no %s request", w.ref, c, name))
				case !hasLim:
					errs = append(errs, fmt.Errorf("%s: %s: no %s limit", w.ref, c, name))
				case req.Cmp(lim) > 0:
					errs = append(errs, fmt.Errorf("%s: %s: %s request %s exceeds limit %s", w.ref, c, name, req.String(), lim.String()))
				}
			}
		}
	}
	return errs
}

// Images checks that every image names a tag or digest other than "latest", and the pull policy is explicit and
// never Always. With kind there is no registry: `kind load` puts the image on the nodes, and a "latest" tag
// defaults the policy to Always, which makes the kubelet try to pull and fail with ErrImagePull.
func Images(s *Set) []error {
	var errs []error
	for _, w := range s.workloads() {
		for _, c := range containersOf(&w.template.Spec) {
			if problem := imageProblem(c.Image); problem != "" {
				errs = append(errs, fmt.Errorf("%s: %s: image %q %s", w.ref, c, c.Image, problem))
			}
			if c.ImagePullPolicy != corev1.PullIfNotPresent && c.ImagePullPolicy != corev1.PullNever {
				errs = append(errs, fmt.Errorf("%s: %s: imagePullPolicy %q, want IfNotPresent or Never", w.ref, c, c.ImagePullPolicy))
			}
		}
	}
	return errs
}

// imageProblem returns why image is not pinned, or "".
func imageProblem(image string) string {
	if image == "" {
		return "is empty"
	}
	if strings.Contains(image, "@sha256:") {
		return ""
	}
	// The tag follows the last colon after the last slash; a colon before it belongs to a registry's port.
	name := image[strings.LastIndex(image, "/")+1:]
	i := strings.LastIndex(name, ":")
	if i < 0 || i == len(name)-1 {
		return "has no tag (that means latest)"
	}
	if name[i+1:] == "latest" {
		return "uses the latest tag"
	}
	return ""
}

// ConfigMapRefs checks that every ConfigMap a pod mounts is in the tree under that exact name, with every key the
// volume selects. kustomize appends a content hash to generated ConfigMaps and rewrites the references it knows; a
// reference it missed, or a key that is not in the ConfigMap, leaves the pod stuck in ContainerCreating.
func ConfigMapRefs(s *Set) []error {
	byName := map[string]*corev1.ConfigMap{}
	for _, cm := range s.ConfigMaps {
		byName[cm.Namespace+"/"+cm.Name] = cm
	}
	var errs []error
	for _, w := range s.workloads() {
		for _, v := range w.template.Spec.Volumes {
			if v.ConfigMap == nil || (v.ConfigMap.Optional != nil && *v.ConfigMap.Optional) {
				continue
			}
			cm := byName[w.namespace+"/"+v.ConfigMap.Name]
			if cm == nil {
				errs = append(errs, fmt.Errorf("%s: volume %q mounts ConfigMap %q, which the tree does not contain", w.ref, v.Name, v.ConfigMap.Name))
				continue
			}
			for _, item := range v.ConfigMap.Items {
				_, inData := cm.Data[item.Key]
				_, inBinary := cm.BinaryData[item.Key]
				if !inData && !inBinary {
					errs = append(errs, fmt.Errorf("%s: volume %q selects key %q, which ConfigMap %s does not have", w.ref, v.Name, item.Key, cm.Name))
				}
			}
		}
	}
	return errs
}
