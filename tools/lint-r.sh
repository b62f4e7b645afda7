#!/usr/bin/env bash
# tools/lint-r.sh — lintr on the R package's code (R/), with the settings in
# .lintr; fails on any finding and prints each one.
#
# The package is loaded with pkgload first, so that lintr's
# object_usage_linter sees the package's own internal functions (lintr looks
# them up in the loaded namespace) instead of reporting each as undefined.
# tests/ is not linted: testthat's helpers and expectations are only defined
# while testthat runs the files.
#
# Usage: tools/lint-r.sh   (from any directory)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/tools/setup-r.sh" >/dev/null

cd "$ROOT"
Rscript -e '
  suppressMessages(pkgload::load_all(
    ".", export_all = FALSE, helpers = FALSE, attach_testthat = FALSE,
    quiet = TRUE
  ))
  files <- list.files("R", pattern = "[.][Rr]$", full.names = TRUE)
  lints <- lintr::lint_dir("R", relative_path = TRUE)
  n <- length(lints)
  if (n) {
    print(lints)
    by_linter <- table(vapply(lints, function(l) l$linter, character(1)))
    cat("\n")
    print(by_linter)
  }
  cat(sprintf("lint-r: %d finding%s in %d files\n", n, if (n == 1) "" else "s",
              length(files)))
  quit(status = if (n) 1 else 0)
'
