#!/usr/bin/env bash
# Runs every test of the workspace against a real control plane.
#
# Builds (or finds, when cached) the upstream binaries with hack/build-tools.sh, exports their
# directory as DYNAMO_TOOLS_BIN for the test harness, then runs `cargo test` on the workspace.
# Extra arguments go to cargo test, e.g. `hack/test.sh -p dynamo-api`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

DYNAMO_TOOLS_BIN=$("$root/hack/build-tools.sh" | tail -n 1)
export DYNAMO_TOOLS_BIN

# A test machine has 2 cores; the control-plane tests share one apiserver per test binary.
exec cargo test --workspace --locked "$@"
