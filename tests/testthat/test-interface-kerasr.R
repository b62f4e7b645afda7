# The answer before library(kerasR) equals what kerasR's load then does. The
# interface is the kerasR stand-in of tests/standins (see helper-standins.R),
# which does exactly what kerasR 0.8.0's .onLoad does: start Python, check
# and import numpy, import keras through py_module_available() (a failure is
# swallowed: the package loads unconnected), then import 22 Keras 2
# submodules with no handler (the first failure fails the load). Each test
# runs in a fresh R process: ask kbackend (Python must not start), load the
# stand-in, then read what happened from Python and from kbackend again.

# Run a kerasR session in a fresh R process that sees the stand-in.
with_kerasr_session <- function(lib, setup = function() NULL, ask = list(),
                                after = function() NULL) {
  environment(setup) <- globalenv()
  environment(after) <- globalenv()
  callr::r(
    function(setup, ask, after) {
      setup()
      predicted <- do.call(kbackend::backend_info, ask)
      started_early <- reticulate::py_available(initialize = FALSE)
      package <- "kerasR" # a variable: R CMD check would list a literal as a dependency
      said <- character()
      loaded <- withCallingHandlers(
        tryCatch({
          loadNamespace(package)
          TRUE
        }, error = function(e) conditionMessage(e)),
        message = function(m) {
          said <<- c(said, conditionMessage(m))
          invokeRestart("muffleMessage")
        }
      )
      modules <- if (isNamespaceLoaded(package)) get("modules", envir = asNamespace(package))
      connected <- !is.null(modules) && exists("keras.preprocessing.image", envir = modules)
      # the backend Keras chose, if the load imported it (never import it here)
      keras_loaded <- reticulate::py_available(initialize = FALSE) &&
        reticulate::py_eval("'keras' in __import__('sys').modules")
      backend <- if (keras_loaded) reticulate::import("keras")$backend$backend()
      later <- after()
      list(
        predicted = unclass(predicted), started_early = started_early,
        load_error = if (isTRUE(loaded)) NULL else loaded, loaded = isTRUE(loaded),
        messages = said, connected = connected, backend = backend,
        python = reticulate::py_config()$python,
        after = unclass(kbackend::backend_info()), later = later
      )
    },
    args = list(setup = setup, ask = ask, after = after),
    libpath = c(lib, .libPaths()), show = FALSE
  )
}

kerasr_lib <- function() local_standins(which = "kerasR")

# What the load did, in the words of kbackend's prediction.
load_outcome <- function(res) {
  if (!res$loaded) "fails" else if (res$connected) "connects" else "unconnected"
}

# The prediction for a load that fails, checked against the real failure.
expect_load_fails_as_predicted <- function(res, module) {
  expect_false(res$started_early)
  expect_equal(res$predicted$r$interface$name, "kerasR")
  expect_equal(res$predicted$r$interface$version, "0.8.0")
  expect_equal(res$predicted$r$interface$load$outcome, "fails")
  expect_equal(res$predicted$r$interface$load$module, module)
  expect_equal(res$predicted$status, "error")
  expect_equal(res$predicted$error, sprintf("ModuleNotFoundError: No module named '%s'", module))
  expect_equal(res$predicted$problems$code[[1]], "kerasr-keras-layout")
  expect_false(res$loaded)
  expect_match(res$load_error, ".onLoad failed in loadNamespace() for 'kerasR'", fixed = TRUE)
  expect_match(res$load_error, res$predicted$error, fixed = TRUE)
  # keras itself was imported before the failing submodule: the backend is
  # the predicted one, and locked
  expect_equal(res$backend, res$predicted$backend)
  expect_true(res$after$locked)
}

test_that("kerasR with Keras 3: what library(kerasR) does is what kbackend said", {
  local_clean_env(python = venv_python("main"))
  res <- with_kerasr_session(kerasr_lib())
  expect_equal(res$predicted$r$interface$source, "installed")
  expect_equal(normalizePath(res$predicted$r$python), normalizePath(res$python))
  expect_equal(res$predicted$r$interface$load$outcome, load_outcome(res))
  old_reticulate <- package_version(res$predicted$r$reticulate_version) < "1.38"
  numpy2 <- package_version(res$predicted$installed$numpy) >= "2"
  if (old_reticulate && numpy2) {
    # reticulate < 1.38 cannot read NumPy 2: kerasR's numpy check fails, it
    # loads unconnected -- but its keras check has imported Keras anyway
    expect_true(res$loaded)
    expect_false(res$connected)
    expect_true(any(grepl("numpy  not available", res$messages, fixed = TRUE)))
    expect_match(res$predicted$r$interface$load$reason, "NumPy 2 needs reticulate 1.38", fixed = TRUE)
    expect_equal(res$predicted$r$interface$load$module, "keras.layers.core")
    expect_true("kerasr-unconnected" %in% res$predicted$problems$code)
    expect_equal(res$backend, res$predicted$backend)
    expect_true(res$after$locked)
    expect_equal(res$after$problems$code[[1]], "kerasr-not-connected")
  } else {
    expect_load_fails_as_predicted(res, "keras.layers.core")
    expect_match(res$predicted$problems$message[[1]], "Keras 3.15.1 does not have", fixed = TRUE)
  }
})

