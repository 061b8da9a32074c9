#!/usr/bin/env bash
# npm start: from a fresh machine to the extension running in a real VS Code on a demo store.
#
#   1. installs what is missing: Debian packages (python3-optuna for the demo data, the
#      build tools for the native SQLite driver), npm dependencies, and -- only when no
#      local `code` is on PATH -- code-server into ~/.cache/optuna-storage-manager;
#   2. builds the VSIX (scripts/package.sh);
#   3. makes the demo workspace ${OSM_DEMO_DIR:-~/optuna-storage-demo}: optuna.db written by
#      real Optuna (test/fixtures/generate.py: eight studies, every trial state and
#      distribution) and .vscode/settings.json pointing the extension at it, no Redis;
#   4. opens it: with a local `code` (`code --install-extension`, then `code <dir>`), else in
#      code-server on http://127.0.0.1:${OSM_PORT:-8765} (no auth, listening on 127.0.0.1
#      only, its own extensions dir), in the foreground until Ctrl-C.
#
# Environment: OSM_DEMO_DIR, OSM_PORT, OSM_DEMO_RESET=1 (regenerate optuna.db),
#   OSM_DEMO_REDIS=redis://host:port (read that Redis, optuna.db as its fallback),
#   OSM_START_WITH=code|code-server (default: code when on PATH), OSM_CACHE.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

CACHE="${OSM_CACHE:-$HOME/.cache/optuna-storage-manager}"
DEMO="${OSM_DEMO_DIR:-$HOME/optuna-storage-demo}"
CODE_SERVER_VERSION=4.100.3 # VS Code 1.100 on Node 20 (package.json engines.vscode ^1.100.0)

log() { printf '[start] %s\n' "$*" >&2; }
die() { printf '[start] ERROR: %s\n' "$*" >&2; exit 1; }

with="${OSM_START_WITH:-}"
if [ -z "$with" ]; then
  if command -v code >/dev/null 2>&1; then with=code; else with=code-server; fi
fi
case "$with" in code | code-server) ;; *) die "OSM_START_WITH must be code or code-server" ;; esac

# --- 1. what the demo needs ----------------------------------------------------------
bash scripts/ensure-system-deps.sh python3-optuna build-essential python3 unzip
bash scripts/ensure-node-deps.sh

# --- 2. the VSIX ------------------------------------------------------------------------
vsix="$(bash scripts/package.sh | tail -n1)"
[ -f "$vsix" ] || die "packaging did not produce a VSIX"

# --- 3. the demo workspace --------------------------------------------------------------
mkdir -p "$DEMO/.vscode"
DEMO="$(cd "$DEMO" && pwd)"
if [ ! -s "$DEMO/optuna.db" ] || [ "${OSM_DEMO_RESET:-0}" = 1 ]; then
  log "writing the demo store $DEMO/optuna.db with Optuna ($(/usr/bin/python3 -c 'import optuna; print(optuna.__version__)'))"
  rm -f "$DEMO/optuna.db"
  PYTHONWARNINGS=ignore /usr/bin/python3 test/fixtures/generate.py --sqlite "$DEMO/optuna.db" >&2
else
  log "keeping the demo store $DEMO/optuna.db (OSM_DEMO_RESET=1 writes it anew)"
fi
node scripts/demo-settings.js workspace "$DEMO/.vscode/settings.json"
redis_hint() {
  if [ -n "${OSM_DEMO_REDIS:-}" ]; then
    log "the demo reads the Redis at $OSM_DEMO_REDIS (journal prefixes found by SCAN) with optuna.db as its fallback"
  else
    log "the demo store is the SQLite file optuna.db. To point it at a Redis: run \"Optuna Storage: Configure Connection…\" in the command palette (the password goes to VS Code's SecretStorage), or start again with OSM_DEMO_REDIS=redis://host:port"
  fi
}

# --- 4a. a local VS Code ----------------------------------------------------------------
if [ "$with" = code ]; then
  code_args=()
  # Desktop VS Code refuses to run as root without its own profile dir and --no-sandbox
  # (not so the `code` of a Remote-SSH terminal, which talks to the client over IPC).
  if [ "$(id -u)" = 0 ] && [ -z "${VSCODE_IPC_HOOK_CLI:-}" ]; then
    code_args+=(--no-sandbox --user-data-dir "$CACHE/vscode-root-profile")
  fi
  log "installing $(basename "$vsix") into VS Code ($(command -v code))"
  code "${code_args[@]}" --install-extension "$vsix" --force
  code "${code_args[@]}" "$DEMO"
  log "opened $DEMO in VS Code: the \"Optuna Storage\" icon in the activity bar shows the demo studies"
  redis_hint
  exit 0
