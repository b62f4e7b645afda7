# ==============================================================================
# PARITY TESTS, driven by the scenario table shared with the Python
# differential tests: tests/scenarios.json, materialised by tests/scenario.py
# (`python tests/scenario.py materialize ID DIR` prints {"set", "unset", "cwd"}).
#
# For every scenario and every real Keras environment, in a fresh R process
# under exactly the scenario's environment and working directory:
#   * backend_info() before Python started (subprocess path; Python must still
#     not be initialised afterwards), and
#   * backend_info() after Python started (in-process path)
# must equal `python -m kbackend --json` run outside R, on every field of the
# record (everything but R's own `r` element).
# ==============================================================================

scenario_script <- function() {
  path <- test_path("..", "scenario.py")
  if (!file.exists(path) || !file.exists(test_path("..", "scenarios.json"))) {
    stop("tests/scenario.py or tests/scenarios.json is missing", call. = FALSE)
  }
  normalizePath(path)
}

scenario_ids <- function(script, in_process = FALSE) {
  ids <- system2(test_python(), c(shQuote(script), "list", if (in_process) "--in-process"), stdout = TRUE)
  ids[nzchar(ids)]
}

materialize_scenario <- function(script, id, root) {
  out <- system2(
    test_python(),
    c(shQuote(script), "materialize", shQuote(id), shQuote(root)),
    stdout = TRUE
  )
  overlay <- jsonlite::fromJSON(paste(out, collapse = "\n"), simplifyVector = TRUE)
  overlay$set <- unlist(overlay$set)
  overlay$unset <- as.character(unlist(overlay$unset))
  overlay
}

# The environment a scenario runs under, as withr::local_envvar() values.
scenario_envvars <- function(overlay, python) {
  unset <- setdiff(overlay$unset, names(overlay$set))
  c(
    stats::setNames(rep(NA_character_, length(unset)), unset),
    overlay$set,
    RETICULATE_PYTHON = python
  )
}

# The oracle: `python -m kbackend --json`, outside R, with the bundled module.
python_oracle <- function(python, cwd, what) {
  env <- python_subprocess_env(python)
  # the scenario's own PYTHONPATH stays, after the bundled module's folder
  scenario_path <- Sys.getenv("PYTHONPATH")
  env[["PYTHONPATH"]] <- paste(c(kb_python_path(), if (nzchar(scenario_path)) scenario_path),
                               collapse = .Platform$path.sep)
  withr::local_envvar(env)
  withr::local_dir(cwd)
  err <- withr::local_tempfile()
  out <- suppressWarnings(system2(python, c("-m", "kbackend", "--json"),
                                  stdout = TRUE, stderr = err, timeout = 120))
  status <- attr(out, "status") %||% 0L
  record <- if (status %in% c(0L, 1L)) {
    tryCatch(parse_record(paste(out, collapse = "\n")), error = function(e) NULL)
  }
  if (is.null(record)) {
    stop(what, ": python -m kbackend --json exited ", status, " without a record:\n",
         paste(utils::tail(readLines(err, warn = FALSE), 10), collapse = "\n"),
         call. = FALSE)
  }
  record
}

# `record` without the problems of the given codes. After Python started,
# R's Python has numpy loaded (reticulate imports it): a custom Keras 2
# backend module that is already loaded is judged by its live attributes,
# so the note that a judgement from source text is uncertain, which the
# fresh interpreter of the oracle adds, does not apply there.
without_problems <- function(record, codes) {
  problems <- record$problems
  if (is.data.frame(problems) && nrow(problems)) {
    record$problems <- problems[!problems$code %in% codes, , drop = FALSE]
    rownames(record$problems) <- NULL
  }
  record
}

# Names of the fields where two records differ.
differing_fields <- function(actual, expected) {
  fields <- union(names(expected), setdiff(names(actual), "r"))
  fields[!vapply(fields, function(f) identical(actual[[f]], expected[[f]]), logical(1))]
}

run_parity <- function(python, label) {
  need_package("callr")
  script <- scenario_script() # before any test changes the working directory
  ids <- scenario_ids(script)
  # scenarios about a fresh interpreter's import path: R's running Python
  # has imported its own modules already, so only the subprocess path applies
  in_process <- scenario_ids(script, in_process = TRUE)
  expect_gt(length(ids), 40)
  for (id in ids) {
    # a scenario that errors (e.g. the module crashes) fails, the loop goes on
    tryCatch(local({
      local_clean_env(python = python)
      root <- withr::local_tempdir(paste0("kbackend-", id, "-"))
      overlay <- materialize_scenario(script, id, root)
      withr::local_envvar(scenario_envvars(overlay, python))
      what <- sprintf("[%s] scenario %s", label, id)
      expected <- python_oracle(python, overlay$cwd, what)

      res <- callr::r(function(in_process) {
        before <- unclass(kbackend::backend_info())
        started_after_before <- reticulate::py_available(initialize = FALSE)
        # (not where a json.py in the working directory breaks reticulate's
        # own start: those scenarios are asked before Python starts only)
        after <- if (in_process) {
          reticulate::py_config()
          unclass(kbackend::backend_info())
        }
        list(before = before, started = started_after_before, after = after)
      }, args = list(in_process = id %in% in_process), libpath = .libPaths(), show = FALSE,
      wd = overlay$cwd)

      expect_false(res$started, label = paste(what, "Python started by the subprocess path"))
      expect_equal(res$before$r$via, "subprocess", label = what)
      expect_identical(setdiff(names(res$before), "r"), names(expected), label = what)
      expect_identical(
        differing_fields(res$before, expected), character(),
        label = paste(what, "fields differing before Python started")
      )
      if (id %in% in_process) {
        expect_equal(res$after$r$via, "in-process", label = what)
        uncertain <- "custom-backend-uncertain"
        expect_identical(
          differing_fields(without_problems(res$after, uncertain), without_problems(expected, uncertain)),
          character(),
          label = paste(what, "fields differing after Python started")
        )
      }
    }), error = function(e) fail(conditionMessage(e)))
  }
}

test_that("parity with Python: Keras 3 environment (.venv), every scenario", {
  run_parity(venv_python("main"), "keras3")
})

test_that("parity with Python: Keras 2.3.1 environment (.venv-py37), every scenario", {
  run_parity(venv_python("py37"), "keras2-py37")
})
