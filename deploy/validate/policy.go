package validate

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

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
