# The plain-text facts of a report, worded once and shared by the two
# renderers: format() for the console (info-methods.R) and knit_print() for
# Markdown (knit-print.R). Each returns one string, unstyled and unescaped;
# the renderers add colour or Markdown escaping.

# A field as text: its values joined, or `none` when it is absent or NA.
text_or <- function(v, none = "none") {
  if (is.null(v) || !length(v) || (length(v) == 1 && is.na(v))) none else paste(v, collapse = ", ")
}

locked_text <- function(x) {
  paste0(
    "yes, Keras is loaded (", text_or(x$locked_by), "): the backend can no ",
    "longer change in this process"
  )
}

# "3.15.1 (keras3)", or "not installed".
keras_text <- function(keras) {
  keras <- keras %||% list()
  if (!isTRUE(keras$installed)) {
    return("not installed")
  }
  paste0(text_or(keras$version, "?"), if (!is.null(keras$flavour)) paste0(" (", keras$flavour, ")"))
}

# What is known of keras.json: "exists, parses, backend \"jax\"", or
# "does not exist". The parse error is left to the caller, which shows it
# on a line of its own (console) or after a colon (Markdown).
config_state_text <- function(cf) {
  cf <- cf %||% list()
  if (!isTRUE(cf$exists)) {
    return("does not exist")
  }
  paste0(
    "exists",
    if (isTRUE(cf$parses)) ", parses" else if (isFALSE(cf$parses)) ", does not parse",
    if (!is.null(cf$backend)) paste0(", backend \"", cf$backend, "\"")
  )
}

# "routes to keras 3.15.1 (backend jax)", or NULL when the report has no
# tf.keras answer (TensorFlow not installed).
tf_keras_text <- function(tk) {
  if (is.null(tk) || is.null(tk$routes_to)) {
    return(NULL)
  }
  paste0(
    "routes to ", tk$routes_to,
    if (!is.null(tk$version)) paste0(" ", tk$version),
    if (!is.null(tk$backend)) paste0(" (backend ", tk$backend, ")")
  )
}

# "/path/to/python (3.11.7)": the interpreter the report is about.
python_text <- function(x) {
  py <- x$python %||% list()
  paste0(
    text_or(py$executable %||% x$r$python, "?"),
    if (!is.null(py$version)) paste0(" (", py$version, ")")
  )
}

# What the verify child's Keras said: "jax", or "timeout: no answer ...".
verify_says_text <- function(v) {
  if (identical(v$status, "ok")) {
    v$backend %||% "?"
  } else {
    paste0(v$status %||% "?", ": ", v$error %||% "?")
  }
}

# "keras3 1.5.1 (installed; not loaded yet: its load steps are applied)"
interface_text <- function(interface) {
  if (is.null(interface) || is.null(interface$name)) {
    return(NULL)
  }
  version <- if (is.null(interface$version) || is.na(interface$version)) {
    ""
  } else {
    paste0(" ", interface$version)
  }
  connected <- interface[["connected"]]
  state <- if (isTRUE(interface$loaded) && is.logical(connected) && length(connected) == 1 &&
               !is.na(connected)) {
    if (connected) "loaded, connected" else "loaded, not connected"
  } else if (isTRUE(interface$loaded)) {
    "loaded"
  } else if (identical(interface$name, "reticulate")) {
    "a plain import(\"keras\")"
  } else {
    paste0(interface$source, "; not loaded yet: answered as after its load")
  }
  will <- c(
    connects = "; its load will connect", unconnected = "; it will load unconnected",
    fails = "; its load will fail"
  )[interface[["load"]][["outcome"]] %||% ""]
  if (isTRUE(interface$loaded) || is.na(will)) will <- ""
  paste0(interface$name, version, " (", state, will, "), imports ", interface$module %||% "keras")
}

# Why a verify run could not decide: "timed out" or "crashed".
verify_failure_text <- function(status) {
  if (identical(status, "timeout")) "timed out" else "crashed"
}
