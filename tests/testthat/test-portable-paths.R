# Paths are built with the platform's rules (file.path, normalizePath with
# "/" separators), not pasted together with a hard-coded separator.

test_that("miniconda_conda() knows the Windows and the Unix layout", {
  root <- file.path("C:", "Users", "me", "miniconda")
  expect_identical(
    kbackend:::miniconda_conda(root, windows = TRUE),
    "C:/Users/me/miniconda/condabin/conda.bat"
  )
  expect_identical(
    kbackend:::miniconda_conda("/opt/miniconda", windows = FALSE),
    "/opt/miniconda/bin/conda"
  )
})

test_that("keras3_cache_dir() is absolute, with / separators", {
  skip_unless(
    exists("R_user_dir", envir = asNamespace("tools")),
    "needs R >= 4.0 (tools::R_user_dir, which keras3 uses for its cache)"
  )
  cache <- withr::local_tempdir()
  keras3 <- file.path(cache, "R", "keras3")
  dir.create(keras3, recursive = TRUE)
  # a relative R_USER_CACHE_DIR still gives an absolute folder
  withr::local_dir(dirname(cache))
  withr::local_envvar(R_USER_CACHE_DIR = basename(cache))
  dir <- kbackend:::keras3_cache_dir()
  expect_false(grepl("\\", dir, fixed = TRUE))
  expect_identical(dir, normalizePath(keras3, winslash = "/"))
})
