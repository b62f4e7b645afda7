# The backend choice reaches every worker. use_keras_backend()
# sets KERAS_BACKEND with Sys.setenv(), so R processes started after it
# inherit it (PSOCK workers, callr); use_keras_backend_on() sets it in
# workers that already run, or refuses -- naming the worker -- and changes
# nothing. Each worker is checked twice: kbackend's answer, and real Keras
# imported there through reticulate (the .venv: Keras 3, JAX, torch).
# Clusters run under a fresh R (callr): this test process never starts
# Python; the R process that owns the cluster never starts it either.

# start_psock() is in helper-surveys.R.

test_that("PSOCK workers started after use_keras_backend() use its backend: kbackend and Keras agree", {
  local_clean_env(python = venv_python("main"))
  res <- in_fresh_r(function(start) {
    kbackend::use_keras_backend("jax")
    cl <- start(2)
    withr::defer(parallel::stopCluster(cl))
    before <- kbackend::backend_survey(cl)
    answers <- parallel::clusterEvalQ(cl, list(
      pid = Sys.getpid(),
      variable = Sys.getenv("KERAS_BACKEND"),
      kbackend = kbackend::backend_info()$backend,
      keras = reticulate::import("keras")$backend$backend()
    ))
    after <- kbackend::backend_survey(cl)
    list(
      before = before, answers = answers, after = after,
      started_here = isNamespaceLoaded("reticulate") &&
        reticulate::py_available(initialize = FALSE)
    )
  }, args = list(start = start_psock))

  workers <- as.data.frame(res$before)
  expect_equal(nrow(workers), 2L)
  expect_equal(workers$worker, 1:2)
  expect_true(res$before$consistent)
  expect_equal(res$before$differences, character())
  expect_equal(workers$backend, c("jax", "jax"))
  expect_equal(workers$source, c("environment", "environment"))
  expect_equal(workers$status, c("ok", "ok"))
  expect_equal(workers$locked, c(FALSE, FALSE))
  expect_equal(workers$python, rep(venv_python("main"), 2))
  expect_true(all(grepl("^3\\.", workers$keras_version)))
  expect_equal(workers$error, c(NA_character_, NA_character_))

  pids <- vapply(res$answers, function(a) a$pid, integer(1))
  expect_equal(workers$pid, pids)
  expect_equal(length(unique(pids)), 2L)
  for (a in res$answers) {
    expect_equal(a$variable, "jax")
    expect_equal(a$kbackend, "jax")
    expect_equal(a$keras, "jax")  # real Keras, imported in the worker
  }

  # now Keras is loaded in both: still jax, locked, asked in-process
  after <- as.data.frame(res$after)
  expect_true(res$after$consistent)
  expect_equal(after$pid, pids)
  expect_equal(after$backend, c("jax", "jax"))
  expect_equal(after$locked, c(TRUE, TRUE))
  expect_equal(after$source, c("imported", "imported"))
  expect_false(res$started_here)
})

