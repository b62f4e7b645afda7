#!/usr/bin/env bash
# Install R and the R packages kbackend needs, from Debian only (no CRAN).
# Idempotent: when everything is already installed it does nothing, not even
# `apt-get update`.
set -euo pipefail

packages=(
  r-base-core r-base-dev
  r-cran-reticulate r-cran-jsonlite r-cran-cli
  r-cran-testthat r-cran-withr r-cran-callr
  r-cran-roxygen2 r-cran-knitr r-cran-rmarkdown
  # backend_survey() of a future plan; the worker tests' clusters
  r-cran-future r-cran-parallelly
  # the pkgdown site (tools/check-docs.sh); lintr, and pkgload to load the
  # package for it (tools/lint-r.sh)
  r-cran-pkgdown r-cran-lintr r-cran-pkgload
  # R CMD check judged on its result as data (tools/check-package.R)
  r-cran-rcmdcheck
  # testthat's JUnit reporter (tests/testthat.R)
  r-cran-xml2
  pandoc
  # what `R CMD check --as-cran` calls: qpdf (PDF size checks), tidy (HTML
  # validation of the Rd pages), file/texinfo are in base Debian already.
  qpdf tidy
)

missing=()
for p in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup-r: all ${#packages[@]} Debian packages already installed"
  exit 0
fi

echo "setup-r: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
r_version=$(R --version)
echo "${r_version%%$'\n'*}"
