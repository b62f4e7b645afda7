#' Skip a test unless a Keras backend would work
#'
#' For the testthat tests of a package built on Keras (keras3, the legacy
#' keras package, or reticulate): `skip_if_no_keras_backend()` skips the test,
#' with kbackend's own reason as the skip message, unless importing Keras
#' would work -- with `backend`, or, when `backend` is `NULL`, with the
#' backend this session would use. `skip_if_keras_locked()` skips a test that
#' needs to switch backends once Keras has been loaded in this session.
#'
#' Neither starts the embedded Python, imports Keras, or lets reticulate or
#' keras3 install anything or build an environment: they ask as
#' [backend_info()] does (a subprocess before Python has started), and cost
#' about as much. Where there is no Python at all the test skips with
#' kbackend's reason too. With the backend set for the test by
#' [local_keras_backend()], that is the whole pattern: skip, pin, run.
#'
#' @param backend `NULL`, or a single backend name: the test runs only if
#'   Keras would import with that backend here, judged as
#'   [use_keras_backend()] validates it (see [usable_keras_backends()]).
#' @inheritParams backend_info
#' @returns `invisible(TRUE)` when the test goes on; otherwise it signals a
#'   testthat skip (a condition of class `skip`).
#' @family keras backend functions
#' @seealso [local_keras_backend()] to pin the backend for the test.
#' @examples
#' if (requireNamespace("testthat", quietly = TRUE) && interactive()) {
#'   testthat::test_that("a layer works under jax", {
#'     skip_if_no_keras_backend("jax")
#'     local_keras_backend("jax")
#'     keras <- reticulate::import("keras")
#'     testthat::expect_equal(keras$backend$backend(), "jax")
#'   })
#' }
#' @export
skip_if_no_keras_backend <- function(backend = NULL, interface = NULL) {
  if (!is.null(backend)) {
    check_backend_arg(backend)
  }
  check_interface_arg(interface)
  reason <- tryCatch(
    if (is.null(backend)) {
      session_backend_problem(interface)
    } else {
      named_backend_problem(backend, interface)
    },
    kbackend_error = function(e) one_line(conditionMessage(e))
  )
  if (is.null(reason)) {
    return(invisible(TRUE))
  }
  skip_test(reason)
}

#' @rdname skip_if_no_keras_backend
#' @export
skip_if_keras_locked <- function() {
  # Python not started: nothing in this session can have imported Keras
  if (!python_started()) {
    return(invisible(TRUE))
  }
  info <- backend_info()
  if (!isTRUE(info$locked)) {
    return(invisible(TRUE))
  }
  by <- paste(info$locked_by, collapse = ", ")
  skip_test(sprintf(
    paste(
      "Keras is already loaded in this R session (imported via: %s) with the '%s' backend;",
      "this test needs to switch backends"
    ),
    if (nzchar(by)) by else "keras", info$backend
  ))
}

# NULL when Keras would import with the backend the session would use, else
# kbackend's reason ("<backend>: <what is wrong>").
session_backend_problem <- function(interface) {
  info <- backend_info(interface = interface)
  if (identical(info$status, "ok")) {
    return(NULL)
  }
  why <- if (nrow(info$problems)) info$problems$message[[1]] else info$error
  sprintf("%s: %s", info$backend %||% "keras", why %||% "import keras would fail")
}

# NULL when Keras would import with `backend`, else kbackend's reason.
named_backend_problem <- function(backend, interface) {
  verdict <- usable_keras_backends(backend, interface = interface, details = TRUE)
  if (isTRUE(verdict$usable[[1]])) {
    return(NULL)
  }
  sprintf("%s: %s", backend, verdict$reason[[1]])
}

skip_test <- function(reason) {
  if (!requireNamespace("testthat", quietly = TRUE)) {
    kb_abort(
      "{.fn skip_if_no_keras_backend} is for testthat tests: install the {.pkg testthat} package.",
      class = "kbackend_error_bad_argument"
    )
  }
  testthat::skip(reason)
}
