#!/usr/bin/env bash
# CI only: the image of the external load balancer in front of kind's NodePorts (see README.md here). Users get
# HAProxy's official image (docker.io/library/haproxy), which this machine cannot pull; this one is FROM scratch with
# Debian's HAProxy, the one the local cluster runs, and the libraries it links. Prints the image's name; builds it
# only when no image of that HAProxy version exists.
set -o errexit -o nounset -o pipefail

bin=/usr/sbin/haproxy
die() { printf 'haproxy-image: error: %s\n' "$*" >&2; exit 1; }
[[ -x $bin ]] || die "$bin is missing: make local-up installs Debian's haproxy"
version=$(dpkg-query --show --showformat '${Version}' haproxy)
image=localhost/podpaths/haproxy:${version//[^A-Za-z0-9_.-]/-}
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
root=$context/root
mkdir -p "$root/usr/sbin" "$root/usr/local/etc/haproxy" "$root/etc" "$root/tmp"
cp "$bin" "$root/usr/sbin/haproxy"
# Every library it links, and the dynamic loader, at the paths it asks for them.
for lib in $(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
  mkdir -p "$root$(dirname "$lib")"
  cp --dereference "$lib" "$root$lib"
done
# As the official image does: its own user, and the configuration where that image reads it.
echo 'haproxy:x:99:99:haproxy:/var/lib/haproxy:/usr/sbin/nologin' >"$root/etc/passwd"
echo 'haproxy:x:99:' >"$root/etc/group"
chmod 1777 "$root/tmp"
cat >"$context/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY root/ /
ENV PATH=/usr/sbin
USER haproxy
CMD ["haproxy", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
DOCKERFILE
docker build --quiet --tag "$image" "$context" >/dev/null
echo "$image"
