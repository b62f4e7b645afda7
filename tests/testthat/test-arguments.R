# The argument checks on their own; test-use-keras-backend.R and
# test-verify.R show that every exported function runs them first.

test_that("check_backend_arg() names what is wrong with the backend", {
  message_for <- function(x) {
    conditionMessage(expect_error(check_backend_arg(x),
                                  class = "kbackend_error_bad_argument"))
  }
  expect_match(message_for(c("jax", "torch")), "It has length 2", fixed = TRUE)
  expect_match(message_for(NA_character_), "It is NA.", fixed = TRUE)
  expect_match(message_for(NULL), "It is NULL.", fixed = TRUE)
  expect_match(message_for(""), "It is the empty string.", fixed = TRUE)
  expect_match(message_for(1), "It is a number.", fixed = TRUE)
  expect_match(message_for(factor("jax")), "It is a factor.", fixed = TRUE)
  # the offending text is shown escaped, never interpreted (braces included)
  expect_match(message_for("jax\n$(x)"), '"jax\\n$(x)" is not a backend name', fixed = TRUE)
  expect_match(message_for("{jax}"), '"{jax}" is not a backend name', fixed = TRUE)
  expect_match(message_for("ja x"), "`backend` must be a single backend name", fixed = TRUE)
  expect_identical(check_backend_arg("keras.backend.my_backend"), "keras.backend.my_backend")
})

test_that("check_flag_arg() accepts TRUE and FALSE only", {
  for (bad in list(NA, NULL, "yes", c(TRUE, FALSE), 1, list(TRUE))) {
    expect_error(check_flag_arg(bad, "persist"), class = "kbackend_error_bad_argument")
  }
  message <- conditionMessage(expect_error(check_flag_arg("yes", "persist")))
  expect_match(message, "`persist` must be `TRUE` or `FALSE`", fixed = TRUE)
  expect_match(message, "It is a character vector.", fixed = TRUE)
  expect_identical(check_flag_arg(FALSE, "persist"), FALSE)
})

test_that("check_timeout_arg() wants one positive, finite number and shows it", {
  for (bad in list(0, -1, NA, NaN, Inf, c(1, 2), numeric(), "10", TRUE, NULL, factor(1))) {
    expect_error(check_timeout_arg(bad), class = "kbackend_error_bad_argument")
  }
  expect_match(conditionMessage(expect_error(check_timeout_arg(-5))), "It is -5.", fixed = TRUE)
  expect_match(conditionMessage(expect_error(check_timeout_arg(c(1, 2)))),
               "It is a number of length 2.", fixed = TRUE)
  expect_identical(check_timeout_arg(0.5), 0.5)
  expect_identical(check_timeout_arg(3L), 3L)
})

test_that("describe_type() gives type and length", {
  expect_equal(describe_type(NULL), "NULL")
  expect_equal(describe_type(1:3), "an integer vector of length 3")
  expect_equal(describe_type(list()), "a list of length 0")
  expect_equal(describe_type(as.name("x")), "of type symbol")
})

test_that("check_interface_arg() takes NULL or one interface name", {
  for (bad in list(NA_character_, "Keras3", c("keras3", "keras"), 1, TRUE, list("keras3"), "")) {
    expect_error(check_interface_arg(bad), class = "kbackend_error_bad_argument")
  }
  expect_match(conditionMessage(expect_error(check_interface_arg("tf"))), 'It is "tf".', fixed = TRUE)
  for (good in list(NULL, "keras3", "keras", "reticulate")) {
    expect_identical(check_interface_arg(good), good)
  }
})

test_that("backend names: the module-name rule Python uses, plus keras3's -cpu/-gpu", {
  for (good in c("jax", "jax-cpu", "torch-gpu", "keras.backend.my_backend", "_x1")) {
    expect_identical(check_backend_arg(good), good)
  }
  for (bad in c("a..b", "a.", ".a", "jax-tpu", "jax-cpu-gpu", "1jax", "-cpu")) {
    expect_error(check_backend_arg(bad), class = "kbackend_error_bad_argument")
  }
})

test_that("check_device_arg() takes NULL, \"cpu\" or \"gpu\"", {
  for (good in list(NULL, "cpu", "gpu")) {
    expect_identical(check_device_arg(good), good)
  }
  for (bad in list("tpu", "CPU", c("cpu", "gpu"), NA_character_, 1, TRUE)) {
    expect_error(check_device_arg(bad), class = "kbackend_error_bad_argument")
  }
  expect_snapshot(check_device_arg("tpu"), error = TRUE)
})

test_that("backend names and devices are the ones the Python module accepts", {
  python_rules <- python_module_value("from kbackend import setting", "[setting.NAME_PATTERN, setting.DEVICES]")
  expect_identical(python_rules[[1]], backend_name_body)
  expect_identical(python_rules[[2]], device_choices)
})
