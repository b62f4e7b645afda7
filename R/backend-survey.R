#' Which Keras backend every worker will use
#'
#' Runs [backend_info()] in every worker of a cluster, or of the current
#' future plan, and tells whether they agree. Like [backend_info()] it never
#' imports Keras: in a worker whose Python has not started it asks in a
#' subprocess, so surveying leaves every worker free to choose its backend.
#' A worker where [backend_info()] itself fails (no Python found, kbackend
#' not installed there, ...) gives a row with status `"error"` and the error
#' message; the survey does not fail.
#'
#' * **A cluster** (`cl`): one row per node of `cl`, in order, asked with
#'   [parallel::clusterCall()].
#' * **The current future plan** (`cl = NULL`, needs the future package):
#'   future offers no way to run a call on each of a plan's workers, so
#'   `backend_survey()` launches `future::nbrOfWorkers()` futures before it
#'   collects any of them. A future occupies its worker until collected, so
#'   on a plan whose workers are free (multisession, cluster) each future
#'   runs on a different worker and every worker answers once. Rows are
#'   deduplicated by (`host`, `pid`): should a worker still be busy with an
#'   uncollected future of yours, another worker may answer twice and the
#'   busy one not at all. Under `multicore` each future is a fresh fork of
#'   this process; under `sequential` the one row is this process.
#'
#' The verdict: `consistent` is `TRUE` when every worker reports the same
#' `backend`, `device`, `status` and `keras_version`, so code sent to any of
#' them runs on the same Keras, on the same kind of device (a worker that
#' would fall back to the CPU while the others use a GPU is flagged).
#' `differences` names every column, among `python`, `backend`, `device`,
#' `source`, `status`, `keras_version` and `locked`, whose value
#' is not the same in every worker (so a worker that has already loaded
#' Keras shows up as a difference in `locked`, and in `source`, which it
#' reports as `"imported"`, without making the survey inconsistent).
#'
#' @param cl A cluster from the parallel package (an object inheriting from
#'   class `"cluster"`), or `NULL` for the workers of the current
#'   `future::plan()`.
#' @returns A list of class `kbackend_survey`:
#'   * `workers`: a data frame, one row per worker, with columns `worker`
#'     (its index: the node's position in `cl`, or the order in which the
#'     futures were launched), `host`, `pid`, `python` (the interpreter
#'     reticulate uses or would use there), `backend`, `device` (what the
#'     backend will run on there: `"cpu"`, `"cuda"`, ...; see
#'     [backend_info()]), `source`, `status`
#'     (`"ok"`, or `"error"` when `import keras` would fail there or
#'     [backend_info()] failed), `keras_version`, `locked` (Keras already
#'     loaded there) and `error` (why, or `NA`). Unknown values are `NA`.
#'   * `consistent`: `TRUE` or `FALSE`, see above.
#'   * `differences`: character, the columns that differ between workers.
#'
#'   `as.data.frame()` returns `workers`. Errors: `kbackend_error_bad_argument`
#'   for a `cl` that is not a cluster, `kbackend_error_missing_package` when
#'   `cl` is `NULL` and future is not installed, `kbackend_error_plan` when
#'   the plan has no finite number of workers. A worker that cannot be
#'   reached at all (it died) raises the cluster's or future's own error.
#' @family keras backend functions
#' @seealso [use_keras_backend_on()] to set the backend on running workers;
#'   [print()][kbackend_survey] and [knit_print()][knit_print.kbackend_survey]
#'   for how a survey is shown.
#' @examples
#' if (interactive()) {
#'   use_keras_backend("jax")               # before the workers start
#'   cl <- parallel::makePSOCKcluster(2)
#'   survey <- backend_survey(cl)
#'   survey$consistent
#'   as.data.frame(survey)
#'   parallel::stopCluster(cl)
#'
#'   future::plan(future::multisession, workers = 2)
#'   backend_survey()
#'   future::plan(future::sequential)
#' }
#' @export
backend_survey <- function(cl = NULL) {
  check_cluster_arg(cl, null_ok = TRUE)
  rows <- if (is.null(cl)) survey_future_rows() else survey_cluster_rows(cl)
  new_survey(rows)
}

survey_cluster_rows <- function(cl) {
  rows <- parallel::clusterCall(cl, worker_function(worker_survey_row))
  for (i in seq_along(rows)) {
    rows[[i]]$worker <- i
  }
  rows
}

