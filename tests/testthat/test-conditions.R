test_that("the R class is the code the Python exception carries", {
  expect_equal(r_class_for_python_error("kbackend_error_invalid_backend"), "kbackend_error_invalid_backend")
  expect_equal(r_class_for_python_error("kbackend_error_locked"), "kbackend_error_locked")
  expect_equal(r_class_for_python_error("kbackend_error"), "kbackend_error")
  expect_equal(r_class_for_python_error(NA_character_), "kbackend_error_python")
  expect_equal(r_class_for_python_error(NULL), "kbackend_error_python")
  expect_equal(r_class_for_python_error("ValueError"), "kbackend_error_python")
  expect_equal(r_class_for_python_error(c("kbackend_error", "x")), "kbackend_error_python")
})

test_that("every Python error class's code is an R class kbackend documents", {
  errors <- file.path(kb_python_path(), "kbackend", "errors.py")
  codes <- regmatches(readLines(errors), regexpr("kbackend_error[a-z_]*", readLines(errors)))
  expect_gt(length(codes), 5)
  # documented: named in the installed help pages
  help_text <- paste(vapply(tools::Rd_db("kbackend"), function(rd) {
    paste(as.character(rd), collapse = "")
  }, character(1)), collapse = "\n")
  for (code in codes) {
    expect_equal(r_class_for_python_error(code), code)
    expect_match(help_text, code, fixed = TRUE, label = code)
  }
})

test_that("abort_from_python() raises the classed error with the Python message", {
  err <- expect_error(
    abort_from_python("kbackend_error_locked", "Keras is loaded (by {keras})",
                      python_class = "BackendLockedError", backend = "jax"),
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
