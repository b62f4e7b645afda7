# The stand-ins for tensorflow, keras3 and legacy keras (tests/standins,
# installed by local_standins()) must do what the real packages do when they
# load, or the tests that use them prove nothing. Each case loads them in a
# fresh R process with a throwaway HOME.

# Run `fun` in a fresh R process that sees the stand-in library `lib`.
in_standins <- function(lib, fun, args = list()) {
  callr::r(fun, args = args, libpath = c(lib, .libPaths()), show = FALSE)
}

# The variables the stand-ins may set, after loading `package` (NA = unset),
# and whether Python was started.
load_and_snapshot <- function(lib, package) {
  in_standins(lib, function(package) {
    loadNamespace(package)
    vars <- c("KERAS_BACKEND", "KERAS_HOME", "KERAS_IMPLEMENTATION",
              "TF_CPP_MIN_LOG_LEVEL", "RETICULATE_PYTHON")
    list(
      env = as.list(Sys.getenv(vars, unset = NA, names = TRUE)),
      python_started = reticulate::py_available(initialize = FALSE)
    )
  }, args = list(package = package))
}

# A fake Python `tensorflow` package whose tensorflow.keras reports
# `backend`, in a new folder under `root` (put the folder on PYTHONPATH).
fake_tensorflow_keras <- function(root, backend) {
  dir <- file.path(root, "faketensorflow")
  dir.create(file.path(dir, "tensorflow", "keras"), recursive = TRUE)
  writeLines("", file.path(dir, "tensorflow", "__init__.py"))
  writeLines(
    c("class backend:", sprintf("    backend = staticmethod(lambda: %s)", deparse(backend))),
    file.path(dir, "tensorflow", "keras", "__init__.py")
  )
  dir
}

# A fake Keras 3 whose keras.config.backend() reads KERAS_BACKEND, as the
# real one does at import.
fake_keras3_body <- c(
  "import os",
  "_backend = os.environ.get('KERAS_BACKEND', 'tensorflow')",
  "class config:",
  "    backend = staticmethod(lambda: _backend)"
)

test_that("keras3 1.5.1 sets the backend, KERAS_HOME and log level without starting Python", {
  lib <- local_standins()
  home <- local_clean_env(python = NULL)
  withr::local_envvar(KERAS_PYTHON = "/nonexistent/keras-python")
  cache <- normalizePath(tools::R_user_dir("keras3", "cache"), mustWork = FALSE)

  state <- load_and_snapshot(lib, "keras3")

  expect_equal(state$env$KERAS_BACKEND, "tensorflow")
  expect_equal(state$env$KERAS_HOME, cache)
  expect_true(startsWith(state$env$KERAS_HOME, home))
  expect_equal(state$env$TF_CPP_MIN_LOG_LEVEL, "2")
  expect_equal(state$env$RETICULATE_PYTHON, "/nonexistent/keras-python")
  expect_false(state$python_started)
  expect_false(dir.exists(file.path(home, ".keras")))
})

test_that("keras3 strips a -cpu or -gpu suffix from KERAS_BACKEND", {
  lib <- local_standins()
  local_clean_env(python = NULL)

  withr::local_envvar(KERAS_BACKEND = "jax-cpu")
  expect_equal(load_and_snapshot(lib, "keras3")$env$KERAS_BACKEND, "jax")
  withr::local_envvar(KERAS_BACKEND = "torch-gpu")
  expect_equal(load_and_snapshot(lib, "keras3")$env$KERAS_BACKEND, "torch")
})

test_that("keras3 leaves KERAS_HOME alone when ~/.keras exists or it is set", {
  lib <- local_standins()
  home <- local_clean_env(python = NULL)

  dir.create(file.path(home, ".keras"))
  expect_true(is.na(load_and_snapshot(lib, "keras3")$env$KERAS_HOME))

  unlink(file.path(home, ".keras"), recursive = TRUE)
  withr::local_envvar(KERAS_HOME = file.path(home, "elsewhere"))
  expect_equal(load_and_snapshot(lib, "keras3")$env$KERAS_HOME, file.path(home, "elsewhere"))
})

test_that("keras3 keeps a TF_CPP_MIN_LOG_LEVEL that is already set", {
  lib <- local_standins()
  local_clean_env(python = NULL)
  withr::local_envvar(TF_CPP_MIN_LOG_LEVEL = "0")

  expect_equal(load_and_snapshot(lib, "keras3")$env$TF_CPP_MIN_LOG_LEVEL, "0")
})

