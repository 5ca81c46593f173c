#!/usr/bin/env bash
# Prints what the local cluster may change on this machine, one line per item, sorted: network links,
# routes, iptables chains (filter, nat, mangle), network namespaces, mounts, cgroups, the cluster's
# processes and the sysctls it touches. CI saves it before `make local-up` and compares it after
# `make local-down`: any difference is something the lab left behind.
#
#   hack/local-cluster/host-state.sh > before.txt
#   ... up, tests, down ...
#   hack/local-cluster/host-state.sh | diff before.txt -
set -o errexit -o nounset -o pipefail

state_dir=${PODPATHS_STATE_DIR:-/var/lib/podpaths/local}

{
  ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print "link " $2}'
  ip route show table all | sed 's/^/route /'
  for table in filter nat mangle; do
    iptables -w 10 -t "$table" -S | awk -v t="$table" '$1 == "-N" {print "chain " t " " $2}'
  done
  ip netns list 2>/dev/null | awk '{print "netns " $1}'
  awk '{print "mount " $2 " " $3}' /proc/self/mounts | grep -E 'podpaths|netns|kubelet|containerd' || true
  find /sys/fs/cgroup -maxdepth 3 -type d \( -name 'podpaths*' -o -name 'kubepods*' \) 2>/dev/null | sed 's/^/cgroup /'
  # Live processes only: a zombie has exited and waits for its parent (init, once `up` has ended) to reap it.
  ps -eo stat=,args= | awk '$1 !~ /^Z/ {$1 = ""; print}' |
    grep -E "$state_dir|kube-apiserver|kube-controller|kube-scheduler|kubelet|kube-proxy|etcd|metallb|containerd-shim" |
    grep -v -e grep -e host-state | awk '{print "process " $1}' || true
  for key in net/ipv4/ip_forward net/bridge/bridge-nf-call-iptables net/ipv4/conf/all/route_localnet; do
    if [ -r "/proc/sys/$key" ]; then
      echo "sysctl $key=$(cat "/proc/sys/$key")"
    fi
  done
} | sort
