#!/usr/bin/env bash
# Starts backend, sidecar and frontend on loopback, wired as they are in pods
# (see hack/localrun). Ctrl-C stops everything.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
go run ./hack/localrun -bin _output/bin -logs _output/run "$@"