test_that("use_keras_backend_on() switches running workers, and refuses on a locked one changing nothing", {
  local_clean_env(python = venv_python("main"))
  res <- in_fresh_r(function(start) {
    kbackend::use_keras_backend("jax")
    cl <- start(2)
    withr::defer(parallel::stopCluster(cl))
    pids <- unlist(parallel::clusterEvalQ(cl, Sys.getpid()))
    jax <- kbackend::backend_survey(cl)
    previous <- withVisible(kbackend::use_keras_backend_on(cl, "torch", device = "cpu"))
    torch <- kbackend::backend_survey(cl)
    torch_device <- unlist(parallel::clusterEvalQ(cl, Sys.getenv("KERAS_TORCH_DEVICE")))
    keras_1 <- parallel::clusterEvalQ(cl[1], reticulate::import("keras")$backend$backend())[[1]]
    err <- tryCatch(kbackend::use_keras_backend_on(cl, "jax"), error = function(e) e)
    variables <- unlist(parallel::clusterEvalQ(cl, Sys.getenv("KERAS_BACKEND")))
    refused <- kbackend::backend_survey(cl)
    keras_2 <- parallel::clusterEvalQ(cl[2], reticulate::import("keras")$backend$backend())[[1]]
    list(
      pids = pids, jax = jax, previous = previous, torch = torch, keras_1 = keras_1,
      torch_device = torch_device,
      error = list(class = class(err), message = conditionMessage(err),
                   workers = err$workers, backend = err$backend),
      variables = variables, refused = refused, keras_2 = keras_2,
      here = Sys.getenv("KERAS_BACKEND"),
      started_here = isNamespaceLoaded("reticulate") &&
        reticulate::py_available(initialize = FALSE)
    )
  }, args = list(start = start_psock))

  expect_equal(res$jax$workers$backend, c("jax", "jax"))
  # the previous values, invisibly
  expect_equal(res$previous$value, c("jax", "jax"))
  expect_false(res$previous$visible)
  expect_true(res$torch$consistent)
  expect_equal(res$torch$workers$backend, c("torch", "torch"))
  expect_equal(res$torch$workers$source, c("environment", "environment"))
  # device = "cpu": the variable the installed Keras reads, in every worker
  expect_equal(res$torch_device, c("cpu", "cpu"))
  expect_equal(res$torch$workers$device, c("cpu", "cpu"))
  expect_equal(res$keras_1, "torch")  # real Keras in worker 1

  # worker 1 has loaded Keras: one classed error, naming worker 1 only
  expect_true(all(c("kbackend_error_locked", "kbackend_error") %in% res$error$class))
  expect_false("kbackend_error_worker" %in% res$error$class)
  expect_match(res$error$message, "Refused to set the Keras backend to \"jax\" on 1 of 2 workers",
               fixed = TRUE)
  expect_match(res$error$message, sprintf("worker 1 (pid %d on ", res$pids[[1]]), fixed = TRUE)
  expect_match(res$error$message, "already loaded", fixed = TRUE)
  expect_false(grepl("worker 2", res$error$message, fixed = TRUE))
  expect_false(grepl(as.character(res$pids[[2]]), res$error$message, fixed = TRUE))
  expect_equal(res$error$backend, "jax")
  w <- res$error$workers
  expect_s3_class(w, "data.frame")
  expect_equal(names(w), c("worker", "host", "pid", "class", "message"))
  expect_equal(w$worker, 1L)
  expect_equal(w$pid, res$pids[[1]])
  expect_equal(w$class, "kbackend_error_locked")

  # ...and nothing changed: worker 2 still says torch, and so does its Keras
  expect_equal(res$variables, c("torch", "torch"))
  expect_equal(res$refused$workers$backend, c("torch", "torch"))
  expect_equal(res$refused$workers$locked, c(TRUE, FALSE))
  expect_true(res$refused$consistent)
  expect_equal(res$refused$differences, c("source", "locked"))
  expect_equal(res$keras_2, "torch")
  # the owner of the cluster kept its own backend and never started Python
  expect_equal(res$here, "jax")
  expect_false(res$started_here)
})

test_that("callr::r() started after use_keras_backend() uses its backend: kbackend and Keras agree", {
  local_clean_env(python = venv_python("main"))
  res <- in_fresh_r(function() {
    kbackend::use_keras_backend("jax")
    callr::r(function() {
      list(
        variable = Sys.getenv("KERAS_BACKEND"),
        kbackend = kbackend::backend_info()$backend,
        keras = reticulate::import("keras")$backend$backend()
      )
    }, libpath = .libPaths())
  })
  expect_equal(res, list(variable = "jax", kbackend = "jax", keras = "jax"))
})

