#!/usr/bin/env bash
# Manages the local Docker engine for podpaths' image builds and the compose test.
#
#   hack/docker-engine.sh start    ensure docker.io is installed and dockerd answers; starts it if needed
#   hack/docker-engine.sh stop     stop dockerd, but only if `start` launched it
#   hack/docker-engine.sh status   say whether an engine answers and who started it
#   hack/docker-engine.sh guard    add the egress DROP rules to DOCKER-USER (before any container starts);
#                                  prints the rules it added, one per line (none if all were there)
#   hack/docker-engine.sh unguard [RULE...]
#                                  remove the given guard rules, or all that `guard` added, never others
#
# PODPATHS_DOCKERD_ARGS adds flags to the dockerd that `start` launches (CI's kind stage sets its runtime
# with it: hack/ci-kind/README.md).
#
# The `docker` on PATH may be only a client, so the engine is Debian's docker.io (dockerd 20.10). What this
# script starts and adds is recorded under _output/docker-engine/, so `stop` and `unguard` never touch an engine
# or a rule that someone else owns.
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

state_dir=_output/docker-engine
pid_file=$state_dir/dockerd.pid
log_file=$state_dir/dockerd.log
guard_file=$state_dir/guard-rules
# How long to wait for dockerd to answer after start, and to exit after SIGTERM.
start_timeout=${PODPATHS_DOCKERD_START_TIMEOUT:-60}
stop_timeout=${PODPATHS_DOCKERD_STOP_TIMEOUT:-30}

log() { printf 'docker-engine: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

engine_answers() { docker info >/dev/null 2>&1; }

# recorded_pid prints the pid of the dockerd this script started, if that process is still a dockerd.
recorded_pid() {
  [[ -f $pid_file ]] || return 1
  local pid
  pid=$(<"$pid_file")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/comm && $(</proc/"$pid"/comm) == dockerd ]] || return 1
  printf '%s\n' "$pid"
}

install_engine() {
  command -v dockerd >/dev/null 2>&1 && return 0
  [[ $(id -u) == 0 ]] || die "dockerd is missing; run as root so Debian's docker.io can be installed"
  log "installing Debian's docker.io (dockerd 20.10)"
  # RUNLEVEL=1 keeps the package's maintainer scripts from starting a docker service of their own: this
  # script starts dockerd itself, so that it knows it may stop it. The package may bring a `docker` client
  # too; the one already on PATH keeps precedence and works with this engine (API 1.41).
  RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get -oDPkg::Lock::Timeout=300 install -y --no-install-recommends docker.io >/dev/null \
    || { apt-get -oDPkg::Lock::Timeout=300 update >/dev/null \
      && RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get -oDPkg::Lock::Timeout=300 install -y --no-install-recommends docker.io >/dev/null; }
}

start() {
  if engine_answers; then
    if recorded_pid >/dev/null; then
      log "dockerd already running (started by this script, pid $(recorded_pid))"
    else
      log "a Docker engine is already running; using it and leaving it alone"
    fi
    return 0
  fi
  install_engine
  if engine_answers; then
    log "the docker.io package started an engine itself; using it and leaving it alone"
    return 0
  fi
  [[ $(id -u) == 0 ]] || die "no Docker engine answers and starting dockerd needs root"
  mkdir -p "$state_dir"
  log "starting dockerd (log: $log_file)"
  # setsid: the engine must outlive this script (and its process group) until `stop`.
  local args
  read -r -a args <<<"${PODPATHS_DOCKERD_ARGS:-}"
  setsid dockerd "${args[@]}" >"$log_file" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$pid_file"
  local deadline=$((SECONDS + start_timeout))
  until engine_answers; do
    recorded_pid >/dev/null || { tail -n 20 "$log_file" >&2; rm -f "$pid_file"; die "dockerd exited during start"; }
    ((SECONDS < deadline)) || die "dockerd did not answer within ${start_timeout}s (see $log_file)"
    sleep 0.5
  done
  log "dockerd is up (pid $(<"$pid_file"))"
}

