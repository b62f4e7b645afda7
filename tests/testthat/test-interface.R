# The answer before library(keras3) / library(keras) equals what the interface
# then does. The interfaces are the stand-ins of tests/standins (see
# helper-standins.R): minimal packages that do exactly the documented
# load-time steps of keras3 1.x, the legacy keras 2.x and R tensorflow. Each
# test runs in a fresh R process: ask kbackend (Python must not start), load
# the interface, then let the interface import real Keras through its own
# delay-loaded module and ask Keras.

# Run `fun(setup, after)` in a fresh R session that sees the stand-ins.
with_interface_session <- function(lib, load, setup = function() NULL,
                                   after = function() NULL, ask = list()) {
  environment(setup) <- globalenv()
  environment(after) <- globalenv()
  callr::r(
    function(setup, after, load, ask) {
      setup()
      predicted <- do.call(kbackend::backend_info, ask)
      started_early <- reticulate::py_available(initialize = FALSE)
      loaded <- tryCatch({
        loadNamespace(load)
        TRUE
      }, error = function(e) conditionMessage(e))
      if (!isTRUE(loaded)) {
        return(list(predicted = unclass(predicted), started_early = started_early, load_error = loaded))
      }
      after()
      env_after_load <- as.list(Sys.getenv(c("KERAS_BACKEND", "KERAS_HOME", "RETICULATE_PYTHON",
                                             "TF_CPP_MIN_LOG_LEVEL", "KERAS_IMPLEMENTATION")))
      keras <- getExportedValue(load, "keras")
      actual <- tryCatch(list(backend = keras$backend$backend(), error = NULL),
                         error = function(e) list(backend = NULL, error = conditionMessage(e)))
      config <- reticulate::py_config()
      home <- tryCatch(
        reticulate::import("keras.src.backend.config")$keras_home(),
        error = function(e) NULL
      )
      list(
        predicted = unclass(predicted), started_early = started_early,
        env_after_load = env_after_load, actual = actual, python = config$python,
        keras_home = home, after = unclass(kbackend::backend_info())
      )
    },
    args = list(setup = setup, after = after, load = load, ask = ask),
    libpath = c(lib, .libPaths()), show = FALSE
  )
}

problem_codes <- function(record) record$problems$code

test_that("keras3: its default backend beats keras.json, as after library(keras3)", {
  home <- local_clean_env(python = venv_python("main"))
  lib <- local_standins()
  write_keras_json(home, '{"backend": "jax"}')
  res <- with_interface_session(lib, "keras3")
  expect_false(res$started_early)
  expect_equal(res$predicted$r$interface$name, "keras3")
  expect_equal(res$predicted$r$interface$source, "installed")
  expect_equal(res$predicted$backend, "tensorflow")
  expect_equal(res$predicted$source, "interface")
  expect_equal(res$actual$backend, "tensorflow")
  expect_equal(res$env_after_load$KERAS_BACKEND, "tensorflow")
  expect_true("keras3-ignores-config-backend" %in% problem_codes(res$predicted))
  expect_equal(res$after$backend, "tensorflow")
  expect_true(res$after$r$interface$loaded)
})

test_that("keras3: jax-cpu and jax-gpu mean jax", {
  venv_python("main") # skips without it, before the stand-ins are built
  lib <- local_standins()
  for (given in c("jax-cpu", "jax-gpu")) {
    local_clean_env(python = venv_python("main"))
    withr::local_envvar(KERAS_BACKEND = given)
    res <- with_interface_session(lib, "keras3")
    expect_equal(res$predicted$backend, "jax")
    expect_equal(res$predicted$status, "ok")
    expect_equal(res$actual$backend, "jax")
    expect_equal(res$env_after_load$KERAS_BACKEND, "jax")
  }
})

