# backend_info(verify = TRUE): Keras imported for real in a child process,
# compared with the prediction, on both paths (before Python started: the
# CLI's --verify --timeout; after: backend_info_json(verify, timeout)
# in-process). One real import per path; the mismatch and the time limit use
# a fake `keras` package that answers at once (see fake_keras()).

test_that("real Keras agrees (jax) on both paths, and HOME/.keras stays byte-for-byte the same", {
  home <- local_clean_env(python = venv_python("main"))
  # a Keras directory without keras.json: the import Keras does in the child
  # would write one here, if verify did not give it a temporary copy instead
  dir.create(file.path(home, ".keras", "models"), recursive = TRUE)
  writeLines("mine", file.path(home, ".keras", "models", "notes.txt"))
  before <- tree_digest(home)

  res <- in_fresh_r(function() {
    kbackend::use_keras_backend("jax")
    subprocess <- kbackend::backend_info(verify = TRUE, timeout = 120)
    not_started <- !reticulate::py_available(initialize = FALSE)
    reticulate::py_config()
    in_process <- kbackend::backend_info(verify = TRUE, timeout = 120)
    list(
      subprocess = unclass(subprocess),
      in_process = unclass(in_process),
      not_started = not_started,
      keras_loaded_here = reticulate::py_eval("'keras' in __import__('sys').modules"),
      printed = withr::with_options(list(cli.num_colors = 1), format(subprocess))
    )
  })

  expect_true(res$not_started)
  expect_false(res$keras_loaded_here)
  for (info in res[c("subprocess", "in_process")]) {
    v <- info$verify
    expect_equal(v$status, "ok")
    expect_equal(v$backend, "jax")
    expect_true(v$agrees)
    expect_equal(info$backend, "jax")
    expect_true(length(v$devices) >= 1 && all(nzchar(v$devices)))
    expect_gt(v$import_seconds, 0)
    expect_gt(v$peak_memory_mb, 10)
    expect_equal(v$timeout_seconds, 120)
    expect_false("kbackend-bug" %in% info$problems$code)
  }
  expect_equal(res$subprocess$r$via, "subprocess")
  expect_equal(res$in_process$r$via, "in-process")
  text <- paste(res$printed, collapse = "\n")
  expect_match(text, "Keras says: jax", fixed = TRUE)
  expect_match(text, "AGREES with the prediction (jax)", fixed = TRUE)
  expect_match(text, "peak memory", fixed = TRUE)
  expect_match(text, "Devices: ", fixed = TRUE)
  expect_identical(tree_digest(home), before)
})

test_that("Keras contradicting the prediction is shown loudly on both paths", {
  home <- local_clean_env(python = venv_python("main"))
  # kbackend predicts from the real Keras 3's metadata (jax, from
  # KERAS_BACKEND); the module that `import keras` finds says numpy
  fake <- fake_keras(home, c(
    "class backend:",
    "    @staticmethod",
    "    def backend():",
    "        return 'numpy'"
  ))
  withr::local_envvar(PYTHONPATH = fake, KERAS_BACKEND = "jax")
  res <- in_fresh_r(function() {
    show <- function(info) withr::with_options(list(cli.num_colors = 1), format(info))
    subprocess <- kbackend::backend_info(verify = TRUE)
    reticulate::py_config()
    in_process <- kbackend::backend_info(verify = TRUE)
    list(
      subprocess = unclass(subprocess), subprocess_text = show(subprocess),
      in_process = unclass(in_process), in_process_text = show(in_process)
    )
  })
  for (path in c("subprocess", "in_process")) {
    info <- res[[path]]
    expect_equal(info$backend, "jax")
    expect_equal(info$verify$backend, "numpy")
    expect_false(info$verify$agrees)
    # the loud problem comes first, with both answers side by side
    expect_equal(info$problems$code[[1]], "kbackend-bug")
    expect_match(info$problems$message[[1]], '"backend": "jax"', fixed = TRUE)
    expect_match(info$problems$message[[1]], '"backend": "numpy"', fixed = TRUE)
    text <- paste(res[[paste0(path, "_text")]], collapse = "\n")
    expect_match(text, "Keras says: numpy", fixed = TRUE)
    expect_match(text, "DISAGREES with the prediction (jax): this is a kbackend bug", fixed = TRUE)
  }
  expect_equal(res$subprocess$r$via, "subprocess")
  expect_equal(res$in_process$r$via, "in-process")
})

test_that("the time limit reaches the child on both paths, and a hang is reported", {
  home <- local_clean_env(python = venv_python("main"))
  fake <- fake_keras(home, "import time\ntime.sleep(600)")
  withr::local_envvar(PYTHONPATH = fake)
  res <- in_fresh_r(function() {
    timed <- function() {
      start <- Sys.time()
      info <- kbackend::backend_info(verify = TRUE, timeout = 1.5)
      list(info = unclass(info), seconds = as.double(difftime(Sys.time(), start, units = "secs")))
    }
    subprocess <- timed()
    reticulate::py_config()
    in_process <- timed()
    list(subprocess = subprocess, in_process = in_process)
  })
  for (run in res) {
    v <- run$info$verify
    expect_equal(v$status, "timeout")
    expect_equal(v$timeout_seconds, 1.5)
    # a timeout contradicts nothing: inconclusive, not a kbackend bug
    expect_null(v$agrees)
    expect_match(v$error, "no answer within 1.5 s", fixed = TRUE)
    expect_lt(run$seconds, 30)
  }
})

test_that("verify and timeout are validated before anything runs", {
  home <- local_clean_env(python = NULL)
  # an "interpreter" that only leaves a mark: running anything at all shows
  marker <- file.path(home, "ran")
  python <- file.path(home, "python")
  writeLines(c("#!/bin/sh", paste("touch", shQuote(marker)), "exit 9"), python)
  Sys.chmod(python, "0755")
  withr::local_envvar(RETICULATE_PYTHON = python)
  res <- in_fresh_r(function(marker) {
    class_of <- function(expr) tryCatch({
      expr
      "no error"
    }, error = function(e) class(e))
    bad <- list(
      verify = list(NA, NULL, "yes", c(TRUE, FALSE), 1, list(TRUE)),
      timeout = list(0, -1, NA, NA_real_, NaN, Inf, -Inf, c(1, 2), numeric(),
                     "10", TRUE, NULL, factor(1))
    )
    refused <- c(
      lapply(bad$verify, function(v) class_of(kbackend::backend_info(verify = v))),
      lapply(bad$timeout, function(t) class_of(kbackend::backend_info(verify = TRUE, timeout = t)))
    )
    message <- tryCatch(kbackend::backend_info(timeout = -5), error = conditionMessage)
    ran_after_refusals <- file.exists(marker)
    # control: valid arguments do reach the interpreter
    valid <- class_of(kbackend::backend_info(verify = TRUE, timeout = 0.5))
    list(refused = refused, message = message,
         ran_after_refusals = ran_after_refusals,
         valid = valid, ran_after_valid = file.exists(marker))
  }, args = list(marker = marker))
  expect_length(res$refused, 19L)
  for (cls in res$refused) {
    expect_true(all(c("kbackend_error_bad_argument", "kbackend_error") %in% cls))
  }
  expect_match(res$message, "positive number of seconds")
  expect_match(res$message, "-5", fixed = TRUE)
  expect_false(res$ran_after_refusals)
  expect_true("kbackend_error_python" %in% res$valid)
  expect_true(res$ran_after_valid)
})
