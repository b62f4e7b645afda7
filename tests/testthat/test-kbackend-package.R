test_that("loading kbackend neither loads reticulate nor starts Python", {
  local_clean_env(python = NULL)
  res <- in_fresh_r(function() {
    library(kbackend)
    list(
      reticulate = isNamespaceLoaded("reticulate"),
      exports = sort(getNamespaceExports("kbackend"))
    )
  })
  expect_false(res$reticulate)
  expect_setequal(res$exports, c(
    "backend_info", "backend_survey", "check_keras_backend", "local_keras_backend",
    "skip_if_keras_locked", "skip_if_no_keras_backend", "usable_keras_backends",
    "use_keras_backend", "use_keras_backend_on", "with_keras_backend"
  ))
})
