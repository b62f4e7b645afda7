# The wording shared by format() and knit_print(); test-info-methods.R and
# test-knit-print.R check how each renderer lays it out.

test_that("text_or() joins values and stands in for absent ones", {
  expect_equal(text_or(NULL), "none")
  expect_equal(text_or(NA, "?"), "?")
  expect_equal(text_or(character(), "?"), "?")
  expect_equal(text_or(c("keras", "tensorflow")), "keras, tensorflow")
})

test_that("keras_text() and config_state_text() describe what is there", {
  expect_equal(keras_text(NULL), "not installed")
  expect_equal(keras_text(list(installed = FALSE, version = "3.1")), "not installed")
  expect_equal(keras_text(list(installed = TRUE, version = "3.15.1", flavour = "keras3")),
               "3.15.1 (keras3)")
  expect_equal(keras_text(list(installed = TRUE)), "?")
  expect_equal(config_state_text(NULL), "does not exist")
  expect_equal(config_state_text(list(exists = TRUE, parses = TRUE, backend = "jax")),
               "exists, parses, backend \"jax\"")
  expect_equal(config_state_text(list(exists = TRUE, parses = FALSE)), "exists, does not parse")
})

test_that("tf_keras_text(), python_text() and locked_text() word their fields", {
  expect_null(tf_keras_text(NULL))
  expect_null(tf_keras_text(list(routes_to = NULL)))
  expect_equal(tf_keras_text(list(routes_to = "tf_keras", version = "2.21.0", backend = "tensorflow")),
               "routes to tf_keras 2.21.0 (backend tensorflow)")
  expect_equal(python_text(list(python = list(executable = "/py", version = "3.11.7"))),
               "/py (3.11.7)")
  expect_equal(python_text(list(r = list(python = "/r-py"))), "/r-py")
  expect_equal(python_text(list()), "?")
  expect_match(locked_text(list(locked_by = c("keras", "tensorflow"))),
               "(keras, tensorflow)", fixed = TRUE)
})

test_that("verify_says_text() gives the backend or the failure", {
  expect_equal(verify_says_text(list(status = "ok", backend = "jax")), "jax")
  expect_equal(verify_says_text(list(status = "timeout", error = "no answer within 2 s")),
               "timeout: no answer within 2 s")
  expect_equal(verify_says_text(list()), "?: ?")
})
