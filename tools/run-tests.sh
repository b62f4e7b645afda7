#!/usr/bin/env bash
# Run every test suite and print one closing tally.
#   tools/run-tests.sh [unit|python|r]...   (no argument: all)
# unit:   the stdlib unittest suite on every pyenv CPython 3.6-3.13
# python: pytest in .venv -- unit, differential (real Keras in five
#         environments), in-process and isolation tests
# r:      testthat suite and R CMD check --as-cran (tools/test-r.sh)
# Any failure, and any skipped test, fails the run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYENV_ROOT="${PYENV_ROOT:-/root/.pyenv}"
PYTHONS=(3.6.15 3.7.16 3.8.18 3.9.18 3.10.13 3.11.7 3.12.1 3.13.0)
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit python r)
passed=0
failed=0
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

count() { # count PASSED FAILED: add to the tally
  passed=$((passed + $1)); failed=$((failed + $2))
}

# tally PATTERN last|sum: the number in the last match of PATTERN in $log,
# or the sum over all matches; 0 when nothing matches. Never fails: under
# pipefail a grep without a match would otherwise end the whole run when
# every test passed.
tally() {
  { grep -Eo "$1" "$log" || true; } | { grep -Eo '[0-9]+' || true; } |
    awk -v mode="$2" '{ if (mode == "sum") n += $1; else n = $1 } END { print n + 0 }'
}

run_unit() {
  for version in "${PYTHONS[@]}"; do
    py="$PYENV_ROOT/versions/$version/bin/python"
    [ -x "$py" ] || { echo "missing interpreter $py" >&2; count 0 1; continue; }
    echo "== unit tests on CPython $version"
    if (cd tests/python && HOME="$(mktemp -d)" "$py" -m unittest test_unit) >"$log" 2>&1; then
      n=$(sed -n 's/^Ran \([0-9]*\) tests.*/\1/p' "$log")
      grep -q "skipped" "$log" && { cat "$log"; echo "skipped tests on $version" >&2; count 0 1; continue; }
      echo "   $n passed"; count "$n" 0
    else
      cat "$log"; count 0 1
    fi
  done
}

run_python() {
  echo "== pytest in .venv (unit, differential, isolation)"
  set +e
  HOME="$(mktemp -d)" .venv/bin/python -m pytest -p no:cacheprovider -n 2 -q -rfEs tests/python 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  p=$(tally '[0-9]+ passed' last)
  f=$(tally '[0-9]+ (failed|error|errors)' sum)
  [ "$status" -eq 0 ] || [ "$f" -gt 0 ] || f=1
  count "$p" "$f"
}

run_r() {
  echo "== R: testthat and R CMD check"
  set +e
  tools/test-r.sh 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  p=$(tally 'PASS [0-9]+' last)
  f=$(tally 'FAIL [0-9]+' last)
  [ "$status" -eq 0 ] || [ "$f" -gt 0 ] || f=1
  count "$p" "$f"
}

for suite in "${suites[@]}"; do
  case "$suite" in
    unit) run_unit ;;
    python) run_python ;;
    r) run_r ;;
    *) echo "unknown suite: $suite" >&2; exit 2 ;;
  esac
done
echo
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
