#!/usr/bin/env bash
# The whole test suite from a clean clone: installs what it needs, builds, type-checks, then
# runs the unit tests, the integration tests (real redis-server, real Optuna) and the tests
# inside a real VS Code extension host. Ends with one "N passed, N failed" line for all suites.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-system-deps.sh redis-server redis-sentinel python3-optuna python3-redis python3-pandas python3-pytest python3-fakeredis python3-pyflakes chromium || exit 1
bash scripts/ensure-node-deps.sh || exit 1
npm run --silent build || exit 1
npm run --silent typecheck || exit 1
npm run --silent vscode:install || exit 1

passed=0 failed=0 skipped=0 status=0
log=$(mktemp) failures=$(mktemp)
trap 'rm -f "$log" "$failures"' EXIT

# Keeps what a failing suite said about its failures, to repeat it just above the final count:
# CI shows only the end of a long log, and a failure named there needs no digging.
note_failures() {
  local name=$1
  {
    echo "--- $name"
    # mocha's spec reporter: everything after "N failing" (the numbered failures and their errors)
    sed -n '/^ *[1-9][0-9]* failing/,$p' "$log" | head -80
    # the extension-host, UI and VSIX runners: their FAIL lines with the error that follows
    grep -E -A 8 '^ *(\[[a-z-]+\] )? *FAIL ' "$log" | head -80
    # pytest's short summary
    grep -E '^(FAILED|ERROR) ' "$log" | head -40
  } >>"$failures"
}

# Runs one suite, echoing its output, and adds its mocha counts to the totals.
suite() {
  local name=$1; shift
  echo "=== $name"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local p f s
  # The last count printed is the suite's total (the extension runner repeats mocha's).
  p=$(grep -Eo '[0-9]+ passing' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  f=$(grep -Eo '[0-9]+ failing' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  s=$(grep -Eo '[0-9]+ pending' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
    status=1
    note_failures "$name"
    [ "$f" -eq 0 ] && failed=$((failed + 1)) && echo "$name exited with status $rc" | tee -a "$failures" >&2
  fi
}

# Runs one pytest suite, echoing its output, and adds its counts to the totals.
pytest_suite() {
  local name=$1; shift
  echo "=== $name"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line p f e s
  line=$(grep -E ' in [0-9.]+s( \([0-9:]+\))?( =+)?$' "$log" | tail -1)
  p=$(grep -Eo '[0-9]+ passed' <<<"$line" | grep -Eo '[0-9]+' || echo 0)
  f=$(grep -Eo '[0-9]+ failed' <<<"$line" | grep -Eo '[0-9]+' || echo 0)
  e=$(grep -Eo '[0-9]+ errors?' <<<"$line" | grep -Eo '[0-9]+' || echo 0)
  s=$(grep -Eo '[0-9]+ skipped' <<<"$line" | grep -Eo '[0-9]+' || echo 0)
  f=$((f + e))
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
    status=1
    note_failures "$name"
    [ "$f" -eq 0 ] && failed=$((failed + 1)) && echo "$name exited with status $rc" | tee -a "$failures" >&2
  fi
}

echo "=== lint (ESLint, Prettier, import cycles)"
if npm run --silent lint 2>&1 | tee "$log"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)) status=1
  { echo "--- lint"; tail -40 "$log"; } >>"$failures"
fi
suite unit npx mocha --config test/.mocharc.unit.json
suite integration npx mocha --config test/.mocharc.integration.json
# The extension-host test bundle is built once for both runs (the npm scripts test:extension
# and test:extension:restricted each build it first; the runners below are theirs, same env).
if node test/extension/build.js; then
  suite extension-host node -r tsx/cjs test/extension/runOffline.ts
  suite restricted-mode env OSM_TRUST=restricted OSM_TEST_GREP="Restricted Mode" node -r tsx/cjs test/extension/runOffline.ts
else
  echo "building the extension-host tests failed" >&2
  status=1 failed=$((failed + 2))
fi
# The Python failover storage (python/): its own tests, the fault matrix and fleets on every
# Optuna release (workers run each release from the sources next to the repository), and
# Optuna's storage conformance tests under each release in turn.
pytest_suite python bash scripts/test-python.sh
for v in 3.6.1 4.9.0 5.0.0-rc1; do
  pytest_suite "python conformance, Optuna $v" bash scripts/test-python.sh --optuna "$v" test/python/test_optuna_conformance.py
done
suite ui npm run --silent test:ui
suite page-ui npm run --silent test:page-ui
suite vsix npm run --silent test:vsix

if [ -s "$failures" ]; then
  echo
  echo "=== what failed (repeated from above)"
  cat "$failures"
fi
echo
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
