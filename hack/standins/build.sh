#!/usr/bin/env bash
# Builds the offline stand-ins for the third-party images podpaths runs, for machines without a container
# registry. Users with a registry pull the real images; the stand-ins only exist so that nothing has to be
# pulled here. An image that already exists under the name and was not built by this script (the real one,
# pulled) is kept as it is. Prints the names of the images it ensured, one per line, for hack/images.sh.
#
# Stand-ins:
#   nginxinc/nginx-unprivileged:1.28.0-alpine  Debian 12's nginx in the official image's layout
#                                               (hack/standins/nginx/), user 101, port 8080.
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=hack/standins/debs.sh
source hack/standins/debs.sh

nginx_image=nginxinc/nginx-unprivileged:1.28.0-alpine

log() { printf 'standins: %s\n' "$*" >&2; }

# foreign IMAGE succeeds when IMAGE exists locally and is not one of ours.
foreign() {
  local label
  label=$(docker image inspect -f '{{index .Config.Labels "io.podpaths.standin"}}' "$1" 2>/dev/null) || return 1
  [[ $label != true ]]
}

# nginx_inputs prints a digest of everything the nginx stand-in is made of: its builder files and the
# Debian package versions apt would use now. An image carrying the same digest needs no rebuild.
nginx_inputs() {
  local packages
  mapfile -t packages < <(grep -v '^#' hack/standins/nginx/packages.txt)
  {
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - hack/standins/debs.sh hack/standins/nginx
    deb_candidates "${packages[@]}" "${deb_lib_pkgs[@]}"
  } | sha256sum | cut -c1-16
}

build_nginx() {
  if foreign "$nginx_image"; then
    log "$nginx_image exists and is not a stand-in (pulled?); keeping it"
    return 0
  fi
  local inputs
  inputs=$(nginx_inputs)
  if [[ $(docker image inspect -f '{{index .Config.Labels "io.podpaths.standin.inputs"}}' "$nginx_image" 2>/dev/null) == "$inputs" ]]; then
    log "$nginx_image is up to date"
    return 0
  fi
  local ctx=_output/standins/nginx nginx_version
  hack/standins/nginx/mkrootfs.sh "$ctx/rootfs"
  # A reproducible tar (sorted, fixed mtime, numeric owners) lets docker's build cache give the same image
  # ID when nothing changed, so hack/images.sh does not save it again.
  tar --sort=name --mtime=@0 --numeric-owner -C "$ctx/rootfs" -cf "$ctx/rootfs.tar" .
  cp hack/standins/nginx/Dockerfile "$ctx/Dockerfile"
  # The context holds only the Dockerfile and the tar: .dockerignore keeps the rootfs directory out.
  printf 'rootfs\n' >"$ctx/.dockerignore"
  nginx_version=$(dpkg-deb -f "$(deb_path nginx)" Version)
  log "building $nginx_image from Debian nginx $nginx_version"
  docker build --quiet --label "io.podpaths.standin.debian-nginx=$nginx_version" \
    --label "io.podpaths.standin.inputs=$inputs" -t "$nginx_image" "$ctx" >/dev/null
  log "built $nginx_image ($(docker image inspect -f '{{.Size}}' "$nginx_image" | awk '{printf "%.1f MB", $1 / 1e6}'))"
}

build_nginx
printf '%s\n' "$nginx_image"
