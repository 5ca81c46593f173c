#!/usr/bin/env bash
# Builds and runs the lab CLI (lab/): `hack/lab.sh up|down|status|check ...`.
# A built binary, not `go run`, so the CLI's own exit code reaches the caller.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
mkdir -p _output/bin
go build -o _output/bin/lab ./lab
exec _output/bin/lab "$@"