test_that("keras3 before 1.3 only forwards KERAS_PYTHON; 1.3 adds the backend step only", {
  local_clean_env(python = NULL)
  withr::local_envvar(KERAS_PYTHON = "/nonexistent/keras-python")

  old <- load_and_snapshot(local_standins(c(keras3 = "1.2.0"), which = "keras3"), "keras3")
  expect_true(is.na(old$env$KERAS_BACKEND))
  expect_true(is.na(old$env$KERAS_HOME))
  expect_true(is.na(old$env$TF_CPP_MIN_LOG_LEVEL))
  expect_equal(old$env$RETICULATE_PYTHON, "/nonexistent/keras-python")

  v13 <- load_and_snapshot(local_standins(c(keras3 = "1.3.0"), which = "keras3"), "keras3")
  expect_equal(v13$env$KERAS_BACKEND, "tensorflow")
  expect_true(is.na(v13$env$KERAS_HOME))
  expect_true(is.na(v13$env$TF_CPP_MIN_LOG_LEVEL))
})

test_that("tensorflow forwards TENSORFLOW_PYTHON, and keras3's KERAS_PYTHON wins after it", {
  lib <- local_standins()
  local_clean_env(python = NULL)
  withr::local_envvar(TENSORFLOW_PYTHON = "/nonexistent/tf-python")

  expect_equal(load_and_snapshot(lib, "tensorflow")$env$RETICULATE_PYTHON, "/nonexistent/tf-python")
  withr::local_envvar(KERAS_PYTHON = "/nonexistent/keras-python")
  expect_equal(load_and_snapshot(lib, "keras3")$env$RETICULATE_PYTHON, "/nonexistent/keras-python")
})

test_that("the stand-ins register their delayed imports as the real releases do", {
  local_clean_env(python = NULL)
  registered <- function(lib, package) {
    in_standins(lib, function(package) {
      loadNamespace(package)
      globals <- get(".globals", envir = asNamespace("reticulate"))
      list(
        module = globals$delay_load_module,
        environment = globals$delay_load_environment,
        priority = globals$delay_load_priority
      )
    }, args = list(package = package))
  }
  lib <- local_standins()
  # "r-keras" only with a reticulate that takes several environments.
  tf_environments <- c(
    "r-tensorflow",
    if (utils::packageVersion("reticulate") >= "1.36.0") "r-keras"
  )
  expect_equal(
    registered(lib, "tensorflow"),
    list(module = "tensorflow", environment = tf_environments, priority = 5)
  )
  expect_equal(
    registered(lib, "keras3"),
    list(module = "keras", environment = "r-keras", priority = 10)
  )
  # keras 2.13+ has no priority, so tensorflow's registration stands.
  expect_equal(registered(lib, "keras")$module, "tensorflow")
  lib_211 <- local_standins(c(keras = "2.11.0"), which = "keras")
  expect_equal(
    registered(lib_211, "keras"),
    list(module = "tensorflow.keras", environment = "r-reticulate", priority = 10)
  )
})

test_that("legacy keras leaves KERAS_BACKEND alone; use_backend() sets backend and implementation", {
  lib <- local_standins()
  local_clean_env(python = NULL)
  withr::local_envvar(KERAS_PYTHON = "/nonexistent/keras-python")

  state <- load_and_snapshot(lib, "keras")
  expect_true(is.na(state$env$KERAS_BACKEND))
  expect_true(is.na(state$env$KERAS_IMPLEMENTATION))
  expect_equal(state$env$RETICULATE_PYTHON, "/nonexistent/keras-python")
  expect_false(state$python_started)

  withr::local_envvar(KERAS_BACKEND = "cntk")
  expect_equal(load_and_snapshot(lib, "keras")$env$KERAS_BACKEND, "cntk")

  after <- in_standins(lib, function() {
    getExportedValue("keras", "use_backend")("theano")
    theano <- Sys.getenv(c("KERAS_BACKEND", "KERAS_IMPLEMENTATION"), unset = NA)
    Sys.unsetenv("KERAS_IMPLEMENTATION")
    getExportedValue("keras", "use_backend")("tensorflow")
    tensorflow <- Sys.getenv(c("KERAS_BACKEND", "KERAS_IMPLEMENTATION"), unset = NA)
    plaidml <- tryCatch(getExportedValue("keras", "use_backend")("plaidml"), error = conditionMessage)
    list(theano = theano, tensorflow = tensorflow, plaidml = plaidml)
  })
  expect_equal(unname(after$theano), c("theano", "keras"))
  expect_equal(unname(after$tensorflow), c("tensorflow", NA))
  expect_match(after$plaidml, "plaidml")
})

