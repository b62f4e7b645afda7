#!/usr/bin/env bash
# tools/check-docs.sh — build the pkgdown site, offline, and check it.
#
#   1. stage the package's own files (never the repository root: it holds
#      gigabytes of .venv*) and install them into a temporary library
#   2. pkgdown::build_site() from the staged copy, with the .venv Python
#      (Keras 3 + JAX) as RETICULATE_PYTHON, a throwaway HOME and TMPDIR
#      (Keras writes ~/.keras) and options(pkgdown.internet = FALSE): no
#      CRAN/Bioconductor look-up. Any warning fails the build.
#   3. check the site: the reference index and a page per topic, the
#      vignette and the report article with real output (a report line, the
#      knitted table, the Python chunk's answer), the news page
#
# Usage: tools/check-docs.sh [--dest DIR]
#   --dest DIR   keep the site in DIR (replaced; `make docs` uses docs/);
#                without it the site is built in a temp dir and removed
# Environment:
#   KBACKEND_DOCS_PYTHON   the Python for the vignette and the article
#                          (default: <repo>/.venv/bin/python)
#   KEEP_DOCS_DIR=1        keep the temp dir (stage, library, logs, site)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --dest) [ "$#" -ge 2 ] || { echo "usage: tools/check-docs.sh [--dest DIR]" >&2; exit 2; }
            DEST=$2; shift 2 ;;
    *) echo "usage: tools/check-docs.sh [--dest DIR]" >&2; exit 2 ;;
  esac
done

