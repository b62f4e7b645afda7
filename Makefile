# kbackend: two commands do everything on a fresh machine.
#   make demo   set up, then print the backend report from Python and from R
#   make docs   set up, then build the pkgdown site into docs/
#   make test   set up, then run every test (unit on CPython 3.6-3.13,
#               differential against real Keras, packaging, R CMD check in
#               the lab and bare, lint, the pkgdown build)
#   make lint   ruff and mypy (python/pyproject.toml), lintr (.lintr)
# Set-up is idempotent: a second run only checks stamps.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PY := .venv/bin/python
RLIB := $(CURDIR)/.rlib

.PHONY: setup setup-python setup-r install-r demo docs lint test test-unit test-python test-r bench fuzz-keras

setup: setup-python setup-r

setup-python:
	tools/setup-python.sh

setup-r:
	tools/setup-r.sh

install-r: setup-r
	mkdir -p $(RLIB)
	R_LIBS=$(RLIB) R CMD INSTALL --no-multiarch --no-test-load -l $(RLIB) . >/dev/null

demo: setup install-r
	@echo "== Python: python -m kbackend =="
	@$(PY) -m kbackend || true
	@echo
	@echo "== R: kbackend::backend_info() =="
	@RETICULATE_PYTHON=$(CURDIR)/$(PY) R_LIBS=$(RLIB) Rscript -e 'print(kbackend::backend_info())'

# The pkgdown site, built offline into docs/ (not committed); the vignette and
# the report article run with the .venv Python. tools/check-docs.sh checks it.
docs: setup
	tools/check-docs.sh --dest docs

lint: setup
	tools/lint.sh

test: setup
	tools/run-tests.sh

test-unit:
	tools/run-tests.sh unit

test-python: setup-python
	tools/run-tests.sh python

test-r: setup
	tools/run-tests.sh r

# The environment generator's long mode: KBACKEND_GENERATED environments
# (default 2000, on KBACKEND_GENERATED_JOBS processes, default 2) drawn from
# the seed KBACKEND_GENERATED_SEED (default: today's date), each checked
# against real Keras; prints a summary by mechanism, writes it as JSON and
# adds new disagreements to tests/generated-cases.json for review.
fuzz-keras: setup-python
	$(PY) tests/python/generator.py run

bench: setup install-r
	$(PY) benchmarks/bench.py
	$(PY) benchmarks/bench_survey.py
	$(PY) benchmarks/bench_plugin.py
	RETICULATE_PYTHON=$(CURDIR)/$(PY) R_LIBS=$(RLIB) Rscript benchmarks/bench-r.R
	RETICULATE_PYTHON=$(CURDIR)/$(PY) R_LIBS=$(RLIB) Rscript benchmarks/bench-survey.R
