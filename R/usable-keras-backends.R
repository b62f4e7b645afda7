#' Which Keras backends would import here
#'
#' Judges each backend the installed Keras knows (or each of `backends`)
#' exactly as [use_keras_backend()] validates it -- the prediction with
#' `KERAS_BACKEND` set to that name -- and returns those with which importing
#' Keras would work. Where no Keras is installed, none would. Like
#' [backend_info()] it never imports Keras and never starts the embedded
#' Python: before Python has started it asks the bundled module in a
#' subprocess (`python -m kbackend matrix`, the same answer a CI job matrix
#' is built from).
#'
#' @param backends `NULL` (every backend the installed Keras knows: for
#'   Keras 3 `"tensorflow"`, `"jax"`, `"torch"`, `"numpy"`, `"openvino"`),
#'   or a character vector of backend names to judge.
#' @param details If `TRUE`, return a data frame with one row per backend
#'   judged instead of the names.
#' @inheritParams backend_info
#' @returns With `details = FALSE`, a character vector of the backends that
#'   would import (`character(0)` when none would). With `details = TRUE`, a
#'   data frame with columns `backend`, `usable` (logical), `reason`
#'   (kbackend's explanation for one that would not: the message
#'   [use_keras_backend()] would refuse it with; `NA` otherwise),
#'   `error_class` and `code` (the class and code of that refusal), and
#'   attributes `keras` (`installed`, `version`, `flavour`), `python`,
#'   `current` (the backend selected now) and `locked`.
#' @family keras backend functions
#' @seealso [skip_if_no_keras_backend()] for tests.
#' @examples
#' backends <- tryCatch(usable_keras_backends(), kbackend_error = function(e) NULL)
#' backends
#'
#' if (interactive()) {
#'   usable_keras_backends(details = TRUE)
#' }
#' @export
usable_keras_backends <- function(backends = NULL, interface = NULL, details = FALSE) {
  if (!is.null(backends)) {
    if (!is.character(backends) || length(backends) == 0) {
      abort_bad_argument(
        "{.arg backends} must be NULL or a character vector of backend names.",
        sprintf("it is %s", describe_value(backends)), arg = "backends",
        call = rlang::current_env()
      )
    }
    for (name in backends) check_backend_arg(name, arg = "backends")
  }
  check_interface_arg(interface)
  check_flag_arg(details, "details")
  answer <- ask_matrix(backends, interface)
  if (!details) {
    return(as.character(unlist(answer$backend)))
  }
  matrix_frame(answer)
}

# The module's answer (a list, as parsed from its JSON), from the running
# Python or, before it has started, from a subprocess.
ask_matrix <- function(backends, interface, call = rlang::caller_env()) {
  iface <- keras_interface(interface)
  interpreter <- reticulate_python(iface)
  facts <- interface_facts(iface, python_started = interpreter$started)
  if (interpreter$started) {
    # a list, so that one name still reaches Python as a list
    return(kb_py_call("usable_keras_backends", if (!is.null(backends)) as.list(backends),
                      interface = facts))
  }
  args <- c("matrix", "--details", backends, interface_args(facts))
  result <- run_kbackend_cli(interpreter$python, args)
  parse_cli_json(result, interpreter$python, expected_status = 0L, call = call)
}

matrix_frame <- function(answer) {
  candidates <- answer$candidates
  column <- function(name, empty) {
    vapply(candidates, function(c) c[[name]] %||% empty, empty)
  }
  frame <- data.frame(
    backend = column("backend", NA_character_),
    usable = column("usable", NA),
    reason = column("reason", NA_character_),
    error_class = column("error_class", NA_character_),
    code = column("code", NA_character_),
    stringsAsFactors = FALSE
  )
  attr(frame, "keras") <- answer$keras
  attr(frame, "python") <- answer$python
  attr(frame, "current") <- answer$current
  attr(frame, "locked") <- answer$locked
  frame
}
