#!/usr/bin/env bash
# Builds the upstream control plane used by the tests (kube-apiserver, etcd, kube-controller-manager,
# kube-scheduler, kubectl, kwok, helm, nats-server, the LeaderWorkerSet controller) from the Go modules pinned under hack/tools/,
# and installs the toolchains of plugins written in Python and JavaScript (hack/plugin-tools.sh).
#
# Binaries land in a cache outside the repository, each keyed by its pinned go.mod/go.sum and the Go
# version, so a warm run only hashes a few files; the CRDs of pinned modules (Grove, LeaderWorkerSet) land in
# `crds/<name>/` beside the bin directory. Prints the bin directory on stdout (last line).
#
#   hack/build-tools.sh            # build what is missing, print the bin dir
#   DYNAMO_TOOLS_CACHE=/some/dir hack/build-tools.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/hack/tools"
cache_root=${DYNAMO_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dynamo-operator/tools}

command -v go >/dev/null || { echo "build-tools: 'go' is not on PATH; install Go >= 1.26" >&2; exit 1; }

# Each binary is keyed by the Go version, its module's go.mod/go.sum and its build flags (a stamp
# file beside it), so pinning a new tool or bumping one module rebuilds only what changed.
bin="$cache_root/bin"
mkdir -p "$bin"
go_id=$(go env GOVERSION GOOS GOARCH | tr '\n' ' ')

# stamp <module-dir> <what...>: the key of one build or download.
stamp() {
  local dir=$1; shift
  { echo "$go_id $*"; cat "$tools/$dir/go.mod" "$tools/$dir/go.sum"; } | sha256sum | cut -c1-16
}

kube_version=$(cd "$tools/kube" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
kube_minor=$(echo "$kube_version" | cut -d. -f2)
kube_ldflags="-s -w \
 -X k8s.io/component-base/version.gitVersion=$kube_version \
 -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=$kube_minor \
 -X k8s.io/client-go/pkg/version.gitVersion=$kube_version \
 -X k8s.io/client-go/pkg/version.gitMajor=1 \
 -X k8s.io/client-go/pkg/version.gitMinor=$kube_minor"

# build <module-dir> <package> <binary-name> [ldflags]
build() {
  local dir=$1 pkg=$2 name=$3 ldflags=${4:--s -w}
  local key; key=$(stamp "$dir" "$pkg" "$ldflags")
  if [ -x "$bin/$name" ] && [ "$(cat "$bin/.$name.stamp" 2>/dev/null)" = "$key" ]; then return 0; fi
  echo "build-tools: building $name ($pkg) ..." >&2
  local start=$SECONDS
  (cd "$tools/$dir" && go build -trimpath -ldflags "$ldflags" -o "$bin/.$name.tmp" "$pkg")
  mv "$bin/.$name.tmp" "$bin/$name"
  echo "$key" > "$bin/.$name.stamp"
  echo "build-tools: built $name in $((SECONDS - start))s" >&2
}

# crds <module-dir> <module> <folder-in-module> <name>: copies a pinned module's CRD YAML into
# crds/<name>/ beside the bin dir (the harness installs them from there).
crds() {
  local dir=$1 module=$2 folder=$3 name=$4
  local dest="$cache_root/crds/$name"
  local key; key=$(stamp "$dir" "$module" "$folder")
  if [ "$(cat "$dest/.stamp" 2>/dev/null)" = "$key" ]; then return 0; fi
  echo "build-tools: fetching the $name CRDs ($module) ..." >&2
  local src
  src=$(cd "$tools/$dir" && go mod download "$module" && go list -m -f '{{.Dir}}' "$module")
  rm -rf "$dest" && mkdir -p "$dest"
  cp "$src/$folder"/*.yaml "$dest/"
  echo "$key" > "$dest/.stamp"
}

build kube go.etcd.io/etcd/server/v3 etcd
build kube k8s.io/kubernetes/cmd/kube-apiserver kube-apiserver "$kube_ldflags"
build kube k8s.io/kubernetes/cmd/kubectl kubectl "$kube_ldflags"
build nats github.com/nats-io/nats-server/v2 nats-server
helm_version=$(cd "$tools/helm" && go list -m -f '{{.Version}}' helm.sh/helm/v3)
build helm helm.sh/helm/v3/cmd/helm helm "-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
build kube k8s.io/kubernetes/cmd/kube-controller-manager kube-controller-manager "$kube_ldflags"
build kube k8s.io/kubernetes/cmd/kube-scheduler kube-scheduler "$kube_ldflags"
build kwok sigs.k8s.io/kwok/cmd/kwok kwok
build lws sigs.k8s.io/lws/cmd lws-controller
crds crds github.com/ai-dynamo/grove/operator/api core/v1alpha1/crds grove
crds lws sigs.k8s.io/lws config/crd/bases lws
# Toolchains of plugins written in Python and JavaScript (componentize-py, jco).
"$root/hack/plugin-tools.sh" "$bin"

echo "$bin"
