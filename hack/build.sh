#!/usr/bin/env bash
# Builds the three services as static binaries into _output/bin, the way the
# images need them: no cgo, no paths from this machine, the version stamped in.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."

version=$(hack/version.sh)
out=_output/bin
mkdir -p "$out"
for svc in backend sidecar frontend; do
  (cd "services/$svc" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X main.version=${version}" -o "../../$out/$svc" .)
  echo "built $out/$svc ($version, $(du -h "$out/$svc" | cut -f1))"
done
