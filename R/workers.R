#' Set the Keras backend on the workers of a running cluster
#'
#' [use_keras_backend()] sets `KERAS_BACKEND` with [Sys.setenv()], so every
#' R process started *after* it inherits the backend: the workers of
#' [parallel::makePSOCKcluster()], `future::plan(future::multisession)`,
#' [callr::r()] and so on. Workers that are *already running* have their own
#' environment; `use_keras_backend_on()` sets the backend in each of them.
#'
#' It works in two steps, so that a refusal changes nothing anywhere:
#'
#' 1. every worker checks `backend` with [check_keras_backend()] (which
#'    changes nothing). If any worker refuses -- typically because Keras is
#'    already loaded there with another backend -- one error is raised that
#'    names each refusing worker (its index in `cl`, its process id and host)
#'    and why, and no worker is changed;
#' 2. otherwise every worker runs [use_keras_backend()] (with `device`, if
#'    given). Should a worker
#'    refuse at this point after all (it loaded Keras between the two steps),
#'    the workers already changed are set back to their previous values and
#'    the same error is raised.
#'
#' The workers need kbackend installed (in their [.libPaths()]); use
#' [backend_survey()] to see what each worker will use.
#'
#' What is covered: clusters of the parallel package (PSOCK and fork, and
#' `parallelly` ones) here; [backend_survey()] also takes the current
#' `future` plan. Forked `future::multicore` workers and `callr` processes
#' start from this session's environment, so [use_keras_backend()] here is
#' what sets them. Not covered: `mirai` daemons (not available where
#' kbackend is tested; call [use_keras_backend()] before starting them).
#' Python pools (multiprocessing, concurrent.futures, loky), Dask and Ray
#' are covered by the Python module's own `use_keras_backend_on()` and
#' `backend_survey()`; that `use_keras_backend_on()` refuses a Ray runtime
#' (Ray starts its workers on demand: use its `runtime_env`) with
#' `WorkersUnreachableError`, class `kbackend_error_workers_unreachable` when
#' it reaches R.
#'
#' @param cl A cluster from the parallel package ([parallel::makeCluster()],
#'   [parallel::makePSOCKcluster()], `parallelly::makeClusterPSOCK()`, ...):
#'   an object inheriting from class `"cluster"`.
#' @inheritParams use_keras_backend
#' @returns The previous value of `KERAS_BACKEND` in each worker (a character
#'   vector with one element per worker, `NA` where it was unset), invisibly.
#'
#'   When a worker refuses, the error has class `kbackend_error` plus the
#'   class the refusing workers' errors share (for instance
#'   `kbackend_error_locked`; `kbackend_error_worker` for an error that is
#'   not kbackend's own, such as kbackend missing in the worker; none when
#'   they differ), and a
#'   field `workers`: a data frame with one row per refusing worker
#'   (`worker`, `host`, `pid`, `class`, `message`). Bad arguments raise
#'   `kbackend_error_bad_argument` before any worker is contacted.
#' @family keras backend functions
#' @seealso [backend_survey()] to check every worker;
#'   [use_keras_backend()] for this process (and the workers started after).
#' @examples
#' # A cluster is checked for before anything else happens:
#' tryCatch(
#'   use_keras_backend_on("not a cluster", "jax"),
#'   kbackend_error_bad_argument = function(e) conditionMessage(e)
#' )
#'
#' if (interactive()) {
#'   # Workers started after use_keras_backend() inherit the backend...
#'   use_keras_backend("jax")
#'   cl <- parallel::makePSOCKcluster(2)
#'   backend_survey(cl)
#'
#'   # ...and running workers can be switched, while none has loaded Keras
#'   use_keras_backend_on(cl, "torch")
#'   backend_survey(cl)
#'   parallel::stopCluster(cl)
#' }
#' @export
use_keras_backend_on <- function(cl, backend, interface = NULL, device = NULL) {
  check_backend_arg(backend)
  check_cluster_arg(cl)
  check_interface_arg(interface)
  check_device_arg(device)

  change <- worker_function(worker_change)
  checks <- parallel::clusterCall(cl, change, backend, interface, device, check = TRUE)
  refusals <- worker_refusals(checks)
  if (nrow(refusals)) {
    abort_workers_refused(refusals, backend, length(cl))
  }

  changes <- parallel::clusterCall(cl, change, backend, interface, device)
  refusals <- worker_refusals(changes)
  if (nrow(refusals)) {
    # a worker changed its mind between the two steps: undo the others
    changed <- which(vapply(changes, function(x) isTRUE(x$ok), logical(1)))
    for (i in changed) {
      parallel::clusterCall(cl[i], worker_function(worker_restore), changes[[i]]$saved)
    }
    abort_workers_refused(refusals, backend, length(cl), restored = length(changed))
  }
  previous <- vapply(changes, function(x) as.character(x$previous), character(1))
  invisible(previous)
}

