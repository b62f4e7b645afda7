test_that("each Python error class maps to its R class", {
  expect_equal(r_class_for_python_error("InvalidBackendError"), "kbackend_error_invalid_backend")
  expect_equal(r_class_for_python_error("BackendNotInstalledError"), "kbackend_error_not_installed")
  expect_equal(r_class_for_python_error("BackendLockedError"), "kbackend_error_locked")
  expect_equal(r_class_for_python_error("ConfigFileError"), "kbackend_error_config")
  expect_equal(r_class_for_python_error("KBackendError"), "kbackend_error")
  expect_equal(r_class_for_python_error(NA_character_), "kbackend_error_python")
  expect_equal(r_class_for_python_error(NULL), "kbackend_error_python")
})

test_that("abort_from_python() raises the classed error with the Python message", {
  err <- expect_error(
    abort_from_python("BackendLockedError", "Keras is loaded (by {keras})", backend = "jax"),
    class = "kbackend_error_locked"
  )
  expect_s3_class(err, "kbackend_error")
  expect_equal(err$python_class, "BackendLockedError")
  expect_equal(err$backend, "jax")
  # braces in the Python message are text, not cli markup
  expect_match(conditionMessage(err), "Keras is loaded (by {keras})", fixed = TRUE)
})

test_that("kb_abort() always adds the kbackend_error class", {
  err <- expect_error(kb_abort("boom", class = "kbackend_error_python"))
  expect_equal(class(err)[1:2], c("kbackend_error_python", "kbackend_error"))
})
