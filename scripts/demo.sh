#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine (as root): install skiff, make the Python base image (pulled from
# a configured registry or mirror when one answers, else made with debootstrap), build the seed's Flask example,
# run it with a published port and show curl getting "Hello, World!".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PORT=${PORT:-8000}
if ! skiff image inspect python:3.11-slim >/dev/null 2>&1; then
  # Pull only where a registry or mirror is configured (/etc/skiff/registries.toml); Docker Hub is not
  # reachable from every machine, and debootstrap needs only Debian's mirror.
  if [ -f /etc/skiff/registries.toml ] && skiff pull -q python:3.11-slim; then :; else
    skiff image bootstrap python:3.11-slim --suite bookworm --include python3,python3-pip,python3-venv
  fi
fi
# Builds that pip install must trust the host's CA (e.g. behind a TLS-inspecting proxy).
skiff build --ca-bundle /etc/ssl/certs/ca-certificates.crt -t flask-hello examples/flask-hello
skiff rm -f flask-hello >/dev/null 2>&1 || true
skiff run -d --name flask-hello -p "$PORT:8000" flask-hello
for _ in $(seq 1 50); do
  if out=$(curl -fsS "http://127.0.0.1:$PORT/"); then
    echo "curl http://127.0.0.1:$PORT/ -> $out"
    echo "The container keeps running: 'skiff logs flask-hello', 'skiff rm -f flask-hello' to stop it."
    exit 0
  fi
  sleep 0.2
done
echo "the example did not answer on port $PORT" >&2
skiff logs flask-hello >&2 || true
exit 1
