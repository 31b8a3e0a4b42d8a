#!/usr/bin/env bash
# Copies the generated CRDs (crds/*.yaml) into the dynamo-crds chart (charts/dynamo-crds/files/),
# byte for byte; the chart's template adds its labels and `helm.sh/resource-policy: keep`.
#
#   hack/sync-chart-crds.sh           # copy (run after `cargo run -p dynamo-operator -- crdgen`)
#   hack/sync-chart-crds.sh --check   # exit 1, naming the files, when the chart is out of date
#
# A test (`cargo test -p dynamo-tests --test integration helm`) runs the check.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src="$root/crds"
dest="$root/charts/dynamo-crds/files"

check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

stale=()
for file in "$src"/*.yaml; do
  name=$(basename "$file")
  if ! cmp -s "$file" "$dest/$name"; then
    stale+=("charts/dynamo-crds/files/$name")
  fi
done
for file in "$dest"/*.yaml; do
  [ -e "$file" ] || continue
  name=$(basename "$file")
  if [ ! -e "$src/$name" ]; then
    stale+=("charts/dynamo-crds/files/$name (no longer in crds/)")
  fi
done

if [ "$check" = 1 ]; then
  if [ "${#stale[@]}" -gt 0 ]; then
    printf 'sync-chart-crds: out of date with crds/: %s\n' "${stale[@]}" >&2
    echo "sync-chart-crds: run hack/sync-chart-crds.sh" >&2
    exit 1
  fi
  exit 0
fi

mkdir -p "$dest"
rm -f "$dest"/*.yaml
cp "$src"/*.yaml "$dest/"
echo "sync-chart-crds: copied $(ls "$src"/*.yaml | wc -l) CRDs into charts/dynamo-crds/files/" >&2
