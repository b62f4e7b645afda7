test_that("bad arguments are refused before anything happens", {
  local_clean_env()
  withr::local_envvar(KERAS_BACKEND = "sentinel")
  bad <- list(
    NA, NA_character_, NULL, character(), c("jax", "torch"), 1, 1L, TRUE,
    "", " ", " jax", "jax ", "ja x", "jax\n", "jax;rm -rf ~", "$(touch x)",
    "`x`", "jax|cat", "'jax'", "\"jax\"", "../jax", "-jax", "--persist",
    factor("jax"), list("jax")
  )
  for (backend in bad) {
    expect_error(use_keras_backend(backend), class = "kbackend_error_bad_argument")
    expect_error(check_keras_backend(backend), class = "kbackend_error_bad_argument")
  }
  for (persist in list(NA, NULL, "yes", c(TRUE, FALSE), 1)) {
    expect_error(
      use_keras_backend("jax", persist = persist),
      class = "kbackend_error_bad_argument"
    )
  }
  err <- expect_error(use_keras_backend(c("jax", "torch")))
  expect_s3_class(err, "kbackend_error")
  expect_match(conditionMessage(err), "length 2")
  expect_equal(Sys.getenv("KERAS_BACKEND"), "sentinel")
  expect_false(file.exists("x"))
  # none of this started Python (or even loaded reticulate)
  expect_false(isNamespaceLoaded("reticulate") &&
                 reticulate::py_available(initialize = FALSE))
})

test_that("before Python starts: validates in a subprocess, sets R, starts nothing", {
  local_clean_env()
  res <- in_fresh_r(function() {
    first <- withVisible(kbackend::use_keras_backend("numpy"))
    after_first <- Sys.getenv("KERAS_BACKEND")
    second <- kbackend::use_keras_backend("numpy")
    list(
      first = first,
      after_first = after_first,
      second = second,
      started = reticulate::py_available(initialize = FALSE),
      info = unclass(kbackend::backend_info())
    )
  })
  expect_false(res$first$visible)
  expect_identical(res$first$value, NA_character_)
  expect_equal(res$after_first, "numpy")
  expect_equal(res$second, "numpy")
  expect_false(res$started)
  expect_equal(res$info$backend, "numpy")
  expect_equal(res$info$source, "environment")
})

test_that("refusals are classed and change nothing", {
  local_clean_env()
  withr::local_envvar(KERAS_BACKEND = "tensorflow")
  res <- in_fresh_r(function() {
    catch <- function(expr) tryCatch(expr, error = function(e) {
      list(class = class(e), message = conditionMessage(e))
    })
    list(
      invalid = catch(kbackend::use_keras_backend("JAX")),
      theano = catch(kbackend::use_keras_backend("theano")),
      missing = catch(kbackend::use_keras_backend("openvino")),
      check = catch(kbackend::check_keras_backend("JAX")),
      env = Sys.getenv("KERAS_BACKEND"),
      started = reticulate::py_available(initialize = FALSE)
    )
  })
  expect_true(all(c("kbackend_error_invalid_backend", "kbackend_error") %in% res$invalid$class))
  expect_match(res$invalid$message, "jax", fixed = TRUE)
  expect_true("kbackend_error_invalid_backend" %in% res$theano$class)
  expect_true(all(c("kbackend_error_not_installed", "kbackend_error") %in% res$missing$class))
  expect_match(res$missing$message, "openvino", fixed = TRUE)
  expect_true("kbackend_error_invalid_backend" %in% res$check$class)
  expect_equal(res$env, "tensorflow")
  expect_false(res$started)
})

test_that("check_keras_backend() validates and changes nothing", {
  local_clean_env()
  res <- in_fresh_r(function() {
    value <- withVisible(kbackend::check_keras_backend("numpy"))
    list(value = value, env = Sys.getenv("KERAS_BACKEND", unset = NA),
         started = reticulate::py_available(initialize = FALSE))
  })
  expect_equal(res$value$value, "numpy")
  expect_false(res$value$visible)
  expect_identical(res$env, NA_character_)
  expect_false(res$started)
})

test_that("persist = TRUE writes keras.json, which later sessions read", {
  home <- local_clean_env()
  res <- in_fresh_r(function() {
    msg <- NULL
    withCallingHandlers(
      kbackend::use_keras_backend("numpy", persist = TRUE),
      message = function(m) {
        msg <<- conditionMessage(m)
        invokeRestart("muffleMessage")
      }
    )
    list(msg = msg, started = reticulate::py_available(initialize = FALSE))
  })
  path <- file.path(home, ".keras", "keras.json")
  expect_true(file.exists(path))
  expect_equal(jsonlite::fromJSON(path)$backend, "numpy")
  expect_match(res$msg, "keras.json", fixed = TRUE)
  expect_false(res$started)
  later <- in_fresh_r(function() unclass(kbackend::backend_info()))
  expect_equal(later$backend, "numpy")
  expect_equal(later$source, "config")
})

test_that("after Python started: sets os.environ too, in-process", {
  local_clean_env()
  res <- in_fresh_r(function() {
    reticulate::py_config()
    previous <- kbackend::use_keras_backend("numpy")
    os <- reticulate::import("os")
    info <- kbackend::backend_info()
    list(
      previous = previous,
      r = Sys.getenv("KERAS_BACKEND"),
      python = os$environ$get("KERAS_BACKEND"),
      info = unclass(info)
    )
  })
  expect_identical(res$previous, NA_character_)
  expect_equal(res$r, "numpy")
  expect_equal(res$python, "numpy")
  expect_equal(res$info$r$via, "in-process")
  expect_equal(res$info$backend, "numpy")
  expect_equal(res$info$source, "environment")
  expect_equal(nrow(res$info$r$env_mismatch), 0L)
})

test_that("after Python started: refusals are classed and change nothing", {
  local_clean_env()
  res <- in_fresh_r(function() {
    reticulate::py_config()
    Sys.setenv(KERAS_BACKEND = "tensorflow")
    e <- tryCatch(kbackend::use_keras_backend("JAX"), error = identity)
    list(
      class = class(e),
      r = Sys.getenv("KERAS_BACKEND"),
      python = reticulate::import("os")$environ$get("KERAS_BACKEND")
    )
  })
  expect_true(all(c("kbackend_error_invalid_backend", "kbackend_error") %in% res$class))
  expect_equal(res$r, "tensorflow")
  expect_null(res$python)
})

test_that("persist = TRUE in-process reports where it wrote", {
  home <- local_clean_env()
  res <- in_fresh_r(function() {
    reticulate::py_config()
    msgs <- character()
    withCallingHandlers(
      kbackend::use_keras_backend("numpy", persist = TRUE),
      message = function(m) {
        msgs <<- c(msgs, conditionMessage(m))
        invokeRestart("muffleMessage")
      }
    )
    msgs
  })
  path <- file.path(home, ".keras", "keras.json")
  expect_equal(jsonlite::fromJSON(path)$backend, "numpy")
  expect_match(paste(res, collapse = "\n"), "keras.json", fixed = TRUE)
})
