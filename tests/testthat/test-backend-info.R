test_that("before Python starts: asked in a subprocess, Python still not started", {
  local_clean_env()
  res <- in_fresh_r(function() {
    info <- kbackend::backend_info()
    list(
      info = unclass(info),
      class = class(info),
      started = reticulate::py_available(initialize = FALSE)
    )
  })
  expect_equal(res$class, "kbackend_info")
  expect_false(res$started)
  expect_equal(res$info$r$via, "subprocess")
  expect_false(res$info$r$python_started)
  expect_equal(res$info$r$python, test_python())
  expect_equal(res$info$r$python_source, "RETICULATE_PYTHON")
  expect_equal(nrow(res$info$r$env_mismatch), 0L)
})

test_that("the fields are exactly the module's JSON fields plus `r`", {
  local_clean_env()
  json <- run_kbackend_cli(test_python(), "--json")$stdout
  fields <- names(jsonlite::fromJSON(json, simplifyVector = FALSE))
  info <- in_fresh_r(function() unclass(kbackend::backend_info()))
  expect_equal(names(info), c(fields, "r"))
  expect_equal(info[fields], unclass(parse_record(json))[fields])
})

test_that("R's KERAS_BACKEND and keras.json are what the subprocess sees", {
  home <- local_clean_env()
  config <- write_keras_json(home, '{"backend": "torch"}')
  res <- in_fresh_r(function() {
    from_file <- kbackend::backend_info()
    Sys.setenv(KERAS_BACKEND = "numpy")
    from_env <- kbackend::backend_info()
    list(file = unclass(from_file), env = unclass(from_env),
         started = reticulate::py_available(initialize = FALSE))
  })
  expect_equal(res$file$backend, "torch")
  expect_equal(res$file$source, "config")
  expect_equal(normalizePath(res$file$config_path), normalizePath(config))
  expect_equal(res$env$backend, "numpy")
  expect_equal(res$env$source, "environment")
  expect_false(res$started)
})

test_that("after Python started: asked in-process, same answer", {
  local_clean_env()
  res <- in_fresh_r(function() {
    before <- kbackend::backend_info()
    reticulate::py_config()
    after <- kbackend::backend_info()
    list(before = unclass(before), after = unclass(after))
  })
  expect_equal(res$after$r$via, "in-process")
  expect_true(res$after$r$python_started)
  fields <- setdiff(names(res$before), "r")
  expect_equal(res$after[fields], res$before[fields])
})

test_that("Sys.setenv() after Python started is reported as a problem with its fix", {
  local_clean_env()
  res <- in_fresh_r(function() {
    reticulate::py_config()
    Sys.setenv(KERAS_BACKEND = "numpy", TF_USE_LEGACY_KERAS = "1")
    unclass(kbackend::backend_info())
  })
  mismatch <- res$r$env_mismatch
  expect_equal(mismatch$variable, c("KERAS_BACKEND", "TF_USE_LEGACY_KERAS"))
  expect_equal(mismatch$r, c("numpy", "1"))
  expect_equal(mismatch$python, c(NA_character_, NA_character_))
  # the report is about what the running Python will do
  expect_equal(res$backend, "tensorflow")
  expect_equal(res$variables$KERAS_BACKEND, NULL)
  problems <- res$problems[res$problems$code == "r-env-mismatch", ]
  expect_equal(nrow(problems), 2L)
  expect_match(problems$message[[1]], "Sys.setenv()", fixed = TRUE)
  expect_match(problems$fix[[1]], 'kbackend::use_keras_backend("numpy")', fixed = TRUE)
  expect_match(problems$fix[[2]], "os", fixed = TRUE)
})

test_that("no Python: a classed error that says how to point reticulate at one", {
  local_clean_env(python = file.path(tempdir(), "missing-python"))
  res <- in_fresh_r(function() {
    tryCatch(kbackend::backend_info(), error = function(e) {
      list(class = class(e), message = conditionMessage(e))
    })
  })
  expect_true("kbackend_error_no_python" %in% res$class)
  expect_match(res$message, "RETICULATE_PYTHON")
})

test_that("parse_record() gives locked_by and problems a stable type", {
  empty <- parse_record('{"backend": null, "locked_by": [], "problems": []}')
  expect_null(empty$backend)
  expect_identical(empty$locked_by, character())
  expect_s3_class(empty$problems, "data.frame")
  expect_equal(names(empty$problems), c("code", "message", "fix"))
  expect_equal(nrow(empty$problems), 0L)

  full <- parse_record(paste0(
    '{"locked_by": ["keras", "keras.src"],',
    ' "problems": [{"code": "a", "message": "m", "fix": null},',
    '              {"code": "b", "message": "n", "fix": "f"}],',
    ' "installed": {"jax": null, "numpy": "1.26.4"}, "config": {"epsilon": 1e-07}}'
  ))
  expect_identical(full$locked_by, c("keras", "keras.src"))
  expect_identical(full$problems$fix, c(NA_character_, "f"))
  expect_null(full$installed$jax)
  expect_equal(full$installed$numpy, "1.26.4")
  expect_equal(full$config$epsilon, 1e-07)
})