survey_future_rows <- function() {
  check_suggested("future", "to survey the workers of the current future plan")
  n <- future::nbrOfWorkers()
  if (!is.numeric(n) || length(n) != 1 || is.na(n) || !is.finite(n) || n < 1) {
    kb_abort(
      c(
        "Cannot reach every worker of the current future plan.",
        x = "It has {format(n)} workers.",
        i = "Pass a cluster as {.arg cl} instead."
      ),
      class = "kbackend_error_plan"
    )
  }
  row <- worker_function(worker_survey_row)
  # launch them all before collecting any: each occupies its worker until
  # collected, so each runs on another worker
  futures <- lapply(seq_len(n), function(i) {
    future::future(
      quote(kbackend_survey_row()),
      substitute = FALSE,
      globals = list(kbackend_survey_row = row),
      packages = character(),
      label = sprintf("kbackend-survey-%d", i)
    )
  })
  rows <- lapply(futures, future::value)
  key <- vapply(rows, function(r) paste(r$host, r$pid, sep = "\r"), character(1))
  rows <- rows[!duplicated(key)]
  for (i in seq_along(rows)) {
    rows[[i]]$worker <- i
  }
  rows
}

# Runs in a worker (see worker_function()): one row of the survey.
worker_survey_row <- function() {
  scalar <- function(x, na) {
    if (is.null(x) || !length(x) || is.na(x[[1]])) na else as.vector(x[[1]], typeof(na))
  }
  row <- list(
    host = Sys.info()[["nodename"]], pid = Sys.getpid(), python = NA_character_,
    backend = NA_character_, device = NA_character_, source = NA_character_, status = "error",
    keras_version = NA_character_, locked = NA, error = NA_character_
  )
  tryCatch({
    info <- kbackend::backend_info()
    row$python <- scalar(info$r$python, NA_character_)
    row$backend <- scalar(info$backend, NA_character_)
    row$device <- scalar(info$device$device, NA_character_)
    row$source <- scalar(info$source, NA_character_)
    row$status <- scalar(info$status, NA_character_)
    row$keras_version <- scalar(info$keras$version, NA_character_)
    row$locked <- scalar(info$locked, NA)
    row$error <- scalar(info$error, NA_character_)
    row
  }, error = function(e) {
    row$error <- conditionMessage(e)
    row
  })
}

# The columns of a survey, in order, with their types: the row fields of
# the Python module's workers.json (a test compares the two).
survey_columns <- list(
  worker = integer(), host = character(), pid = integer(), python = character(),
  backend = character(), device = character(), source = character(), status = character(),
  keras_version = character(), locked = logical(), error = character()
)

# What is compared between workers, which fields must agree for a survey to
# be consistent, and the words of a refusal (R/workers.R): the Python
# module's workers.json, so R and Python judge and word workers alike.
workers_data <- function() {
  if (is.null(.kb$workers_data)) {
    .kb$workers_data <- jsonlite::fromJSON(file.path(kb_python_path(), "kbackend", "workers.json"))
  }
  .kb$workers_data
}

# A survey from its rows (lists with the survey's fields).
new_survey <- function(rows) {
  columns <- lapply(names(survey_columns), function(name) {
    type <- survey_columns[[name]]
    na <- as.vector(NA, typeof(type))
    vapply(rows, function(r) {
      value <- r[[name]]
      if (is.null(value) || !length(value)) na else as.vector(value[[1]], typeof(type))
    }, na)
  })
  workers <- as.data.frame(
    stats::setNames(columns, names(survey_columns)),
    stringsAsFactors = FALSE
  )
  survey_from_workers(workers)
}

# The verdict on a data frame of workers (the survey's columns).
survey_from_workers <- function(workers) {
  fields <- workers_data()
  distinct <- function(column) length(unique(workers[[column]])) > 1
  differences <- fields$compared[vapply(fields$compared, distinct, logical(1))]
  structure(
    list(
      workers = workers,
      consistent = !any(fields$consistency %in% differences),
      differences = differences
    ),
    class = "kbackend_survey"
  )
}

# Stop with kbackend_error_missing_package unless `package` is installed.
check_suggested <- function(package, why, call = rlang::caller_env()) {
  if (!requireNamespace(package, quietly = TRUE)) {
    kb_abort(
      c(
        "The {.pkg {package}} package is needed {why}.",
        i = "Install it with {.code install.packages(\"{package}\")}."
      ),
      class = "kbackend_error_missing_package",
      package = package,
      call = call
    )
  }
  invisible(TRUE)
}
