#' Set the Keras backend before Keras starts
#'
#' For R Markdown setup chunks and scripts: validates `backend` with the
#' bundled kbackend Python module in the interpreter reticulate uses or would
#' use, then sets `KERAS_BACKEND` for R ([Sys.setenv()]) and, if Python has
#' already started, for Python (`os.environ`) too -- reticulate does not copy
#' one into the other once Python runs. Once Keras is loaded the backend can
#' no longer change in this process, and a change is refused.
#'
#' `check_keras_backend()` runs the same validation and changes nothing. The
#' validation is the prediction itself: [backend_info()] as it would be with
#' `KERAS_BACKEND` set to `backend`. A backend is refused exactly when that
#' predicts that importing Keras fails, and the message names the exception
#' Keras would raise.
#'
#' Neither function starts Python: before Python has started they ask the
#' module in a subprocess.
#'
#' @param backend A single backend name, such as `"jax"`, `"tensorflow"`,
#'   `"torch"`, `"numpy"` or `"openvino"` (Keras 3), or `"theano"`, `"cntk"`
#'   (Keras 2). Case matters, as it does for Keras. keras3 also reads a
#'   `-cpu` or `-gpu` suffix (`"jax-cpu"`).
#' @param persist If `TRUE`, also write the backend into the `keras.json`
#'   Keras reads (see `backend_info()$config_path`), so later sessions use it
#'   without `KERAS_BACKEND`. keras3 ignores that file's backend (it sets
#'   `KERAS_BACKEND` when it loads): under keras3 the file is still written,
#'   with a warning of class `kbackend_warning_keras3_overrides`.
#' @param interface The R interface that will import Keras; see
#'   [backend_info()]. Under the legacy `keras` package a backend other than
#'   `"tensorflow"` also sets `KERAS_IMPLEMENTATION = "keras"`, as that
#'   package's `use_backend()` does (it would otherwise import
#'   `tensorflow.keras`). Under keras3, `"jax-cpu"` and `"jax-gpu"` are
#'   accepted and mean `"jax"`. kerasR imports Keras when it loads: call
#'   this before `library(kerasR)`.
#' @returns `use_keras_backend()`: the previous value of R's `KERAS_BACKEND`
#'   (`NA` if it was unset), invisibly. `check_keras_backend()`: `backend`,
#'   invisibly.
#'
#'   Errors have class `kbackend_error` plus one of
#'   `kbackend_error_bad_argument` (not a single well-formed name),
#'   `kbackend_error_invalid_backend` (not a backend the installed Keras
#'   knows), `kbackend_error_not_installed` (a module the import needs is
#'   missing), `kbackend_error_import_fails` (`import keras` would fail for
#'   another reason),
#'   `kbackend_error_locked` (Keras is already loaded with another backend; the
#'   message names what loaded it), `kbackend_error_config` (keras.json cannot
#'   be read or written), `kbackend_error_no_python` or
#'   `kbackend_error_python`. Nothing is changed when an error is raised.
#' @family keras backend functions
#' @seealso [local_keras_backend()] to set it temporarily; [backend_info()].
#' @examples
#' # Bad arguments are refused before anything else happens:
#' tryCatch(
#'   use_keras_backend(c("jax", "torch")),
#'   kbackend_error_bad_argument = function(e) conditionMessage(e)
#' )
#'
#' if (interactive()) {
#'   # In a setup chunk, before anything imports Keras:
#'   use_keras_backend("jax")
#' }
#' @export
use_keras_backend <- function(backend, persist = FALSE, interface = NULL) {
  check_backend_arg(backend)
  check_flag_arg(persist, "persist")
  check_interface_arg(interface)
  previous <- Sys.getenv("KERAS_BACKEND", unset = NA)

  iface <- keras_interface(interface)
  interpreter <- reticulate_python(iface)
  facts <- interface_facts(iface, python_started = interpreter$started)
  if (interpreter$started) {
    kb_py_call("use_keras_backend", backend, persist = persist, interface = facts,
               backend = backend)
    value <- python_getenv("KERAS_BACKEND")
    if (persist) {
      persisted_to <- parse_record(kb_py_call("backend_info_json", interface = facts))$config_path
    }
  } else {
    args <- c("use", backend, if (persist) "--persist" else "--check", "--json",
              interface_args(facts))
    answer <- ask_cli_use(interpreter$python, args, backend)
    value <- answer$backend
    persisted_to <- answer$persisted_to
  }
  Sys.setenv(KERAS_BACKEND = value)
  if (iface$name == "keras" && backend != "tensorflow") {
    # as the legacy package's own use_backend() does: only standalone Keras
    # has other backends; by default it imports tensorflow.keras
    Sys.setenv(KERAS_IMPLEMENTATION = "keras")
    cli::cli_inform(c(i = paste(
      "Also set {.envvar KERAS_IMPLEMENTATION} to {.val keras}: the R keras",
      "package uses {.val {backend}} only through standalone Keras."
    )))
  }
  if (persist && !is.null(persisted_to)) {
    cli::cli_inform(c(v = "Saved {.val {backend}} as the backend in {.path {persisted_to}}."))
    if (iface$name == "keras3") {
      cli::cli_warn(
        c(
          "keras3 ignores the backend in {.file keras.json}.",
          i = paste(
            "When it loads it sets {.envvar KERAS_BACKEND} (to {.val tensorflow} if",
            "unset), which wins over the file. For later sessions, set",
            "{.code KERAS_BACKEND={backend}} in {.file ~/.Renviron} instead."
          )
        ),
        class = c("kbackend_warning_keras3_overrides", "kbackend_warning")
      )
    }
  }
  invisible(previous)
}

#' @rdname use_keras_backend
#' @export
check_keras_backend <- function(backend, interface = NULL) {
  check_backend_arg(backend)
  check_interface_arg(interface)
  iface <- keras_interface(interface)
  interpreter <- reticulate_python(iface)
  facts <- interface_facts(iface, python_started = interpreter$started)
  if (interpreter$started) {
    kb_py_call("check_keras_backend", backend, interface = facts, backend = backend)
  } else {
    ask_cli_use(interpreter$python,
                c("use", backend, "--check", "--json", interface_args(facts)), backend)
  }
  invisible(backend)
}

# Run `use ...` through the CLI; an {"ok": false} answer becomes the classed
# R error.
ask_cli_use <- function(python, args, backend, call = rlang::caller_env()) {
  result <- run_kbackend_cli(python, args)
  answer <- parse_cli_json(result, python, expected_status = c(0L, 3L), call = call)
  if (!isTRUE(answer$ok)) {
    abort_from_python(answer$code %||% NA_character_,
                      answer$message %||% "kbackend refused the backend.",
                      python_class = answer$error_class %||% NA_character_,
                      backend = backend, call = call)
  }
  answer
}
