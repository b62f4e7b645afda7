test_that("local_keras_backend() restores R's value when the scope ends", {
  local_clean_env(python = test_python_with_numpy())
  res <- in_fresh_r(function() {
    f <- function() {
      previous <- kbackend::local_keras_backend("numpy")
      list(previous = previous, inside = Sys.getenv("KERAS_BACKEND"))
    }
    unset <- f()
    after_unset <- Sys.getenv("KERAS_BACKEND", unset = NA)
    Sys.setenv(KERAS_BACKEND = "tensorflow")
    set <- f()
    list(
      unset = unset, after_unset = after_unset,
      set = set, after_set = Sys.getenv("KERAS_BACKEND"),
      started = reticulate::py_available(initialize = FALSE)
    )
  })
  expect_identical(res$unset$previous, NA_character_)
  expect_equal(res$unset$inside, "numpy")
  expect_identical(res$after_unset, NA_character_)
  expect_equal(res$set$previous, "tensorflow")
  expect_equal(res$after_set, "tensorflow")
  expect_false(res$started)
})

test_that("with_keras_backend() returns the code's value and restores", {
  local_clean_env(python = test_python_with_numpy())
  res <- in_fresh_r(function() {
    value <- kbackend::with_keras_backend("numpy", {
      c(Sys.getenv("KERAS_BACKEND"), kbackend::backend_info()$backend)
    })
    list(value = value, after = Sys.getenv("KERAS_BACKEND", unset = NA))
  })
  expect_equal(res$value, c("numpy", "numpy"))
  expect_identical(res$after, NA_character_)
})

test_that("Python started before: os.environ is restored too", {
  local_clean_env(python = test_python_with_numpy())
  res <- in_fresh_r(function() {
    reticulate::py_config()
    environ <- reticulate::import("os")$environ
    inside <- kbackend::with_keras_backend("numpy", environ$get("KERAS_BACKEND"))
    list(inside = inside, r = Sys.getenv("KERAS_BACKEND", unset = NA),
         python = environ$get("KERAS_BACKEND"))
  })
  expect_equal(res$inside, "numpy")
  expect_identical(res$r, NA_character_)
  expect_null(res$python)
})

test_that("Python started inside the scope: it is restored to R's old value", {
  local_clean_env(python = test_python_with_numpy())
  withr::local_envvar(KERAS_BACKEND = "tensorflow")
  res <- in_fresh_r(function() {
    inside <- kbackend::with_keras_backend("numpy", {
      reticulate::py_config()
      reticulate::import("os")$environ$get("KERAS_BACKEND")
    })
    list(inside = inside, r = Sys.getenv("KERAS_BACKEND"),
         python = reticulate::import("os")$environ$get("KERAS_BACKEND"))
  })
  expect_equal(res$inside, "numpy")
  expect_equal(res$r, "tensorflow")
  expect_equal(res$python, "tensorflow")
})

test_that("a divergence that existed before is put back as it was", {
  local_clean_env(python = test_python_with_numpy())
  res <- in_fresh_r(function() {
    reticulate::py_config()
    Sys.setenv(KERAS_BACKEND = "torch") # R only: Python still sees it unset
    kbackend::with_keras_backend("numpy", NULL)
    list(r = Sys.getenv("KERAS_BACKEND"),
         python = reticulate::import("os")$environ$get("KERAS_BACKEND"))
  })
  expect_equal(res$r, "torch")
  expect_null(res$python)
})

test_that("a refused backend leaves nothing to restore", {
  local_clean_env()
  withr::local_envvar(KERAS_BACKEND = "tensorflow")
  res <- in_fresh_r(function() {
    f <- function() {
      kbackend::local_keras_backend("JAX")
      "not reached"
    }
    e <- tryCatch(f(), error = function(e) class(e))
    list(e = e, r = Sys.getenv("KERAS_BACKEND"))
  })
  expect_true("kbackend_error_invalid_backend" %in% res$e)
  expect_equal(res$r, "tensorflow")
})

test_that("the device variables are restored too", {
  local_clean_env(python = venv_python("main"))
  withr::local_envvar(JAX_PLATFORMS = "cuda")
  res <- in_fresh_r(function() {
    inside <- kbackend::with_keras_backend("jax", Sys.getenv("JAX_PLATFORMS"), device = "cpu")
    list(inside = inside, after = Sys.getenv(c("KERAS_BACKEND", "JAX_PLATFORMS"), unset = NA))
  })
  expect_equal(res$inside, "cpu")
  expect_equal(res$after, c(KERAS_BACKEND = NA, JAX_PLATFORMS = "cuda"))
})
