#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install skiff, then show what it does.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
skiff --version
