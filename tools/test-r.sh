#!/usr/bin/env bash
# tools/test-r.sh — test the R package.
#
#   1. check that man/ and NAMESPACE match the roxygen comments in R/
#   2. R CMD build the package (inst/python/kbackend is the Python code), which
#      builds the vignette for real with the .venv Python (Keras 3 + JAX):
#      the tarball must carry a vignette whose Python chunk said jax
#   3. R CMD check --as-cran --no-manual of that tarball, three times:
#      lab     the lab environments named by KBACKEND_TEST_*, NOT_CRAN=true
#              and KBACKEND_STRICT_TESTS=true: the whole testthat suite runs
#              (once: this is the only run), and any skip is a failure
#      bare    no KBACKEND_TEST_* and not strict, as on CRAN or a user's
#      (two)   machine: "keras-less", RETICULATE_PYTHON names a Python
#              without Keras (and without numpy); "no-python", no Python on
#              the PATH and nothing naming one. Tests that need what is
#              missing skip, and their reasons are listed here.
#      The two bare checks run one after the other in the background while
#      the lab check runs. Each runs through rcmdcheck (tools/check-package.R)
#      and fails on any ERROR or WARNING, and on any NOTE but those about
#      what cannot be checked offline.
#
# The lab check and the build run with RETICULATE_PYTHON set to the .venv
# python and a throwaway HOME and TMPDIR: the vignette imports Keras, which
# writes ~/.keras/keras.json. Without a Python that has Keras (as on CRAN,
# and in the bare checks) the vignette shows its code without running it;
# tests/testthat/test-vignette.R checks both ways.
#
# The lab check's closing line, "testthat: N passed, M failed, K skipped"
# (tests, not expectations, from testthat's JUnit report), is printed whenever
# the lab ran, also when another check failed:
# tools/run-tests.sh counts it.
#
# Usage: tools/test-r.sh [--no-check]   (--no-check: steps 1 and 2 only)
# Environment:
#   KBACKEND_TEST_PYTHON      plain interpreter for most tests (needs numpy,
#                             no Keras); default: pyenv 3.11.7, else python3
#   KBACKEND_TEST_VENV        .venv python (Keras 3 + TF + JAX + torch)
#   KBACKEND_TEST_VENV_PY37   .venv-py37 python (Keras 2.3.1 + Theano)
#   KBACKEND_TEST_VENV_KERAS2 .venv-keras2 python (Keras 2.15 + TF 2.15)
#   KBACKEND_BARE_PYTHON      the Python without Keras of the keras-less
#                             check; default: .venv-tools, else /usr/bin/python3
#   KBACKEND_STRICT_TESTS     for the lab check; default true
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
export KBACKEND_TEST_VENV_KERAS2=${KBACKEND_TEST_VENV_KERAS2:-$ROOT/.venv-keras2/bin/python}
for py in "$KBACKEND_TEST_PYTHON" "$KBACKEND_TEST_VENV" "$KBACKEND_TEST_VENV_PY37" "$KBACKEND_TEST_VENV_KERAS2"; do
  [ -x "$py" ] || die "missing interpreter $py (run tools/setup-python.sh)"
done
"$KBACKEND_TEST_PYTHON" -c "import numpy" 2>/dev/null \
  || die "KBACKEND_TEST_PYTHON=$KBACKEND_TEST_PYTHON needs numpy"
log "test python: $KBACKEND_TEST_PYTHON"
log "venvs: $KBACKEND_TEST_VENV, $KBACKEND_TEST_VENV_PY37, $KBACKEND_TEST_VENV_KERAS2"
export KBACKEND_STRICT_TESTS=${KBACKEND_STRICT_TESTS:-true}

# The keras-less bare check's Python: one without Keras, as a user's may be.
if [ -z "${KBACKEND_BARE_PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv-tools/bin/python" ]; then
    KBACKEND_BARE_PYTHON=$ROOT/.venv-tools/bin/python
  else
    KBACKEND_BARE_PYTHON=/usr/bin/python3
  fi
