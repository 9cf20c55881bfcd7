#!/usr/bin/env bash
# Offline classroom check: a fresh copy of the repo, set up from a local wheelhouse with the network
# gone (a new network namespace: no route at all, only loopback), starts and every page works.
#
#   scripts/offline_check.sh                 # online: fill the wheelhouse; offline: install, e2e suite, cold start
#   WHEELHOUSE=/media/usb/wheels scripts/offline_check.sh
#   TORCH_INDEX=https://download.pytorch.org/whl/cpu scripts/offline_check.sh   # CPU torch on a fresh machine
#   SKIP_BENCH=1 / KEEP=1
#
# Needs root for `unshare -n` (we are root in CI; elsewhere: sudo, or `unshare -rn` if user
# namespaces are allowed).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3.11}"
WH="${WHEELHOUSE:-$ROOT/artifacts/wheelhouse}"
T0=$(date +%s)
step() { echo "[$(( $(date +%s) - T0 ))s] $*"; }
quiet_pip() { grep -v "is ignored: it is neither" >&2 || true; }

TMP="$(mktemp -d /tmp/offline-check.XXXXXX)"
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi; }
trap cleanup EXIT

# 1. online, once: every wheel the app and the e2e suite need, into the wheelhouse
step "wheelhouse $WH (online)"
mkdir -p "$WH"
"$PY" -m pip download -q -d "$WH" --find-links "$WH" torch==2.13.0 ${TORCH_INDEX:+--index-url "$TORCH_INDEX"} 2> >(quiet_pip)
"$PY" -m pip download -q -d "$WH" --find-links "$WH" -r requirements.txt 2> >(quiet_pip)
"$PY" -m pip download -q -d "$WH" --find-links "$WH" "setuptools>=64" 2> >(quiet_pip)  # builds `pip install -e .`
echo "    $(ls "$WH" | wc -l) wheels, $(du -sh "$WH" | cut -f1)"

# 2. a fresh clone: the files git tracks plus the new ones it would track (nothing ignored)
step "fresh copy of the repo"
mkdir "$TMP/clone"
git ls-files -co --exclude-standard -z | tar -c --null -T - | tar -x -C "$TMP/clone"

# 3. offline: new network namespace, only loopback
step "offline: install from the wheelhouse, run every page, cold start"
export TMP WH PY SKIP_BENCH="${SKIP_BENCH:-0}"
unshare -n bash -euo pipefail <<'INNER'
ip link set lo up
if "$PY" -c 'import socket; socket.create_connection(("pypi.org", 443), timeout=3)' 2>/dev/null; then
  echo "FAIL: the namespace still reaches the network"; exit 1
fi
echo "    network: none (pypi.org unreachable), loopback up"
"$PY" -m venv "$TMP/venv"
VPY="$TMP/venv/bin/python"
# no pip config: only the wheelhouse may serve packages
PIP_CONFIG_FILE=/dev/null "$VPY" -m pip install -q --no-index --find-links "$WH" -r "$TMP/clone/requirements.txt"
cd "$TMP/clone"
# the repo's own packages (pyproject.toml), as scripts/setup.sh does; setuptools from the wheelhouse
PIP_CONFIG_FILE=/dev/null "$VPY" -m pip install -q --no-index --find-links "$WH" --no-deps -e .
echo "    installed offline: $("$VPY" -m pip list 2>/dev/null | wc -l) packages"
"$VPY" -m pytest -q -p no:cacheprovider -m e2e tests/e2e
if [ "$SKIP_BENCH" != 1 ]; then "$VPY" bench/bench_cold_start.py --runs 2; fi
INNER
step "offline check passed"