test_that("a change undone by worker_restore() leaves R and the running Python as they were", {
  local_clean_env(python = venv_python("main"))
  res <- in_fresh_r(function() {
    Sys.setenv(KERAS_BACKEND = "jax")
    Sys.unsetenv("KERAS_IMPLEMENTATION")
    use <- kbackend:::worker_function(kbackend:::worker_change)
    restore <- kbackend:::worker_function(kbackend:::worker_restore)
    environ <- function() {
      reticulate::py_eval(paste(
        "[__import__('os').environ.get(k)",
        "for k in ('KERAS_BACKEND', 'KERAS_IMPLEMENTATION')]"
      ))
    }
    r_env <- function() Sys.getenv(c("KERAS_BACKEND", "KERAS_IMPLEMENTATION"), unset = NA)

    # Python not started: only R's environment
    changed <- use("torch", NULL)
    not_started <- list(ok = changed$ok, message = changed$message, previous = changed$previous,
                        during = r_env())
    restore(changed$saved)
    not_started$after <- r_env()

    # Python running: R and os.environ; under legacy keras, KERAS_IMPLEMENTATION too
    reticulate::py_config()
    changed <- suppressMessages(use("torch", "keras"))
    started <- list(ok = changed$ok, message = changed$message, during_r = r_env(),
                    during_py = environ())
    restore(changed$saved)
    started$after_r <- r_env()
    started$after_py <- environ()
    list(not_started = not_started, started = started)
  })
  both <- c(KERAS_BACKEND = "jax", KERAS_IMPLEMENTATION = NA)
  expect_true(res$not_started$ok, info = res$not_started$message)
  expect_equal(res$not_started$previous, "jax")
  expect_equal(res$not_started$during[["KERAS_BACKEND"]], "torch")
  expect_equal(res$not_started$after, both)
  expect_true(res$started$ok, info = res$started$message)
  expect_equal(res$started$during_r, c(KERAS_BACKEND = "torch", KERAS_IMPLEMENTATION = "keras"))
  # (the legacy package reads KERAS_IMPLEMENTATION in R: Python's is left alone)
  expect_equal(res$started$during_py, list("torch", NULL))
  expect_equal(res$started$after_r, both)
  expect_equal(res$started$after_py, list("jax", NULL))
})

test_that("refusals name each worker; a change undone says so", {
  local_clean_env(python = NULL)
  answers <- list(
    list(ok = TRUE, host = "h", pid = 11L),
    list(ok = FALSE, class = c("kbackend_error_locked", "kbackend_error", "error", "condition"),
         message = "Keras is already loaded\nwith 'torch'.", host = "h", pid = 12L),
    list(ok = FALSE, class = c("packageNotFoundError", "error", "condition"),
         message = "there is no package called 'kbackend'", host = "g", pid = 13L)
  )
  refusals <- worker_refusals(answers)
  expect_equal(refusals$worker, 2:3)
  expect_equal(refusals$pid, 12:13)
  expect_equal(refusals$class, c("kbackend_error_locked", "kbackend_error_worker"))
  expect_equal(nrow(worker_refusals(answers[1])), 0L)

  # refusing for different reasons: the base class only
  err <- tryCatch(abort_workers_refused(refusals, "jax", 3L), error = function(e) e)
  expect_s3_class(err, "kbackend_error")
  expect_false(inherits(err, "kbackend_error_locked") || inherits(err, "kbackend_error_worker"))
  msg <- conditionMessage(err)
  expect_match(msg, "on 2 of 3 workers; nothing was changed on any worker.", fixed = TRUE)
  expect_match(msg, "worker 2 (pid 12 on h): Keras is already loaded with 'torch'.", fixed = TRUE)
  expect_match(msg, "worker 3 (pid 13 on g): there is no package called 'kbackend'", fixed = TRUE)
  expect_identical(err$workers, refusals)

  err <- tryCatch(abort_workers_refused(refusals[1, ], "jax", 3L, restored = 2L),
                  error = function(e) e)
  expect_s3_class(err, "kbackend_error_locked")
  expect_match(conditionMessage(err), paste(
    "on 1 of 3 workers; nothing was changed: the workers already changed (2)",
    "were set back."
  ), fixed = TRUE)
})

