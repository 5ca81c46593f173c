#!/usr/bin/env bash
# Pins the upstream components of the offline local cluster (`lab up --provider local`, make local-up).
#
#   hack/local-cluster/pin.sh                  re-pin every component at the versions below
#   hack/local-cluster/pin.sh etcd v3.6.17     re-pin one component at another version
#
# Each component is a small wrapper module in hack/local-cluster/build/<component>/: a go.mod that requires the
# upstream module at one version, a go.sum, and tools.go importing the main packages so `go mod tidy` keeps what
# they need. The lab builds from these with GOWORK=off and -mod=readonly, so every build resolves the same
# dependency versions, and it reads each component's version from its go.mod: this script is the only place that
# chooses versions. Run it only to change a version, then commit the three files.
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# The newest patch releases on the Go module proxy that build and run here (`go list -m -versions MODULE`).
declare -A versions=(
  [kubernetes]=v1.37.2 # the kind lab's node version
  [etcd]=v3.6.16
  [coredns]=v1.14.7
  [metallb]=v0.15.2 # the controller only; the lab never runs the speaker
  [crictl]=v1.37.0
)

log() { printf 'pin: %s\n' "$*" >&2; }

# wrapper DIR MODULE VERSION PACKAGE... writes go.mod and tools.go; the caller adds replaces, then tidy runs.
wrapper() {
  local dir=$1 module=$2 version=$3 pkg
  shift 3
  mkdir -p "$dir"
  rm -f "$dir/go.mod" "$dir/go.sum"
  printf 'module podpaths.local/build/%s\n\ngo 1.26.0\n\nrequire %s %s\n' "$(basename "$dir")" "$module" "$version" >"$dir/go.mod"
  {
    printf '//go:build tools\n\n'
    printf '// Package tools names the main packages the lab builds from %s %s, so that\n' "$module" "$version"
    printf '// go mod tidy keeps every module they need. Written by hack/local-cluster/pin.sh.\n'
    printf 'package tools\n\nimport (\n'
    for pkg in "$@"; do printf '\t_ "%s"\n' "$pkg"; done
    printf ')\n'
  } >"$dir/tools.go"
  gofmt -w "$dir/tools.go"
}

tidy() { (cd "$1" && GOWORK=off GOFLAGS=-mod=mod go mod tidy); }

pin_kubernetes() {
  local v=$1 dir=hack/local-cluster/build/kubernetes gomod
  wrapper "$dir" k8s.io/kubernetes "$v" \
    k8s.io/kubernetes/cmd/{kube-apiserver,kube-controller-manager,kube-scheduler,kubelet,kube-proxy,kubectl,kubeadm}
  # k8s.io/kubernetes replaces its staging modules (k8s.io/api, k8s.io/client-go, ...) with ./staging/...,
  # which the module zip lacks, and replace directives of a dependency are ignored anyway. So the wrapper
  # replaces each with its published twin v0.<minor>.<patch>. The list comes from kubernetes' own go.mod,
  # because it changes between releases (1.37 added k8s.io/streaming and k8s.io/cri-streaming).
  gomod=$(cd "$dir" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$v" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    printf '\nreplace (\n'
    awk -v sv="v0.${v#v1.}" '$2 == "=>" && $3 ~ /^\.\/staging\// {printf "\t%s => %s %s\n", $1, $1, sv}' "$gomod"
    printf ')\n'
  } >>"$dir/go.mod"
  tidy "$dir"
}

pin() {
  local name=$1 v=$2 dir=hack/local-cluster/build/$1
  log "$name $v"
  case $name in
    kubernetes) pin_kubernetes "$v" ;;
    etcd) wrapper "$dir" go.etcd.io/etcd/server/v3 "$v" go.etcd.io/etcd/server/v3 && tidy "$dir" ;;
    coredns) wrapper "$dir" github.com/coredns/coredns "$v" github.com/coredns/coredns && tidy "$dir" ;;
    metallb) wrapper "$dir" go.universe.tf/metallb "$v" go.universe.tf/metallb/controller && tidy "$dir" ;;
    crictl) wrapper "$dir" sigs.k8s.io/cri-tools "$v" sigs.k8s.io/cri-tools/cmd/crictl && tidy "$dir" ;;
    *) log "unknown component $name (have: ${!versions[*]})"; exit 2 ;;
  esac
}

if (($# == 2)); then
  pin "$1" "$2"
elif (($# == 0)); then
  for name in kubernetes etcd coredns metallb crictl; do pin "$name" "${versions[$name]}"; done
else
  log "usage: $0 [COMPONENT VERSION]"
  exit 2
fi