test_that("kerasR with Keras 2.15: library(kerasR) fails on keras.layers.core, as predicted", {
  local_clean_env(python = venv_python("keras2"))
  res <- with_kerasr_session(kerasr_lib())
  expect_equal(res$predicted$r$interface$load$outcome, load_outcome(res))
  expect_load_fails_as_predicted(res, "keras.layers.core")
  expect_equal(res$backend, "tensorflow")
})

test_that("kerasR with Keras 2.3.1: it connects and uses tensorflow, as predicted", {
  local_clean_env(python = venv_python("py37"))
  res <- with_kerasr_session(kerasr_lib())
  expect_false(res$started_early)
  expect_equal(res$predicted$r$interface$load$outcome, "connects")
  expect_equal(res$predicted$status, "ok")
  expect_equal(res$predicted$backend, "tensorflow")
  expect_true("kerasr-imports-keras" %in% res$predicted$problems$code)
  expect_true(res$loaded)
  expect_true(res$connected)
  expect_equal(res$backend, "tensorflow")
  # once loaded: detected as the loaded interface, connected, locked
  expect_equal(res$after$r$interface$name, "kerasR")
  expect_equal(res$after$r$interface$source, "loaded")
  expect_true(res$after$r$interface$loaded)
  expect_true(res$after$r$interface$connected)
  expect_equal(res$after$r$interface$load$outcome, "connected")
  expect_true(res$after$locked)
  expect_equal(res$after$backend, "tensorflow")
  expect_equal(res$after$r$via, "in-process")
})

test_that("kerasR with Keras 2.3.1: theano by KERAS_BACKEND and by keras.json, as predicted", {
  venv_python("py37") # skips without it, before the stand-in is built
  lib <- kerasr_lib()
  for (by in c("variable", "keras.json")) {
    home <- local_clean_env(python = venv_python("py37"))
    # Theano compiles nothing: inside R's embedded venv Python it could not
    withr::local_envvar(THEANO_FLAGS = "cxx=")
    if (by == "variable") {
      withr::local_envvar(KERAS_BACKEND = "theano")
    } else {
      write_keras_json(home, '{"backend": "theano"}')
    }
    res <- with_kerasr_session(lib)
    expect_equal(res$predicted$backend, "theano")
    expect_equal(res$predicted$status, "ok")
    expect_equal(res$predicted$source, if (by == "variable") "environment" else "config")
    expect_equal(res$predicted$r$interface$load$outcome, "connects")
    expect_true(res$connected)
    expect_equal(res$backend, "theano")
    expect_equal(res$after$backend, "theano")
  }
})

test_that("kerasR: kbackend's setter before library(kerasR) chooses the backend", {
  local_clean_env(python = venv_python("py37"))
  withr::local_envvar(THEANO_FLAGS = "cxx=")
  lib <- kerasr_lib()
  res <- with_kerasr_session(lib, setup = function() {
    suppressMessages(kbackend::use_keras_backend("theano", interface = "kerasR"))
  })
  expect_false(res$started_early)
  expect_equal(res$predicted$backend, "theano")
  expect_true(res$connected)
  expect_equal(res$backend, "theano")

  # the installed kerasR is found without naming it
  res <- with_kerasr_session(lib, setup = function() {
    suppressMessages(kbackend::use_keras_backend("theano"))
  })
  expect_equal(res$predicted$r$interface$name, "kerasR")
  expect_equal(res$backend, "theano")
})

test_that("kerasR: after it connected, the backend is locked and a change is refused", {
  local_clean_env(python = venv_python("py37"))
  res <- with_kerasr_session(kerasr_lib(), after = function() {
    e <- tryCatch(kbackend::use_keras_backend("theano"), error = identity)
    list(class = class(e), backend = Sys.getenv("KERAS_BACKEND", NA))
  })
  expect_true(res$connected)
  expect_equal(res$backend, "tensorflow")
  expect_true(res$after$locked)
  expect_true("kbackend_error_locked" %in% res$later$class)
  expect_true(is.na(res$later$backend))
})

