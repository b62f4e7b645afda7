#' Use a Keras backend temporarily
#'
#' In the style of [withr::local_envvar()]: `local_keras_backend()` sets the
#' backend with [use_keras_backend()] until the calling function (or
#' `.local_envir`) exits; `with_keras_backend()` sets it while `code` runs.
#' Afterwards `KERAS_BACKEND`, and every variable the `device` set, is
#' restored (or unset) in R and, if Python is running by then, in Python's
#' `os.environ` too. Restoring never needs
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
local_keras_backend <- function(backend, device = NULL, .local_envir = parent.frame()) {
  check_backend_arg(backend)
  check_device_arg(device)
  change <- change_keras_backend(backend, FALSE, NULL, device)
  withr::defer(restore_saved_variables(change$saved), envir = .local_envir)
  invisible(change$previous)
}

#' @rdname local_keras_backend
#' @export
with_keras_backend <- function(backend, code, device = NULL) {
  local_keras_backend(backend, device = device)
  force(code)
}
