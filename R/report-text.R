# The words of a report. The facts the Python module reports are worded by
# it (report.py's phrases(), sent with the record as its "text" attribute):
# format() for the console (info-methods.R) and knit_print() for Markdown
# (knit-print.R) only lay them out, adding colour or Markdown escaping. What
# only R knows -- reticulate's choice, the R interface -- is worded here.

# The module's words for `x`: a list of strings (NULL where there is
# nothing to say).
report_words <- function(x) {
  attr(x, "text", exact = TRUE) %||% list()
}

# A field as text: its values joined, or `none` when it is absent or NA.
text_or <- function(v, none = "none") {
  if (is.null(v) || !length(v) || (length(v) == 1 && is.na(v))) none else paste(v, collapse = ", ")
}

# "reticulate 1.28: chosen by RETICULATE_PYTHON; Python has not started,
# asked in a subprocess"
r_python_text <- function(r) {
  paste0(
    "reticulate ", text_or(r$reticulate_version, "?"), ": chosen by ",
    text_or(r$python_source, "?"), "; ",
    if (isTRUE(r$python_started)) {
      "Python has started, asked in-process"
    } else {
      "Python has not started, asked in a subprocess"
    }
  )
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
