package report

import "testing"

// TestIDs pins every path id to the text docs/design.md lists: workshops,
// dashboards and JUnit reports of earlier runs name paths by these ids.
func TestIDs(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{IDNginxFrontend, "nginx-frontend-localhost"},
		{IDNginxBackend, "nginx-backend-dns"},
		{IDSidecar, "backend-sidecar-localhost"},
		{IDSticky, "frontend-backend-sticky-dns"},
		{IDLocal, "frontend-backend-local-dns"},
		{IDHeadless, "frontend-backend-headless"},
		{IDSiblings, "backend-backend-headless"},
		{FrontendBackendID(MethodEnv), "frontend-backend-env"},
		{FrontendBackendID(MethodDNS), "frontend-backend-dns"},
		{FrontendBackendID(MethodStatic), "frontend-backend-static"},
		{HeadlessID("backend-2"), "frontend-backend-headless-backend-2"},
		{SiblingID("backend-0", "backend-1"), "backend-backend-0-backend-backend-1-headless"},
		{SiblingsLookupID("backend-0"), "backend-backend-0-backend-headless"},
		{OutsideNodePortID("localhost"), "outside-nodeport-localhost"},
		{OutsideNodePortID("podpaths-b"), "outside-nodeport-podpaths-b"},
		{IDOutsideLoadBalancer, "outside-loadbalancer"},
		{IDOutsideClusterIP, "outside-clusterip"},
		{IDOutsideExternalLB, "outside-external-lb"},
		{ExternalLBNodeID("podpaths-b"), "external-lb-nodeport-podpaths-b"},
		{IDOutsidePaths, "outside-frontend-paths"},
		{IDOutsidePeers, "outside-nginx-backend-peers"},
		{IDOutsideWhoami, "outside-nginx-backend-whoami"},
		{IDSpread, "frontend-backend-spread"},
		{NodeSpreadID("podpaths-b"), "frontend-backend-spread-podpaths-b"},
		{NodePathsID("podpaths-b"), "apiserver-frontend-paths-podpaths-b"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("id = %q, want %q", tt.got, tt.want)
		}
	}
}

func TestHeadlessPod(t *testing.T) {
	t.Parallel()
	if pod, ok := HeadlessPod(HeadlessID("backend-2")); !ok || pod != "backend-2" {
		t.Errorf("HeadlessPod(HeadlessID(backend-2)) = %q, %v, want backend-2, true", pod, ok)
	}
	for _, id := range []string{IDHeadless, FrontendBackendID(MethodDNS), SiblingID("backend-0", "backend-1")} {
		if pod, ok := HeadlessPod(id); ok {
			t.Errorf("HeadlessPod(%q) = %q, true, want false", id, pod)
		}
	}
}

func TestSiblingFrom(t *testing.T) {
	t.Parallel()
	if from, ok := SiblingFrom(SiblingID("backend-2", "backend-0")); !ok || from != "backend-2" {
		t.Errorf("SiblingFrom(SiblingID(backend-2, backend-0)) = %q, %v, want backend-2, true", from, ok)
	}
	for _, id := range []string{IDSiblings, SiblingsLookupID("backend-1"), IDSidecar, HeadlessID("backend-1")} {
		if from, ok := SiblingFrom(id); ok {
			t.Errorf("SiblingFrom(%q) = %q, true, want false", id, from)
		}
	}
}
