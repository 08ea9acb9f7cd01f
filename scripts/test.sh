#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for the tests and runs them all: ruff, mypy, the import layers
# contract, then pytest (as root, on the real kernel, each test with its own store).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
V=${SKIFF_VENV:-$PWD/.venv}/bin
echo "== ruff";   "$V/ruff" check src tests bench
echo "== mypy";   "$V/mypy"
echo "== import layers"; "$V/lint-imports"
# A fresh temp root per run: pytest's own clean-up of old runs can choke on very deep test trees.
BASETEMP=$(mktemp -d /tmp/skiff-pytest.XXXXXX)
trap 'rm -rf "$BASETEMP"' EXIT
export SKIFF_HYPOTHESIS_PROFILE=${SKIFF_HYPOTHESIS_PROFILE:-ci}  # tests/conftest.py: reproducible examples
echo "== pytest"; "$V/pytest" -q -p no:cacheprovider --basetemp="$BASETEMP" "$@"
