# Last: asking and skipping started no Python in this process and wrote no
# keras.json (the backend tests import Keras in child processes only).
test_that("asking never started Python here", {
  expect_false(isNamespaceLoaded("reticulate") && reticulate::py_available(initialize = FALSE))
})
