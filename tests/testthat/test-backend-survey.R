# backend_survey(): the verdict on hand-built surveys and how they are shown
# (no clusters), then real surveys -- a future multisession plan, the
# sequential plan, a cluster whose workers disagree, a worker where
# backend_info() fails. Clusters run under a fresh R (callr), as in
# test-workers.R: this test process never starts Python.

test_that("a survey is consistent when backend, status and Keras version agree", {
  local_clean_env(python = NULL)
  same <- survey_of(survey_row(1L), survey_row(2L), survey_row(3L))
  expect_s3_class(same, "kbackend_survey")
  expect_named(same, c("workers", "consistent", "differences"))
  expect_true(same$consistent)
  expect_identical(same$differences, character())

  columns <- c("worker", "host", "pid", "python", "backend", "device", "source", "status",
               "keras_version", "locked", "error")
  w <- same$workers
  expect_s3_class(w, "data.frame")
  expect_named(w, columns)
  expect_equal(nrow(w), 3L)
  expect_type(w$worker, "integer")
  expect_type(w$pid, "integer")
  expect_type(w$locked, "logical")
  expect_type(w$error, "character")
  expect_true(all(vapply(w[setdiff(columns, c("worker", "pid", "locked"))], is.character, logical(1))))

  # each compared column, alone
  for (case in list(
    list(field = list(backend = "torch"), consistent = FALSE, differences = "backend"),
    list(field = list(status = "error"), consistent = FALSE, differences = "status"),
    list(field = list(keras_version = "3.14.0"), consistent = FALSE, differences = "keras_version"),
    list(field = list(python = "/other/python"), consistent = TRUE, differences = "python"),
    list(field = list(source = "config"), consistent = TRUE, differences = "source"),
    list(field = list(locked = TRUE), consistent = TRUE, differences = "locked"),
    # host, pid and error are not compared
    list(field = list(host = "node2", pid = 7L, error = "x"), consistent = TRUE,
         differences = character())
  )) {
    odd <- do.call(survey_row, c(list(2L), case$field))
    s <- survey_of(survey_row(1L), odd)
    expect_identical(s$consistent, case$consistent, info = names(case$field)[[1]])
    expect_identical(s$differences, case$differences, info = names(case$field)[[1]])
  }

  # several at once: named in a fixed order, whatever the rows' order
  odd <- survey_row(2L, locked = TRUE, source = "imported", backend = "torch", python = "/p")
  s <- survey_of(odd, survey_row(1L))
  expect_false(s$consistent)
  expect_identical(s$differences, c("python", "backend", "source", "locked"))
})

test_that("a worker on another kind of device makes the survey inconsistent", {
  local_clean_env(python = NULL)
  mixed <- survey_of(survey_row(1L, device = "cuda"), survey_row(2L, device = "cpu"))
  expect_false(mixed$consistent)
  expect_identical(mixed$differences, "device")
  expect_match(format(mixed), "Inconsistent: the workers differ in device.", fixed = TRUE, all = FALSE)
  expect_match(format(mixed)[[2]], "Device", fixed = TRUE)
})

test_that("the survey's columns and verdict fields are the Python module's", {
  local_clean_env(python = NULL)
  shared <- jsonlite::fromJSON(file.path(kb_python_path(), "kbackend", "workers.json"))
  expect_identical(names(survey_columns), shared$row_fields)
  fields <- python_module_value(
    "from kbackend import workers",
    "[workers.ROW_FIELDS, workers.COMPARED_FIELDS, workers.CONSISTENCY_FIELDS]"
  )
  expect_identical(fields[[1]], names(survey_columns))
  expect_identical(fields[[2]], workers_data()$compared)
  expect_identical(fields[[3]], workers_data()$consistency)
})

test_that("missing values count as a value of their own", {
  local_clean_env(python = NULL)
  failed <- survey_row(2L, python = NA, backend = NULL, source = NA, status = "error",
                       keras_version = NULL, locked = NA, error = "no Python")
  s <- survey_of(survey_row(1L), failed)
  expect_false(s$consistent)
  expect_identical(s$differences, c("python", "backend", "source", "status", "keras_version", "locked"))
  expect_identical(s$workers$backend, c("jax", NA))
  expect_identical(s$workers$locked, c(FALSE, NA))

  # two workers that both failed the same way agree
  s <- survey_of(failed, utils::modifyList(failed, list(worker = 3L)))
  expect_true(s$consistent)
  expect_identical(s$differences, character())

  # no workers at all: nothing disagrees
  empty <- new_survey(list())
  expect_true(empty$consistent)
  expect_identical(empty$differences, character())
  expect_equal(nrow(empty$workers), 0L)
  expect_named(empty$workers, names(survey_columns))
})

test_that("a missing optional package is a classed error", {
  local_clean_env(python = NULL)
  err <- tryCatch(check_suggested("kbackendNoSuchPackage", "to test this"), error = function(e) e)
  expect_s3_class(err, "kbackend_error_missing_package")
  expect_s3_class(err, "kbackend_error")
  expect_equal(err$package, "kbackendNoSuchPackage")
  expect_match(conditionMessage(err), "The kbackendNoSuchPackage package is needed to test this.",
               fixed = TRUE)
  expect_true(check_suggested("stats", "for nothing"))
})