test_that("R and the Python module word and class a refusal alike", {
  local_clean_env(python = NULL)
  # the same refusals, judged by R (R clusters) and by workers.refusal()
  # (Python pools): each class alone, mixed, and a change undone
  refusals <- data.frame(
    worker = c(1L, 2L, 4L), host = c("h", "h", "g"), pid = c(11L, 12L, 13L),
    class = c("kbackend_error_locked", "kbackend_error_not_installed", "kbackend_error_worker"),
    message = c("Keras is already loaded\n  with 'torch'.", "jax is not installed.", "it died"),
    stringsAsFactors = FALSE
  )
  cases <- list(
    list(rows = 1L, restored = NULL), list(rows = 2L, restored = NULL),
    list(rows = 3L, restored = 1L), list(rows = 1:3, restored = NULL), list(rows = 1:2, restored = 2L)
  )
  r_verdicts <- lapply(cases, function(case) {
    workers_refusal(refusals[case$rows, ], "jax", 5L, case$restored)
  })
  python_cases <- lapply(cases, function(case) {
    rows <- refusals[case$rows, ]
    list(
      restored = case$restored,
      refused = lapply(seq_len(nrow(rows)), function(i) list(
        worker = rows$worker[[i]], pid = rows$pid[[i]], host = rows$host[[i]],
        # the Python side's own code for a worker kbackend could not run in
        code = if (rows$class[[i]] == "kbackend_error_worker") NULL else rows$class[[i]],
        message = rows$message[[i]]
      ))
    )
  })
  cases_json <- jsonlite::toJSON(python_cases, auto_unbox = TRUE, null = "null")
  python_verdicts <- jsonlite::fromJSON(simplifyVector = FALSE, python_module_value(
    "from kbackend import workers_data as w",
    paste0(
      "json.dumps([w.refusal('jax', [dict(r, worker=w.worker_name(r['worker'], r['pid'], r['host'])) ",
      "for r in case['refused']], 5, case['restored']) for case in json.loads(",
      deparse(as.character(cases_json)), ")])"
    )
  ))
  expect_length(python_verdicts, length(cases))
  for (i in seq_along(cases)) {
    expect_identical(python_verdicts[[i]]$code, r_verdicts[[i]]$code)
    expect_identical(python_verdicts[[i]]$headline, r_verdicts[[i]]$headline)
    expect_identical(unlist(python_verdicts[[i]]$lines), r_verdicts[[i]]$lines)
  }
  expect_identical(r_verdicts[[4]]$code, "kbackend_error")
  expect_identical(r_verdicts[[3]]$code, "kbackend_error_worker")
})

test_that("use_keras_backend_on() and backend_survey() refuse bad arguments before contacting anyone", {
  local_clean_env(python = NULL)
  not_a_cluster <- list("x", NULL, 1, list(), data.frame(), "cl")
  for (cl in not_a_cluster) {
    expect_error(use_keras_backend_on(cl, "jax"), class = "kbackend_error_bad_argument")
  }
  for (cl in not_a_cluster[-2]) {
    expect_error(backend_survey(cl), class = "kbackend_error_bad_argument")
  }
  err <- tryCatch(use_keras_backend_on("x", "jax"), error = function(e) e)
  expect_match(conditionMessage(err), "`cl` must be a cluster from the parallel package", fixed = TRUE)
  expect_match(conditionMessage(err), "It is a character vector.", fixed = TRUE)
  err <- tryCatch(backend_survey(1), error = function(e) e)
  expect_match(conditionMessage(err), "or NULL (the current future plan)", fixed = TRUE)

  # the backend and the interface are checked too, before any worker is
  # asked: this "cluster" has a node that would fail if it were
  fake <- structure(list(structure(list(), class = "SOCKnode")), class = c("SOCKcluster", "cluster"))
  for (backend in list(NA, NULL, "", "ja x", c("jax", "torch"), 1)) {
    expect_error(use_keras_backend_on(fake, backend), class = "kbackend_error_bad_argument")
  }
  expect_error(use_keras_backend_on(fake, "jax", interface = "nope"),
               class = "kbackend_error_bad_argument")
})
