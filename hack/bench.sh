#!/usr/bin/env bash
# `make bench`: Go benchmarks for the hot handlers, then a short, bounded load
# run on loopback comparing backend /whoami (full middleware: request ID,
# recoverer, JSON request log, metrics) with a bare net/http handler, then
# binary sizes, idle RSS and the /api/paths latency with 3 backends.
# Numbers are printed, never asserted: speed is measured, not tested.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."

out=_output/bench
mkdir -p "$out" _output/tools
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_ok() { # url
  for _ in $(seq 100); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "not ready: $1" >&2; return 1
}

echo "== Go benchmarks"
for dir in platform services/backend services/frontend; do
  (cd "$dir" && go test -run '^$' -bench . -benchmem -benchtime 1s ./...) | grep -E '^(Benchmark|ok|PASS)' || true
done

(cd hack/bench && go build -o ../../_output/tools/bench .)
(cd hack/localrun && go build -o ../../_output/tools/localrun .)
bench=_output/tools/bench

echo "== load: backend /whoami vs a bare net/http handler (server on CPU 0, load on CPU 1, 5s each)"
taskset -c 0 "$bench" bare -addr 127.0.0.1:18080 & pids+=($!)
PODPATHS_APP_ADDR=127.0.0.1:18081 PODPATHS_ADMIN_ADDR=127.0.0.1:19081 PODPATHS_SIDECAR_ADDR=127.0.0.1:1 \
  PODPATHS_DRAIN_DELAY=0s taskset -c 0 _output/bin/backend >"$out/backend.log" & pids+=($!)
wait_ok http://127.0.0.1:18080/whoami
wait_ok http://127.0.0.1:19081/healthz  # alive; not ready without a sidecar, which this run does not need
taskset -c 1 "$bench" load -url http://127.0.0.1:18080/whoami -duration 1s -conns 8 >/dev/null  # warm-up
taskset -c 1 "$bench" load -url http://127.0.0.1:18081/whoami -duration 1s -conns 8 >/dev/null  # warm-up
bare=$(taskset -c 1 "$bench" load -url http://127.0.0.1:18080/whoami -duration 5s -conns 8)
full=$(taskset -c 1 "$bench" load -url http://127.0.0.1:18081/whoami -duration 5s -conns 8)
echo "bare:    $bare"
echo "backend: $full"
python3 - "$bare" "$full" <<'PY'
import json, sys
bare, full = (json.loads(a) for a in sys.argv[1:3])
print(f"ratio backend/bare = {full['rps'] / bare['rps']:.2f}  (target >= 0.80)")
PY
cleanup; pids=()

echo "== binary sizes (target <= 12 MB)"
for svc in backend sidecar frontend; do
  awk -v s="$svc" -v b="$(stat -c %s "_output/bin/$svc")" 'BEGIN{printf "%-9s %6.2f MB (%.2f MiB)\n", s, b/1e6, b/1048576}'
done

echo "== idle RSS after start-up (target <= 15 MB)"
port=18090
for svc in backend sidecar frontend; do
  PODPATHS_APP_ADDR=127.0.0.1:$port PODPATHS_ADMIN_ADDR=127.0.0.1:$((port + 1)) PODPATHS_NGINX_ADDR=none \
    "_output/bin/$svc" >/dev/null & pid=$!; pids+=("$pid")
  wait_ok "http://127.0.0.1:$((port + 1))/healthz"
  sleep 2  # let start-up garbage be collected: this is a measurement, not a test
  printf '%-9s %s\n' "$svc" "$(awk '/VmRSS/ {printf "%.1f MB (%.1f MiB)", $2*1024/1e6, $2/1024}' "/proc/$pid/status")"
  port=$((port + 2))
done
cleanup; pids=()

echo "== /api/paths with 3 backends on loopback (target p50 <= 5 ms)"
_output/tools/localrun -bin _output/bin -logs "$out/run" -frontend 127.0.0.1:3300 >"$out/localrun.log" 2>&1 & pids+=($!)
wait_ok http://127.0.0.1:3300/api/paths
"$bench" load -url http://127.0.0.1:3300/api/paths -duration 5s -conns 1
