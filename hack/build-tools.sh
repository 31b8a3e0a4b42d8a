#!/usr/bin/env bash
# Builds the upstream control plane used by the tests (kube-apiserver, etcd, kube-controller-manager,
# kube-scheduler, kubectl, kwok, helm, nats-server) from the Go modules pinned under hack/tools/.
#
# Binaries land in a cache outside the repository, keyed by the pinned go.mod/go.sum files and the Go
# version, so a warm run only hashes a few files. Prints the bin directory on stdout (last line).
#
#   hack/build-tools.sh            # build what is missing, print the bin dir
#   DYNAMO_TOOLS_CACHE=/some/dir hack/build-tools.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/hack/tools"
cache_root=${DYNAMO_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dynamo-operator/tools}

command -v go >/dev/null || { echo "build-tools: 'go' is not on PATH; install Go >= 1.26" >&2; exit 1; }

# The key covers this script too, since it decides flags such as the version stamps below.
key=$( { go env GOVERSION GOOS GOARCH; cat "${BASH_SOURCE[0]}" "$tools"/*/go.mod "$tools"/*/go.sum; } | sha256sum | cut -c1-16)
bin="$cache_root/$key/bin"
mkdir -p "$bin"

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
  if [ -x "$bin/$name" ]; then return 0; fi
  echo "build-tools: building $name ($pkg) ..." >&2
  local start=$SECONDS
  (cd "$tools/$dir" && go build -trimpath -ldflags "$ldflags" -o "$bin/.$name.tmp" "$pkg")
  mv "$bin/.$name.tmp" "$bin/$name"
  echo "build-tools: built $name in $((SECONDS - start))s" >&2
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

echo "$bin"
