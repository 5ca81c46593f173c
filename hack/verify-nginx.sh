#!/usr/bin/env bash
# Runs `nginx -t` on every nginx variant in nginx/ (*.conf.template), rendered once with the values compose
# uses and once with the values the Kubernetes manifests use.
#
#   hack/verify-nginx.sh          Debian 12's nginx on this machine (installed, or unpacked from the .deb),
#                                 inside a copy of the image's nginx.conf; no Docker needed. `make verify`.
#   hack/verify-nginx.sh --image  the nginx image itself (the offline stand-in or the real one) through its
#                                 own entrypoint, with a read-only root filesystem as in the pod.
#
# No DNS query leaves the machine: the dynamic variant resolves only at request time, and the static
# (anti-pattern) variant, which resolves while loading, gets a literal address on the host and /etc/hosts
# entries in a container that has no network at all.
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=hack/standins/debs.sh
source hack/standins/debs.sh

nginx_image=nginxinc/nginx-unprivileged:1.28.0-alpine
# profile: name, resolver address (what /etc/resolv.conf holds there), backend host, backend port.
profiles=(
  "compose 127.0.0.11 backend 8080"
  "kubernetes 10.96.0.10 backend.podpaths.svc.cluster.local 8080"
)
# The variables the entrypoint may substitute; everything else ($host, ...) belongs to nginx.
envsubst_filter='^(PODPATHS_|NGINX_LOCAL_RESOLVERS$)'

mode=debian
case ${1:-} in
  "") ;;
  --image) mode=image ;;
  *) echo "usage: $0 [--image]" >&2; exit 2 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

# debian_nginx sets nginx_cmd to run Debian's nginx: the installed one, or else one unpacked from the .deb
# with its libraries, run by their own loader (installing the package would start a system nginx on :80).
debian_nginx() {
  if [[ -x /usr/sbin/nginx ]] && dpkg-query -W -f '${Status}' nginx 2>/dev/null | grep -q 'ok installed'; then
    nginx_cmd=(/usr/sbin/nginx)
    return
  fi
  stage_debs "$work/stage" nginx "${deb_lib_pkgs[@]}"
  mapfile -t nginx_cmd < <(staged_loader "$work/stage")
  nginx_cmd+=("$work/stage/usr/sbin/nginx")
}

# check_debian VARIANT RESOLVER HOST PORT renders VARIANT like the image's entrypoint and tests it inside the
# image's nginx.conf, moved under a scratch directory.
check_debian() {
  local variant=$1 resolver=$2 host=$3 port=$4 root
  root=$(mktemp -d "$work/nginx.XXXX")
  mkdir -p "$root/etc/nginx/conf.d" "$root/tmp" "$root/log"
  # /tmp/ first: $root itself lives under /tmp, and sed applies the expressions in order.
  sed -e "s# /tmp/# $root/tmp/#g" -e "s# /etc/nginx/# $root/etc/nginx/#g" -e "s# /var/log/nginx/# $root/log/#g" \
    hack/standins/nginx/nginx.conf >"$root/etc/nginx/nginx.conf"
  cp "$mime_types" "$root/etc/nginx/mime.types"
  # shellcheck disable=SC2016 # envsubst's list of variables, literally
  PODPATHS_BACKEND_HOST=$host PODPATHS_BACKEND_PORT=$port NGINX_LOCAL_RESOLVERS=$resolver \
    PODPATHS_DRAIN_FILE=/tmp/podpaths-draining \
    envsubst '${PODPATHS_BACKEND_HOST} ${PODPATHS_BACKEND_PORT} ${NGINX_LOCAL_RESOLVERS} ${PODPATHS_DRAIN_FILE}' \
    <"nginx/$variant" >"$root/etc/nginx/conf.d/default.conf"
  # shellcheck disable=SC2016 # a literal ${NAME} left behind
  if grep -n '\${[A-Za-z_]*}' "$root/etc/nginx/conf.d/default.conf"; then
    echo "unrendered variable left in $variant" >&2
    return 1
  fi
  "${isolate[@]}" "${nginx_cmd[@]}" -t -q -c "$root/etc/nginx/nginx.conf" -p "$root/"
}

