# Argument checks shared by the exported functions. Each refuses bad input
# with kbackend_error_bad_argument before anything else happens: no Python
# is looked for, no subprocess runs, no variable is touched.

# A backend name is one token: a (dotted) module name -- a Keras 2 custom
# backend is a module -- with the -cpu/-gpu suffix keras3 accepts. The body is
# NAME_PATTERN of the Python module's setting.py (a test compares the two), so R
# and Python refuse the same names. No whitespace, quotes or shell
# metacharacters ever reach a command line. Matched with perl = TRUE, whose
# ranges are code points in every locale; \z, unlike $, does not match
# before a final newline.
backend_name_body <- "[A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)*(?:-cpu|-gpu)?"
backend_name_pattern <- paste0("\\A", backend_name_body, "\\z")

check_backend_arg <- function(backend, arg = "backend", call = rlang::caller_env()) {
  problem <- if (is.null(backend)) {
    "it is NULL"
  } else if (!is.character(backend)) {
    sprintf("it is %s", describe_type(backend))
  } else if (length(backend) != 1) {
    sprintf("it has length %d", length(backend))
  } else if (is.na(backend)) {
    "it is NA"
  } else if (!nzchar(backend)) {
    "it is the empty string"
  } else if (!grepl(backend_name_pattern, backend, perl = TRUE)) {
    sprintf(
      "%s is not a backend name (a module name: letters, digits, \"_\" and \".\")",
      encodeString(backend, quote = "\"")
    )
  }
  if (!is.null(problem)) {
    abort_bad_argument(
      "{.arg {arg}} must be a single backend name, such as {.val jax}.",
      problem, arg = arg, call = call
    )
  }
  invisible(backend)
}

check_interface_arg <- function(interface, call = rlang::caller_env()) {
  if (is.null(interface)) {
    return(invisible(interface))
  }
  is_string <- is.character(interface) && length(interface) == 1 && !is.na(interface)
  if (!is_string || !interface %in% interface_names) {
    abort_bad_argument(
      "{.arg interface} must be NULL or one of {.val {interface_names}}.",
      sprintf("it is %s", if (is_string) {
        encodeString(interface, quote = "\"")
      } else {
        describe_value(interface)
      }),
      arg = "interface", call = call
    )
  }
  invisible(interface)
}

# The devices a setter can choose: DEVICES of the Python module's setting.py
# (a test compares the two), which decides whether the device is possible.
device_choices <- c("cpu", "gpu")

check_device_arg <- function(device, call = rlang::caller_env()) {
  if (is.null(device)) {
    return(invisible(device))
  }
  one_string <- is.character(device) && length(device) == 1 && !is.na(device)
  if (!one_string || !device %in% device_choices) {
    shown <- if (one_string) encodeString(device, quote = "\"") else describe_value(device)
    abort_bad_argument(
      "{.arg device} must be NULL, {.val cpu} or {.val gpu}.",
      sprintf("it is %s", shown), arg = "device", call = call
    )
  }
  invisible(device)
}

check_flag_arg <- function(x, arg, call = rlang::caller_env()) {
  if (!is.logical(x) || length(x) != 1 || is.na(x)) {
    abort_bad_argument(
      "{.arg {arg}} must be {.code TRUE} or {.code FALSE}.",
      sprintf("it is %s", describe_value(x)), arg = arg, call = call
    )
  }
  invisible(x)
}

check_timeout_arg <- function(x, arg = "timeout", call = rlang::caller_env()) {
  if (!is.numeric(x) || is.factor(x) || length(x) != 1 || is.na(x) ||
      !is.finite(x) || x <= 0) {
    abort_bad_argument(
      "{.arg {arg}} must be a single positive number of seconds.",
      sprintf("it is %s", describe_value(x)), arg = arg, call = call
    )
  }
  invisible(x)
}

# `headline` is a cli template that may use {arg}; `problem` is plain text,
# shown as it is (it may quote the user's input, braces included).
abort_bad_argument <- function(headline, problem, arg, call) {
  kb_abort(
    c(headline, x = "{upper_first(problem)}."),
    class = "kbackend_error_bad_argument",
    call = call
  )
}

upper_first <- function(x) {
  paste0(toupper(substr(x, 1, 1)), substr(x, 2, nchar(x)))
}

# A single number is shown as itself (so "It is -5." tells what was wrong);
# anything else by its type and length.
describe_value <- function(x) {
  if (is.numeric(x) && !is.factor(x) && length(x) == 1) format(x) else describe_type(x)
}

describe_type <- function(x) {
  if (is.null(x)) {
    return("NULL")
  }
  type <- if (is.factor(x)) "a factor" else switch(typeof(x),
    logical = "a logical vector",
    integer = "an integer vector",
    double = "a number",
    character = "a character vector",
    list = "a list",
    paste("of type", typeof(x))
  )
  if (length(x) != 1) paste0(type, " of length ", length(x)) else type
}
