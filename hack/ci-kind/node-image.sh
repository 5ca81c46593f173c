#!/usr/bin/env bash
# CI only: builds a kind node image offline, for machines with no registry (see README.md here). Users keep
# the kindest/node that deploy/kind/cluster.yaml pins.
#
#   hack/ci-kind/node-image.sh    prints the image's name; builds it unless Docker has it with the same inputs,
#                                 and writes _output/ci-kind/kubeadm-images.yaml, the kind config's patch
#                                 that names the preloaded images
#
# From what the project already builds (the Kubernetes binaries, etcd and CoreDNS that `make local-up` builds
# into /var/cache/podpaths, and the pause and CoreDNS images of hack/images.sh), plus Debian 12 packages
# (mmdebstrap) and flannel from the Go module proxy:
#   localhost/podpaths/kube-{apiserver,controller-manager,scheduler}:<k8s>, localhost/podpaths/etcd:<etcd>
#       FROM scratch, one static binary each
#   localhost/podpaths/kube-proxy:<k8s>, localhost/podpaths/flannel:<flannel>
#       one Debian image with iptables and nftables, which both programs run, and both binaries
#   localhost/podpaths/kind-node:<k8s>
#       a Debian 12 root (systemd, containerd, runc, CNI plugins), kind's entrypoint and units, this
#       directory's node/ files, kubeadm, kubelet, kubectl, crictl and flannel's CNI plugin, with every image
#       above preloaded into its containerd
# Needs root and a Docker engine (hack/docker-engine.sh start). A build takes about 90 s here once the
# Go build cache has flannel's dependencies (a minute more before).
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

here=hack/ci-kind
out=_output/ci-kind
repo=localhost/podpaths
# shellcheck source=hack/ci-kind/versions.sh
source $here/versions.sh