# check_image VARIANT RESOLVER HOST PORT runs the image's entrypoint (template rendering, local resolvers)
# and `nginx -t` with the pod's settings: read-only root, writable /tmp and conf.d, no network.
check_image() {
  local variant=$1 resolver=$2 host=$3 port=$4
  printf 'nameserver %s\noptions ndots:5\n' "$resolver" >"$work/resolv.conf"
  docker run --rm --network none --read-only \
    --tmpfs /tmp --tmpfs /etc/nginx/conf.d:uid=101,gid=101,mode=0755 \
    --add-host "$host:127.0.0.1" \
    -v "$work/resolv.conf:/etc/resolv.conf:ro" \
    -v "$PWD/nginx/$variant:/etc/nginx/templates/default.conf.template:ro" \
    -e NGINX_ENTRYPOINT_LOCAL_RESOLVERS=1 -e NGINX_ENTRYPOINT_QUIET_LOGS=1 \
    -e "NGINX_ENVSUBST_FILTER=$envsubst_filter" \
    -e "PODPATHS_BACKEND_HOST=$host" -e "PODPATHS_BACKEND_PORT=$port" -e PODPATHS_DRAIN_FILE=/tmp/podpaths-draining \
    "$nginx_image" nginx -t -q
}

if [[ $mode == debian ]]; then
  debian_nginx
  # `nginx -t` resolves any literal upstream host while loading. Run it in an empty network namespace, so even
  # a template edited to name a host cannot send a DNS query anywhere; skip that only where namespaces are
  # not allowed (the checked-in static variant gets a literal address below anyway).
  isolate=(unshare --net)
  [[ $(id -u) == 0 ]] || isolate=(unshare --user --map-root-user --net)
  if ! "${isolate[@]}" true 2>/dev/null; then
    echo "verify-nginx: cannot create a network namespace here; running nginx -t without one" >&2
    isolate=()
  fi
  deb_extract nginx-common "$work/pkg-nginx-common"
  mime_types=$work/pkg-nginx-common/etc/nginx/mime.types
  echo "verify-nginx: Debian's $("${nginx_cmd[@]}" -v 2>&1) (${nginx_cmd[*]: -1})"
else
  docker image inspect "$nginx_image" >/dev/null 2>&1 \
    || { echo "verify-nginx: image $nginx_image is missing; run hack/standins/build.sh (or make images)" >&2; exit 1; }
  echo "verify-nginx: image $nginx_image"
fi

# has FILE WHAT ERE: `nginx -t` cannot see whether /my-be/ resolves per request or once, or whether a header
# is missing, so the properties the workshop relies on are checked in the templates' text.
has() {
  if grep -Eq -- "$3" "$1"; then
    return 0
  fi
  echo "FAIL  ${1#nginx/}: $2 (no line matches /$3/)"
  failed=1
}
for template in nginx/*.conf.template; do
  has "$template" "listens on 8080" '^\s*listen 8080;'
  has "$template" "hides the version" '^\s*server_tokens off;'
  has "$template" "has the health location" '^\s*location = /nginx-health \{'
  has "$template" "proxies / to the frontend over loopback" '^\s*proxy_pass http://127\.0\.0\.1:3000;'
  has "$template" "has the /my-be/ location" '^\s*location /my-be/ \{'
  has "$template" "says Connection: close while the pod drains" '^\s*if \(-f \$\{PODPATHS_DRAIN_FILE\}\) \{'
  has "$template" "limits the dashboard and reports per client" '^\s*limit_req zone=podpaths_reports '
  has "$template" "limits spreads per client" '^\s*limit_req zone=podpaths_spreads '
  for header in X-Real-IP X-Forwarded-For X-Forwarded-Host X-Forwarded-Port X-Forwarded-Proto; do
    has "$template" "sets $header" "^\\s*proxy_set_header $header "
  done
done
has nginx/default.conf.template "uses the local resolvers" '^\s*resolver \$\{NGINX_LOCAL_RESOLVERS\} '
has nginx/default.conf.template "resolves /my-be/ per request (variable in proxy_pass)" '^\s*proxy_pass http://\$[a-z_]+;'
has nginx/static.conf.template "resolves /my-be/ once (literal host in proxy_pass)" \
  '^\s*proxy_pass http://\$\{PODPATHS_BACKEND_HOST\}:\$\{PODPATHS_BACKEND_PORT\}/;'

for template in nginx/*.conf.template; do
  variant=${template#nginx/}
  for profile in "${profiles[@]}"; do
    read -r name resolver host port <<<"$profile"
    if [[ $mode == debian && $variant == static.conf.template ]]; then
      # The static variant resolves its upstream while loading, and in the isolated namespace any name
      # fails; a literal address lets `nginx -t` check the rest of it.
      host=127.0.0.1
    fi
    if case $mode in
      debian) check_debian "$variant" "$resolver" "$host" "$port" ;;
      image) check_image "$variant" "$resolver" "$host" "$port" ;;
    esac; then
      echo "ok    $variant ($name)"
    else
      echo "FAIL  $variant ($name)"
      failed=1
    fi
  done
done
exit "$failed"