test_that("keras3: KERAS_HOME moves to R's cache dir when ~/.keras does not exist", {
  local_clean_env(python = venv_python("main"))
  lib <- local_standins()
  res <- with_interface_session(lib, "keras3")
  expect_equal(res$predicted$keras_home, res$env_after_load$KERAS_HOME)
  expect_equal(res$predicted$keras_home, res$keras_home)
  expect_equal(res$predicted$config_path, file.path(res$keras_home, "keras.json"))
  expect_true("keras3-keras-home" %in% problem_codes(res$predicted))
  expect_equal(res$predicted$variables$TF_CPP_MIN_LOG_LEVEL, res$env_after_load$TF_CPP_MIN_LOG_LEVEL)

  # with ~/.keras there, nothing moves
  home <- local_clean_env(python = venv_python("main"))
  dir.create(file.path(home, ".keras"))
  res <- with_interface_session(lib, "keras3")
  expect_equal(res$env_after_load$KERAS_HOME, "")
  expect_equal(res$predicted$keras_home, res$keras_home)
})

test_that("keras3 1.2: no backend or home step, keras.json wins", {
  home <- local_clean_env(python = venv_python("main"))
  lib <- local_standins(versions = c(keras3 = "1.2.0"))
  write_keras_json(home, '{"backend": "jax"}')
  res <- with_interface_session(lib, "keras3")
  expect_equal(res$predicted$r$interface$version, "1.2.0")
  expect_equal(res$predicted$backend, "jax")
  expect_equal(res$actual$backend, "jax")
})

test_that("keras3: KERAS_PYTHON replaces RETICULATE_PYTHON, and kbackend says so", {
  local_clean_env(python = test_python())
  withr::local_envvar(KERAS_PYTHON = venv_python("main"))
  lib <- local_standins()
  res <- with_interface_session(lib, "keras3")
  expect_equal(res$predicted$r$python, venv_python("main"))
  expect_equal(res$python, venv_python("main"))
  expect_equal(res$predicted$keras$version, res$after$keras$version)
  expect_true("keras-python-overrides" %in% problem_codes(res$predicted))
})

test_that("keras3: reticulate's discovery prefers the r-keras virtualenv, before and after load", {
  home <- local_clean_env(python = NULL)
  venvs <- file.path(home, ".virtualenvs")
  dir.create(venvs)
  file.symlink(dirname(dirname(venv_python("main"))), file.path(venvs, "r-keras"))
  withr::local_envvar(WORKON_HOME = venvs, PATH = paste(dirname(test_python()), Sys.getenv("PATH"), sep = ":"))
  lib <- local_standins()
  res <- with_interface_session(lib, "keras3")
  expected <- file.path(venvs, "r-keras", "bin", "python")
  expect_equal(normalizePath(res$python), normalizePath(expected))
  expect_equal(normalizePath(res$predicted$r$python), normalizePath(res$python))
  expect_equal(res$predicted$backend, res$actual$backend)
})

test_that("keras3 loaded after Python started: TensorFlow imports Keras first", {
  # reticulate imports at once when Python runs: loading R tensorflow imports
  # TensorFlow 2.21, which imports Keras with Python's environment as it is,
  # before keras3 sets KERAS_BACKEND -- so keras.json's backend wins here.
  home <- local_clean_env(python = venv_python("main"))
  lib <- local_standins()
  write_keras_json(home, '{"backend": "jax"}')
  res <- with_interface_session(lib, "keras3", setup = function() reticulate::py_config())
  expect_equal(res$predicted$r$via, "in-process")
  expect_equal(res$predicted$keras_home, res$keras_home)
  expect_equal(res$predicted$backend, "jax")
  expect_equal(res$actual$backend, "jax")

  # with R tensorflow loaded first, keras3's own import comes after its step
  res <- with_interface_session(lib, "keras3", setup = function() {
    loadNamespace("tensorflow")
    reticulate::py_config()
  })
  expect_equal(res$predicted$backend, "tensorflow")
  expect_equal(res$actual$backend, "tensorflow")
})

