#!/usr/bin/env bash
# One-command setup on a fresh Debian/Ubuntu-like machine: Python packages and this repo as an
# editable package, plus the headless Chromium that the end-to-end browser tests drive and the Space's
# allocator (jemalloc), both skipped when not root and not present.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -r requirements.txt
# this repo as an editable package (pyproject.toml): gan_core, ui and gan_devkit import from anywhere,
# `gan-core` is on PATH. --no-build-isolation builds with the setuptools already here (no network);
# an old setuptools without editable support falls back to pip's isolated build.
python -m pip install -q --no-deps --no-build-isolation -e . 2>/dev/null || python -m pip install -q --no-deps -e .
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji)  # page icons
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)  # Hebrew and Persian glyphs
# the Space's allocator (Dockerfile: LD_PRELOAD), so that the benches and e2e tests run the server as it runs there
ls /usr/lib/*/libjemalloc.so.2 /usr/lib/libjemalloc.so.2 >/dev/null 2>&1 || missing+=(libjemalloc2)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  elif ! command -v chromium >/dev/null 2>&1; then
    echo "note: Debian 'chromium' not installed; the e2e browser tests will be skipped" >&2
  fi
fi
