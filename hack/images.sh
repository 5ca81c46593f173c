#!/usr/bin/env bash
# Builds every image podpaths runs and saves each as a tarball for loading into a cluster:
#   localhost/podpaths/{backend,sidecar,frontend}:<VERSION>  FROM scratch + the static binary (hack/build.sh)
#   the offline stand-ins of third-party images (hack/standins/build.sh), unless the real ones are present
# Tarballs: _output/images/<name>_<tag>.tar (docker save), rewritten only when the image changed.
# Starts the Docker engine if none answers and leaves it running (stop it with hack/docker-engine.sh stop).
# The builds run no container (FROM scratch, COPY/ADD only), so no egress guard is needed here. Without
# buildx, docker uses its legacy builder and prints a deprecation notice; that is expected.
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

services=(backend sidecar frontend)
tag=$(tr -d '[:space:]' <VERSION)
out=_output/images

log() { printf 'images: %s\n' "$*" >&2; }

hack/docker-engine.sh start
hack/build.sh
version=$(hack/version.sh)

mkdir -p "$out"
images=()
for svc in "${services[@]}"; do
  image=localhost/podpaths/$svc:$tag
  # A context with only this service's binary: the legacy builder sends the whole context to the daemon.
  ctx=$out/context/$svc
  rm -rf "$ctx"
  mkdir -p "$ctx"
  ln "_output/bin/$svc" "$ctx/$svc" 2>/dev/null || cp "_output/bin/$svc" "$ctx/$svc"
  docker build --quiet -f "services/$svc/Dockerfile" \
    --label "io.podpaths.service=$svc" --label "org.opencontainers.image.title=podpaths-$svc" \
    --label "org.opencontainers.image.version=$version" \
    -t "$image" "$ctx" >/dev/null
  log "built $image ($version)"
  images+=("$image")
done
standins=$(hack/standins/build.sh)
mapfile -t -O "${#images[@]}" images <<<"$standins"

# tarball IMAGE prints where IMAGE is saved: _output/images/<name with / and : as _>.tar
tarball() { printf '%s/%s.tar\n' "$out" "$(tr '/:' '__' <<<"$1")"; }

# save IMAGE writes IMAGE's tarball unless the one there already holds the same image ID.
save() {
  local image=$1 file id
  file=$(tarball "$image")
  id=$(docker image inspect -f '{{.Id}}' "$image")
  if [[ -f $file && -f $file.id && $(<"$file.id") == "$id" ]]; then
    return 0
  fi
  docker save -o "$file.tmp" "$image"
  mv "$file.tmp" "$file"
  printf '%s\n' "$id" >"$file.id"
  log "saved $file"
}

for image in "${images[@]}"; do
  save "$image"
done
# Each rebuild leaves the previous image untagged; remove those of ours, never anyone else's.
for label in io.podpaths.service io.podpaths.standin; do
  docker image prune --force --filter "label=$label" >/dev/null
done

printf '%-44s %8s  %s\n' IMAGE SIZE TARBALL
for image in "${images[@]}"; do
  size=$(docker image inspect -f '{{.Size}}' "$image")
  printf '%-44s %5.1f MB  %s\n' "$image" "$(awk -v b="$size" 'BEGIN {print b / 1e6}')" "$(tarball "$image")"
done
