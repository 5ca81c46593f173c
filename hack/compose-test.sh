#!/usr/bin/env bash
# The compose smoke test, run by CI: the whole suite under docker compose on this machine, checked from
# outside through nginx, as a user's browser would reach it.
#   1. a Docker engine (started here when none answers)
#   2. egress DROP rules in DOCKER-USER, before any container exists
#   3. the compose v2 plugin, the images (services + stand-ins), `nginx -t` inside the nginx image
#   4. docker compose up --wait, timed to all healthy
#   5. through nginx: /nginx-health, /api/paths passes with the compose paths, /my-be/api/whoami reaches the
#      backend (and its sidecar) with the forwarding headers; and the guard dropped nothing
# Whatever happens: docker compose down -v, the guard rules this run added are removed, and the engine is
# stopped if this run started it. The report is kept in _output/compose-test/ for CI.
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# A project and port of its own, so a `make compose-up` stack on 8088 is neither hit nor torn down.
project=podpaths-smoke
port=${PODPATHS_SMOKE_PORT:-18088}
base=http://127.0.0.1:$port
out=_output/compose-test
PODPATHS_TAG=$(tr -d '[:space:]' <VERSION)
export PODPATHS_TAG PODPATHS_HTTP_PORT=$port PODPATHS_NGINX_TEMPLATE=default.conf.template
compose=(docker compose --project-name "$project" --file docker-compose.yml)

log() { printf 'compose-test: %s\n' "$*" >&2; }

engine_started=false
guard_added=()
compose_used=false
failures=0

cleanup() {
  local rc=$?
  set +o errexit
  if [[ $compose_used == true ]]; then
    if ((rc != 0)); then
      log "failed; container state and logs follow"
      "${compose[@]}" ps --all
      "${compose[@]}" logs --no-color --tail 40
    fi
    "${compose[@]}" down --volumes --remove-orphans --timeout 10 || rc=1
  fi
  if ((${#guard_added[@]})); then
    hack/docker-engine.sh unguard "${guard_added[@]}" || rc=1
  fi
  if [[ $engine_started == true ]]; then
    hack/docker-engine.sh stop || rc=1
  fi
  if ((rc == 0)); then log "PASS"; else log "FAIL (exit $rc)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

missing=()
for tool in curl jq; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get -oDPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}" >/dev/null
fi

docker info >/dev/null 2>&1 || engine_started=true
hack/docker-engine.sh start
guard_out=$(hack/docker-engine.sh guard)
[[ -z $guard_out ]] || mapfile -t guard_added <<<"$guard_out"

hack/compose-plugin.sh
# docker-compose.yml defaults the tag for a plain `docker compose up`; it must name the current release.
images=$(PODPATHS_TAG='' docker compose --file docker-compose.yml config --images)
stale=$(grep '^localhost/' <<<"$images" | grep -v ":$PODPATHS_TAG\$" || true)
if [[ -n $stale ]]; then
  log "docker-compose.yml's default tag differs from VERSION ($PODPATHS_TAG): $stale"
  exit 1
fi
hack/images.sh
hack/verify-nginx.sh --image

compose_used=true
# Leftovers of an interrupted earlier run of this test would block the names and the port.
"${compose[@]}" down --volumes --remove-orphans --timeout 10 2>/dev/null
log "docker compose up (project $project, nginx on 127.0.0.1:$port)"
start=$EPOCHREALTIME
"${compose[@]}" up --detach --wait --wait-timeout 120
up_seconds=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}')
log "all services healthy after ${up_seconds}s"

# check WHAT COMMAND... runs one assertion and counts it; the test goes on so one run shows every failure.
check() {
  local what=$1
  shift
  if "$@"; then
    echo "ok    $what"
  else
    echo "FAIL  $what"
    failures=$((failures + 1))
  fi
}

# fetch PATH FILE saves nginx's answer to PATH in FILE (kept for CI even on error); fails on a non-2xx status.
fetch() { curl --silent --show-error --fail-with-body --max-time 10 --output "$2" "$base$1"; }

# json FILE FILTER succeeds when the jq FILTER is true for FILE; --arg pairs may follow.
json() {
  local file=$1 filter=$2
  shift 2
  jq --exit-status "$@" "$filter" "$file" >/dev/null
}

# path_ok ID: the report holds the path ID (at any depth, e.g. inside a hop) and every instance passed.
path_ok() {
  # shellcheck disable=SC2016 # $id is jq's variable
  json "$out/paths.json" '[.. | objects | select(.id? == $id)] | length > 0 and all(.ok)' --arg id "$1"
}

nginx_health_ok() { [[ $(curl --silent --show-error --fail --max-time 10 "$base/nginx-health") == ok ]]; }

mkdir -p "$out"
check "GET /nginx-health answers ok" nginx_health_ok

if fetch /api/paths "$out/paths.json"; then
  jq . "$out/paths.json" >"$out/paths.pretty.json"
  check "/api/paths: no path failed, some passed" json "$out/paths.json" '.summary.failed == 0 and .summary.ok > 0'
  for id in nginx-frontend-localhost nginx-backend-dns frontend-backend-dns backend-sidecar-localhost; do
    check "/api/paths: $id ok" path_ok "$id"
  done
  check "/api/paths: env and headless are unconfigured, with a reason" json "$out/paths.json" \
    '[.paths[] | select(.method == "env" or .method == "headless")]
     | length >= 2 and all(.error_kind == "unconfigured" and (.error | length > 0))'
  check "/api/paths: DNS was asked only for compose names" json "$out/paths.json" \
    '[.. | objects | select(.method? == "dns" or .method? == "headless") | .query] | all(test("svc|cluster\\.local") | not)'
  jq -r '.paths[] | "      \(.id): \(if .ok then "ok" else .error_kind end) \(.error)"' "$out/paths.json"
  jq -r '"      summary: \(.summary)"' "$out/paths.json"
else
  check "GET /api/paths answers 2xx" false
fi

if fetch /my-be/api/whoami "$out/my-be-whoami.json"; then
  check "/my-be/api/whoami: answered by the backend" json "$out/my-be-whoami.json" '.service == "backend"'
  check "/my-be/api/whoami: the backend reached its sidecar over localhost" json "$out/my-be-whoami.json" \
    '.sidecar.id == "backend-sidecar-localhost" and .sidecar.ok'
  check "/my-be/api/whoami: nginx's forwarding headers arrived" json "$out/my-be-whoami.json" \
    '.forwarded["x-real-ip"] and .forwarded["x-forwarded-for"] and .forwarded["x-forwarded-proto"] == "http"
     and .forwarded["x-forwarded-host"] and .forwarded["x-forwarded-port"] == "8080"'
else
  check "GET /my-be/api/whoami answers 2xx" false
fi

# Nothing in this stack has a reason to send a packet off the machine; a guard drop means something tried
# (for example a DNS lookup that Docker forwarded upstream). Counted only when this run added the guard.
if ((${#guard_added[@]})); then
  dropped=$(iptables -L DOCKER-USER -v -n -x | awk '/podpaths-egress-guard/ {n += $1} END {print n + 0}')
  check "no container tried to leave the machine ($dropped packets dropped by the guard)" test "$dropped" -eq 0
fi

log "compose up to healthy: ${up_seconds}s; $failures failed check(s)"
((failures == 0))
