# usable_keras_backends(): R lays out what `python -m kbackend matrix`
# answers (held against real Keras in tests/python/test_matrix.py), the same
# before and after Python has started.

# The module's own answer, from the command line, as a list.
cli_matrix <- function(python, args = character()) {
  result <- run_kbackend_cli(python, c("matrix", "--details", args))
  expect_equal(result$status, 0L)
  jsonlite::fromJSON(result$stdout, simplifyVector = FALSE)
}

test_that("usable_keras_backends() is the module's matrix, before and after Python starts", {
  python <- venv_python("main")
  local_clean_env(python)
  expected <- cli_matrix(python)
  res <- in_fresh_r(function() {
    before <- kbackend::usable_keras_backends(details = TRUE)
    names_before <- kbackend::usable_keras_backends()
    started_before <- reticulate::py_available(initialize = FALSE)
    reticulate::py_config()
    after <- kbackend::usable_keras_backends(details = TRUE)
    list(before = before, names_before = names_before, started_before = started_before,
         after = after, names_after = kbackend::usable_keras_backends(),
         keras_loaded = reticulate::py_eval("'keras' in __import__('sys').modules"))
  })
  expect_false(res$started_before)  # asking did not start Python
  expect_false(res$keras_loaded)    # nor import Keras in it
  want <- vapply(expected$backend, identity, "")
  expect_equal(res$names_before, want)
  expect_equal(res$names_after, want)
  expect_true(all(c("tensorflow", "jax", "torch") %in% want))  # what .venv holds
  frame <- res$before
  expect_s3_class(frame, "data.frame")
  expect_named(frame, c("backend", "usable", "reason", "error_class", "code"))
  expect_equal(frame$backend, vapply(expected$candidates, function(c) c$backend, ""))
  expect_equal(frame$usable, vapply(expected$candidates, function(c) c$usable, NA))
  expect_equal(frame$reason, vapply(expected$candidates, function(c) c$reason %||% NA_character_, ""))
  expect_equal(frame$code, vapply(expected$candidates, function(c) c$code %||% NA_character_, ""))
  expect_true(all(is.na(frame$reason[frame$usable])))
  expect_true(all(nzchar(frame$reason[!frame$usable])))
  expect_equal(attr(frame, "keras")$version, expected$keras$version)
  # in-process, the same data; only the interpreter's path may be spelled apart
  after <- res$after
  after$reason <- gsub(dirname(dirname(attr(after, "python"))), dirname(dirname(attr(frame, "python"))),
                       after$reason, fixed = TRUE)
  attr(after, "python") <- attr(frame, "python")
  expect_equal(after, frame)
})

test_that("usable_keras_backends(backends) judges the names given", {
  python <- venv_python("main")
  local_clean_env(python)
  frame <- usable_keras_backends(c("JAX", "jax", "theano"), details = TRUE)
  expected <- cli_matrix(python, c("JAX", "jax", "theano"))
  expect_equal(frame$backend, c("JAX", "jax", "theano"))
  expect_equal(frame$usable, c(FALSE, TRUE, FALSE))
  expect_equal(frame$reason[1], expected$candidates[[1]]$reason)
  expect_match(frame$reason[1], "Did you mean 'jax'?", fixed = TRUE)
  expect_equal(frame$error_class[3], "InvalidBackendError")
  expect_equal(usable_keras_backends("jax"), "jax")
})

test_that("without Keras no backend would import, and the reason says so", {
  python <- test_python()
  local_clean_env(python)
  expect_identical(usable_keras_backends(), character(0))
  frame <- usable_keras_backends(details = TRUE)
  expect_false(any(frame$usable))
  expect_match(frame$reason, "Keras is not installed", fixed = TRUE)
})

test_that("usable_keras_backends() refuses bad arguments before looking for Python", {
  local_clean_env(NULL)
  for (bad in list(NA_character_, 1, character(), c("jax", " jax"), list("jax"), "$(touch x)")) {
    expect_error(usable_keras_backends(bad), class = "kbackend_error_bad_argument")
  }
  expect_error(usable_keras_backends(details = NA), class = "kbackend_error_bad_argument")
  expect_error(usable_keras_backends(interface = "keras4"), class = "kbackend_error_bad_argument")
})
