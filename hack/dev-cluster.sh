#!/usr/bin/env bash
# A local simulated cluster for trying the operator: the test harness's full control plane
# (etcd, kube-apiserver, controller-manager, scheduler, kwok fake GPU nodes, the nvidia.com CRDs)
# running in the background, with what multi-node graphs need: the LeaderWorkerSet controller and
# its webhooks, Grove's CRDs, and stand-in Volcano and KAI CRDs. The scheduler places pods that
# name the volcano or kai-scheduler scheduler, but does not gang-schedule them.
#
#   hack/dev-cluster.sh up [--gpu-nodes N] [--gpus-per-node M]   # start (or find) it; prints export KUBECONFIG=...
#   hack/dev-cluster.sh down                                       # stop it and remove its files
#   hack/dev-cluster.sh status                                     # running or not
#
# State lives in $DYNAMO_DEV_CLUSTER_DIR (default ~/.cache/dynamo-operator/dev-cluster). Running
# `up` twice is safe: the second finds the first.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${DYNAMO_DEV_CLUSTER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dynamo-operator/dev-cluster}
pidfile="$state/pid"
kubeconfig="$state/kubeconfig"
log="$state/cluster.log"

running() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

usage() {
  grep '^#   hack/dev-cluster.sh ' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

up() {
  local nodes=4 gpus=8
  while [ $# -gt 0 ]; do
    case "$1" in
      --gpu-nodes) nodes=${2:?--gpu-nodes needs a value}; shift 2 ;;
      --gpus-per-node) gpus=${2:?--gpus-per-node needs a value}; shift 2 ;;
      *) echo "dev-cluster: unknown argument $1" >&2; usage ;;
    esac
  done
  if running && [ -f "$kubeconfig" ]; then
    echo "dev-cluster: already running (pid $(cat "$pidfile"))" >&2
    echo "export KUBECONFIG=$kubeconfig"
    return 0
  fi
  mkdir -p "$state"
  rm -f "$kubeconfig"
  echo "dev-cluster: building the control plane binaries (cached after the first time) ..." >&2
  DYNAMO_TOOLS_BIN=$("$root/hack/build-tools.sh" | tail -n 1)
  export DYNAMO_TOOLS_BIN
  echo "dev-cluster: building the cluster runner ..." >&2
  (cd "$root" && cargo build --quiet -p dynamo-test-harness --bin dynamo-dev-cluster)
  local target
  target=$(cd "$root" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  # setsid: the cluster outlives this shell; its own watchdogs stop it if the runner dies.
  setsid "$target/debug/dynamo-dev-cluster" --dir "$state" --gpu-nodes "$nodes" --gpus-per-node "$gpus" \
    </dev/null >"$log" 2>&1 &
  echo $! >"$pidfile"
  echo "dev-cluster: starting (log: $log) ..." >&2
  for _ in $(seq 1 300); do
    if [ -f "$kubeconfig" ]; then
      echo "dev-cluster: ready with $nodes fake node(s) of $gpus GPU(s), the LeaderWorkerSet controller and the Grove, Volcano and KAI CRDs" >&2
      echo "export KUBECONFIG=$kubeconfig"
      return 0
    fi
    if ! running; then
      echo "dev-cluster: the cluster failed to start; its log:" >&2
      tail -n 30 "$log" >&2
      rm -f "$pidfile"
      return 1
    fi
    sleep 1
  done
  echo "dev-cluster: not ready after 300 s; see $log" >&2
  return 1
}

down() {
  # An operator hack/demo.sh started against this cluster goes too.
  if [ -f "$state/operator.pid" ]; then
    kill -TERM "$(cat "$state/operator.pid")" 2>/dev/null || true
  fi
  if running; then
    local pid
    pid=$(cat "$pidfile")
    kill -TERM "$pid"
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL "$pid" 2>/dev/null || true
    echo "dev-cluster: stopped" >&2
  else
    echo "dev-cluster: not running" >&2
  fi
  rm -rf "$state"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down ;;
  status) if running; then echo "running (pid $(cat "$pidfile")), export KUBECONFIG=$kubeconfig"; else echo "not running"; exit 1; fi ;;
  *) usage ;;
esac
