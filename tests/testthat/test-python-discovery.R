test_that("the interpreter is found without loading reticulate or starting Python", {
  local_clean_env()
  res <- in_fresh_r(function() {
    found <- kbackend:::reticulate_python()
    list(
      found = found,
      reticulate_loaded = isNamespaceLoaded("reticulate"),
      started = reticulate::py_available(initialize = FALSE)
    )
  })
  expect_equal(res$found$python, test_python())
  expect_equal(res$found$source, "RETICULATE_PYTHON")
  expect_false(res$found$started)
  expect_false(res$reticulate_loaded)
  expect_false(res$started)
})

test_that("the RETICULATE_PYTHON shortcut agrees with py_discover_config()", {
  local_clean_env()
  res <- in_fresh_r(function() {
    shortcut <- kbackend:::reticulate_python_env_only()
    config <- reticulate::py_discover_config()
    list(
      shortcut = shortcut,
      python = config$python,
      forced = config$forced,
      after_load = kbackend:::reticulate_python_env_only(),
      started = reticulate::py_available(initialize = FALSE)
    )
  })
  expect_equal(res$shortcut$python, res$python)
  expect_equal(res$shortcut$source, res$forced)
  # once reticulate is loaded, use_python() may have been called: no shortcut
  expect_null(res$after_load)
  expect_false(res$started)
})

test_that("with reticulate loaded, discovery goes through reticulate and starts nothing", {
  local_clean_env()
  res <- in_fresh_r(function() {
    loadNamespace("reticulate")
    found <- kbackend:::reticulate_python()
    list(found = found, started = reticulate::py_available(initialize = FALSE))
  })
  expect_equal(normalizePath(res$found$python), normalizePath(test_python()))
  expect_equal(res$found$source, "RETICULATE_PYTHON")
  expect_false(res$started)
})

test_that("reticulate::use_python() is honoured before Python starts", {
  local_clean_env(python = NULL)
  res <- in_fresh_r(function(python) {
    reticulate::use_python(python, required = TRUE)
    found <- kbackend:::reticulate_python()
    list(found = found, started = reticulate::py_available(initialize = FALSE))
  }, args = list(python = test_python()))
  expect_equal(normalizePath(res$found$python), normalizePath(test_python()))
  expect_match(res$found$source, "use_python")
  expect_false(res$started)
})

test_that("after Python started, the running interpreter is reported", {
  local_clean_env()
  res <- in_fresh_r(function() {
    reticulate::py_config()
    kbackend:::reticulate_python()
  })
  expect_true(res$started)
  expect_equal(normalizePath(res$python), normalizePath(test_python()))
  expect_equal(res$source, "RETICULATE_PYTHON")
})

test_that("a RETICULATE_PYTHON that does not exist is a classed no-Python error", {
  local_clean_env(python = file.path(tempdir(), "no", "such", "python"))
  res <- in_fresh_r(function() {
    e <- tryCatch(kbackend::backend_info(), error = function(e) e)
    list(
      class = class(e),
      message = conditionMessage(e),
      started = reticulate::py_available(initialize = FALSE)
    )
  })
  expect_true(all(c("kbackend_error_no_python", "kbackend_error") %in% res$class))
  expect_match(res$message, "RETICULATE_PYTHON", fixed = TRUE)
  expect_match(res$message, "use_python", fixed = TRUE)
  expect_false(res$started)
})

test_that("discovery never lets reticulate create a conda environment", {
  home <- local_clean_env(python = NULL)
  # a Miniconda without its r-reticulate environment: reticulate <= 1.30
  # would create one while discovering
  miniconda <- file.path(home, "miniconda")
  dir.create(file.path(miniconda, "bin"), recursive = TRUE)
  conda <- file.path(miniconda, "bin", "conda")
  writeLines(c("#!/bin/sh", "echo called >> \"$0.log\"", "exit 1"), conda)
  Sys.chmod(conda, "755")
  withr::local_envvar(RETICULATE_MINICONDA_PATH = miniconda)
  res <- in_fresh_r(function() {
    e <- tryCatch(kbackend::backend_info(), error = function(e) e)
    list(class = class(e), message = conditionMessage(e),
         version = as.character(utils::packageVersion("reticulate")))
  })
  if (package_version(res$version) < "1.31") {
    expect_true(all(c("kbackend_error_managed_python", "kbackend_error_no_python") %in% res$class))
    expect_match(res$message, "does not create it")
  }
  expect_false(dir.exists(file.path(miniconda, "envs")))
  expect_false(file.exists(paste0(conda, ".log")))
})

test_that("discovery_would_install() only fires for old reticulate with nothing named", {
  home <- local_clean_env(python = NULL)
  miniconda <- file.path(home, "miniconda")
  dir.create(file.path(miniconda, "bin"), recursive = TRUE)
  file.create(file.path(miniconda, "bin", "conda"))
  withr::local_envvar(RETICULATE_MINICONDA_PATH = miniconda)
  expect_match(discovery_would_install("1.28"), "r-reticulate")
  expect_null(discovery_would_install("1.31"))
  expect_null(discovery_would_install("1.46.0"))
  # only whether a variable names an interpreter counts, not what it names
  withr::local_envvar(RETICULATE_PYTHON = file.path(home, "named-python"))
  expect_null(discovery_would_install("1.28"))
})

test_that("would_use_managed_python() follows reticulate >= 1.41's rules", {
  withr::local_envvar(RETICULATE_PYTHON = NA, RETICULATE_USE_MANAGED_VENV = NA)
  expect_false(would_use_managed_python("1.28"))
  expect_true(would_use_managed_python("1.41.0"))
  withr::local_envvar(RETICULATE_USE_MANAGED_VENV = "no")
  expect_false(would_use_managed_python("1.41.0"))
  withr::local_envvar(RETICULATE_PYTHON = "managed")
  expect_true(would_use_managed_python("1.46.0"))
})

test_that("guarded discovery switches off reticulate's install paths", {
  seen <- NULL
  local({
    withr::local_options(reticulate.python.initializing = TRUE)
    withr::local_envvar(RETICULATE_MINICONDA_ENABLED = NA)
    seen <<- guarded_discovery(function() {
      list(
        initializing = getOption("reticulate.python.initializing"),
        miniconda = Sys.getenv("RETICULATE_MINICONDA_ENABLED")
      )
    })
  })
  expect_false(seen$initializing)
  expect_equal(seen$miniconda, "FALSE")
})

test_that("describe_python_source() names reticulate's reason", {
  expect_equal(describe_python_source("RETICULATE_PYTHON"), "RETICULATE_PYTHON")
  expect_equal(describe_python_source(NULL), "reticulate's default search")
  expect_equal(describe_python_source(""), "reticulate's default search")
})
