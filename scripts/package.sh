#!/usr/bin/env bash
# Builds the installable VSIX:  npm run package   (bash scripts/package.sh [--out FILE.vsix])
#
#   1. npm dependencies (scripts/ensure-node-deps.sh) and the production esbuild bundles
#      dist/extension.js and dist/cli.js (ioredis inside; vscode and better-sqlite3 external);
#   2. better-sqlite3 bindings for the extension hosts VS Code runs -- Node 20, 22, 24
#      (ABI 115, 127, 137) -- into native/abi-<N>/ (built once, then taken from
#      ${OSM_CACHE:-~/.cache/optuna-storage-manager}/native; scripts/native/);
#   3. vsce 3.9.2, offline: production dependencies filtered by .vscodeignore down to
#      better-sqlite3's JS and the two tiny modules it requires;
#   4. checks the archive: every file the extension loads at run time (and the whole Python
#      companion python/enhanced_redis_storage) is in it, nothing from src/, test/, scripts/,
#      source maps, Python caches or other node_modules is.
#
# Output: ./<name>-<version>.vsix (or --out / OSM_VSIX), path printed on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

out="${OSM_VSIX:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
name="$(node -p "require('./package.json').name")"
version="$(node -p "require('./package.json').version")"
out="${out:-$repo/$name-$version.vsix}"
case "$out" in /*) ;; *) out="$repo/$out" ;; esac

log() { printf '[package] %s\n' "$*" >&2; }
die() { printf '[package] ERROR: %s\n' "$*" >&2; exit 1; }
t0=$(date +%s)
step() { log "$1 ($(( $(date +%s) - t0 ))s)"; }

bash scripts/ensure-system-deps.sh build-essential python3 binutils unzip
bash scripts/ensure-node-deps.sh

step "bundling (esbuild, production)"
build_log="$(node esbuild.js --production 2>&1)" || { echo "$build_log" >&2; die "esbuild failed"; }
# Whatever the bundles still require at run time must be a Node builtin, vscode, or
# better-sqlite3 (shipped below); anything else would be missing from the VSIX.
node -e '
  const fs = require("fs");
  const builtins = new Set(require("module").builtinModules);
  let bad = 0;
  for (const f of ["dist/extension.js", "dist/cli.js", "dist/importanceWorker.js", "dist/sqliteWorker.js"]) {
    const src = fs.readFileSync(f, "utf8");
    for (const [, m] of src.matchAll(/require\(\s*["\x27]([^"\x27]+)["\x27]\s*\)/g)) {
      const id = m.replace(/^node:/, "");
      if (builtins.has(id) || m.startsWith("node:") || m === "vscode" || m === "better-sqlite3") continue;
      console.error(`  ${f} requires "${m}" at run time, which the VSIX does not ship`);
      bad++;
    }
  }
  process.exit(bad ? 1 : 0);
' || die "the bundles need modules that are not bundled (esbuild.js external list?)"

step "native bindings for Node 20/22/24"
rm -rf native
bash scripts/native/build-better-sqlite3.sh --out native 20 22 24

step "vsce package"
rm -f "$out"
# --no-rewrite-relative-links: the repository URL is not a GitHub one, so vsce cannot turn
# README's relative image links into absolute ones; the screenshots travel in the VSIX
# (media/) and VS Code resolves the links against the installed extension.
vsce_log="$(mktemp "${TMPDIR:-/tmp}/osm-vsce.XXXXXX")"
npx --no-install vsce package --no-rewrite-relative-links --out "$out" </dev/null >"$vsce_log" 2>&1 \
  || { cat "$vsce_log" >&2; rm -f "$vsce_log"; die "vsce package failed"; }
grep -iE "warn" "$vsce_log" >&2 || true
rm -f "$vsce_log"

step "checking the archive"
entries="$(unzip -Z1 "$out")"
missing=()
for f in extension/package.json extension/readme.md extension/LICENSE.txt extension/media/icon.png \
  extension/media/optuna-storage.svg extension/dist/extension.js extension/dist/cli.js \
  extension/dist/importanceWorker.js extension/dist/sqliteWorker.js \
  extension/dist/webview/studyPage.js extension/dist/webview/studyPageStyle.css \
  extension/redis/redis-autodl-optimized.conf \
  extension/python/enhanced_redis_storage/__init__.py extension/python/enhanced_redis_storage/storage.py \
  extension/python/enhanced_redis_storage/journal_backend.py extension/python/enhanced_redis_storage/reconcile.py \
  extension/native/abi-115/better_sqlite3.node extension/native/abi-127/better_sqlite3.node \
  extension/native/abi-137/better_sqlite3.node extension/node_modules/better-sqlite3/package.json \
  extension/node_modules/better-sqlite3/lib/index.js extension/node_modules/better-sqlite3/lib/database.js \
  extension/node_modules/bindings/bindings.js extension/node_modules/file-uri-to-path/index.js; do
  grep -qxF "$f" <<<"$entries" || missing+=("$f")
done
for f in python/enhanced_redis_storage/*.py; do
  grep -qxF "extension/$f" <<<"$entries" || missing+=("$f")
done
[ ${#missing[@]} -eq 0 ] || die "the VSIX lacks: ${missing[*]}"
unwanted="$(grep -E '^extension/(src|test|bench|scripts|\.ci|\.test-work)/|\.map$|\.ts$|__pycache__|\.pyc$|^extension/node_modules/(ioredis|@ioredis|prebuild-install|debug)/|^extension/node_modules/better-sqlite3/(src|deps|build)/' <<<"$entries" | grep -v '\.d\.ts$' || true)"
[ -z "$unwanted" ] || die "the VSIX holds files it should not: $(head -5 <<<"$unwanted" | tr '\n' ' ')"

size="$(stat -c %s "$out")"
log "$(wc -l <<<"$entries") files, $((size / 1024)) KiB, built in $(( $(date +%s) - t0 ))s"
echo "$out"