test_that("backend_survey() of a future multisession plan reaches each worker once: jax, as Keras says", {
  local_clean_env(python = venv_python("main"))
  need_package("future")
  res <- in_fresh_r(function() {
    kbackend::use_keras_backend("jax")
    future::plan(future::multisession, workers = 2)
    withr::defer(future::plan(future::sequential))
    survey <- kbackend::backend_survey()
    # real Keras in each worker: both futures launched before either is
    # collected, so each occupies its own worker
    futures <- lapply(1:2, function(i) future::future(list(
      pid = Sys.getpid(),
      kbackend = kbackend::backend_info()$backend,
      keras = reticulate::import("keras")$backend$backend()
    )))
    keras <- lapply(futures, future::value)
    again <- kbackend::backend_survey()
    list(
      survey = survey, keras = keras, again = again, pid = Sys.getpid(),
      started_here = isNamespaceLoaded("reticulate") &&
        reticulate::py_available(initialize = FALSE)
    )
  })
  w <- res$survey$workers
  expect_equal(nrow(w), 2L)
  expect_equal(w$worker, 1:2)
  expect_true(res$survey$consistent)
  expect_equal(res$survey$differences, character())
  expect_equal(w$backend, c("jax", "jax"))
  expect_equal(w$status, c("ok", "ok"))
  expect_equal(w$source, c("environment", "environment"))
  expect_equal(length(unique(w$pid)), 2L)
  expect_false(res$pid %in% w$pid)

  pids <- vapply(res$keras, function(k) k$pid, integer(1))
  expect_setequal(pids, w$pid)
  for (k in res$keras) {
    expect_equal(k$kbackend, "jax")
    expect_equal(k$keras, "jax")
  }
  # the same two workers again, both now with Keras loaded on jax
  expect_setequal(res$again$workers$pid, w$pid)
  expect_equal(res$again$workers$locked, c(TRUE, TRUE))
  expect_equal(res$again$workers$backend, c("jax", "jax"))
  expect_true(res$again$consistent)
  expect_false(res$started_here)
})

test_that("backend_survey() of the sequential plan is this process, without starting Python", {
  local_clean_env(python = venv_python("main"))
  need_package("future")
  res <- in_fresh_r(function() {
    kbackend::use_keras_backend("torch")
    future::plan(future::sequential)
    list(
      survey = kbackend::backend_survey(), pid = Sys.getpid(),
      started_here = isNamespaceLoaded("reticulate") &&
        reticulate::py_available(initialize = FALSE)
    )
  })
  w <- res$survey$workers
  expect_equal(nrow(w), 1L)
  expect_equal(w$pid, res$pid)
  expect_equal(w$backend, "torch")
  expect_true(res$survey$consistent)
  expect_false(res$started_here)
})

test_that("a worker started with another KERAS_BACKEND makes the survey inconsistent", {
  local_clean_env(python = venv_python("main"))
  need_package("parallelly")
  res <- in_fresh_r(function(start) {
    kbackend::use_keras_backend("jax")
    torch <- parallelly::makeClusterPSOCK(1, rscript_envs = c(KERAS_BACKEND = "torch"))
    withr::defer(parallel::stopCluster(torch))
    parallel::clusterCall(torch, .libPaths, .libPaths())
    plain <- start(1)
    withr::defer(parallel::stopCluster(plain))
    cl <- c(torch, plain)
    list(class = class(cl), length = length(cl), survey = kbackend::backend_survey(cl),
         printed = cli::ansi_strip(format(kbackend::backend_survey(cl))))
  }, args = list(start = start_psock))
  # c() of two SOCK clusters is a SOCK cluster (parallelly's c.cluster)
  expect_true(all(c("SOCKcluster", "cluster") %in% res$class))
  expect_equal(res$length, 2L)
  s <- res$survey
  expect_equal(s$workers$backend, c("torch", "jax"))
  expect_equal(s$workers$status, c("ok", "ok"))
  expect_false(s$consistent)
  expect_true("backend" %in% s$differences)
  expect_identical(s$differences, "backend")
  expect_true(any(grepl("Inconsistent: the workers differ in backend.", res$printed, fixed = TRUE)))
})

test_that("a worker where backend_info() fails gives an error row, not a failed survey", {
  local_clean_env(python = venv_python("main"))
  res <- in_fresh_r(function(start) {
    kbackend::use_keras_backend("jax")
    cl <- start(2)
    withr::defer(parallel::stopCluster(cl))
    parallel::clusterCall(cl[2], Sys.setenv, RETICULATE_PYTHON = "/nonexistent/python")
    kbackend::backend_survey(cl)
  }, args = list(start = start_psock))
  w <- res$workers
  expect_equal(w$status, c("ok", "error"))
  expect_equal(w$backend, c("jax", NA))
  expect_equal(w$python, c(venv_python("main"), NA))
  expect_true(is.na(w$error[[1]]))
  expect_match(w$error[[2]], "kbackend needs a Python interpreter", fixed = TRUE)
  expect_match(w$error[[2]], "/nonexistent/python", fixed = TRUE)
  expect_false(is.na(w$pid[[2]]))
  expect_false(res$consistent)
  expect_identical(res$differences,
                   c("python", "backend", "device", "source", "status", "keras_version", "locked"))
})
