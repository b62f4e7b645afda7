# Ground truth: real Keras, imported through reticulate in a fresh R process,
# must load the backend kbackend set and predicted. Needs the environments
# tools/setup-python.sh builds (see venv_python()); skips without them, and
# on CRAN (fails instead under KBACKEND_STRICT_TESTS=true).

# In a fresh R session: run `setup`, ask kbackend, then import Keras through
# reticulate and ask Keras itself. `setup` runs in that session, so it may
# only use what it names with `::`.
predict_then_import <- function(setup) {
  environment(setup) <- globalenv() # nothing of the test's frame travels
  in_fresh_r(function(setup) {
    setup()
    predicted <- kbackend::backend_info()
    keras <- reticulate::import("keras")
    list(predicted = unclass(predicted), actual = keras$backend$backend())
  }, args = list(setup = setup))
}

test_that("Keras 3 loads the backend set before Python started", {
  local_clean_env(python = venv_python("main"))
  res <- in_fresh_r(function() {
    kbackend::use_keras_backend("jax")
    predicted <- kbackend::backend_info()
    started <- reticulate::py_available(initialize = FALSE)
    keras <- reticulate::import("keras")
    list(
      started_before_import = started,
      predicted = unclass(predicted),
      actual = keras$backend$backend(),
      after = unclass(kbackend::backend_info())
    )
  })
  expect_false(res$started_before_import)
  expect_equal(res$predicted$backend, "jax")
  expect_equal(res$predicted$status, "ok")
  expect_equal(res$predicted$r$via, "subprocess")
  expect_equal(res$actual, "jax")
  expect_true(res$after$locked)
  expect_equal(res$after$backend, "jax")
  expect_equal(res$after$r$via, "in-process")
  expect_true("keras" %in% res$after$locked_by)
})

test_that("Keras 3 loads the backend set after Python started", {
  local_clean_env(python = venv_python("main"))
  res <- predict_then_import(function() {
    reticulate::py_config()
    kbackend::use_keras_backend("jax")
  })
  expect_equal(res$predicted$backend, "jax")
  expect_equal(res$predicted$r$via, "in-process")
  expect_equal(nrow(res$predicted$r$env_mismatch), 0L)
  expect_equal(res$actual, "jax")
})

test_that("a change after import('keras') is refused, naming what loaded Keras", {
  local_clean_env(python = venv_python("main"))
  res <- in_fresh_r(function() {
    keras <- reticulate::import("keras")
    e <- tryCatch(kbackend::use_keras_backend("jax"), error = identity)
    list(
      class = class(e),
      message = conditionMessage(e),
      r = Sys.getenv("KERAS_BACKEND", unset = NA),
      python = reticulate::import("os")$environ$get("KERAS_BACKEND"),
      actual = keras$backend$backend(),
      info = unclass(kbackend::backend_info())
    )
  })
  expect_true(all(c("kbackend_error_locked", "kbackend_error") %in% res$class))
  expect_match(res$message, "keras", fixed = TRUE)
  expect_identical(res$r, NA_character_)
  expect_null(res$python)
  expect_equal(res$actual, "tensorflow")
  expect_equal(res$info$backend, "tensorflow")
  expect_true(res$info$locked)
})

test_that("Sys.setenv() after Python started does not reach Keras, and says so", {
  local_clean_env(python = venv_python("main"))
  res <- in_fresh_r(function() {
    reticulate::py_config()
    Sys.setenv(KERAS_BACKEND = "jax")
    info <- kbackend::backend_info()
    keras <- reticulate::import("keras")
    list(info = unclass(info), actual = keras$backend$backend())
  })
  expect_equal(res$actual, "tensorflow")
  expect_equal(res$info$backend, res$actual)
  expect_equal(res$info$r$env_mismatch$variable, "KERAS_BACKEND")
  expect_true("r-env-mismatch" %in% res$info$problems$code)
})

test_that("persist = TRUE: a later session's Keras reads the backend from keras.json", {
  home <- local_clean_env(python = venv_python("main"))
  in_fresh_r(function() {
    suppressMessages(kbackend::use_keras_backend("torch", persist = TRUE))
  })
  res <- predict_then_import(function() NULL)
  expect_equal(res$predicted$source, "config")
  expect_equal(res$predicted$backend, "torch")
  expect_equal(res$actual, "torch")
  expect_true(file.exists(file.path(home, ".keras", "keras.json")))
})

test_that("Keras 2.3.1 (Python 3.7) loads theano when told to", {
  local_clean_env(python = venv_python("py37"))
  # Theano compiles C helpers on first import. Embedded by reticulate 1.28, a
  # venv's sys.base_prefix is the venv itself, so Theano looks for Python.h
  # there and the compilation fails: compile them once with the interpreter
  # on its own, in a compile dir the R process then reuses.
  compiledir <- withr::local_tempdir("theano-")
  withr::local_envvar(THEANO_FLAGS = paste0("base_compiledir=", compiledir))
  outside <- withr::with_envvar(
    c(python_subprocess_env(venv_python("py37")), KERAS_BACKEND = "theano"),
    system2(venv_python("py37"),
            c("-c", shQuote("import keras; print(keras.backend.backend())")),
            stdout = TRUE, stderr = FALSE)
  )
  expect_equal(outside, "theano")

  res <- predict_then_import(function() kbackend::use_keras_backend("theano"))
  expect_equal(res$predicted$backend, "theano")
  expect_equal(res$predicted$status, "ok")
  expect_equal(res$actual, "theano")
})