test_that("keras3: persist = TRUE writes keras.json and warns that keras3 overrides it", {
  home <- local_clean_env(python = venv_python("main"))
  lib <- local_standins()
  dir.create(file.path(home, ".keras"))
  res <- callr::r(function() {
    w <- tryCatch(kbackend::use_keras_backend("jax", persist = TRUE), warning = identity)
    list(class = class(w), env = Sys.getenv("KERAS_BACKEND"))
  }, libpath = c(lib, .libPaths()), show = FALSE)
  expect_true("kbackend_warning_keras3_overrides" %in% res$class)
  expect_equal(res$env, "jax")
  expect_equal(jsonlite::read_json(file.path(home, ".keras", "keras.json"))$backend, "jax")
  # the next session has no KERAS_BACKEND: keras3 uses tensorflow, as predicted
  res <- with_interface_session(lib, "keras3")
  expect_equal(res$predicted$backend, "tensorflow")
  expect_equal(res$actual$backend, "tensorflow")
})

test_that("keras3 needing a newer reticulate: flagged, and loading it fails", {
  local_clean_env(python = venv_python("main"))
  lib <- local_standins(reticulate_requirement = "(>= 99.0)", which = c("tensorflow", "keras3"))
  res <- with_interface_session(lib, "keras3")
  expect_true("reticulate-too-old" %in% problem_codes(res$predicted))
  expect_match(res$load_error, "reticulate")
})

test_that("legacy keras: tf.keras by default, whatever keras.json or KERAS_BACKEND say", {
  venv_python("py37") # skips without it, before the stand-ins are built
  lib <- local_standins(which = c("tensorflow", "keras"))
  for (case in list(list(json = '{"backend": "theano"}', env = NA), list(json = NULL, env = "cntk"))) {
    home <- local_clean_env(python = venv_python("py37"))
    if (!is.null(case$json)) write_keras_json(home, case$json)
    withr::local_envvar(KERAS_BACKEND = case$env)
    res <- with_interface_session(lib, "keras")
    expect_false(res$started_early)
    expect_equal(res$predicted$r$interface$module, "tensorflow.keras")
    expect_equal(res$predicted$backend, "tensorflow")
    expect_equal(res$predicted$status, "ok")
    expect_equal(res$actual$backend, "tensorflow")
    expect_true("keras-implementation-tensorflow" %in% problem_codes(res$predicted))
    # once tf.keras is loaded, the backend is locked for this interface
    expect_true(res$after$locked)
  }
})

test_that("legacy keras: use_keras_backend('theano') also sets KERAS_IMPLEMENTATION", {
  local_clean_env(python = venv_python("py37"))
  lib <- local_standins(which = c("tensorflow", "keras"))
  withr::local_envvar(THEANO_FLAGS = "cxx=")
  res <- with_interface_session(lib, "keras", setup = function() {
    suppressMessages(kbackend::use_keras_backend("theano"))
  })
  expect_equal(res$env_after_load$KERAS_IMPLEMENTATION, "keras")
  expect_equal(res$predicted$backend, "theano")
  expect_equal(res$predicted$status, "ok")
  expect_equal(res$actual$backend, "theano")
})

test_that("legacy keras: Theano in R's embedded venv Python fails to compile, as predicted", {
  local_clean_env(python = venv_python("py37"))
  lib <- local_standins(which = c("tensorflow", "keras"))
  withr::local_envvar(KERAS_IMPLEMENTATION = "keras", KERAS_BACKEND = "theano")
  res <- with_interface_session(lib, "keras")
  expect_equal(res$predicted$status, "error")
  expect_equal(res$predicted$problems$code[[1]], "theano-embedded-headers")
  expect_null(res$actual$backend)
  expect_match(res$actual$error, "Compilation failed")
  expect_match(res$actual$error, "Python.h")
  expect_equal(sub(":.*", "", res$predicted$error), "Exception")
})