check_cluster_arg <- function(cl, arg = "cl", null_ok = FALSE, call = rlang::caller_env()) {
  if (null_ok && is.null(cl)) {
    return(invisible(cl))
  }
  if (!inherits(cl, "cluster")) {
    abort_bad_argument(
      paste0(
        "{.arg {arg}} must be a cluster from the parallel package",
        if (null_ok) " or NULL (the current future plan)",
        ", such as {.code parallel::makePSOCKcluster(2)}."
      ),
      sprintf("it is %s", describe_type(cl)), arg = arg, call = call
    )
  }
  invisible(cl)
}

# The refusing workers, from the answers of worker_change(): a
# data frame (worker, host, pid, class, message), one row per refusal.
worker_refusals <- function(answers) {
  bad <- which(!vapply(answers, function(x) isTRUE(x$ok), logical(1)))
  field <- function(name, na) {
    vapply(answers[bad], function(x) {
      value <- x[[name]]
      if (is.null(value) || !length(value)) na else as.vector(value[[1]], typeof(na))
    }, na)
  }
  data.frame(
    worker = as.integer(bad),
    host = field("host", NA_character_),
    pid = field("pid", NA_integer_),
    class = vapply(answers[bad], function(x) worker_error_class(x$class), character(1)),
    message = field("message", NA_character_),
    stringsAsFactors = FALSE
  )
}

# The R class that stands for a worker's error: its own kbackend class, or
# kbackend_error_worker for anything else (kbackend not installed there...).
worker_error_class <- function(classes) {
  classes <- as.character(classes)
  own <- setdiff(classes[is_kbackend_error_class(classes)], "kbackend_error")
  if (length(own)) own[[1]] else "kbackend_error_worker"
}

abort_workers_refused <- function(refusals, backend, n_workers, restored = NULL,
                                  call = rlang::caller_env()) {
  verdict <- workers_refusal(refusals, backend, n_workers, restored)
  kb_abort(
    c(cli_escape(verdict$headline),
      stats::setNames(cli_escape(verdict$lines), rep("x", length(verdict$lines)))),
    class = verdict$code,
    backend = backend,
    workers = refusals,
    call = call
  )
}

# The verdict on refusing workers -- the class (the refusals' own when they
# share one, else kbackend_error), the headline and one line per worker --
# in the words of the Python module's workers.json: workers_data.refusal()
# there makes the same verdict for Python pools (a test compares the two).
workers_refusal <- function(refusals, backend, n_workers, restored = NULL) {
  words <- workers_data()$refusal
  outcome <- if (is.null(restored)) {
    words$unchanged
  } else {
    fill_template(words$restored, restored = restored)
  }
  classes <- unique(refusals$class)
  list(
    code = if (length(classes) == 1) classes else "kbackend_error",
    headline = fill_template(words$headline, backend = backend, refused = nrow(refusals),
                             total = n_workers, outcome = outcome),
    lines = paste0(worker_names(refusals$worker, refusals$pid, refusals$host), ": ",
                   one_line(refusals$message))
  )
}

# How workers are named in messages ("worker 2 (pid 123 on host)"): the
# template of workers.json, which worker_name() of the Python module fills.
worker_names <- function(worker, pid, host) {
  template <- workers_data()$refusal$worker
  vapply(seq_along(worker), function(i) {
    fill_template(template, worker = worker[[i]], pid = pid[[i]], host = host[[i]])
  }, character(1))
}

# A workers.json template with its {name} fields filled in.
fill_template <- function(template, ...) {
  values <- list(...)
  for (name in names(values)) {
    template <- gsub(paste0("{", name, "}"), values[[name]], template, fixed = TRUE)
  }
  template
}

# ---------------------------------------------------------------------------
# Functions that run in the workers.
#
# They are sent with the base environment as their enclosure: a function
# whose enclosure is kbackend's namespace would make the worker load kbackend
# merely to receive it, and a worker without kbackend would then fail before
# any handler could catch it. They reach kbackend only through `kbackend::`,
# inside tryCatch(), so every worker answers.

worker_function <- function(fun) {
  environment(fun) <- baseenv()
  fun
}

# Check `backend` here (`check = TRUE`: would it be accepted? changes
# nothing), or set it; a set answer's `saved` holds what worker_restore()
# needs to undo it (every variable the change set, as the kbackend module
# decided it).
worker_change <- function(backend, interface, device = NULL, check = FALSE) {
  answer <- list(ok = TRUE, class = NA_character_, message = NA_character_,
                 host = Sys.info()[["nodename"]], pid = Sys.getpid())
  tryCatch({
    change <- asNamespace("kbackend")$change_keras_backend(backend, FALSE, interface, device,
                                                           check = check)
    if (!check) {
      answer$previous <- change$previous
      answer$saved <- change$saved
    }
    answer
  }, error = function(e) {
    answer$ok <- FALSE
    answer$class <- class(e)
    answer$message <- conditionMessage(e)
    answer
  })
}

# Put back what worker_change() saved, in R and in a running Python.
worker_restore <- function(saved) {
  asNamespace("kbackend")$restore_saved_variables(saved)
  invisible(TRUE)
}
