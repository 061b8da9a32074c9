#!/usr/bin/env bash
# Runs the Python tests (pytest from Debian) with Debian's Optuna, or with another Optuna release
# from the sources next to the repository:
#   bash scripts/test-python.sh [--optuna VERSION] [PYTEST ARGS...]   (default: test/python)
# A release whose sources are absent is reported as one skipped test, with the reason.
set -uo pipefail
cd "$(dirname "$0")/.."

version=""
if [ "${1:-}" = "--optuna" ]; then version=$2; shift 2; fi
[ $# -eq 0 ] && set -- test/python
export PYTHONDONTWRITEBYTECODE=1 PYTHONWARNINGS="${PYTHONWARNINGS:-}"
python=${OSM_PYTHON:-/usr/bin/python3}
if [ -n "$version" ]; then
  src=${OSM_SHARED_OPTUNA:-$(cd .. && pwd)/shared/third_party/optuna}
  [ -d "$src" ] || src=/work/shared/third_party/optuna
  if [ ! -d "$src/$version/optuna" ]; then
    echo "SKIPPED Optuna $version: its sources are not at $src/$version (only in the development checkout and CI)"
    echo "======== 1 skipped in 0.00s ========"
    exit 0
  fi
  export PYTHONPATH="$src/$version${PYTHONPATH:+:$PYTHONPATH}"
fi
exec nice -n "${OSM_PYTEST_NICE:-0}" "$python" -m pytest -q -p no:cacheprovider -rs "$@"