fi
[ -x "$KBACKEND_BARE_PYTHON" ] || die "missing interpreter $KBACKEND_BARE_PYTHON (run tools/setup-python.sh)"
if "$KBACKEND_BARE_PYTHON" -c "import keras" >/dev/null 2>&1; then
  die "KBACKEND_BARE_PYTHON=$KBACKEND_BARE_PYTHON has Keras: the keras-less check needs one without"
fi
log "bare python (no Keras): $KBACKEND_BARE_PYTHON"

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
# which here means gigabytes of .venv*: build from a staged copy of the source.
log "R CMD build"
STAGE=$WORK/src/kbackend
"$ROOT/tools/stage-r-package.sh" "$STAGE"
# The environment the vignette runs in, for R CMD build.
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

if [ "$RUN_CHECK" = 0 ]; then
  log "done (R CMD check skipped by --no-check)"
  exit 0
fi

# --- 3. R CMD check --as-cran: lab, and two bare configurations ---------------
export _R_CHECK_CRAN_INCOMING_REMOTE_=false   # offline: no CRAN database
export _R_CHECK_FUTURE_FILE_TIMESTAMPS_=false # offline: no time server
export _R_CHECK_CRAN_INCOMING_USE_ASPELL_=false

# run_check NAME ENV...: R CMD check --as-cran --no-manual of the tarball in
# $WORK/NAME, through rcmdcheck (tools/check-package.R, which judges the
# result: only the NOTEs about being offline are allowed), under `env
# ENV...` (its -u options first, then assignments) with a throwaway HOME and
# TMPDIR there. testthat writes a JUnit report, $WORK/NAME/testthat.xml,
# which the counts below come from. Returns non-zero, having said why,
# unless the check is clean and its tests ran. Writes $WORK/NAME/seconds.
run_check() {
  local name=$1 dir=$WORK/$1 status=0 started
  shift
  mkdir -p "$dir/home" "$dir/tmp"
  started=$(date +%s)
  (cd "$dir" && env -u R_LIBS "$@" HOME="$dir/home" TMPDIR="$dir/tmp" \
    KBACKEND_TESTTHAT_JUNIT="$dir/testthat.xml" \
    Rscript "$ROOT/tools/check-package.R" "$TARBALL" "$dir/check" >check.out 2>&1) || status=$?
  echo $(($(date +%s) - started)) >"$dir/seconds"
  sed -n 's/^\(Status\|allowed\):/&/p' "$dir/check.out" | sed "s/^/[test-r] $name: /"
  if [ "$status" != 0 ]; then
    cat "$dir/check.out"
    [ -f "$dir/check/kbackend.Rcheck/tests/testthat.Rout.fail" ] \
      && tail -n 60 "$dir/check/kbackend.Rcheck/tests/testthat.Rout.fail"
    echo "[test-r] $name: R CMD check found problems beyond the NOTEs about being offline" >&2
    return 1
  fi
  if [ ! -s "$dir/testthat.xml" ]; then
    echo "[test-r] $name: no JUnit report from testthat: did the tests run?" >&2
    return 1
  fi
}

# tests_summary NAME: NAME's testthat counts, "PASSED FAILED SKIPPED".
tests_summary() {
  python3 "$ROOT/tools/junit-tally.py" --skips "$WORK/$1/testthat.xml"
}

# skip_reasons NAME: "COUNT: REASON" for each reason NAME's tests skipped.
skip_reasons() {
  python3 "$ROOT/tools/junit-tally.py" --reasons "$WORK/$1/testthat.xml"
}

# A PATH under which no python, python3 or pythonX.Y is found: each folder of
# PATH that holds one is replaced by a folder of links to all else it holds.
path_without_python() {
  local dir shadow out="" i=0 f
  local IFS=:
  for dir in $PATH; do
    [ -d "$dir" ] || continue
    if compgen -G "$dir/python*" >/dev/null; then
      i=$((i + 1))
      shadow=$WORK/no-python-path/$i
      mkdir -p "$shadow"
      for f in "$dir"/*; do
        case "${f##*/}" in python*) ;; *) ln -s "$f" "$shadow/" ;; esac
      done
      dir=$shadow
    fi
    out=${out:+$out:}$dir
  done
  printf '%s\n' "$out"
}

