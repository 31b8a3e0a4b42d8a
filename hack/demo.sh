#!/usr/bin/env bash
# Shows the operator on the local dev cluster: starts the cluster (hack/dev-cluster.sh) and the
# operator, applies an example graph, and watches until the graph is Ready.
#
#   hack/demo.sh [GRAPH.yaml]      # default: examples/graphs/vllm-agg.yaml
#   hack/demo.sh examples/graphs/vllm-disagg-multinode.yaml   # multi-node, on LeaderWorkerSets
#
# The dev cluster serves Grove's CRDs but runs no Grove controller, so the operator runs with
# Grove switched off (orchestrators.grove.enabled: false): multi-node graphs go to the
# LeaderWorkerSet controller the dev cluster does run. The KAI scheduler is off too (no queue).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
graph=${1:-$root/examples/graphs/vllm-agg.yaml}
state=${DYNAMO_DEV_CLUSTER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dynamo-operator/dev-cluster}

eval "$("$root/hack/dev-cluster.sh" up)"
kubectl="$("$root/hack/build-tools.sh" | tail -n 1)/kubectl"

echo "demo: building the operator ..." >&2
(cd "$root" && cargo build --quiet -p dynamo-operator)
target=$(cd "$root" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
operator_log="$state/operator.log"
if [ -f "$state/operator.pid" ] && kill -0 "$(cat "$state/operator.pid")" 2>/dev/null; then
  echo "demo: the operator is already running (pid $(cat "$state/operator.pid"))" >&2
else
  config="$state/operator-config.yaml"
  cat >"$config" <<'YAML'
apiVersion: operator.config.dynamo.nvidia.com/v1alpha1
kind: OperatorConfiguration
orchestrators:
  grove: {enabled: false}
  kaiScheduler: {enabled: false}
YAML
  "$target/debug/dynamo-operator" run --kubeconfig "$KUBECONFIG" --config "$config" >"$operator_log" 2>&1 &
  echo $! >"$state/operator.pid"
  echo "demo: operator started (pid $!, log $operator_log)" >&2
fi

name=$(awk '/^metadata:/{m=1} m && /^  name:/{print $2; exit}' "$graph")
namespace=$(awk '/^metadata:/{m=1} m && /^  namespace:/{print $2; exit}' "$graph")
namespace=${namespace:-default}
"$kubectl" get namespace "$namespace" >/dev/null 2>&1 || "$kubectl" create namespace "$namespace" >/dev/null
echo "demo: applying $graph (graph $namespace/$name) ..." >&2
"$kubectl" apply --server-side -f "$graph"

for _ in $(seq 1 90); do
  clear 2>/dev/null || true
  echo "# kubectl -n $namespace get dgd,dcd,deploy,lws,pods   ($(date +%T))"
  "$kubectl" -n "$namespace" get dgd,dcd,deploy,leaderworkersets,pods -o wide 2>&1 | sed 's/^/  /'
  ready=$("$kubectl" -n "$namespace" get dgd "$name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)
  if [ "$ready" = "True" ]; then
    echo
    echo "demo: graph $name is Ready."
    break
  fi
  sleep 2
done
if [ "${ready:-}" != "True" ]; then
  echo "demo: graph $name is not Ready after 3 minutes; the operator log is $operator_log" >&2
fi
cat <<TXT

Explore:   export KUBECONFIG=$KUBECONFIG
           $kubectl -n $namespace describe dgd $name
Clean up:  kill \$(cat $state/operator.pid); hack/dev-cluster.sh down
TXT
