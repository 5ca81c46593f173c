#!/usr/bin/env bash
# CI only: the kind stage of .ci/run (see README.md here). It runs the user's path on real kind, on this
# machine that has no registry and whose root lacks CAP_SYS_RESOURCE:
#   the Docker engine with CI's runtime and the egress guard, no route from here to kind's Service range, the
#   node image and HAProxy's (built once), make kind-up, make check, the e2e suite's kind subset, make kind-down,
#   and the proof that no container sent a packet towards the outside world (the guard's drop counters did not
#   move).
# Needs what the local cluster stage built before it (/var/cache/podpaths, hack/images.sh's images).
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

out=_output/ci-kind
runtime=podpaths-ci-runc
# kind's default Service range, which deploy/kind/cluster.yaml keeps. This machine gets no route there (a
# "throw" route: a lookup ends as if none were found), so that it is the client outside the cluster that
# calls a ClusterIP, and the call fails here without a packet sent; with its default route it would leave.
service_range=10.96.0.0/16
# The e2e suite on kind leaves out the workshop's exercises but 4 (recreate) and 7 (etp-local), whose
# observations include kind's own (a recreated Service's stale address; the NodePort of kind's control plane):
# the local cluster stage before this one runs every exercise through the same runner, and all of them again
# would take this stage past its 12 minutes. (Exercise 8's policy half needs NetworkPolicy enforced, which
# CI's kind has not: flannel.)
# (No "$" in the expression: make would expand it.)
leave_out='^TestWorkshop/^([1235689]|1[0-5])-'

log() { printf '== kind stage: %s\n' "$*"; }
die() { printf 'kind stage: error: %s\n' "$*" >&2; exit 1; }

# guard_drops prints the packets the DOCKER-USER egress guard has dropped so far.
guard_drops() {
  iptables -L DOCKER-USER -v -n -x | awk '/podpaths-egress-guard/ {n += $1} END {print n + 0}'
}

log "the Docker engine with CI's runtime (runc without CAP_SYS_RESOURCE)"
hack/docker-engine.sh stop
PODPATHS_DOCKERD_ARGS="--add-runtime $runtime=$PWD/hack/ci-kind/runc-without-sys-resource --default-runtime $runtime" \
  hack/docker-engine.sh start
[[ $(docker info --format '{{.DefaultRuntime}}') == "$runtime" ]] ||
  die "the Docker engine that answers is not the one this stage starts (default runtime $runtime); stop it first"
hack/docker-engine.sh guard >/dev/null
drops_before=$(guard_drops)
cleanup() {
  make kind-down || true
  ip route del throw "$service_range" 2>/dev/null || true
  hack/docker-engine.sh unguard || true
  hack/docker-engine.sh stop || true
}
trap cleanup EXIT

ip route replace throw "$service_range"

log "node image"
node=$(hack/ci-kind/node-image.sh)
log "the external load balancer's image"
external_lb=$(hack/ci-kind/haproxy-image.sh)

# deploy/kind/cluster.yaml with two changes: the node image, and kubeadm told the names under which the
# control plane's images are preloaded.
mkdir -p "$out"
awk -v image="$node" -v patch="$out/kubeadm-images.yaml" '
  /^kubeadmConfigPatches:$/ { print; while ((getline line < patch) > 0) print line; next }
  /^ *image: kindest\/node:/ { sub(/kindest\/node:.*/, image) }
  { print }' deploy/kind/cluster.yaml >"$out/cluster.yaml"

log "make kind-up"
start=$SECONDS
make kind-up KIND_CONFIG="$out/cluster.yaml" CLOUD_PROVIDER_KIND=hack/ci-kind/cloud-provider-kind KIND_EXTERNAL_LB_IMAGE="$external_lb"
echo "kind-up took $((SECONDS - start)) s"

log "make check"
make check LAB_PROVIDER=kind JUNIT=_output/ci-kind/check-junit.xml

log "e2e on kind"
make e2e CLUSTER=kind JUNIT=_output/ci-kind/e2e-junit.xml LEAVE_OUT="$leave_out" SKIPS=hack/ci-kind/skips.txt

log "make kind-down"
trap - EXIT
make kind-down
ip route del throw "$service_range"
drops_after=$(guard_drops)
hack/docker-engine.sh unguard
hack/docker-engine.sh stop
if ((drops_after != drops_before)); then
  die "containers sent $((drops_after - drops_before)) packets towards the outside world (DOCKER-USER dropped them)"
fi
echo "no container sent a packet towards the outside world: DOCKER-USER's guard dropped $drops_after packets, as before"
