#!/usr/bin/env bash
# tools/test-r.sh — test the R package.
#
#   1. check that man/ and NAMESPACE match the roxygen comments in R/
#   2. R CMD build the package (inst/python/kbackend is the Python code), which
#      builds the vignette for real with the .venv Python (Keras 3 + JAX):
#      the tarball must carry a vignette whose Python chunk said jax
#   3. install the tarball into <repo>/.rlib and run the testthat suite
#      against it (fails on any failure, error or skip)
#   4. R CMD check --as-cran --no-manual on the tarball, in a temp dir: fails
#      on any ERROR or WARNING, and on any NOTE but CRAN's new-submission one.
#      It re-runs the vignette, with the .venv Python too.
#
# Steps 2 and 4 run with RETICULATE_PYTHON set to the .venv python and a
# throwaway HOME and TMPDIR: the vignette imports Keras, which writes
# ~/.keras/keras.json. Without RETICULATE_PYTHON (as on CRAN) the vignette
# shows its code without running it; tests/testthat/test-vignette.R checks
# both ways.
#
# Usage: tools/test-r.sh [--no-check]
# Environment:
#   KBACKEND_TEST_PYTHON      plain interpreter for most tests (needs numpy,
#                             no Keras); default: pyenv 3.11.7, else python3
#   KBACKEND_TEST_VENV        .venv python (Keras 3 + TF + JAX + torch)
#   KBACKEND_TEST_VENV_PY37   .venv-py37 python (Keras 2.3.1 + Theano)
#   KEEP_CHECK_DIR=1          keep the temp dir with the tarball and .Rcheck
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN_CHECK=1
for arg in "$@"; do
  case "$arg" in
    --no-check) RUN_CHECK=0 ;;
    *) echo "usage: tools/test-r.sh [--no-check]" >&2; exit 2 ;;
  esac
done

