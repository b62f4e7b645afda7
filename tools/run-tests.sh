#!/usr/bin/env bash
# Run every test suite and print one closing tally.
#   tools/run-tests.sh [unit|lint|python|r|downstream|docs]...   (no argument: all)
# unit:   the stdlib unittest suite on every pyenv CPython 3.6-3.13
# lint:   ruff, mypy and lintr with zero findings (tools/lint.sh); one check
# python: pytest in .venv -- unit, differential (real Keras in five
#         environments), in-process and isolation tests
# r:      R CMD check --as-cran of the tarball: in the lab, running every
#         testthat test, and in two bare configurations, where tests skip
#         with their reasons listed (tools/test-r.sh)
# downstream: R CMD check of the example package tests/downstream/kbdemo,
#         in the lab (every backend test runs) and without Keras (every one
#         skips with kbackend's reason) (tools/test-downstream.sh); one check
# docs:   the pkgdown site builds offline without a warning
#         (tools/check-docs.sh); one check
# Any failure, and any skipped test, fails the run: KBACKEND_STRICT_TESTS=true
# (exported for every suite) makes the test helpers of R and Python turn a
# missing requirement into a failure instead of a skip.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYENV_ROOT="${PYENV_ROOT:-/root/.pyenv}"
PYTHONS=(3.6.15 3.7.16 3.8.18 3.9.18 3.10.13 3.11.7 3.12.1 3.13.0)
export KBACKEND_STRICT_TESTS=true
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit lint python r downstream docs)
passed=0
failed=0
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

count() { # count PASSED FAILED: add to the tally
  passed=$((passed + $1)); failed=$((failed + $2))
}

# tally PATTERN last|sum: the first number in the last match of PATTERN in
# $log, or the sum over all matches; 0 when nothing matches. Never fails:
# under pipefail a grep without a match would otherwise end the whole run
# when every test passed.
tally() {
  { grep -Eo "$1" "$log" || true; } |
    awk -v mode="$2" 'match($0, /[0-9]+/) {
      v = substr($0, RSTART, RLENGTH) + 0
      if (mode == "sum") n += v; else n = v
    } END { print n + 0 }'
}

run_unit() {
  for version in "${PYTHONS[@]}"; do
    py="$PYENV_ROOT/versions/$version/bin/python"
    [ -x "$py" ] || { echo "missing interpreter $py" >&2; count 0 1; continue; }
    echo "== unit tests on CPython $version"
    # every stdlib unit module: test_unit.py and the per-topic test_unit_*.py
    if (cd tests/python && HOME="$(mktemp -d)" "$py" -m unittest discover -s . -p 'test_unit*.py') >"$log" 2>&1; then
      n=$(sed -n 's/^Ran \([0-9]*\) tests.*/\1/p' "$log")
      grep -q "skipped" "$log" && { cat "$log"; echo "skipped tests on $version" >&2; count 0 1; continue; }
      echo "   $n passed"; count "$n" 0
    else
      cat "$log"; count 0 1
    fi
  done
}

# run_tallied PASS_PATTERN FAIL_PATTERN FAIL_MODE COMMAND...: run COMMAND,
# showing its output, and add its own summary line's counts to the tally.
# A non-zero exit with no failure counted still counts as one failure.
run_tallied() {
  local pass_pattern=$1 fail_pattern=$2 fail_mode=$3 status p f
  shift 3
  set +e
  "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  p=$(tally "$pass_pattern" last)
  f=$(tally "$fail_pattern" "$fail_mode")
  [ "$status" -eq 0 ] || [ "$f" -gt 0 ] || f=1
  count "$p" "$f"
}

run_python() {
  echo "== pytest in .venv (unit, differential, generated, packaging, hardening, workers)"
  local status xml counts
  # kept for CI and for reading per-test times: test-results/ (git-ignored)
  mkdir -p test-results
  xml="$ROOT/test-results/pytest.xml"
  set +e
  env HOME="$(mktemp -d)" .venv/bin/python -m pytest -p no:cacheprovider -n 2 -q -rfEs \
    --durations=25 --junitxml="$xml" tests/python 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  # counted from pytest's JUnit XML, not from its console lines: a failing
  # test's own output may quote other summaries
  counts=$(.venv/bin/python tools/junit-tally.py "$xml" || echo "0 1")
  read -r p f <<<"$counts"
  [ "$status" -eq 0 ] || [ "$f" -gt 0 ] || f=1
  count "$p" "$f"
}

run_r() {
  echo "== R: R CMD check (lab: every testthat test; bare: skips with reasons)"
  run_tallied 'testthat: [0-9]+ passed' '[0-9]+ failed, [0-9]+ skipped' last tools/test-r.sh
}

# With pytest, the R checks run beside it: both spend long stretches in one
# process at a time (a real Keras import, one R CMD check), so together they
# keep both cores busy. Their output is shown, and counted, when they end.
r_pid=""
r_log=""
start_r() {
  r_log="$(mktemp)"
  tools/test-r.sh >"$r_log" 2>&1 &
  r_pid=$!
}
finish_r() {
  local status=0 p f
  echo "== R: R CMD check (lab: every testthat test; bare: skips with reasons; ran beside pytest)"
  wait "$r_pid" || status=$?
  cat "$r_log"
  cp "$r_log" "$log"
  rm -f "$r_log"
  r_pid=""
  p=$(tally 'testthat: [0-9]+ passed' last)
  f=$(tally '[0-9]+ failed, [0-9]+ skipped' last)
  [ "$status" -eq 0 ] || [ "$f" -gt 0 ] || f=1
  count "$p" "$f"
}

# run_check NAME COMMAND...: a check with no tests of its own counts once.
run_check() {
  local name=$1
  shift
  echo "== $name"
  if "$@"; then count 1 0; else echo "$name failed" >&2; count 0 1; fi
}

# The downstream check runs beside the R checks when both are asked for
# (and so beside pytest too, when that is asked for).
downstream_pid=""
downstream_log=""
start_downstream() {
  downstream_log="$(mktemp)"
  tools/test-downstream.sh >"$downstream_log" 2>&1 &
  downstream_pid=$!
}
finish_downstream() {
  local name="downstream: an example package's skips and backend tests"
  echo "== $name (ran beside the R checks)"
  cat "$downstream_log"
  if wait "$downstream_pid"; then count 1 0; else echo "$name failed" >&2; count 0 1; fi
  rm -f "$downstream_log"
  downstream_pid=""
}
wants() { local s; for s in "${suites[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

for suite in "${suites[@]}"; do
  case "$suite" in
    unit) run_unit ;;
    lint) run_check "lint: ruff, mypy, lintr" tools/lint.sh ;;
    docs) run_check "docs: pkgdown site" tools/check-docs.sh ;;
    downstream)
      # with the R checks it runs beside them (see the r suite)
      wants r || run_check "downstream: an example package's skips and backend tests" tools/test-downstream.sh ;;
    python)
      if wants r; then
        start_r
        if wants downstream; then start_downstream; fi
      fi
      run_python ;;
    r)
      if [ -n "$r_pid" ]; then
        finish_r
      else
        if wants downstream; then start_downstream; fi
        run_r
      fi
      if [ -n "$downstream_pid" ]; then finish_downstream; fi ;;
    *) echo "unknown suite: $suite" >&2; exit 2 ;;
  esac
done
echo
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
