#!/usr/bin/env bash
# Installs the toolchains that build plugins written in Python (componentize-py, from PyPI),
# JavaScript (jco with componentize-js, from npm) and TypeScript (the TypeScript compiler and
# Node's types, from npm), pinned under hack/tools/plugin-languages/, into the tools cache, and
# puts `componentize-py`, `jco` and `tsc` wrappers in its bin directory. A TypeScript project
# finds Node's types through a `node_modules` link to plugin-languages/node/node_modules.
#
# Each install is keyed by its pin file and the interpreter's version (a stamp file), so a warm run
# only hashes two files. Called by hack/build-tools.sh; prints nothing on stdout.
#
#   hack/plugin-tools.sh <bin-dir>
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pins="$root/hack/tools/plugin-languages"
bin=${1:?usage: plugin-tools.sh <bin-dir>}
cache_root=$(dirname "$bin")/plugin-languages
mkdir -p "$bin" "$cache_root"

command -v python3 >/dev/null || { echo "plugin-tools: 'python3' is not on PATH; Python plugins need Python >= 3.10" >&2; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null \
  || { echo "plugin-tools: 'node' and 'npm' must be on PATH; JavaScript plugins need Node >= 20" >&2; exit 1; }

# key <pin-file> <interpreter-version>: the stamp of one install.
key() { { echo "$2"; cat "$1"; } | sha256sum | cut -c1-16; }

# Python: a virtual environment holding componentize-py.
venv="$cache_root/python"
py_key=$(key "$pins/requirements.txt" "$(python3 --version 2>&1)")
if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$py_key" ]; then
  echo "plugin-tools: installing componentize-py ..." >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$pins/requirements.txt"
  echo "$py_key" > "$venv/.stamp"
fi

# JavaScript: jco and componentize-js from the lock file.
node_dir="$cache_root/node"
js_key=$(key "$pins/package-lock.json" "$(node --version)")
if [ "$(cat "$node_dir/.stamp" 2>/dev/null)" != "$js_key" ]; then
  echo "plugin-tools: installing jco, componentize-js and TypeScript ..." >&2
  rm -rf "$node_dir" && mkdir -p "$node_dir"
  cp "$pins/package.json" "$pins/package-lock.json" "$node_dir/"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$js_key" > "$node_dir/.stamp"
fi

# Wrappers, so tests and the scaffold's commands find the tools on PATH.
cat > "$bin/componentize-py" <<WRAP
#!/bin/sh
exec "$venv/bin/componentize-py" "\$@"
WRAP
cat > "$bin/jco" <<WRAP
#!/bin/sh
exec node "$node_dir/node_modules/@bytecodealliance/jco/src/jco.js" "\$@"
WRAP
cat > "$bin/tsc" <<WRAP
#!/bin/sh
exec node "$node_dir/node_modules/typescript/bin/tsc" "\$@"
WRAP
chmod +x "$bin/componentize-py" "$bin/jco" "$bin/tsc"