log() { printf 'ci-kind: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
if (($#)); then
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi

pause=$repo/pause:3.10
node=$repo/kind-node:$k8s

# kubeadm names every control-plane image after its imageRepository; the preloaded images carry these
# names. The kind config of CI's cluster adds this patch (stage.sh).
mkdir -p "$out"
cat >"$out/kubeadm-images.yaml" <<EOF
  # CI: the control plane's images are preloaded in the node image under these names (hack/ci-kind).
  - |
    kind: ClusterConfiguration
    imageRepository: $repo
    etcd:
      local:
        imageTag: $etcd
    dns:
      imageTag: $coredns
EOF

for f in "$kbin"/{kubeadm,kubelet,kubectl,kube-apiserver,kube-controller-manager,kube-scheduler,kube-proxy} \
  "$cache/etcd-$etcd/bin/etcd" "$cache/crictl-$crictl/bin/crictl"; do
  [[ -x $f ]] || die "$f is missing: make local-up builds it (CI runs it before this)"
done
# kind applies node/kind/manifests/default-cni.yaml as it is: it must name the image built here.
grep -q "image: $repo/flannel:$flannel\$" $here/node/kind/manifests/default-cni.yaml ||
  die "$here/node/kind/manifests/default-cni.yaml does not run $repo/flannel:$flannel, the version its go.mod builds"
for image in "$pause" "$repo/coredns:$coredns"; do
  docker image inspect "$image" >/dev/null 2>&1 || die "image $image is missing: make local-up builds it"
done

# inputs hashes what decides the image: this directory, the binaries' build stamps, the two images it takes,
# and the kind release whose entrypoint and units it carries.
inputs() {
  {
    find "$here" -type f ! -name '*.md' -print0 | sort -z | xargs -0 sha256sum
    cat "$cache"/{kubernetes-"$k8s",etcd-"$etcd",crictl-"$crictl"}/stamp.json
    docker image inspect --format '{{.Id}}' "$pause" "$repo/coredns:$coredns"
    echo "kind $kind"
  } | sha256sum | cut -d' ' -f1
}
want=$(inputs)
if [[ $(docker image inspect --format '{{index .Config.Labels "io.podpaths.inputs"}}' "$node" 2>/dev/null) == "$want" ]]; then
  log "$node is up to date"
  echo "$node"
  exit 0
fi
start=$SECONDS
# What this build replaces: its tags move to the new images, and the old ones would stay behind untagged
# (about 1.9 GB a build; 27 GB had piled up on a CI machine). Removed at the end, once nothing names them.
built_here=("$node" "$repo"/kube-{apiserver,controller-manager,scheduler,proxy}:"$k8s" "$repo/etcd:$etcd" "$repo/flannel:$flannel")
replaced=$(docker image inspect --format '{{.Id}}' "${built_here[@]}" 2>/dev/null | sort -u || true)
rm -rf "${out:?}"/{bin,images}
mkdir -p "$out"/{bin,images}

# Go builds, like the lab's (GOWORK=off, -mod=readonly, the wrapper module's go.sum). flanneld's UDP
# backend needs cgo, as flannel's own Makefile builds it: static, so it runs in any image, and with Go's own
# resolver and user lookup, which a static binary needs.
log "building flannel $flannel from the Go module proxy"
(cd $here/build/flannel && GOWORK=off CGO_ENABLED=1 go build -mod=readonly -trimpath -buildvcs=false -tags netgo,osusergo \
  -ldflags "-s -w -X github.com/flannel-io/flannel/pkg/version.Version=$flannel -extldflags -static" \
  -o "$OLDPWD/$out/bin/flanneld" github.com/flannel-io/flannel)
(cd $here/build/cni-flannel && GOWORK=off CGO_ENABLED=0 go build -mod=readonly -trimpath -buildvcs=false \
  -ldflags "-s -w" -o "$OLDPWD/$out/bin/flannel" github.com/containernetworking/plugins/plugins/meta/flannel)

# scratch_image IMAGE BINARY... imports a root of only the binaries, in /usr/local/bin, which is on PATH:
# kubeadm's static pods run them by name.
scratch_image() {
  local image=$1 root
  shift
  root=$(mktemp -d "$out/root.XXXXXX")
  install -D -m 0755 -t "$root/usr/local/bin" "$@"
  tar -C "$root" -c . | docker import --change 'ENV PATH=/usr/local/bin' - "$image" >/dev/null
  rm -rf "$root"
  log "built $image"
}
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  scratch_image "$repo/$c:$k8s" "$kbin/$c"
done
scratch_image "$repo/etcd:$etcd" "$cache/etcd-$etcd/bin/etcd"

# Debian, without documentation, for the network images and the node.
debian() {
  mmdebstrap --quiet --variant=minbase --aptopt='Acquire::Check-Valid-Until "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    "$@" bookworm - /etc/apt/sources.list.d/debian.sources
}
log "building $repo/kube-proxy:$k8s and $repo/flannel:$flannel (Debian 12 with iptables)"
debian --include=iptables,nftables,conntrack,ipset \
  --customize-hook="copy-in $kbin/kube-proxy $out/bin/flanneld /usr/local/bin" |
  docker import - "$repo/kube-proxy:$k8s" >/dev/null
docker tag "$repo/kube-proxy:$k8s" "$repo/flannel:$flannel"

preloaded=("$repo"/kube-{apiserver,controller-manager,scheduler,proxy}:"$k8s" "$repo/etcd:$etcd"
  "$repo/coredns:$coredns" "$repo/flannel:$flannel" "$pause")
docker save -o "$out/images/preload.tar" "${preloaded[@]}"

# The node's root: kind's base image, rebuilt from Debian 12 (kind's images/base/Dockerfile), with its
# entrypoint, units and scripts taken as they are from the kind module the lab uses, and node/ on top.
kindbase=$(cd lab && go list -m -f '{{.Dir}}' sigs.k8s.io/kind)/images/base/files
log "building the node's root from Debian 12 and kind $kind's base files"
debian --include=systemd,containerd,runc,containernetworking-plugins,iptables,nftables,conntrack,ethtool,iproute2,util-linux,mount,kmod,libseccomp2,bash,procps,jq,hostname,ca-certificates,socat \
  --customize-hook="tar -C $kindbase --mode=u+w --exclude=./etc/systemd/system/containerd-fuse-overlayfs.service -c . | tar -C \"\$1\" -x --no-same-owner --no-overwrite-dir" \
  --customize-hook="tar -C $here/node -c . | tar -C \"\$1\" -x --no-same-owner --no-overwrite-dir" \
  --customize-hook="copy-in $kbin/kubeadm $kbin/kubelet $kbin/kubectl /usr/bin" \
  --customize-hook="copy-in $cache/crictl-$crictl/bin/crictl /usr/local/bin" \
  --customize-hook="copy-in $out/bin/flannel /usr/lib/cni" \
  --customize-hook="$here/node-root.sh \"\$1\" $k8s" |
  docker import --change 'ENV container=docker' - "$repo/kind-node-base:$k8s" >/dev/null

# Preload as kind's own node-image build does: containerd alone in the node's root, import, commit.
# --no-unpack: the layers are unpacked when a pod first uses them, by the node's own snapshotter. (kind also
# pins them against the kubelet's image GC; Debian's ctr 1.6 cannot, and kind's kubelet config never GCs.)
log "preloading ${#preloaded[@]} images into the node's containerd"
builder=$(docker run --detach --entrypoint sleep --security-opt seccomp=unconfined "$repo/kind-node-base:$k8s" infinity)
trap 'docker rm --force "$builder" >/dev/null 2>&1 || true' EXIT
docker exec "$builder" bash -c 'nohup containerd >/var/log/containerd-build.log 2>&1 &'
for _ in $(seq 100); do
  docker exec "$builder" ctr version >/dev/null 2>&1 && break
  sleep 0.2
done
docker exec -i "$builder" ctr --namespace k8s.io images import --no-unpack --digests - <"$out/images/preload.tar" >/dev/null
missing=$(comm -23 <(printf '%s\n' "${preloaded[@]}" | sort) \
  <(docker exec "$builder" ctr --namespace k8s.io images list --quiet | sed 's|^docker.io/||' | sort))
[[ -z $missing ]] || die "not preloaded: $missing"
# sleep, the builder's first process, reaps no child: an exited containerd stays a zombie (Z).
docker exec "$builder" bash -c 'pkill -x containerd; while ps -C containerd -o stat= | grep -qv "^Z"; do sleep 0.1; done'
docker exec "$builder" rm -f /var/log/containerd-build.log
docker commit "$builder" "$repo/kind-node-base:$k8s" >/dev/null
docker rm --force "$builder" >/dev/null
trap - EXIT
# What kind's base image declares: systemd is told it runs in a container (ENV above) and stops on
# SIGRTMIN+3; kind passes no command, so the image names its entrypoint (kind's, after one of ours:
# node/usr/local/bin/podpaths-entrypoint).
# (The legacy builder's deprecation notice on stderr is shown only when the build fails.)
if ! err=$(docker build --quiet --tag "$node" - 2>&1 >/dev/null <<DOCKERFILE
FROM $repo/kind-node-base:$k8s
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/podpaths-entrypoint", "/usr/local/bin/entrypoint", "/sbin/init"]
LABEL io.podpaths.inputs=$want
DOCKERFILE
); then
  die "docker build: $err"
fi
docker rmi "$repo/kind-node-base:$k8s" >/dev/null
rm -rf "$out/images"
for id in $replaced; do
  if [[ $(docker image inspect --format '{{len .RepoTags}}' "$id" 2>/dev/null) == 0 ]]; then
    docker rmi "$id" >/dev/null && log "removed the image this build replaced, $id"
  fi
done
log "built $node in $((SECONDS - start)) s, $(docker image inspect --format '{{.Size}}' "$node" | numfmt --to=iec) bytes"
echo "$node"