test_that("kerasR: Theano in R's embedded venv Python fails, so kerasR loads unconnected, as predicted", {
  local_clean_env(python = venv_python("py37"))
  withr::local_envvar(KERAS_BACKEND = "theano")
  res <- with_kerasr_session(kerasr_lib())
  expect_equal(res$predicted$status, "error")
  expect_equal(res$predicted$problems$code[[1]], "theano-embedded-headers")
  expect_equal(res$predicted$r$interface$load$outcome, "unconnected")
  expect_true("kerasr-unconnected" %in% res$predicted$problems$code)
  # the load succeeds, without a connection: kerasR says "keras not available"
  expect_true(res$loaded)
  expect_false(res$connected)
  expect_true(any(grepl("keras not available", res$messages, fixed = TRUE)))
  expect_false(res$after$r$interface$connected)
  expect_equal(res$after$r$interface$load$outcome, "not-connected")
  expect_equal(res$after$problems$code[[1]], "kerasr-not-connected")
  expect_match(res$after$problems$fix[[1]], "kerasR::keras_init()", fixed = TRUE)
  expect_equal(res$after$status, "error")
})

test_that("kerasR: a Python without keras loads kerasR unconnected, as predicted", {
  python <- test_python_with_numpy()
  local_clean_env(python = python)
  # reticulate before 1.38 cannot read NumPy 2: then numpy, checked first, is
  # what the fix names (kerasR's own numpy check fails before its keras import)
  numpy <- withr::with_envvar(python_subprocess_env(python), system2(
    python, c("-c", shQuote("import numpy; print(numpy.__version__)")), stdout = TRUE
  ))
  numpy_unreadable <- as.integer(sub("[.].*", "", numpy[[length(numpy)]])) >= 2 &&
    utils::packageVersion("reticulate") < "1.38"
  res <- with_kerasr_session(kerasr_lib())
  expect_equal(res$predicted$error, "ModuleNotFoundError: No module named 'keras'")
  expect_equal(res$predicted$r$interface$load$outcome, "unconnected")
  expect_true("kerasr-unconnected" %in% res$predicted$problems$code)
  expect_true(res$loaded)
  expect_false(res$connected)
  expect_true(any(grepl("keras not available", res$messages, fixed = TRUE)))
  expect_null(res$backend)
  expect_equal(res$after$r$interface$load$outcome, "not-connected")
  expect_equal(res$after$problems$code[[1]], "kerasr-not-connected")
  expect_match(res$after$problems$fix[[1]], if (numpy_unreadable) "numpy<2" else "kerasR::keras_init()",
               fixed = TRUE)
})

test_that("the interface argument takes kerasR, and kerasR changes no variable", {
  local_clean_env(python = test_python())
  withr::local_envvar(KERAS_PYTHON = "/nonexistent/python", TENSORFLOW_PYTHON = "/nonexistent/python")
  res <- in_fresh_r(function() {
    info <- kbackend::backend_info(interface = "kerasR")
    list(r = info$r$interface, record = info$interface, python = info$r$python, codes = info$problems$code)
  })
  expect_equal(res$r$name, "kerasR")
  expect_equal(res$r$source, "argument")
  expect_false(res$r$loaded)
  expect_true(is.na(res$r$connected))
  expect_equal(res$record$module, "keras")
  expect_length(res$record$steps, 0)
  # kerasR does not copy KERAS_PYTHON or TENSORFLOW_PYTHON over RETICULATE_PYTHON
  expect_equal(res$python, test_python())
  expect_false("keras-python-overrides" %in% res$codes)
})

test_that("the report says what kerasR's load will do, and whether it connected", {
  before <- list(name = "kerasR", version = "0.8.0", loaded = FALSE, connected = NA,
                 source = "installed", module = "keras", load = list(outcome = "fails"))
  expect_match(interface_text(before), "not loaded yet: answered as after its load; its load will fail",
               fixed = TRUE)
  after <- modifyList(before, list(loaded = TRUE, connected = FALSE, source = "loaded",
                                   load = list(outcome = "not-connected")))
  expect_equal(interface_text(after), "kerasR 0.8.0 (loaded, not connected), imports keras")
  # other interfaces have no load outcome: "load" must not match "loaded"
  keras3 <- list(name = "keras3", version = "1.5.1", loaded = TRUE, connected = NA,
                 source = "loaded", module = "keras")
  expect_equal(interface_text(keras3), "keras3 1.5.1 (loaded), imports keras")
})