test_that("legacy keras: a change after tf.keras loaded is refused", {
  local_clean_env(python = venv_python("py37"))
  lib <- local_standins(which = c("tensorflow", "keras"))
  res <- callr::r(function() {
    interface <- "keras" # a variable: R CMD check would list a literal as a dependency
    loadNamespace(interface)
    first <- getExportedValue("keras", "k_backend")()
    info <- kbackend::backend_info()
    e <- tryCatch(kbackend::use_keras_backend("theano"), error = identity)
    list(first = first, locked = info$locked, locked_by = info$locked_by,
         class = class(e), implementation = Sys.getenv("KERAS_IMPLEMENTATION", NA))
  }, libpath = c(lib, .libPaths()), show = FALSE)
  expect_equal(res$first, "tensorflow")
  expect_true(res$locked)
  expect_true(any(c("tensorflow.python.keras", "tensorflow_core.keras") %in% res$locked_by))
  expect_true("kbackend_error_locked" %in% res$class)
  expect_true(is.na(res$implementation))
})

test_that("legacy keras with Keras 3: the backend follows Keras 3, and it is flagged", {
  local_clean_env(python = venv_python("main"))
  lib <- local_standins(which = c("tensorflow", "keras"))
  withr::local_envvar(KERAS_BACKEND = "jax")
  res <- with_interface_session(lib, "keras")
  expect_equal(res$predicted$backend, "jax")
  expect_equal(res$actual$backend, "jax")
  expect_true("keras-legacy-with-keras3" %in% problem_codes(res$predicted))
})

test_that("legacy keras 2.15 on reticulate 1.28: flagged, and loading it fails", {
  local_clean_env(python = venv_python("py37"))
  lib <- local_standins(reticulate_requirement = "(>= 1.31)", which = c("tensorflow", "keras"))
  res <- with_interface_session(lib, "keras")
  expect_true("reticulate-too-old" %in% problem_codes(res$predicted))
  expect_match(res$load_error, "reticulate")
})

test_that("the interface argument, then the loaded interface, decide", {
  local_clean_env(python = venv_python("main"))
  lib <- local_standins()
  res <- callr::r(function() {
    plain <- kbackend::backend_info(interface = "reticulate")
    loadNamespace("keras")
    loaded <- kbackend::backend_info(interface = "keras3")
    list(plain = plain$r$interface, loaded = loaded$r$interface,
         plain_record = plain$interface)
  }, libpath = c(lib, .libPaths()), show = FALSE)
  expect_equal(res$plain$name, "reticulate")
  expect_equal(res$plain$source, "argument")
  expect_null(res$plain_record)
  expect_equal(res$loaded$name, "keras")
  expect_equal(res$loaded$source, "loaded")
  expect_equal(res$loaded$version, "2.15.0")
})

test_that("interface facts reach the module on both paths alike", {
  home <- local_clean_env(python = venv_python("main"))
  lib <- local_standins()
  write_keras_json(home, '{"backend": "jax"}')
  res <- callr::r(function() {
    # R tensorflow loaded first: with Python running, keras3's own import of
    # Keras then comes after its KERAS_BACKEND step, as before Python starts
    loadNamespace("tensorflow")
    before <- kbackend::backend_info()
    reticulate::py_config()
    after <- kbackend::backend_info()
    list(before = unclass(before), after = unclass(after))
  }, libpath = c(lib, .libPaths()), show = FALSE)
  fields <- c("backend", "source", "status", "config_path")
  expect_equal(res$after$r$via, "in-process")
  expect_equal(res$before[fields], res$after[fields])
})

test_that("R knows the interfaces, and sends the variables, the Python module reads", {
  python_facts <- python_module_value("from kbackend import interfaces",
                                      "[interfaces.NAMES, interfaces.R_VARIABLES]")
  expect_setequal(python_facts[[1]], interface_names)
  expect_identical(python_facts[[2]], interface_r_variables)
})
