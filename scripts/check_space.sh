#!/usr/bin/env bash
# Run the Dockerfile's steps without a Docker engine and check the Space would answer.
#
#   scripts/check_space.sh            # fresh venv + copy + start + health + HTML (+ browser suite)
#   SKIP_E2E=1 scripts/check_space.sh # without the Chromium pass
#   KEEP=1 scripts/check_space.sh     # keep the temp dir to poke at
#
# Steps mirror the Dockerfile: torch==2.13.0 CPU wheel, then requirements minus test packages,
# then the files whitelisted in .dockerignore, `pip install -e` of them, then its CMD (on a free
# port) as uid 1000.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3.11}"
T0=$(date +%s)
step() { echo "[$(( $(date +%s) - T0 ))s] $*"; }

TMP="$(mktemp -d /tmp/space-check.XXXXXX)"
chmod 755 "$TMP"
SPID=""
cleanup() {
  step "cleanup"
  if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then kill -TERM -- "-$SPID" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
  step "done"
}
trap cleanup EXIT

# 1. Space limits: no file over 10 MB (a plain git push to a Space refuses them without LFS).
step "file sizes (tracked + untracked-not-ignored, limit 10 MB)"
big=$(git ls-files -co --exclude-standard -z | xargs -0 -r du -b 2>/dev/null | awk '$1 > 10*1024*1024' || true)
git ls-files -co --exclude-standard -z | xargs -0 -r du -b 2>/dev/null | sort -rn | head -3 \
  | awk '{printf "    largest: %6.2f MB  %s\n", $1/1048576, $2}'
if [ -n "$big" ]; then echo "FAIL: files over 10 MB:"; echo "$big"; exit 1; fi

# 2. RUN pip install torch (the Dockerfile uses the CPU index; here the CPU wheel is on disk)
step "venv + torch==2.13.0"
"$PY" -m venv "$TMP/venv"
VPY="$TMP/venv/bin/python"
"$VPY" -m pip install -q torch==2.13.0 ${SPACE_PIP_ARGS:-} 2> >(grep -v "is ignored: it is neither" >&2)

# 3. RUN pip install -r requirements (minus pytest/playwright/opencv/matplotlib), the Dockerfile's exact grep
step "requirements"
grep -vE '^(pytest|playwright|opencv-python-headless|matplotlib)\b' requirements.txt > "$TMP/requirements-space.txt"
"$VPY" -m pip install -q -r "$TMP/requirements-space.txt" ${SPACE_PIP_ARGS:-} 2> >(grep -v "is ignored: it is neither" >&2)

# 4. COPY . . filtered by the .dockerignore whitelist
step "copy whitelisted files"
mkdir "$TMP/app"
mapfile -t KEEP_PATHS < <(sed -n 's/^!\(.*\)$/\1/p' .dockerignore)
for p in "${KEEP_PATHS[@]}"; do
  if [ -e "$p" ]; then tar -c --exclude=__pycache__ --exclude='*.pyc' "$p" | tar -x -C "$TMP/app"; fi
done
du -sh "$TMP/app" | awk '{print "    app files: " $1}'

# 4b. RUN pip install --no-deps -e . (the copied app's own packages; setup.sh's offline-first order)
step "editable install of the copied app"
"$VPY" -m pip install -q --no-deps --no-build-isolation -e "$TMP/app" 2>/dev/null \
  || "$VPY" -m pip install -q --no-deps -e "$TMP/app" ${SPACE_PIP_ARGS:-} 2> >(grep -v "is ignored: it is neither" >&2)

# 5. CMD, as uid 1000 with its own HOME (Spaces run non-root), on a free port instead of 8501
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mapfile -t CMD < <("$PY" - "$PORT" "$VPY" <<'PYEOF'
import json, re, sys
line = [l for l in open("Dockerfile") if l.startswith("CMD ")][-1]
cmd = json.loads(line[4:])
cmd[cmd.index("--server.port") + 1] = sys.argv[1]
cmd[cmd.index("--server.address") + 1] = "127.0.0.1"
cmd[0] = sys.argv[2] if cmd[0] == "python" else cmd[0]
print("\n".join(cmd))
PYEOF
)
# the Dockerfile's ENV lines (runtime ones; PIP_* only matter at build time). The image installs jemalloc
# for its LD_PRELOAD; here it is used where libjemalloc2 is installed (scripts/setup.sh), else left out.
mapfile -t DENV < <(PYTHONPATH="$ROOT" "$PY" -m gan_devkit.space env)
echo "    ENV: ${DENV[*]}"
mkdir -p "$TMP/home"
AS_USER=()
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  chown -R 1000:1000 "$TMP/app" "$TMP/home"
  AS_USER=(setpriv --reuid 1000 --regid 1000 --clear-groups)
fi
step "start: ${CMD[*]:1}"
S0=$(date +%s%N)
( cd "$TMP/app" && exec setsid env HOME="$TMP/home" "${DENV[@]}" "${AS_USER[@]}" "${CMD[@]}" >"$TMP/streamlit.log" 2>&1 ) &
SPID=$!
ok=""
for _ in $(seq 1 600); do
  if [ "$(curl -s "http://127.0.0.1:$PORT/_stcore/health" || true)" = ok ]; then ok=1; break; fi
  kill -0 "$SPID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$ok" ]; then echo "FAIL: no health"; cat "$TMP/streamlit.log"; exit 1; fi
echo "    health ok after $(( ($(date +%s%N) - S0) / 1000000 )) ms"
html=$(curl -s "http://127.0.0.1:$PORT/")
echo "$html" | grep -q '<div id="root">' || { echo "FAIL: page HTML"; echo "$html" | head; exit 1; }
echo "    page HTML ok ($(echo -n "$html" | wc -c) bytes)"

# 6. the browser suite's navigation tests against this server (same pages, drawn in Chromium)
if [ "${SKIP_E2E:-0}" != 1 ] && [ -x /usr/bin/chromium ] && "$PY" -c 'import playwright' 2>/dev/null; then
  step "e2e navigation against the Space build"
  E2E_BASE_URL="http://127.0.0.1:$PORT" "$PY" -m pytest -q -p no:cacheprovider tests/e2e/test_navigation.py
fi
if grep -q "Traceback" "$TMP/streamlit.log"; then echo "FAIL: traceback in server log"; cat "$TMP/streamlit.log"; exit 1; fi
step "Space check passed"
