#!/usr/bin/env bash
# Installs what skiff and its tests need on a fresh Debian 12 machine (run as root). Idempotent:
# apt runs only when a package is missing, pip only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=(python3 python3-venv python3-dev gcc curl ca-certificates iproute2 kmod
      busybox-static debootstrap nftables iptables crun runc skopeo umoci docker-registry
      podman buildah uidmap wrk hyperfine)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The engine's venv uses Debian's own interpreter (no pyenv shim on the start-up path).
VENV=${SKIFF_VENV:-$PWD/.venv}
stamp="$VENV/.skiff-stamp"
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  /usr/bin/python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e '.[test]'
  echo "$want" > "$stamp"
fi
# Byte-code ahead of time: with PYTHONDONTWRITEBYTECODE set (as on this machine) every command would
# otherwise recompile skiff's modules at start-up.
"$VENV/bin/python" -m compileall -q -j 0 src >/dev/null
# The byte-code of the methods @dataclass generates, cached the same way (src/skiff/records.py).
"$VENV/bin/python" -m skiff.records >/dev/null
# Each command's flag table, read at start-up instead of importing argparse (src/skiff/cli/argspec.py).
"$VENV/bin/python" -m skiff.cli.argspec >/dev/null
# Launchers that start the interpreter with -S (no scan of site-packages on every call): src/skiff/launchers.py.
"$VENV/bin/python" -m skiff.launchers "$VENV/bin" >/dev/null
if [ -z "${SKIFF_VENV:-}" ]; then  # only the checkout's own venv goes on PATH
  ln -sf "$VENV/bin/skiff" /usr/local/bin/skiff
  ln -sf "$VENV/bin/skiff-runtime" /usr/local/bin/skiff-runtime
fi
# crun refuses this hybrid cgroup layout unless a v1 hugetlb hierarchy is mounted.
if [ -d /sys/fs/cgroup/memory ] && ! mountpoint -q /sys/fs/cgroup/hugetlb 2>/dev/null \
   && grep -qw hugetlb /proc/cgroups; then
  mkdir -p /sys/fs/cgroup/hugetlb 2>/dev/null && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb 2>/dev/null || true
fi
# podman: root lacks CAP_SYS_RESOURCE here; keep its default ulimits under the hard limit.
mkdir -p /etc/containers/containers.conf.d
cat > /etc/containers/containers.conf.d/50-skiff-ulimits.conf <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
CONF