# bare_check NAME EXPECTED_REASON ENV...: a check outside the lab (no
# KBACKEND_TEST_*, not strict, NOT_CRAN unset, no Miniconda): it must pass,
# and its tests must have skipped, among others, for EXPECTED_REASON.
bare_check() {
  local name=$1 expected=$2 counts reasons
  shift 2
  mkdir -p "$WORK/$name/no-miniconda"
  run_check "$name" \
    -u KBACKEND_TEST_PYTHON -u KBACKEND_TEST_VENV -u KBACKEND_TEST_VENV_PY37 -u KBACKEND_TEST_VENV_KERAS2 \
    -u KBACKEND_STRICT_TESTS -u NOT_CRAN -u WORKON_HOME -u PYENV_VERSION \
    "$@" RETICULATE_MINICONDA_PATH="$WORK/$name/no-miniconda" || return 1
  read -r -a counts <<<"$(tests_summary "$name")"
  # worded so that tools/run-tests.sh does not count it: only the lab's counts
  echo "[test-r] $name: ${counts[0]} tests passed, ${counts[2]} skipped, ${counts[1]} failed; skip reasons (tests: reason):"
  # read once, then searched as text: piped into grep -q, the tally would be
  # cut off at the first match and, under pipefail, fail the check at random
  reasons=$(skip_reasons "$name")
  [ -z "$reasons" ] || sed 's/^/[test-r]   /' <<<"$reasons"
  [ "${counts[1]}" = 0 ] || { echo "[test-r] $name: tests failed" >&2; return 1; }
  if ! grep -qF "$expected" <<<"$reasons"; then
    echo "[test-r] $name: no test skipped for \"$expected\"" >&2
    return 1
  fi
}

bare_checks() {
  local status=0 no_python_path
  bare_check keras-less "needs a Keras 3 environment" \
    RETICULATE_PYTHON="$KBACKEND_BARE_PYTHON" || status=1
  no_python_path=$(path_without_python)
  bare_check no-python "needs a Python" \
    -u RETICULATE_PYTHON PATH="$no_python_path" || status=1
  return $status
}

log "R CMD check --as-cran --no-manual: bare checks (keras-less, then no-python) in the background"
bare_checks >"$WORK/bare.log" 2>&1 &
bare_pid=$!

log "R CMD check --as-cran --no-manual: lab (strict, NOT_CRAN=true, every test)"
lab_status=0
run_check lab RETICULATE_PYTHON="$KBACKEND_TEST_VENV" NOT_CRAN=true \
  KBACKEND_STRICT_TESTS="$KBACKEND_STRICT_TESTS" || lab_status=1
log "lab check done in $(cat "$WORK/lab/seconds" 2>/dev/null || echo '?') s"

bare_status=0
wait "$bare_pid" || bare_status=1
cat "$WORK/bare.log"
for name in keras-less no-python; do
  [ -f "$WORK/$name/seconds" ] && log "$name check took $(cat "$WORK/$name/seconds") s"
done
log "bare checks done"

# the lab's counts are printed whenever it ran, so that a failing bare check
# does not also hide how many lab tests passed
lab_counts=()
[ -s "$WORK/lab/testthat.xml" ] && read -r -a lab_counts <<<"$(tests_summary lab)"
[ "${#lab_counts[@]}" = 0 ] || printf 'testthat: %s passed, %s failed, %s skipped\n' "${lab_counts[@]}"
[ "$bare_status" = 0 ] || die "a bare R CMD check failed (see above)"
[ "$lab_status" = 0 ] || die "the lab R CMD check failed (see above)"
if [ "${lab_counts[2]}" != 0 ]; then
  skip_reasons lab
  die "tests must not skip in the lab"
fi
log "R CMD check clean, three times (only the NOTEs about what cannot be checked offline)"
