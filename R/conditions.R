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

# The R class of an error the kbackend module reported: each Python
# KBackendError subclass carries its R class name as `code`
# (errors.py of the bundled Python module), so the mapping lives in one place. Anything
# else is a failure of the module itself.
r_class_for_python_error <- function(code) {
  if (is.character(code) && length(code) == 1 && is_kbackend_error_class(code)) {
    return(code)
  }
  "kbackend_error_python"
}

# Which of `classes` are kbackend's error classes ("kbackend_error" and its
# "kbackend_error_<kind>"); NA is none.
is_kbackend_error_class <- function(classes) {
  !is.na(classes) & grepl("^kbackend_error(_[a-z_]+)?$", classes)
}

# Raise the R condition for an error the kbackend module reported.
abort_from_python <- function(code, message, python_class = NA_character_,
                              backend = NULL, call = rlang::caller_env()) {
  kb_abort(
    c("{message}"),
    class = r_class_for_python_error(code),
    python_class = python_class,
    backend = backend,
    call = call
  )
}

# Messages on one line each: cli's styling goes, line breaks and the spaces
# around them become one space.
one_line <- function(x) {
  trimws(gsub("\\s*\n\\s*", " ", cli::ansi_strip(x)))
}

# Text shown verbatim inside a cli message.
cli_escape <- function(x) {
  gsub("}", "}}", gsub("{", "{{", x, fixed = TRUE), fixed = TRUE)
}

`%||%` <- function(x, y) if (is.null(x)) y else x
