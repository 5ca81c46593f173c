package validate

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
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
		{"ProxyFirst", ProxyFirst},
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
		if svc.Spec.Type == corev1.ServiceTypeExternalName {
			if err := s.inClusterAlias(svc); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", ref, err))
			}
			continue
		}
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

// inClusterAlias checks that an ExternalName Service is an alias for another
// Service of the set (<svc>.<ns>.svc.cluster.local): a name outside the
// cluster would send the lab's pods to a DNS server and an address that are
// not the lab's.
func (s *Set) inClusterAlias(alias *corev1.Service) error {
	name, ok := strings.CutSuffix(alias.Spec.ExternalName, ".svc.cluster.local")
	svc, ns, found := strings.Cut(name, ".")
	if !ok || !found {
		return fmt.Errorf("externalName %q is not a Service's name in the cluster", alias.Spec.ExternalName)
	}
	for _, other := range s.Services {
		if other.Name == svc && other.Namespace == ns && other.Spec.Type != corev1.ServiceTypeExternalName {
			return nil
		}
	}
	return fmt.Errorf("externalName %q names no Service of these manifests", alias.Spec.ExternalName)
}
