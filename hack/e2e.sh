#!/usr/bin/env bash
# Runs the e2e suite (e2e/, build tag e2e) against the cluster that KUBECONFIG names. With KUBECONFIG
# unset it uses the offline local cluster when that is up (make local-up), else kubectl's default.
# Prints what `go test -v` prints, then the suite's notes and its summary line in `make check`'s format:
#   All N paths (M actions) ok, K skipped (reason)
# where a path is an assertion (a test or subtest without subtests) and an action a top-level test.
#
#   hack/e2e.sh [--junit FILE]      --junit (or -junit) also writes JUnit XML to FILE
#
# The e2e module carries replace directives for ../lab and ../platform, so it builds the same with or
# without go.work (GOWORK=off keeps it independent of the workspace's other modules).
set -o errexit -o nounset -o pipefail

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }

junit=""
while [ $# -gt 0 ]; do
  case $1 in
    --junit | -junit)
      [ $# -ge 2 ] || { echo "e2e: $1 needs a file" >&2; exit 2; }
      junit=$2
      shift 2
      ;;
    --junit=* | -junit=*)
      junit=${1#*=}
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "e2e: unknown argument $1" >&2
      usage >&2
      exit 2
      ;;
  esac
done
# A relative JUnit path is relative to where the script was called from.
if [ -n "$junit" ] && [[ $junit != /* ]]; then
  junit=$PWD/$junit
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

local_kubeconfig=/var/lib/podpaths/local/admin.kubeconfig
if [ -z "${KUBECONFIG:-}" ] && [ -f "$local_kubeconfig" ]; then
  export KUBECONFIG=$local_kubeconfig
fi
echo "e2e: kubeconfig ${KUBECONFIG:-unset, so the kubectl default}"

export GOWORK=off
mkdir -p _output/e2e
(cd e2e && go build -o "$root/_output/e2e/testreport" ./cmd/testreport)

report_args=()
if [ -n "$junit" ]; then
  report_args=(--junit "$junit")
fi
cd e2e
go test -tags e2e -race -count=1 -timeout 30m -json ./... | "$root/_output/e2e/testreport" "${report_args[@]}"
