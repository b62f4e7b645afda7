#!/usr/bin/env bash
# tools/lint.sh — static checks with zero findings allowed:
#   ruff and mypy on the Python package (settings: python/pyproject.toml),
#   lintr on the R package (settings: .lintr, run by tools/lint-r.sh).
# Needs .venv-tools (tools/setup-python.sh tools) and r-cran-lintr.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=$ROOT/.venv-tools/bin
[ -x "$TOOLS/python" ] || { echo "lint: $TOOLS missing; run tools/setup-python.sh tools" >&2; exit 1; }
status=0
# from python/, so both find their settings in python/pyproject.toml
(cd "$ROOT/python" && "$TOOLS/ruff" check --no-cache kbackend kbackend_build.py) || status=1
(cd "$ROOT/python" && "$TOOLS/mypy" --no-incremental --cache-dir=/dev/null) || status=1
"$ROOT/tools/lint-r.sh" || status=1
[ "$status" = 0 ] && echo "lint: ruff, mypy and lintr found nothing"
exit "$status"
