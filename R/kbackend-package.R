#' kbackend: which Keras backend is or will be used, and why
#'
#' kbackend answers, from R and from Python alike, which Keras backend the
#' Python interpreter that reticulate uses (or would use) will load, why
#' (`KERAS_BACKEND`, `keras.json` or the default), whether it will import, and
#' which backends are installed there. It never imports Keras to find out, and
#' it never starts Python when Python has not started yet.
#'
#' The resolution logic lives in one bundled Python module (in the package's
#' `python/` folder). Before Python has started, R runs it in a subprocess with
#' the interpreter reticulate would choose and R's current environment; after
#' Python has started, R calls it in-process so that the live `os.environ` and
#' `sys.modules` count. Both paths parse the same JSON the same way.
#'
#' Main functions:
#' * [backend_info()]: the report.
#' * [use_keras_backend()]: set the backend for R and a running Python,
#'   refusing once Keras is loaded.
#' * [local_keras_backend()], [with_keras_backend()]: temporarily.
#' * [check_keras_backend()]: validate only.
#' * [backend_survey()], [use_keras_backend_on()]: the backend in every worker
#'   of a cluster or `future` plan.
#'
#' @keywords internal
"_PACKAGE"

# Package-level state: the in-process module, cached once Python has started.
.kb <- new.env(parent = emptyenv())