stop() {
  local pid
  if ! pid=$(recorded_pid); then
    rm -f "$pid_file"
    log "no dockerd started by this script is running; nothing to stop"
    return 0
  fi
  if [[ -s $guard_file ]]; then
    log "note: guard rules are still recorded; run '$0 unguard' to remove them"
  fi
  log "stopping dockerd (pid $pid)"
  kill -TERM "$pid"
  local deadline=$((SECONDS + stop_timeout))
  while [[ -e /proc/$pid ]]; do
    ((SECONDS < deadline)) || die "dockerd (pid $pid) did not exit within ${stop_timeout}s"
    sleep 0.2
  done
  rm -f "$pid_file"
  log "dockerd stopped"
}

status() {
  if ! engine_answers; then
    echo "no Docker engine answers"
  elif recorded_pid >/dev/null; then
    echo "dockerd running, started by hack/docker-engine.sh (pid $(recorded_pid))"
  else
    echo "a Docker engine is running that this script did not start"
  fi
  if [[ -s $guard_file ]]; then
    echo "guard rules added by this script:"
    sed 's/^/  iptables -I DOCKER-USER /' "$guard_file"
  fi
}

# guard_rules prints one DOCKER-USER rule per line: drop anything that arrives from a container bridge and
# would leave through any other interface (the host's uplink, see `ip route`), so no container can reach an
# address outside this machine. Container-to-container traffic on one bridge and published ports on
# 127.0.0.1 (docker-proxy runs on the host) are untouched.
guard_rules() {
  local comment=(-m comment --comment podpaths-egress-guard)
  printf '%s\n' "-i docker0 ! -o docker0 ${comment[*]} -j DROP" "-i br-+ ! -o br-+ ${comment[*]} -j DROP"
}

guard() {
  engine_answers || die "no Docker engine answers; run '$0 start' first"
  iptables -n -L DOCKER-USER >/dev/null 2>&1 \
    || die "iptables chain DOCKER-USER is missing (dockerd started with --iptables=false?); refusing to run containers unguarded"
  mkdir -p "$state_dir"
  touch "$guard_file"
  local uplink rule
  uplink=$(ip -o route show default 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") {print $(i + 1); exit}}')
  while IFS= read -r rule; do
    # shellcheck disable=SC2086 # a rule is a list of iptables words
    if iptables -C DOCKER-USER $rule 2>/dev/null; then
      log "guard already present: $rule"
      continue
    fi
    # shellcheck disable=SC2086
    iptables -I DOCKER-USER 1 $rule
    printf '%s\n' "$rule" >>"$guard_file"
    printf '%s\n' "$rule"
    log "added guard: iptables -I DOCKER-USER $rule"
  done < <(guard_rules)
  log "container egress is dropped (uplink ${uplink:-unknown}); remove with '$0 unguard'"
}

# unguard [RULE...] deletes the given rules, or every recorded one, but only rules that `guard` recorded:
# a rule someone else added stays.
unguard() {
  [[ -s $guard_file ]] || { log "no guard rules recorded; nothing to remove"; return 0; }
  local rules=("$@") rule
  ((${#rules[@]})) || mapfile -t rules <"$guard_file"
  for rule in "${rules[@]}"; do
    grep -qxF -- "$rule" "$guard_file" || { log "not a recorded guard rule, left alone: $rule"; continue; }
    # shellcheck disable=SC2086 # a rule is a list of iptables words
    if iptables -C DOCKER-USER $rule 2>/dev/null; then
      # shellcheck disable=SC2086
      iptables -D DOCKER-USER $rule
      log "removed guard: $rule"
    fi
    grep -vxF -- "$rule" "$guard_file" >"$guard_file.tmp" || true
    mv "$guard_file.tmp" "$guard_file"
  done
}

case ${1:-start} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  guard) guard ;;
  unguard) shift; unguard "$@" ;;
  *) die "usage: $0 start|stop|status|guard|unguard" ;;
esac
