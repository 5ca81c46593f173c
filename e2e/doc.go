// Package e2e proves, on a real cluster, that every way traffic reaches
// podpaths' pods works, and that the ways that must not work do not.
//
// The tests carry the build tag e2e and run against the cluster the
// kubeconfig names, declared in PODPATHS_E2E_CLUSTER: the offline local
// cluster, kind, or (named explicitly) another. `make e2e` (hack/e2e.sh)
// declares it, checks the kubeconfig and runs them:
//
//	PODPATHS_E2E_CLUSTER=local go test -tags e2e -race -count=1 -timeout 30m ./...
//
// They reuse the lab CLI's reachability matrix (lab/matrix), so that `make
// check` and e2e judge a cluster the same way, and add what a single look
// cannot show: each e2e assertion of docs/design.md as a test of its own,
// mutations (scaling, deleting a Service, switching components, rolling
// restarts under traffic) that are undone when the test ends, and negative
// cases. A probe pod (probe/, image localhost/podpaths/probe) sees the
// cluster from inside; an outside network namespace, when the cluster
// provides one, sees it from outside. On failure a test dumps the pods, the
// events, the logs and the frontend's own path report.
//
// The other settings, all optional, are environment variables named in
// internal/cluster (PODPATHS_E2E_*).
package e2e
