# The words only R can say (reticulate's choice, the R interface); the rest
# of a report is worded by the Python module (test-info-methods.R).

test_that("text_or() joins values and stands in for absent ones", {
  expect_equal(text_or(NULL), "none")
  expect_equal(text_or(NA, "?"), "?")
  expect_equal(text_or(character(), "?"), "?")
  expect_equal(text_or(c("keras", "tensorflow")), "keras, tensorflow")
})

test_that("r_python_text() says how reticulate chose and how kbackend asked", {
  expect_equal(
    r_python_text(list(reticulate_version = "1.28", python_source = "RETICULATE_PYTHON",
                       python_started = FALSE)),
    "reticulate 1.28: chosen by RETICULATE_PYTHON; Python has not started, asked in a subprocess"
  )
  expect_match(r_python_text(list(python_started = TRUE)), "asked in-process", fixed = TRUE)
})

test_that("report_words() reads the module's words, or none", {
  expect_identical(report_words(list()), list())
  expect_identical(report_words(structure(list(), text = list(backend = "jax"))), list(backend = "jax"))
})