fi

# --- 4b. code-server --------------------------------------------------------------------
# code-server 4.100.3 runs on Node 20: the system node if it is 20, else Node 20 from npm.
node20="$(command -v node)"
if [ "$(node -p 'process.versions.node.split(".")[0]')" != 20 ]; then
  node20="$(bash scripts/native/node-runtime.sh 20)/bin/node"
fi
node20_dir="$(dirname "$(dirname "$node20")")"
if [ ! -f "$CACHE/code-server-$CODE_SERVER_VERSION/.osm-install-ok" ]; then
  log "no local \`code\` on PATH: installing code-server $CODE_SERVER_VERSION (once, about 2 minutes)"
  if [ -f "$node20_dir/include/node/node.h" ] && [ "$node20_dir" != /usr ]; then export npm_config_nodedir="$node20_dir"; fi
  PATH="$(dirname "$node20"):$PATH" bash scripts/vscode/install-code-server.sh "$CODE_SERVER_VERSION"
fi
entry="$CACHE/code-server-$CODE_SERVER_VERSION/node_modules/code-server/out/node/entry.js"
[ -f "$entry" ] || die "code-server is not installed at $CACHE/code-server-$CODE_SERVER_VERSION"

state="$CACHE/demo-code-server"
mkdir -p "$state/extensions" "$state/user-data/User"
printf 'auth: none\n' >"$state/config.yaml"
node scripts/demo-settings.js user "$state/user-data/User/settings.json"
cs=("$node20" "$entry" --config "$state/config.yaml" --user-data-dir "$state/user-data" --extensions-dir "$state/extensions")
# code-server keeps its own state under XDG dirs: keep it next to ours, not in ~/.config.
export XDG_CONFIG_HOME="$state/xdg-config" XDG_DATA_HOME="$state/xdg-data"

log "installing $(basename "$vsix") into $state/extensions"
"${cs[@]}" --install-extension "$vsix" --force >/dev/null

port_free() {
  node -e 'const s=require("net").createServer();s.once("error",()=>process.exit(1));s.listen(+process.argv[1],"127.0.0.1",()=>s.close(()=>process.exit(0)))' "$1"
}
port="${OSM_PORT:-8765}"
if ! port_free "$port"; then
  [ -n "${OSM_PORT:-}" ] && die "port $port on 127.0.0.1 is in use (choose another with OSM_PORT)"
  port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  log "port 8765 is in use: using $port"
fi

server_log="$state/code-server.log"
# Own session and process group: Ctrl-C stops the server, its extension host and pty host.
setsid "${cs[@]}" --bind-addr "127.0.0.1:$port" --auth none --disable-telemetry --disable-update-check \
  --disable-workspace-trust "$DEMO" >"$server_log" 2>&1 &
pgid=$!
stop() {
  trap - INT TERM EXIT
  if kill -0 -- "-$pgid" 2>/dev/null; then
    log "stopping code-server"
    kill -- "-$pgid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.1; done
    kill -9 -- "-$pgid" 2>/dev/null || true
  fi
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

healthy() {
  node -e 'require("http").get(process.argv[1], (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on("error", () => process.exit(1))' \
    "http://127.0.0.1:$port/healthz" 2>/dev/null
}
for _ in $(seq 1 150); do
  healthy && break
  kill -0 "$pgid" 2>/dev/null || { tail -n 30 "$server_log" >&2; die "code-server exited"; }
  sleep 0.2
done
healthy || { tail -n 30 "$server_log" >&2; die "code-server did not come up"; }

url="http://127.0.0.1:$port/?folder=$(node -p 'encodeURIComponent(process.argv[1])' "$DEMO")"
cat >&2 <<EOF

  Optuna Storage Manager is running in VS Code (code-server $CODE_SERVER_VERSION):

      $url

  Open that address in a browser on this machine, then click the "Optuna Storage" icon in
  the activity bar. From another machine: ssh -L $port:127.0.0.1:$port <this host>, then
  open the same address there. Demo store: $DEMO/optuna.db; server log: $server_log
  Ctrl-C stops it.

EOF
redis_hint
wait "$pgid" || true
