# skip_if_no_keras_backend() and skip_if_keras_locked(): a skip carries
# kbackend's reason, and asking never starts Python or writes keras.json.

# The skip message `expr` signals, or NULL when it lets the test go on.
skip_message <- function(expr) {
  tryCatch({
    force(expr)
    NULL
  }, skip = function(e) sub("^Reason: ", "", conditionMessage(e)))  # testthat's prefix
}

test_that("in the lab: a usable backend goes on, others skip with kbackend's reason", {
  python <- venv_python("main")
  home <- local_clean_env(python)
  before <- tree_digest(home)
  res <- in_fresh_r(function(skip_message) {
    out <- list(
      jax = skip_message(kbackend::skip_if_no_keras_backend("jax")),
      torch = skip_message(kbackend::skip_if_no_keras_backend("torch")),
      session = skip_message(kbackend::skip_if_no_keras_backend()),
      openvino = skip_message(kbackend::skip_if_no_keras_backend("openvino")),
      misspelt = skip_message(kbackend::skip_if_no_keras_backend("Jax")),
      keras3 = skip_message(kbackend::skip_if_no_keras_backend("jax", interface = "keras3")),
      locked = skip_message(kbackend::skip_if_keras_locked())
    )
    Sys.setenv(KERAS_BACKEND = "openvino")
    out$session_openvino <- skip_message(kbackend::skip_if_no_keras_backend())
    out$reticulate_loaded <- isNamespaceLoaded("reticulate")
    out$started <- isNamespaceLoaded("reticulate") && reticulate::py_available(initialize = FALSE)
    out
  }, args = list(skip_message = skip_message))
  expect_null(res$jax)
  expect_null(res$torch)
  expect_null(res$session)
  expect_null(res$keras3)
  expect_null(res$locked)
  # the reasons are those of use_keras_backend()'s refusals
  expect_match(res$openvino, "^openvino: With KERAS_BACKEND='openvino', import keras would fail: ModuleNotFoundError: No module named 'openvino'")
  expect_match(res$misspelt, "^Jax: 'Jax' is not a backend Keras 3.15.1 can load.*Did you mean 'jax'\\?")
  expect_match(res$session_openvino, "^openvino: .*'openvino'")
  expect_false(res$started)
  expect_identical(tree_digest(home), before)  # no keras.json, nothing written
})

test_that("without Keras every backend skips, saying Keras is not installed", {
  python <- test_python()
  home <- local_clean_env(python)
  before <- tree_digest(home)
  res <- in_fresh_r(function(skip_message) {
    list(
      jax = skip_message(kbackend::skip_if_no_keras_backend("jax")),
      session = skip_message(kbackend::skip_if_no_keras_backend()),
      started = isNamespaceLoaded("reticulate") && reticulate::py_available(initialize = FALSE)
    )
  }, args = list(skip_message = skip_message))
  expect_match(res$jax, "^jax: Keras is not installed for ")
  expect_match(res$session, "^tensorflow: Keras is not installed for ")
  expect_false(res$started)
  expect_identical(tree_digest(home), before)
})

test_that("without any Python the skip says so", {
  home <- local_clean_env(NULL)
  empty <- withr::local_tempdir("kbackend-no-python-")
  withr::local_envvar(PATH = empty, RETICULATE_PYTHON = file.path(empty, "python3"))
  reason <- skip_message(skip_if_no_keras_backend("jax"))
  expect_type(reason, "character")
  expect_match(reason, "python", ignore.case = TRUE)
  expect_false(grepl("\n", reason, fixed = TRUE))
})

test_that("skip_if_keras_locked() skips once Keras is loaded, and says with what", {
  python <- venv_python("main")
  local_clean_env(python)
  res <- in_fresh_r(function(skip_message) {
    Sys.setenv(KERAS_BACKEND = "numpy")
    reticulate::py_config()
    unlocked <- skip_message(kbackend::skip_if_keras_locked())
    reticulate::import("keras")
    list(unlocked = unlocked, locked = skip_message(kbackend::skip_if_keras_locked()),
         other = skip_message(kbackend::skip_if_no_keras_backend("jax")),
         same = skip_message(kbackend::skip_if_no_keras_backend("numpy")))
  }, args = list(skip_message = skip_message))
  expect_null(res$unlocked)
  expect_match(res$locked, "Keras is already loaded in this R session (imported via: keras) with the 'numpy' backend",
               fixed = TRUE)
  expect_match(res$other, "^jax: Keras is already loaded in this process")
  expect_null(res$same)
})

test_that("bad arguments are errors, not skips", {
  local_clean_env(NULL)
  expect_error(skip_if_no_keras_backend(NA_character_), class = "kbackend_error_bad_argument")
  expect_error(skip_if_no_keras_backend(c("jax", "torch")), class = "kbackend_error_bad_argument")
  expect_error(skip_if_no_keras_backend("jax", interface = "nope"), class = "kbackend_error_bad_argument")
})
