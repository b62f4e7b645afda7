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
#' module in a subprocess. What a change sets, and what it says, is decided
#' by the Python module, the same for R and Python users; R applies it.
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
#' @param device `NULL` (leave the device to the backend), `"cpu"` or
#'   `"gpu"`: also set what that backend reads to pick its device
#'   (`JAX_PLATFORMS`, `CUDA_VISIBLE_DEVICES`, or the torch device variable
#'   the installed Keras reads), after checking the device forecast of
#'   [backend_info()]. A GPU the build or the machine cannot give is refused
#'   (class `kbackend_error_device`), and so is any device once that
#'   backend's library is imported in the running Python
#'   (`kbackend_error_locked`).
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
#'   message names what loaded it), `kbackend_error_device` (see `device`),
#'   `kbackend_error_config` (keras.json cannot
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
use_keras_backend <- function(backend, persist = FALSE, interface = NULL, device = NULL) {
  check_backend_arg(backend)
  check_flag_arg(persist, "persist")
  check_interface_arg(interface)
  check_device_arg(device)
  invisible(change_keras_backend(backend, persist, interface, device)$previous)
}

#' @rdname use_keras_backend
#' @export
check_keras_backend <- function(backend, interface = NULL, device = NULL) {
  check_backend_arg(backend)
  check_interface_arg(interface)
  check_device_arg(device)
  change_keras_backend(backend, FALSE, interface, device, check = TRUE)
  invisible(backend)
}

# The Python module decides what setting `backend` changes (in-process once
# Python runs, else in a subprocess; either way it writes keras.json if
# asked) and R applies it: to its own environment and to the running
# Python's os.environ, and says what the module says. Returns
# list(previous = R's old KERAS_BACKEND, saved = the old value of every
# variable changed, in R (`r`) and in the running Python (`python`)), which
# restore_saved_variables() puts back.
change_keras_backend <- function(backend, persist, interface, device, check = FALSE,
                                 call = rlang::caller_env()) {
  iface <- keras_interface(interface)
  interpreter <- reticulate_python(iface)
  facts <- interface_facts(iface, python_started = interpreter$started)
  if (interpreter$started) {
    change <- parse_json_answer(kb_py_call(
      "change_keras_backend_json", backend, persist = persist, interface = facts,
      device = device, check = check, backend = backend, call = call
    ))
  } else {
    args <- c("use", backend, if (persist && !check) "--persist" else "--check",
              if (!is.null(device)) c("--device", device), "--json", interface_args(facts))
    change <- ask_cli_use(interpreter$python, args, backend, call = call)
  }
  if (check) {
    return(invisible(change))
  }
  both <- unlist(change$set)
  r_only <- unlist(change$r_set)
  unset <- as.character(unlist(change$unset))
  # read every old value before setting any: R and Python share the
  # process's C environment, and os.environ writes through to it
  saved <- list(
    r = Sys.getenv(c(names(both), names(r_only), unset), unset = NA, names = TRUE),
    python = if (interpreter$started) {
      vapply(c(names(both), unset), python_getenv, character(1))
    }
  )
  if (length(unset)) Sys.unsetenv(unset)
  do.call(Sys.setenv, as.list(c(both, r_only)))
  if (interpreter$started) {
    for (name in unset) python_setenv(name, NA_character_)
    for (name in names(both)) python_setenv(name, both[[name]])
  }
  show_notes(change$notes)
  list(previous = saved$r[["KERAS_BACKEND"]], saved = saved)
}

# What the module tells the user about a change, as cli messages; a warning
# carries the class the module names.
show_notes <- function(notes) {
  for (note in notes) {
    text <- cli_escape(note$message)
    if (identical(note$level, "warning")) {
      cli::cli_warn(text, class = c(note$condition_class, "kbackend_warning"))
    } else {
      cli::cli_inform(stats::setNames(text, if (identical(note$level, "success")) "v" else "i"))
    }
  }
  invisible()
}

# Put back what change_keras_backend() saved: in the running Python's
# os.environ (to what it had when it was already running, else to R's old
# values, which a Python started since inherited), then in R. Python goes
# first: os.environ writes through to the C environment R reads, so R's own
# old value, where it differed, must be the last written.
restore_saved_variables <- function(saved) {
  if (python_started()) {
    python_values <- if (is.null(saved$python)) saved$r else saved$python
    for (name in names(python_values)) {
      python_setenv(name, python_values[[name]])
    }
  }
  for (name in names(saved$r)) {
    value <- saved$r[[name]]
    if (is.na(value)) {
      Sys.unsetenv(name)
    } else {
      do.call(Sys.setenv, stats::setNames(list(value), name))
    }
  }
  invisible()
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
