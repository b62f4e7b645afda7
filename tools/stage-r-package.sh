#!/usr/bin/env bash
# Usage: tools/stage-r-package.sh DEST
#
# Copies the checkout's source -- the files git lists (tracked, and new ones
# that are not ignored) -- into DEST, for the R tools that must not work on
# the checkout itself: R CMD build copies its whole source folder before it
# applies .Rbuildignore, and the checkout also holds the lab's environments
# (.venv*, gigabytes). .gitignore already names everything that is not
# source, so no second list of what belongs to the package is kept; what R
# CMD build then leaves out is .Rbuildignore's to say. Symbolic links are
# copied as links; __pycache__ folders never come along (they are ignored).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=${1:?usage: tools/stage-r-package.sh DEST}

if ! git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "stage-r-package: $ROOT is not a git checkout: git lists what the package's source is" >&2
  exit 1
fi
mkdir -p "$DEST"
cd "$ROOT"
# (a tracked file deleted in the working tree is listed too: skip it)
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' path; do
      if [ -e "$path" ] || [ -L "$path" ]; then printf '%s\0' "$path"; fi
    done \
  | tar --null --no-recursion --files-from=- -cf - \
  | tar -xf - -C "$DEST"