test_that("legacy keras resolves its module when first used, from KERAS_IMPLEMENTATION then", {
  lib <- local_standins()
  local_clean_env()
  root <- withr::local_tempdir()
  keras_dir <- fake_keras(root, c(
    "class backend:",
    "    backend = staticmethod(lambda: 'standalone keras')"
  ))
  tf_dir <- fake_tensorflow_keras(root, "tensorflow.keras")
  withr::local_envvar(PYTHONPATH = paste(keras_dir, tf_dir, sep = .Platform$path.sep))

  default <- in_standins(lib, function() getExportedValue("keras", "k_backend")())
  expect_equal(default, "tensorflow.keras")

  # use_backend() after loading still counts, with 2.4+'s warning about a
  # non-tensorflow implementation.
  switched <- in_standins(lib, function() {
    loadNamespace("keras")
    getExportedValue("keras", "use_backend")("theano")
    warnings <- character()
    backend <- withCallingHandlers(
      getExportedValue("keras", "k_backend")(),
      warning = function(w) {
        warnings <<- c(warnings, conditionMessage(w))
        invokeRestart("muffleWarning")
      }
    )
    list(backend = backend, warnings = warnings)
  })
  expect_equal(switched$backend, "standalone keras")
  expect_length(switched$warnings, 1)
  expect_match(switched$warnings, "no longer support the 'keras' Keras implementation")
})

test_that("legacy keras warns about KERAS_IMPLEMENTATION at load from 2.4 only", {
  local_clean_env(python = NULL)
  withr::local_envvar(KERAS_IMPLEMENTATION = "keras")
  load_warnings <- function(lib) {
    in_standins(lib, function() {
      warnings <- character()
      withCallingHandlers(
        loadNamespace("keras"),
        warning = function(w) {
          warnings <<- c(warnings, conditionMessage(w))
          invokeRestart("muffleWarning")
        }
      )
      warnings
    })
  }

  expect_match(load_warnings(local_standins()), "no longer support")
  expect_length(load_warnings(local_standins(c(keras = "2.3.0"), which = "keras")), 0)
})

test_that("keras3 use_backend() refuses a change once its keras proxy was imported", {
  lib <- local_standins()
  local_clean_env()
  root <- withr::local_tempdir()
  withr::local_envvar(PYTHONPATH = fake_keras(root, fake_keras3_body))

  result <- in_standins(lib, function() {
    loadNamespace("keras3")
    reticulate::py_available(initialize = TRUE)
    os <- reticulate::import("os")
    # Python running, keras not imported: both environments change.
    getExportedValue("keras3", "use_backend")("jax")
    before <- c(r = Sys.getenv("KERAS_BACKEND"), py = os$environ$get("KERAS_BACKEND"))
    loaded <- getExportedValue("keras3", "keras")$config$backend()
    refused <- tryCatch(getExportedValue("keras3", "use_backend")("torch"), error = conditionMessage)
    same <- tryCatch(getExportedValue("keras3", "use_backend")("jax"), error = conditionMessage)
    list(before = before, loaded = loaded, refused = refused, same = same,
         after = Sys.getenv("KERAS_BACKEND"))
  })
  expect_equal(result$before, c(r = "jax", py = "jax"))
  expect_equal(result$loaded, "jax")
  expect_match(result$refused, "must be set before keras has inititialized")
  expect_null(result$same)
  expect_equal(result$after, "jax")
})

test_that("keras3 use_backend() does not notice a keras that Python imported itself", {
  # As the real is_keras_loaded(): only the package's own proxy counts.
  lib <- local_standins()
  local_clean_env()
  root <- withr::local_tempdir()
  withr::local_envvar(PYTHONPATH = fake_keras(root, fake_keras3_body))

  result <- in_standins(lib, function() {
    loadNamespace("keras3")
    reticulate::py_run_string("import keras")
    tryCatch({
      getExportedValue("keras3", "use_backend")("torch")
      Sys.getenv("KERAS_BACKEND")
    }, error = conditionMessage)
  })
  expect_equal(result, "torch")
})

test_that("a stand-in requiring a newer reticulate fails to load, naming reticulate", {
  lib <- local_standins(reticulate_requirement = "(>= 1.42.0)")
  local_clean_env(python = NULL)

  result <- in_standins(lib, function() {
    tryCatch({
      loadNamespace("keras3")
      "loaded"
    }, error = conditionMessage)
  })
  expect_match(result, "reticulate")
  expect_match(result, "1.42.0", fixed = TRUE)
})
