#!/usr/bin/env bash
# Fails when a tracked file refers to a path outside the repository.
#
# A plain clone must build and test itself with nothing beside it, so no code, script or doc may
# point at a folder beside or above the clone. Every dot-dot path in a tracked
# text file is resolved against the places it could be relative to: the file's own folder, the
# folder of its nearest manifest (Cargo.toml: what `env!("CARGO_MANIFEST_DIR")` joins onto), and
# the repository root (commands in docs). It is fine when one of them lands inside the repository,
# on a top-level entry that exists (or `target/`, the build output). Otherwise the line is printed
# and the script exits 1.
#
#   hack/check-repo-paths.sh            # check the repository this script belongs to
#   hack/check-repo-paths.sh DIR        # check another git work tree (used by the tests)
set -euo pipefail

root=$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd -P)
cd "$root"

# Third-party fixtures are kept unchanged and never resolved as paths.
exclude=':(exclude)tests/fixtures/dynamo/**'

manifest_dir() {
  local dir=$1
  while [ "$dir" != "." ] && [ "$dir" != "/" ]; do
    if [ -f "$dir/Cargo.toml" ] || [ -f "$dir/package.json" ] || [ -f "$dir/go.mod" ]; then
      echo "$dir"
      return
    fi
    dir=$(dirname "$dir")
  done
  echo "."
}

# True when `ref`, taken relative to `base` (a folder of the repository), stays inside the
# repository and lands on something the repository has.
lands_inside() {
  local base=$1 ref=$2 resolved rel first
  resolved=$(realpath -m "$root/$base/$ref")
  case "$resolved/" in
    "$root"/*) ;;
    *) return 1 ;;
  esac
  rel=${resolved#"$root"}
  rel=${rel#/}
  [ -z "$rel" ] && return 0
  first=${rel%%/*}
  [ -e "$root/$first" ] || [ "$first" = target ]
}

failed=0
# -I skips binary files; the pattern finds `..` path segments that lead somewhere.
while IFS= read -r hit; do
  file=${hit%%:*}
  rest=${hit#*:}
  line=${rest%%:*}
  ref=${rest#*:}
  dir=$(dirname "$file")
  ok=0
  for base in "$dir" "$(manifest_dir "$dir")" "."; do
    if lands_inside "$base" "$ref"; then
      ok=1
      break
    fi
  done
  if [ "$ok" = 0 ]; then
    text=$(sed -n "${line}p" "$file")
    echo "check-repo-paths: $file:$line refers to a path outside the repository ($ref): ${text#"${text%%[![:space:]]*}"}" >&2
    failed=1
  fi
done < <(git grep -I -n -o -E '\.\.(/\.\.)*(/[A-Za-z0-9_@.+-]+)?' -- . "$exclude" | grep -v -E ':[0-9]+:\.\.$' || true)

if [ "$failed" = 1 ]; then
  echo "check-repo-paths: keep what the tests need inside the repository (tests/fixtures/)" >&2
  exit 1
fi
