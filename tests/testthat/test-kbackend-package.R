test_that("loading kbackend neither loads reticulate nor starts Python", {
  local_clean_env()
  res <- in_fresh_r(function() {
    library(kbackend)
    list(
      reticulate = isNamespaceLoaded("reticulate"),
      exports = sort(getNamespaceExports("kbackend"))
    )
  })
  expect_false(res$reticulate)
  expect_setequal(res$exports, c(
    "backend_info", "check_keras_backend", "local_keras_backend",
    "use_keras_backend", "with_keras_backend"
  ))
})
