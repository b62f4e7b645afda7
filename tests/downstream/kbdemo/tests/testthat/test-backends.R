# The pattern: skip, pin, run. Each backend runs in a fresh R process
# (callr): a process keeps the backend its first `import keras` chose.
for (backend in c("tensorflow", "jax", "torch", "numpy")) {
  test_that(paste("a Dense layer runs under", backend), {
    kbackend::skip_if_no_keras_backend(backend)
    out <- callr::r(function(backend) {
      kbackend::local_keras_backend(backend)
      kbdemo::dense_output_shape(units = 2L, rows = 4L, cols = 3L)
    }, args = list(backend = backend))
    expect_equal(out$backend, backend)
    expect_equal(out$shape, c(4L, 2L))
  })
}

test_that("the session's own backend works", {
  kbackend::skip_if_no_keras_backend()
  out <- callr::r(function() kbdemo::dense_output_shape())
  expect_equal(out$shape, c(1L, 2L))
})

test_that("switching needs a Keras not yet loaded", {
  kbackend::skip_if_keras_locked()
  expect_true(TRUE)
})
