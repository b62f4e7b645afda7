#' Print, format and tabulate a backend report
#'
#' `format()` renders a [backend_info()] report as console lines, `print()`
#' writes them, and `as.data.frame()` lists the packages kbackend looks for
#' (each Keras backend's library, Keras itself, tf_keras, ...) with whether
#' and which version is installed in the interpreter the report is about.
#'
#' @param x A `kbackend_info` object from [backend_info()].
#' @param ... Unused.
#' @param row.names,optional Unused; for compatibility with the generic.
#' @returns `format()`: a character vector, one element per line.
#'   `print()`: `x`, invisibly. `as.data.frame()`: a data frame with columns
#'   `package`, `installed` (logical), `version` (character, `NA` when not
#'   installed) and `selected` (`TRUE` for the backend the report names).
#' @family keras backend functions
#' @seealso [backend_info()]
#' @examples
#' info <- tryCatch(backend_info(), kbackend_error = function(e) NULL)
#' if (!is.null(info)) {
#'   format(info)
#'   as.data.frame(info)
#' }
#' @name kbackend_info
NULL

#' @rdname kbackend_info
#' @export
format.kbackend_info <- function(x, ...) {
  bullet <- function(label, text) {
    paste0(cli::col_cyan(cli::symbol$bullet), " ", cli::style_bold(label), ": ", text)
  }
  indent <- function(text) paste0("  ", text)
  words <- report_words(x)

  lines <- cli::rule(left = "Keras backend", right = paste("kbackend", x$kbackend_version %||% "?"))
  ok <- identical(x$status, "ok")
  mark <- if (ok) cli::col_green(cli::symbol$tick) else cli::col_red(cli::symbol$cross)
  lines <- c(lines, paste0(
    mark, " ", cli::style_bold(words$backend),
    if (ok) cli::col_grey(" (ok)") else paste0(": ", cli::col_red(words$outcome))
  ))
  lines <- c(lines, indent(cli::col_grey(words$source)))
  if (isTRUE(x$locked)) {
    lines <- c(lines, bullet("Locked", words$locked))
  }
  lines <- c(lines, bullet("Keras", words$keras))
  lines <- c(lines, bullet("keras.json", words$keras_json))
  lines <- c(lines, bullet("Keras home", words$keras_home))
  lines <- c(lines, bullet("Python", words$python))
  r <- x$r %||% list()
  if (length(r)) {
    lines <- c(lines, indent(cli::col_grey(r_python_text(r))))
  }
  interface <- interface_text(r$interface)
  if (!is.null(interface)) {
    lines <- c(lines, bullet("R interface", interface))
  }
  lines <- c(lines, bullet("tf.keras", words$tf_keras))
  if (!is.null(words$device)) {
    lines <- c(lines, bullet("Device", words$device))
    if (!is.null(words$device_warning)) {
      lines <- c(lines, indent(cli::col_grey(words$device_warning)))
    }
  }
  lines <- c(lines, bullet("Installed", words$installed))
  if (!is.null(words$not_installed)) {
    lines <- c(lines, indent(cli::col_grey(paste0("not installed: ", words$not_installed))))
  }
  if (!is.null(words$variables)) {
    lines <- c(lines, bullet("Variables", words$variables))
  }
  lines <- c(lines, format_verify(words, x$verify, bullet, indent))
  c(lines, format_problems(x$problems, indent))
}

# The closing block of format(): each problem with its fix, or that there is
# none.
format_problems <- function(problems, indent) {
  if (!is.data.frame(problems) || !nrow(problems)) {
    return(paste0(cli::col_green(cli::symbol$tick), " No problems found."))
  }
  lines <- cli::style_bold(sprintf("Problems (%d):", nrow(problems)))
  for (i in seq_len(nrow(problems))) {
    lines <- c(lines, paste0(cli::col_red(cli::symbol$cross), " ", problems$message[[i]]))
    if (!is.na(problems$fix[[i]])) {
      lines <- c(lines, indent(paste0(cli::symbol$arrow_right, " ", problems$fix[[i]])))
    }
  }
  lines
}

# The verify block of format(): what Keras said in the child process, the
# verdict (loud when it disagrees: that is a kbackend bug), import time,
# memory and devices.
format_verify <- function(words, v, bullet, indent) {
  if (is.null(words$verify)) {
    return(character())
  }
  lines <- bullet("Verify", words$verify)
  if (identical(words$verify_kind, "not-run")) {
    return(lines)
  }
  says <- if (identical(v$status, "ok")) cli::style_bold(words$verify_says) else words$verify_says
  lines <- c(lines, indent(paste0("Keras says: ", says)))
  lines <- c(lines, indent(switch(words$verify_kind,
    agrees = paste0(cli::col_green(cli::symbol$tick), " ", words$verify_verdict),
    inconclusive = cli::col_yellow(paste0("? ", words$verify_verdict)),
    cli::col_red(cli::style_bold(paste0(cli::symbol$cross, " ", words$verify_verdict)))
  )))
  if (!is.null(words$verify_import)) {
    lines <- c(lines, indent(paste0("Import: ", words$verify_import)))
  }
  if (!is.null(words$verify_devices)) {
    lines <- c(lines, indent(paste0("Devices: ", words$verify_devices)))
  }
  if (length(v$stderr_tail)) {
    lines <- c(lines, indent(cli::col_grey(paste0("stderr | ", v$stderr_tail))))
  }
  lines
}

#' @rdname kbackend_info
#' @export
print.kbackend_info <- function(x, ...) {
  cat(format(x, ...), sep = "\n")
  invisible(x)
}

#' @rdname kbackend_info
#' @export
as.data.frame.kbackend_info <- function(x, row.names = NULL, # nolint: object_name_linter.
                                        optional = FALSE, ...) {
  # (row.names: as the generic names it, hence the nolint above)
  installed <- x$installed %||% list()
  packages <- names(installed) %||% character()
  versions <- vapply(installed, function(v) {
    if (is.null(v) || !length(v)) NA_character_ else as.character(v[[1]])
  }, character(1), USE.NAMES = FALSE)
  backend <- x$backend %||% NA_character_
  data.frame(
    package = packages,
    installed = !is.na(versions),
    version = versions,
    selected = !is.na(backend) & packages == backend,
    stringsAsFactors = FALSE
  )
}
