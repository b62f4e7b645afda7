# Classed conditions. Every error kbackend raises inherits "kbackend_error",
# plus one specific class, so callers can tryCatch() precisely.

kb_abort <- function(message, class, ..., call = NULL, .envir = parent.frame()) {
  if (is.null(call)) {
    call <- rlang::caller_env()
  }
  cli::cli_abort(
    message,
    class = unique(c(class, "kbackend_error")),
    ...,
    call = call,
    .envir = .envir
  )
}

# The Python exception classes of the kbackend module and the R classes they
# become. A KBackendError of another subclass becomes plain "kbackend_error".
python_error_classes <- c(
  InvalidBackendError = "kbackend_error_invalid_backend",
  BackendNotInstalledError = "kbackend_error_not_installed",
  BackendLockedError = "kbackend_error_locked",
  ConfigFileError = "kbackend_error_config"
)

r_class_for_python_error <- function(python_class) {
  if (is.null(python_class) || !length(python_class) || is.na(python_class)) {
    return("kbackend_error_python")
  }
  cls <- python_error_classes[python_class]
  if (is.na(cls)) "kbackend_error" else unname(cls)
}

# Raise the R condition for an error the kbackend module reported.
abort_from_python <- function(python_class, message, backend = NULL,
                              call = rlang::caller_env()) {
  kb_abort(
    c("{message}"),
    class = r_class_for_python_error(python_class),
    python_class = python_class,
    backend = backend,
    call = call
  )
}

# Text shown verbatim inside a cli message.
cli_escape <- function(x) {
  gsub("}", "}}", gsub("{", "{{", x, fixed = TRUE), fixed = TRUE)
}

`%||%` <- function(x, y) if (is.null(x)) y else x
