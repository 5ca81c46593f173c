#!/usr/bin/env bash
# Prints the directory of every module in go.work. `go test ./...` does not
# work at a workspace root, so scripts loop over these instead.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
go list -m -f '{{.Dir}}'