T0=$(date +%s)
log() { printf '[test-r %4ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
die() { printf '[test-r] FAIL: %s\n' "$*" >&2; exit 1; }

"$ROOT/tools/setup-r.sh" >/dev/null

# --- interpreters ------------------------------------------------------------
PYENV_ROOT_DIR=${PYENV_ROOT:-/root/.pyenv}
if [ -z "${KBACKEND_TEST_PYTHON:-}" ]; then
  if [ -x "$PYENV_ROOT_DIR/versions/3.11.7/bin/python" ]; then
    KBACKEND_TEST_PYTHON=$PYENV_ROOT_DIR/versions/3.11.7/bin/python
  else
    KBACKEND_TEST_PYTHON=$(command -v python3 || true)
  fi
fi
export KBACKEND_TEST_PYTHON
export KBACKEND_TEST_VENV=${KBACKEND_TEST_VENV:-$ROOT/.venv/bin/python}
export KBACKEND_TEST_VENV_PY37=${KBACKEND_TEST_VENV_PY37:-$ROOT/.venv-py37/bin/python}
for py in "$KBACKEND_TEST_PYTHON" "$KBACKEND_TEST_VENV" "$KBACKEND_TEST_VENV_PY37"; do
  [ -x "$py" ] || die "missing interpreter $py (run tools/setup-python.sh)"
done
"$KBACKEND_TEST_PYTHON" -c "import numpy" 2>/dev/null \
  || die "KBACKEND_TEST_PYTHON=$KBACKEND_TEST_PYTHON needs numpy"
log "test python: $KBACKEND_TEST_PYTHON"
log "venvs: $KBACKEND_TEST_VENV, $KBACKEND_TEST_VENV_PY37"

# Nothing from the caller's environment may steer reticulate or Keras; each
# test sets what it needs (and a throwaway HOME).
unset RETICULATE_PYTHON RETICULATE_PYTHON_ENV RETICULATE_PYTHON_FALLBACK \
  KERAS_BACKEND KERAS_HOME TF_USE_LEGACY_KERAS VIRTUAL_ENV PYTHONPATH \
  PYTHONHOME || true

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kbackend-test-r.XXXXXX")
if [ "${KEEP_CHECK_DIR:-0}" = 1 ]; then
  log "keeping $WORK"
else
  trap 'rm -rf "$WORK"' EXIT
fi

# --- 1. roxygen output up to date --------------------------------------------
log "roxygen2: checking man/ and NAMESPACE are current"
mkdir -p "$WORK/roxygen"
cp -R "$ROOT/DESCRIPTION" "$ROOT/NAMESPACE" "$ROOT/R" "$ROOT/man" "$WORK/roxygen/"
(cd "$WORK/roxygen" && Rscript -e 'suppressMessages(roxygen2::roxygenise(roclets = c("rd", "namespace")))' >/dev/null 2>&1) \
  || die "roxygen2 failed"
if ! diff -r "$ROOT/man" "$WORK/roxygen/man" >/dev/null \
  || ! diff "$ROOT/NAMESPACE" "$WORK/roxygen/NAMESPACE" >/dev/null; then
  diff -r "$ROOT/man" "$WORK/roxygen/man" || true
  diff "$ROOT/NAMESPACE" "$WORK/roxygen/NAMESPACE" || true
  die "man/ or NAMESPACE is stale: run Rscript -e 'roxygen2::roxygenise()' and commit"
fi

# --- 2. build ------------------------------------------------------------------
# R CMD build copies the whole source folder before applying .Rbuildignore,
# which here means gigabytes of .venv*: stage the package's own files first
# (cp -L: nothing in the package is a link now, but stay safe).
log "R CMD build"
STAGE=$WORK/src/kbackend
mkdir -p "$STAGE"
for item in DESCRIPTION NAMESPACE LICENSE LICENSE.md README.md NEWS.md .Rbuildignore R man inst tests vignettes; do
  if [ -e "$ROOT/$item" ]; then cp -RL "$ROOT/$item" "$STAGE/"; fi
done
rm -rf "$STAGE/tests/python" "$STAGE/tests/testthat/_snaps"
find "$STAGE" \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +
# The environment the vignette runs in, for R CMD build and R CMD check.
mkdir -p "$WORK/home" "$WORK/tmp"
vignette_env=(HOME="$WORK/home" TMPDIR="$WORK/tmp" RETICULATE_PYTHON="$KBACKEND_TEST_VENV")
(cd "$WORK" && env "${vignette_env[@]}" R CMD build "$STAGE" >build.log 2>&1) \
  || { cat "$WORK/build.log"; die "R CMD build failed"; }
TARBALL=$(ls "$WORK"/kbackend_*.tar.gz)
tar -tzf "$TARBALL" >"$WORK/tarball.txt"
grep -q '^kbackend/inst/python/kbackend/cli.py$' "$WORK/tarball.txt" \
  || die "the tarball does not carry inst/python/kbackend/cli.py"
for f in kbackend.Rmd kbackend.R kbackend.html; do
  grep -q "^kbackend/inst/doc/$f\$" "$WORK/tarball.txt" \
    || die "the tarball does not carry the built vignette (inst/doc/$f)"
done
# not grep -q: it would stop reading early, and under pipefail tar's
# SIGPIPE would fail the step although the text is there
tar -xzOf "$TARBALL" kbackend/inst/doc/kbackend.html | grep '#&gt; jax' >/dev/null \
  || die "the vignette in the tarball was built without running its Python chunk"
if grep -E '^kbackend/(python|tools|benchmarks|\.)|__pycache__|\.pyc$' "$WORK/tarball.txt"; then
  die "the tarball carries files that are not part of the R package"
fi
log "built $(basename "$TARBALL")"

# --- 3. install + testthat ----------------------------------------------------
RLIB=$ROOT/.rlib
mkdir -p "$RLIB"
log "installing into $RLIB"
R CMD INSTALL --no-multiarch --library="$RLIB" "$TARBALL" >"$WORK/install.log" 2>&1 \
  || { cat "$WORK/install.log"; die "R CMD INSTALL failed"; }

log "testthat"
(cd "$ROOT/tests/testthat" && R_LIBS="$RLIB" Rscript -e '
  options(warn = 1)
  res <- testthat::test_dir(
    ".", package = "kbackend", load_package = "installed",
    reporter = testthat::SummaryReporter$new(max_reports = Inf),
    stop_on_failure = FALSE
  )
  df <- as.data.frame(res)
  tests <- nrow(df)
  bad <- df$failed > 0 | df$error
  expectations <- sum(df$nb)
  cat(sprintf("\ntestthat: %d tests in %d files, %d expectations, %.1f s\n",
              tests, length(unique(df$file)), expectations, sum(df$real)))
  cat(sprintf("testthat: %d passed, %d failed, %d skipped\n",
              sum(!bad & !df$skipped), sum(bad), sum(df$skipped)))
  if (any(bad)) quit(status = 1)
  if (any(df$skipped)) {
    cat("tests must not skip:\n"); print(df[df$skipped, c("file", "test")])
    quit(status = 1)
  }
') || die "testthat suite failed"

if [ "$RUN_CHECK" = 0 ]; then
  log "done (R CMD check skipped by --no-check)"
  exit 0
fi

# --- 4. R CMD check --as-cran -------------------------------------------------
log "R CMD check --as-cran --no-manual"
export _R_CHECK_CRAN_INCOMING_REMOTE_=false   # offline: no CRAN database
export _R_CHECK_FUTURE_FILE_TIMESTAMPS_=false # offline: no time server
export _R_CHECK_CRAN_INCOMING_USE_ASPELL_=false
status=0
rm -rf "$WORK/home" "$WORK/tmp" && mkdir -p "$WORK/home" "$WORK/tmp"
(cd "$WORK" && env -u R_LIBS "${vignette_env[@]}" R CMD check --as-cran --no-manual "$TARBALL" >check.out 2>&1) || status=$?
LOG=$WORK/kbackend.Rcheck/00check.log
[ -f "$LOG" ] || { cat "$WORK/check.out"; die "R CMD check produced no log"; }

# Every NOTE/WARNING/ERROR block, except what only says what
# cannot be checked here, offline: the incoming-feasibility NOTE when all it says is
# "New submission" (and who the maintainer is), and, offline, the future
# file timestamps one when all it says is "unable to verify current time"
# (--as-cran forces that check on; it needs a time server), and the
# unstated-dependencies WARNING when all it says is that the package
# repositories could not be read.
bad=$(awk '
  function flush() {
    if (head != "" && (head ~ /\.\.\. ERROR$/ || (head ~ /\.\.\. (NOTE|WARNING)$/ && !allowed)))
      print head "\n" body
    head = ""; body = ""
  }
  /^\* / { flush()
           if ($0 ~ /\.\.\. (NOTE|WARNING|ERROR)$/) {
             head = $0
             if ($0 ~ /CRAN incoming feasibility \.\.\. NOTE$/) {
               allowed = 1; ok = "^(Maintainer: .*|New submission|[[:space:]]*)$"
             } else if ($0 ~ /future file timestamps \.\.\. NOTE$/) {
               allowed = 1; ok = "^(unable to verify current time|[[:space:]]*)$"
             } else if ($0 ~ /unstated dependencies in .*tests.* \.\.\. WARNING$/) {
               # offline: only the package repositories could not be read
               allowed = 1; ok = "^(Warning: unable to access index for repository .*|  cannot open URL .*|[[:space:]]*)$"
             } else {
               allowed = 0
             }
           }
           next }
  head != "" { body = body $0 "\n"; if ($0 !~ ok) allowed = 0 }
  END { flush() }
' "$LOG")
grep -E '^Status:' "$LOG" | tail -n 1
if [ -n "$bad" ]; then
  printf '%s\n' "$bad"
  [ -f "$WORK/kbackend.Rcheck/tests/testthat.Rout.fail" ] \
    && tail -n 60 "$WORK/kbackend.Rcheck/tests/testthat.Rout.fail"
  die "R CMD check: problems beyond the new-submission NOTE"
fi
[ "$status" = 0 ] || { tail -n 40 "$WORK/check.out"; die "R CMD check exited $status"; }
grep -E '\.\.\. (NOTE|WARNING|ERROR)$' "$LOG" | sed 's/^/[test-r] allowed: /' || true
log "R CMD check clean (only the NOTEs about what cannot be checked offline)"