T0=$(date +%s)
log() { printf '[docs %4ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
die() { printf '[docs] FAIL: %s\n' "$*" >&2; exit 1; }

"$ROOT/tools/setup-r.sh" >/dev/null

PY=${KBACKEND_DOCS_PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || die "missing interpreter $PY (run tools/setup-python.sh)"

# Nothing from the caller's environment may steer reticulate or Keras.
unset RETICULATE_PYTHON RETICULATE_PYTHON_ENV RETICULATE_PYTHON_FALLBACK \
  KERAS_BACKEND KERAS_HOME TF_USE_LEGACY_KERAS VIRTUAL_ENV PYTHONPATH \
  PYTHONHOME R_LIBS R_LIBS_USER || true

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kbackend-docs.XXXXXX")
if [ "${KEEP_DOCS_DIR:-0}" = 1 ]; then
  log "keeping $WORK"
else
  trap 'rm -rf "$WORK"' EXIT
fi

# --- 1. stage and install -----------------------------------------------------
STAGE=$WORK/src/kbackend
mkdir -p "$STAGE" "$WORK/lib" "$WORK/home" "$WORK/tmp"
# the checkout's source, pkgdown's configuration included
"$ROOT/tools/stage-r-package.sh" "$STAGE"
log "installing the package into a temporary library"
R CMD INSTALL --no-multiarch --no-test-load --library="$WORK/lib" "$STAGE" \
  >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log"; die "R CMD INSTALL failed"; }

# pkgdown's code linking (downlit) looks up every package a `library()` call
# names: one not installed is looked up in CRAN's package database, which is
# out of reach offline, and the build stops. kerasR is named so but cannot be
# installed here; a package with only its name and home page answers instead.
NAMES=$WORK/names/kerasR
mkdir -p "$NAMES"
printf '%s\n' 'Package: kerasR' 'Version: 0.8.0' 'Title: Name and Home Page of kerasR' \
  'Description: The name and home page of kerasR, for offline links in this site.' \
  'URL: https://github.com/statsmaths/kerasR' 'License: MIT' >"$NAMES/DESCRIPTION"
: >"$NAMES/NAMESPACE"
R CMD INSTALL --no-test-load --library="$WORK/lib" "$NAMES" >>"$WORK/install.log" 2>&1 \
  || { cat "$WORK/install.log"; die "R CMD INSTALL of the kerasR name failed"; }

# --- 2. build ------------------------------------------------------------------
SITE=$WORK/site
log "pkgdown::build_site() with RETICULATE_PYTHON=$PY"
status=0
(cd "$WORK" && env HOME="$WORK/home" TMPDIR="$WORK/tmp" RETICULATE_PYTHON="$PY" \
  R_LIBS="$WORK/lib" NOT_CRAN=true \
  Rscript -e '
    args <- commandArgs(trailingOnly = TRUE)
    options(pkgdown.internet = FALSE, warn = 1)
    warnings_seen <- character()
    withCallingHandlers(
      pkgdown::build_site(
        args[[1]],
        override = list(destination = args[[2]]),
        install = FALSE, new_process = FALSE, preview = FALSE
      ),
      warning = function(w) {
        warnings_seen <<- c(warnings_seen, conditionMessage(w))
      }
    )
    writeLines(warnings_seen, args[[3]])
  ' "$STAGE" "$SITE" "$WORK/warnings.txt" >"$WORK/build.log" 2>&1) || status=$?
if [ "$status" != 0 ]; then
  tail -n 60 "$WORK/build.log"
  die "pkgdown::build_site() failed (exit $status)"
fi
n_warnings=$(grep -c . "$WORK/warnings.txt" || true)
if [ "$n_warnings" != 0 ]; then
  sed 's/^/[docs] warning: /' "$WORK/warnings.txt" >&2
  die "pkgdown emitted $n_warnings warning(s)"
fi
# warnings pkgdown's article subprocesses print rather than signal here
if grep -nE '^Warning( message)?|^Warning:|^In .*: ' "$WORK/build.log" >&2; then
  die "the build log shows warnings"
fi

# --- 3. check the site ---------------------------------------------------------
# Pages are searched as text: tags removed, the entities used here decoded
# (the console output is split into spans by its ANSI styles).
need() { [ -f "$SITE/$1" ] || die "the site has no $1"; }
text() { sed -e 's/<[^>]*>//g' -e 's/&gt;/>/g' -e 's/&lt;/</g' -e 's/&amp;/\&/g' "$SITE/$1"; }
# (grep reads to the end, not -q: under pipefail, sed killed by SIGPIPE
# would fail the check although the text is there)
has() { text "$1" | grep -F -- "$2" >/dev/null || die "$1 does not contain: $2"; }
lacks() { if text "$1" | grep -nE -- "$2" >&2; then die "$1 shows $3"; fi; }

need index.html
has index.html "Which Keras backend"             # the README
need news/index.html
has news/index.html "kbackend 0.1.0"
need reference/index.html
for rd in "$ROOT"/man/*.Rd; do
  grep -q '\\keyword{internal}' "$rd" && continue
  topic=$(basename "$rd" .Rd)
  need "reference/$topic.html"
  grep -qF "href=\"$topic.html\"" "$SITE/reference/index.html" \
    || die "reference/index.html does not link $topic.html"
done
# the examples ran: backend_info()'s shows a report
has reference/backend_info.html "Keras backend"

need articles/kbackend.html
has articles/kbackend.html "#> jax"                # the Python chunk ran
has articles/kbackend.html "jax (ok)"              # the knitted report table
need articles/report.html
has articles/report.html "Keras backend"           # print(): its rule line
has articles/report.html "environment: KERAS_BACKEND"  # print(): the source line
has articles/report.html "AGREES with the prediction"
has articles/report.html "jax (ok)"                # the knit_print() table
has articles/report.html "Consistent: both workers will use jax"  # the survey
for page in articles/kbackend.html articles/report.html; do
  lacks "$page" '^#> (Warning|Error)' "a warning or error in its output"
  lacks "$page" 'was built without a Python' "the not-run note"
done

n_pages=$(find "$SITE" -name '*.html' | wc -l)
if [ -n "$DEST" ]; then
  mkdir -p "$(dirname "$DEST")"
  DEST_ABS=$(cd "$(dirname "$DEST")" && pwd)/$(basename "$DEST")
  # replace only a site (pkgdown writes pkgdown.yml at its root), never
  # another folder
  if [ -e "$DEST_ABS" ] && [ ! -f "$DEST_ABS/pkgdown.yml" ]; then
    die "$DEST_ABS exists and is not a pkgdown site: not replacing it"
  fi
  rm -rf "$DEST_ABS"
  cp -R "$SITE" "$DEST_ABS"
  log "site copied to $DEST_ABS"
fi
log "done"
echo "docs: site built, $n_pages pages, 0 warnings"
