#' Use a Keras backend temporarily
#'
#' In the style of [withr::local_envvar()]: `local_keras_backend()` sets the
#' backend with [use_keras_backend()] until the calling function (or
#' `.local_envir`) exits; `with_keras_backend()` sets it while `code` runs.
#' Afterwards `KERAS_BACKEND` is restored (or unset) in R and, if Python is
#' running by then, in Python's `os.environ` too. Restoring never needs
#' validation and never fails because Keras was loaded meanwhile -- but the
#' backend of a Keras that was loaded inside the scope stays what it was.
#'
#' @inheritParams use_keras_backend
#' @param code Code to run with the backend set.
#' @param .local_envir The environment whose exit restores the previous
#'   value.
#' @returns `local_keras_backend()`: the previous value of R's
#'   `KERAS_BACKEND` (`NA` if unset), invisibly. `with_keras_backend()`: the
#'   value of `code`.
#' @family keras backend functions
#' @seealso [use_keras_backend()], [withr::local_envvar()]
#' @examples
#' if (interactive()) {
#'   with_keras_backend("jax", backend_info()$backend)
#'
#'   f <- function() {
#'     local_keras_backend("torch")
#'     backend_info()$source
#'   }
#'   f()
#' }
#' @export
local_keras_backend <- function(backend, .local_envir = parent.frame()) {
  check_backend_arg(backend)
  started_before <- python_started()
  python_before <- if (started_before) python_getenv("KERAS_BACKEND") else NA_character_
  previous <- use_keras_backend(backend)
  withr::defer(
    restore_keras_backend(previous, started_before, python_before),
    envir = .local_envir
  )
  invisible(previous)
}

#' @rdname local_keras_backend
#' @export
with_keras_backend <- function(backend, code) {
  local_keras_backend(backend)
  force(code)
}

# Put KERAS_BACKEND back in R and, if Python runs now, in os.environ: to what
# Python saw before when it was already running, else to R's old value (which
# is what a Python started inside the scope would have inherited).
restore_keras_backend <- function(previous, started_before, python_before) {
  if (python_started()) {
    python_setenv("KERAS_BACKEND", if (started_before) python_before else previous)
  }
  if (is.na(previous)) {
    Sys.unsetenv("KERAS_BACKEND")
  } else {
    Sys.setenv(KERAS_BACKEND = previous)
  }
  invisible()
}
