#!/usr/bin/env bash
# Makes `docker compose` (v2) available. When the docker client already has a compose v2 plugin, nothing
# happens. Otherwise the plugin is built from the pinned wrapper module in hack/tools/compose (go.mod +
# go.sum) and installed as ~/.docker/cli-plugins/docker-compose. The first build takes minutes (about 90 s
# on 2 idle cores, 3.5 min measured while other builds ran); the binary is cached, keyed by the wrapper's
# go.sum and the Go version, so later runs take a second.
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

module_dir=hack/tools/compose
version=$(awk '{for (i = 1; i < NF; i++) if ($i == "github.com/docker/compose/v2") {print $(i + 1); exit}}' "$module_dir/go.mod")
plugin_dir=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/podpaths/docker-compose

log() { printf 'compose-plugin: %s\n' "$*" >&2; }

[[ -n $version ]] || { log "error: no compose version pinned in $module_dir/go.mod"; exit 1; }

if current=$(docker compose version --short 2>/dev/null) && [[ $current == v2.* || $current == 2.* ]]; then
  log "docker compose $current is available"
  exit 0
fi

key=$({ sha256sum "$module_dir/go.sum" | cut -c1-16; go env GOVERSION; } | tr '\n' '-')
cached=$cache_root/${version}-${key%-}/docker-compose
if [[ ! -x $cached ]]; then
  log "building docker compose $version from $module_dir (a few minutes the first time)"
  mkdir -p "$(dirname "$cached")"
  # GOWORK=off: the wrapper is not part of the project's workspace; -mod=readonly: go.sum is the pin.
  (cd "$module_dir" && GOWORK=off CGO_ENABLED=0 go build -mod=readonly -trimpath \
    -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$version" \
    -o "$cached.tmp" github.com/docker/compose/v2/cmd)
  mv "$cached.tmp" "$cached"
else
  log "using cached build $cached"
fi

mkdir -p "$plugin_dir"
install -m 0755 "$cached" "$plugin_dir/docker-compose"
log "installed $plugin_dir/docker-compose: $(docker compose version)"
