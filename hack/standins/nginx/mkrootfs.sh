#!/usr/bin/env bash
# Assembles the root filesystem of the nginx stand-in into DIR (replaced if present), from Debian packages:
# nginx (binary), nginx-common (mime.types, *_params), busybox-static (/bin/sh, awk, find, wget, nslookup,
# ... as in the Alpine-based original) and gettext-base (envsubst), plus the shared libraries they load,
# taken from Debian's library packages (debs.sh), not from this host.
# Owners and modes follow the official unprivileged image: uid 101 owns /etc/nginx and /var/cache/nginx.
set -o errexit -o nounset -o pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/../../.."
# shellcheck source=hack/standins/debs.sh
source hack/standins/debs.sh

[[ $# == 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "mkrootfs: run as root: the image's files need owners 0 and 101" >&2; exit 1; }
rootfs=$1

# All packages unpacked into one tree, as if installed there; the rootfs takes only what it needs from it.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mapfile -t packages < <(grep -v '^#' "$here/packages.txt")
stage_debs "$stage" "${packages[@]}" "${deb_lib_pkgs[@]}"

# copy_libs BINARY copies the libraries BINARY loads, resolved inside the stage, to the same paths in the
# rootfs, and links the loader where the binary's ELF interpreter path expects it (/lib64/...).
copy_libs() {
  local name path target
  staged_libs "$stage" "$1" | while read -r name path; do
    target=${path#"$stage"}
    mkdir -p "$rootfs/$(dirname "$target")"
    cp -L "$path" "$rootfs/$target"
    if [[ $name == /* && $name != "$target" ]]; then
      mkdir -p "$rootfs/$(dirname "$name")"
      ln -sfn "$target" "$rootfs/$name"
    fi
  done
}

rm -rf "$rootfs"
mkdir -p "$rootfs"/{etc/nginx/conf.d,usr/share/nginx/html,var/cache/nginx,var/log/nginx,docker-entrypoint.d,tmp}
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin}

install -m 0755 "$stage/usr/sbin/nginx" "$rootfs/usr/sbin/nginx"
copy_libs "$stage/usr/sbin/nginx"
install -m 0755 "$stage/usr/bin/envsubst" "$rootfs/usr/local/bin/envsubst"
copy_libs "$stage/usr/bin/envsubst"

# busybox-static is one static binary; its applets become symlinks where Alpine's busybox puts them.
install -m 0755 "$stage/bin/busybox" "$rootfs/bin/busybox"
"$rootfs/bin/busybox" --list-full | while read -r applet; do
  [[ -e $rootfs/$applet || -L $rootfs/$applet ]] || ln -s /bin/busybox "$rootfs/$applet"
done

for f in mime.types fastcgi_params scgi_params uwsgi_params; do
  install -m 0644 "$stage/etc/nginx/$f" "$rootfs/etc/nginx/$f"
done
install -m 0644 "$here/nginx.conf" "$rootfs/etc/nginx/nginx.conf"
install -m 0644 "$here/default.conf" "$rootfs/etc/nginx/conf.d/default.conf"
install -m 0644 "$here/index.html" "$rootfs/usr/share/nginx/html/index.html"
printf '<!DOCTYPE html>\n<html><body><h1>An error occurred.</h1></body></html>\n' >"$rootfs/usr/share/nginx/html/50x.html"
install -m 0755 "$here/docker-entrypoint.sh" "$rootfs/docker-entrypoint.sh"
install -m 0644 "$here/docker-entrypoint.d/15-local-resolvers.envsh" "$rootfs/docker-entrypoint.d/"
install -m 0755 "$here/docker-entrypoint.d/20-envsubst-on-templates.sh" "$rootfs/docker-entrypoint.d/"

# Logs go to the container runtime, as in the official image.
ln -s /dev/stdout "$rootfs/var/log/nginx/access.log"
ln -s /dev/stderr "$rootfs/var/log/nginx/error.log"

# glibc reads these; musl (the original's libc) looks at /etc/hosts before DNS, so keep that order.
printf 'root:x:0:0:root:/root:/sbin/nologin\nnginx:x:101:101:nginx:/var/cache/nginx:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnginx:x:101:nginx\nnogroup:x:65534:\n' >"$rootfs/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"

# The unprivileged image lets uid 101 (group 0) write its config and cache, so the entrypoint can render
# templates into /etc/nginx/conf.d when the root filesystem is writable.
chown -R 101:0 "$rootfs/etc/nginx" "$rootfs/var/cache/nginx"
chmod -R g+w "$rootfs/etc/nginx" "$rootfs/var/cache/nginx"
chmod 1777 "$rootfs/tmp"
