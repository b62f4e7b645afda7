#!/usr/bin/env bash
# tools/test-downstream.sh — R CMD check of the example downstream package
# tests/downstream/kbdemo, whose testthat tests use kbackend's helpers
# (skip_if_no_keras_backend(), local_keras_backend()) with a real
# `import keras` per backend, twice:
#   lab       RETICULATE_PYTHON = .venv (Keras 3 with TensorFlow, JAX, torch):
#             every backend test must run and pass, none may skip;
#   no-keras  RETICULATE_PYTHON = a Python without Keras (.venv-tools): every
#             backend test must skip with kbackend's reason ("Keras is not
#             installed for ..."), the session's Python must not have started
#             (the package's last test checks it) and nothing may be written
#             under the throwaway HOME (no keras.json).
# kbackend is installed from this checkout into a temporary library.
#
# Usage: tools/test-downstream.sh     (KEEP_CHECK_DIR=1 keeps the temp dir)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T0=$(date +%s)
log() { printf '[downstream %4ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
die() { printf '[downstream] FAIL: %s\n' "$*" >&2; exit 1; }

LAB_PYTHON=${KBACKEND_TEST_VENV:-$ROOT/.venv/bin/python}
BARE_PYTHON=${KBACKEND_BARE_PYTHON:-$ROOT/.venv-tools/bin/python}
for py in "$LAB_PYTHON" "$BARE_PYTHON"; do
  [ -x "$py" ] || die "missing interpreter $py (run tools/setup-python.sh)"
done
"$BARE_PYTHON" -c "import keras" >/dev/null 2>&1 && die "$BARE_PYTHON has Keras: the no-keras check needs one without"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kbackend-downstream.XXXXXX")
if [ "${KEEP_CHECK_DIR:-0}" = 1 ]; then log "keeping $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
unset RETICULATE_PYTHON RETICULATE_PYTHON_ENV KERAS_BACKEND KERAS_HOME TF_USE_LEGACY_KERAS VIRTUAL_ENV \
  PYTHONPATH PYTHONHOME KBACKEND_STRICT_TESTS || true

# kbackend from this checkout (staged: the checkout holds gigabytes of .venv*)
LIB=$WORK/lib
mkdir -p "$LIB"
"$ROOT/tools/stage-r-package.sh" "$WORK/src/kbackend"
R CMD INSTALL --no-test-load --no-docs --no-html -l "$LIB" "$WORK/src/kbackend" >"$WORK/install.log" 2>&1 \
  || { cat "$WORK/install.log"; die "installing kbackend failed"; }
(cd "$WORK" && R CMD build --no-manual "$ROOT/tests/downstream/kbdemo" >build.log 2>&1) \
  || { cat "$WORK/build.log"; die "R CMD build of kbdemo failed"; }
TARBALL=$(ls "$WORK"/kbdemo_*.tar.gz)
log "kbackend installed, $(basename "$TARBALL") built"

# check NAME PYTHON: R CMD check of kbdemo with RETICULATE_PYTHON=PYTHON, a
# throwaway HOME; prints the per-test lines the package's testthat.R writes.
check() {
  local name=$1 python=$2 dir=$WORK/$1
  mkdir -p "$dir/home" "$dir/tmp"
  (cd "$dir" && env R_LIBS="$LIB" HOME="$dir/home" TMPDIR="$dir/tmp" RETICULATE_PYTHON="$python" NOT_CRAN=true \
    RETICULATE_MINICONDA_PATH="$dir/no-miniconda" _R_CHECK_CRAN_INCOMING_REMOTE_=false \
    R CMD check --no-manual "$TARBALL" >check.out 2>&1) || {
      tail -n 40 "$dir/check.out"
      [ -f "$dir/kbdemo.Rcheck/tests/testthat.Rout.fail" ] && tail -n 60 "$dir/kbdemo.Rcheck/tests/testthat.Rout.fail"
      die "$name: R CMD check of kbdemo failed"
    }
  grep -E '^kbdemo: ' "$dir/kbdemo.Rcheck/tests/testthat.Rout" | sed "s/^/[downstream] $name: /"
}

started=$(date +%s)
log "lab check (RETICULATE_PYTHON=$LAB_PYTHON): every backend test must run and pass"
lab=$(check lab "$LAB_PYTHON")
printf '%s\n' "$lab"
backend_tests=$(grep -c 'a Dense layer runs under\|the session.s own backend' <<<"$lab" || true)
[ "$backend_tests" -ge 5 ] || die "lab: expected 5 backend tests, saw $backend_tests"
grep -q ': skipped: ' <<<"$lab" && die "lab: a test skipped"
grep -q ': failed: ' <<<"$lab" && die "lab: a test failed"
log "lab check passed in $(($(date +%s) - started)) s"

started=$(date +%s)
log "no-keras check (RETICULATE_PYTHON=$BARE_PYTHON): every backend test must skip with kbackend's reason"
bare=$(check no-keras "$BARE_PYTHON")
printf '%s\n' "$bare"
skips=$(grep -cE ': skipped: (a Dense layer runs under [a-z]+|the session.s own backend works): [a-z]+: Keras is not installed for ' <<<"$bare" || true)
[ "$skips" = 5 ] || die "no-keras: expected 5 backend tests skipped with kbackend's reason, saw $skips"
grep -q ': passed: asking never started Python here' <<<"$bare" || die "no-keras: Python was started"
written=$(cd "$WORK/no-keras/home" && find . -mindepth 1 | grep -v '^\./\.cache\(/R\)\?$' || true)
[ -z "$written" ] || die "no-keras: the skips wrote under HOME: $written"
log "no-keras check passed in $(($(date +%s) - started)) s: 5 skips with kbackend's reason, Python not started, HOME untouched"
log "done"
