# shellcheck shell=bash disable=SC2034 # the scripts that source this file use these variables
# CI only: sourced by node-image.sh and cloud-provider-kind. The versions the project pins, read from the
# go.mod files that pin them, and where the lab's build cache keeps each build.

# required_version MODULE GOMOD prints the version GOMOD requires of MODULE.
required_version() { awk -v m="$1" '$1 == m {print $2; exit} $1 == "require" && $2 == m {print $3; exit}' "$2"; }

cache=/var/cache/podpaths
k8s=$(required_version k8s.io/kubernetes hack/local-cluster/build/kubernetes/go.mod)
etcd=$(required_version go.etcd.io/etcd/server/v3 hack/local-cluster/build/etcd/go.mod)
coredns=$(required_version github.com/coredns/coredns hack/local-cluster/build/coredns/go.mod)
crictl=$(required_version sigs.k8s.io/cri-tools hack/local-cluster/build/crictl/go.mod)
metallb=$(required_version go.universe.tf/metallb hack/local-cluster/build/metallb/go.mod)
flannel=$(required_version github.com/flannel-io/flannel hack/ci-kind/build/flannel/go.mod)
kind=$(required_version sigs.k8s.io/kind lab/go.mod)
kbin=$cache/kubernetes-$k8s/bin
