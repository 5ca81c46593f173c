#!/usr/bin/env bash
# Builds every image podpaths runs and saves each as a tarball for loading into a cluster:
#   localhost/podpaths/{backend,sidecar,frontend}:<VERSION>  FROM scratch + the static binary (hack/build.sh)
#   the offline stand-ins of third-party images (hack/standins/build.sh), unless the real ones are present
#   localhost/podpaths/probe:<VERSION>      the e2e suite's probe (e2e/probe), FROM scratch, when e2e/probe exists
#   localhost/podpaths/pause:3.10           the local cluster's pod sandbox (hack/local-cluster/pause)
#   localhost/podpaths/coredns:<version>    the local cluster's DNS, from the CoreDNS binary that `make local-up`
#                                           builds into /var/cache/podpaths; skipped until that build exists
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

# scratch_image IMAGE DOCKERFILE BINARY [LABEL...] builds IMAGE FROM scratch with BINARY as the only file in the
# context (the legacy builder sends the whole context to the daemon), labelled with its title and each LABEL.
scratch_image() {
  local image=$1 dockerfile=$2 binary=$3 name label
  shift 3
  name=$(basename "$binary")
  local ctx=$out/context/$name labels=(--label "org.opencontainers.image.title=podpaths-$name")
  for label in "$@"; do labels+=(--label "$label"); done
  rm -rf "$ctx"
  mkdir -p "$ctx"
  ln "$binary" "$ctx/$name" 2>/dev/null || cp "$binary" "$ctx/$name"
  docker build --quiet -f "$dockerfile" "${labels[@]}" -t "$image" "$ctx" >/dev/null
  log "built $image"
  images+=("$image")
}

mkdir -p "$out"
images=()
for svc in "${services[@]}"; do
  scratch_image "localhost/podpaths/$svc:$tag" "services/$svc/Dockerfile" "_output/bin/$svc" \
    "io.podpaths.service=$svc" "org.opencontainers.image.version=$version"
done
log "services at version $version"
standins=$(hack/standins/build.sh)
mapfile -t -O "${#images[@]}" images <<<"$standins"

# static_go DIR OUT builds the main package in DIR as a static binary, like hack/build.sh does for the services.
# GOWORK=off: the module need not be in go.work to be built.
static_go() {
  (cd "$1" && GOWORK=off CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OLDPWD/$2" .)
}

if [[ -f e2e/probe/Dockerfile ]]; then
  static_go e2e/probe _output/bin/probe
  scratch_image "localhost/podpaths/probe:$tag" e2e/probe/Dockerfile _output/bin/probe io.podpaths.image=probe
fi

static_go hack/local-cluster/pause _output/bin/pause
scratch_image localhost/podpaths/pause:3.10 hack/local-cluster/pause/Dockerfile _output/bin/pause io.podpaths.image=pause

# CoreDNS: the version pinned in hack/local-cluster/build/coredns/go.mod names the lab's cached build.
coredns_version=$(awk '$1 == "github.com/coredns/coredns" || ($1 == "require" && $2 == "github.com/coredns/coredns") {print $NF; exit}' \
  hack/local-cluster/build/coredns/go.mod)
coredns_bin=${PODPATHS_CACHE_DIR:-/var/cache/podpaths}/coredns-$coredns_version/bin/coredns
if [[ -x $coredns_bin ]]; then
  scratch_image "localhost/podpaths/coredns:$coredns_version" hack/local-cluster/coredns/Dockerfile "$coredns_bin" \
    io.podpaths.image=coredns
else
  log "skipping localhost/podpaths/coredns:$coredns_version: no $coredns_bin yet (make local-up builds it)"
fi

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
for label in io.podpaths.service io.podpaths.standin io.podpaths.image; do
  docker image prune --force --filter "label=$label" >/dev/null
done

printf '%-44s %8s  %s\n' IMAGE SIZE TARBALL
for image in "${images[@]}"; do
  size=$(docker image inspect -f '{{.Size}}' "$image")
  printf '%-44s %5.1f MB  %s\n' "$image" "$(awk -v b="$size" 'BEGIN {print b / 1e6}')" "$(tarball "$image")"
done
