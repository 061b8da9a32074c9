#!/usr/bin/env bash
# Installs npm dependencies when node_modules is missing or older than package-lock.json.
# better-sqlite3 has no prebuilt download here, so it compiles against Node's own headers.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  bash scripts/ensure-system-deps.sh python3 make g++
  nodedir="$(dirname "$(dirname "$(command -v node)")")"
  [ -f "$nodedir/include/node/node.h" ] && export npm_config_nodedir="$nodedir"
  npm ci --no-audit --no-fund
fi
