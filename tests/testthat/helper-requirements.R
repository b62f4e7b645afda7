# What a test needs besides kbackend itself, and what happens without it.
#
# Two modes, one suite:
# * Anywhere (CRAN, a user's machine, a contributor's fork): a test whose
#   requirement is missing skips, and the reason says what is missing and
#   how to provide it. `R CMD check` passes with no Python at all.
# * In the lab (tools/test-r.sh, and so `make test` and CI) the variable
#   KBACKEND_STRICT_TESTS=true turns each of those skips into an error, so a
#   missing environment can never pass unnoticed.
#
# The lab names its interpreters with KBACKEND_TEST_PYTHON (a plain Python,
# with numpy, without Keras), KBACKEND_TEST_VENV (.venv: Keras 3 with
# TensorFlow, JAX and torch), KBACKEND_TEST_VENV_KERAS2 (.venv-keras2: Keras
# 2.15 with TensorFlow 2.15) and KBACKEND_TEST_VENV_PY37 (.venv-py37: Keras
# 2.3.1 with Theano); tools/setup-python.sh builds them.

# TRUE when skips must fail (KBACKEND_STRICT_TESTS=true).
strict_tests <- function() {
  tolower(Sys.getenv("KBACKEND_STRICT_TESTS")) %in% c("true", "1", "yes")
}

# Go on when `ok` is TRUE; else skip the calling test with `reason` or, in
# strict mode, fail it with that reason.
skip_unless <- function(ok, reason) {
  if (isTRUE(ok)) {
    return(invisible(TRUE))
  }
  if (strict_tests()) {
    stop(structure(
      class = c("kbackend_test_missing", "error", "condition"),
      list(
        message = paste0("KBACKEND_STRICT_TESTS=true, so this test may not skip: ", reason),
        call = NULL
      )
    ))
  }
  testthat::skip(reason)
}

# An R package from Suggests (tools/setup-r.sh installs them all).
need_package <- function(package) {
  skip_unless(
    requireNamespace(package, quietly = TRUE),
    sprintf("needs the R package %s: install.packages(\"%s\")", package, package)
  )
}

# pandoc, for the vignette (R CMD check builds vignettes with it too).
need_pandoc <- function() {
  need_package("rmarkdown")
  skip_unless(
    rmarkdown::pandoc_available("1.12.3"),
    "needs pandoc >= 1.12.3: install it, or set RSTUDIO_PANDOC to its folder"
  )
}

# Tests that import real Keras take minutes: not on CRAN. testthat's own
# rule (NOT_CRAN=true means "not on CRAN"), through skip_unless() so that
# strict mode runs them or fails.
skip_slow_on_cran <- function() {
  skip_unless(
    identical(Sys.getenv("NOT_CRAN"), "true"),
    "imports real Keras, which is slow: set NOT_CRAN=true to run it"
  )
}

# Where the tests look for their plain interpreter, read once when the
# helpers load: tests change RETICULATE_PYTHON and PATH as they go.
test_python_places <- c(
  KBACKEND_TEST_PYTHON = Sys.getenv("KBACKEND_TEST_PYTHON"),
  RETICULATE_PYTHON = Sys.getenv("RETICULATE_PYTHON"),
  "python3 on the PATH" = unname(Sys.which("python3"))
)

# What the plain interpreter is and has, asked once (see test_python_probe()).
test_python_cache <- new.env(parent = emptyenv())

# The plain interpreter most tests use: KBACKEND_TEST_PYTHON, else
# RETICULATE_PYTHON, else python3 on the PATH. It needs no Keras, and
# Python 3.6 or later. Skips (or fails, in strict mode) without one.
test_python <- function() {
  probe <- test_python_probe()
  skip_unless(is.null(probe$missing), probe$missing)
  probe$python
}

# The plain interpreter, which must also have numpy: the tests that set the
# "numpy" backend need it installed, as use_keras_backend() checks.
test_python_with_numpy <- function() {
  python <- test_python()
  skip_unless(
    isTRUE(test_python_cache$probe$numpy),
    sprintf(
      "needs numpy in the test Python %s: install it there (pip install numpy), or set KBACKEND_TEST_PYTHON to a python that has it",
      python
    )
  )
  python
}

# list(python, numpy, missing): the first place that names an interpreter,
# whether it has numpy, and why it cannot be used (NULL when it can).
test_python_probe <- function() {
  if (!is.null(test_python_cache$probe)) {
    return(test_python_cache$probe)
  }
  probe <- list(python = NULL, numpy = FALSE, missing = NULL)
  named <- test_python_places[nzchar(test_python_places)]
  if (length(named) == 0) {
    probe$missing <- paste(
      "needs a Python (3.6 or later; Keras not needed): set KBACKEND_TEST_PYTHON",
      "or RETICULATE_PYTHON to a python executable, or put python3 on the PATH"
    )
  } else {
    probe$python <- unname(named[[1]])
    # with the interpreter's own libpython first, as kbackend runs it: R's
    # LD_LIBRARY_PATH may hold the system's, with other site folders
    facts <- withr::with_envvar(python_subprocess_env(probe$python), suppressWarnings(tryCatch(
      system2(probe$python, c("-c", shQuote(paste(
        "import sys, importlib.util;",
        "print(sys.version_info >= (3, 6));",
        "print(importlib.util.find_spec('numpy') is not None)"
      ))), stdout = TRUE, stderr = FALSE),
      error = function(e) character()
    )))
    if (!identical(facts[1], "True")) {
      probe$missing <- sprintf(
        "needs a Python 3.6 or later: %s names %s, which does not run as one; set KBACKEND_TEST_PYTHON to a python executable that does",
        names(named)[[1]], probe$python
      )
    }
    probe$numpy <- identical(facts[2], "True")
  }
  test_python_cache$probe <- probe
  probe
}

# The real Keras environments (tools/setup-python.sh builds them):
# "main" = .venv (Keras 3, TensorFlow, JAX, torch), "keras2" = .venv-keras2
# (Keras 2.15, TF 2.15), "py37" = .venv-py37 (Keras 2.3.1, Theano, TF 1.15).
# Named by KBACKEND_TEST_VENV, KBACKEND_TEST_VENV_KERAS2 and
# KBACKEND_TEST_VENV_PY37 (the python executable or the environment folder).
# The tests that use them import real Keras, so they are slow: they skip on
# CRAN as well (skip_slow_on_cran()).
venv_python <- function(which = c("main", "py37", "keras2")) {
  which <- match.arg(which)
  var <- c(
    main = "KBACKEND_TEST_VENV", py37 = "KBACKEND_TEST_VENV_PY37",
    keras2 = "KBACKEND_TEST_VENV_KERAS2"
  )[[which]]
  what <- c(
    main = "a Keras 3 environment (Keras 3 with TensorFlow, JAX and torch)",
    py37 = "a Keras 2.3.1 environment (Python 3.7 with Keras 2.3.1 and Theano)",
    keras2 = "a Keras 2.15 environment (Keras 2.15 with TensorFlow 2.15)"
  )[[which]]
  folder <- c(main = ".venv", py37 = ".venv-py37", keras2 = ".venv-keras2")[[which]]
  path <- Sys.getenv(var)
  skip_unless(nzchar(path), sprintf(
    "needs %s: set %s to its python (tools/setup-python.sh builds %s)",
    what, var, folder
  ))
  if (dir.exists(path)) {
    path <- file.path(path, "bin", "python")
  }
  skip_unless(file.exists(path), sprintf(
    "needs %s: %s names %s, which does not exist (tools/setup-python.sh builds %s)",
    what, var, path, folder
  ))
  skip_slow_on_cran()
  path
}
