#!/usr/bin/env bash
# CI only: the last step of the kind node's root (node-image.sh runs it as an mmdebstrap hook):
#   hack/ci-kind/node-root.sh ROOT KUBERNETES_VERSION
# What kind's images/base/Dockerfile does after its packages, on a Debian 12 root.
set -o errexit -o nounset -o pipefail
root=$1 version=$2

# The Go module cache keeps kind's files read-only; kind's own build sets these modes.
chmod 0755 "$root"/usr/local/bin/{entrypoint,clean-install} "$root"/kind/bin/*.sh
echo "$version" >"$root/kind/version"

# systemd in a container: no tmpfiles at boot, no units that the node does not need, no kernel log.
find "$root/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
rm -f "$root"/lib/systemd/system/{multi-user,local-fs,basic}.target.wants/* "$root"/etc/systemd/system/*.wants/* \
  "$root"/lib/systemd/system/sockets.target.wants/*{udev,initctl}*
echo "ReadKMsg=no" >>"$root/etc/systemd/journald.conf"
ln -sf /usr/lib/systemd/systemd "$root/sbin/init"
chroot "$root" systemctl --quiet enable kubelet.service containerd.service undo-mount-hacks.service podpaths-inside.service
# systemd-binfmt would register interpreters in the kernel, for the whole machine.
chroot "$root" systemctl --quiet mask systemd-binfmt.service
mkdir -p "$root/etc/kubernetes/manifests"

# containerd's base spec for every container: the default, with kind's hook that gives each container its
# own copy of the product name and uuid, and without rlimits (the pod's come from the node).
chroot "$root" ctr oci spec |
  jq '.hooks.createContainer[.hooks.createContainer | length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
  jq 'del(.process.rlimits)' >"$root/etc/containerd/cri-base.json"
