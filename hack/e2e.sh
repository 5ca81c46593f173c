#!/usr/bin/env bash
# Runs the e2e suite (e2e/, build tag e2e) against a cluster the lab brought up, declared with --cluster:
#   local  the offline local cluster (make local-up); the default while it is up. KUBECONFIG must be unset
#          or the lab's own, so the suite never creates pods on a cluster someone else pointed it at.
#   kind   the lab's kind cluster (make kind-up), through KUBECONFIG or kubectl's default.
#   other  any cluster KUBECONFIG names; only when asked for explicitly.
# The suite checks the declaration (a local cluster's facts, kind's node provider IDs) and fails when the
# cluster is not what was declared. Skips beyond e2e/skips/<cluster>.txt (or --skip-budget's file) fail the run
# (none on local).
# Prints what `go test -v` prints, then the suite's notes and its summary line in `make check`'s format:
#   All N paths (M actions) ok, K skipped (reason)
# where a path is an assertion (a test or subtest without subtests) and an action a top-level test.
#
#   hack/e2e.sh [--cluster local|kind|other] [--junit FILE] [--leave-out REGEXP] [--skip-budget FILE]
#                                   --junit (or -junit) also writes JUnit XML; --leave-out runs every test
#                                   but those `go test -skip REGEXP` names (the skip budget still holds);
#                                   --skip-budget FILE names the tests that may skip, for e2e/skips/<cluster>.txt
#
# The e2e module carries replace directives for ../lab and ../platform, so it builds the same with or
# without go.work (GOWORK=off keeps it independent of the workspace's other modules).
set -o errexit -o nounset -o pipefail

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }

junit=""
leave_out=""
budget=""
cluster=${PODPATHS_E2E_CLUSTER:-}
while [ $# -gt 0 ]; do
  case $1 in
    --cluster)
      [ $# -ge 2 ] || { echo "e2e: $1 needs local, kind or other" >&2; exit 2; }
      cluster=$2
      shift 2
      ;;
    --cluster=*)
      cluster=${1#*=}
      shift
      ;;
    --junit | -junit)
      [ $# -ge 2 ] || { echo "e2e: $1 needs a file" >&2; exit 2; }
      junit=$2
      shift 2
      ;;
    --junit=* | -junit=*)
      junit=${1#*=}
      shift
      ;;
    --leave-out)
      [ $# -ge 2 ] || { echo "e2e: $1 needs a regular expression" >&2; exit 2; }
      leave_out=$2
      shift 2
      ;;
    --leave-out=*)
      leave_out=${1#*=}
      shift
      ;;
    --skip-budget)
      [ $# -ge 2 ] || { echo "e2e: $1 needs a file" >&2; exit 2; }
      budget=$2
      shift 2
      ;;
    --skip-budget=*)
      budget=${1#*=}
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
# A relative path is relative to where the script was called from.
if [ -n "$junit" ] && [[ $junit != /* ]]; then
  junit=$PWD/$junit
fi
if [ -n "$budget" ] && [[ $budget != /* ]]; then
  budget=$PWD/$budget
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

local_kubeconfig=/var/lib/podpaths/local/admin.kubeconfig
if [ -z "$cluster" ] && [ -f "$local_kubeconfig" ]; then
  cluster=local
fi
case $cluster in
  local)
    if [ -n "${KUBECONFIG:-}" ] && [ "$KUBECONFIG" != "$local_kubeconfig" ]; then
      echo "e2e: KUBECONFIG=$KUBECONFIG is not the local lab's ($local_kubeconfig); unset it, or pass --cluster other to test that cluster" >&2
      exit 2
    fi
    export KUBECONFIG=$local_kubeconfig
    ;;
  kind | other) ;;
  "")
    echo "e2e: no local lab is up; bring one up (make local-up, make kind-up) or name the cluster: --cluster kind|other" >&2
    exit 2
    ;;
  *)
    echo "e2e: unknown --cluster $cluster (want local, kind or other)" >&2
    exit 2
    ;;
esac
export PODPATHS_E2E_CLUSTER=$cluster
echo "e2e: $cluster cluster, kubeconfig ${KUBECONFIG:-unset, so the kubectl default}"

# The dashboard's tests drive a real headless Chromium (e2e/internal/browser). Debian's headless shell is the
# smallest; install it here, as root, when no browser is found.
if [ -z "${PODPATHS_E2E_BROWSER:-}" ] && ! command -v chromium-headless-shell chromium >/dev/null \
  && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "e2e: installing chromium-headless-shell for the dashboard's browser tests"
  install_browser() {
    DEBIAN_FRONTEND=noninteractive apt-get -oDPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
      chromium-headless-shell >/dev/null
  }
  # A machine that never fetched the package lists needs them first.
  install_browser || { apt-get -oDPkg::Lock::Timeout=300 update -qq && install_browser; }
fi

export GOWORK=off
mkdir -p _output/e2e
(cd e2e && go build -o "$root/_output/e2e/testreport" ./cmd/testreport)

report_args=()
if [ -n "$junit" ]; then
  report_args+=(--junit "$junit")
fi
if [ -z "$budget" ] && [ -f "e2e/skips/$cluster.txt" ]; then
  budget=$root/e2e/skips/$cluster.txt
fi
if [ -n "$budget" ]; then
  report_args+=(--skip-budget "$budget")
fi
test_args=()
if [ -n "$leave_out" ]; then
  test_args+=(-skip "$leave_out")
fi
cd e2e
go test -tags e2e -race -count=1 -timeout 30m -json "${test_args[@]}" ./... | "$root/_output/e2e/testreport" "${report_args[@]}"
