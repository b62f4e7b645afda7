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

  lines <- cli::rule(left = "Keras backend", right = paste("kbackend", x$kbackend_version %||% "?"))

  backend <- x$backend
  ok <- identical(x$status, "ok")
  mark <- if (ok) cli::col_green(cli::symbol$tick) else cli::col_red(cli::symbol$cross)
  head <- paste0(
    mark, " ", cli::style_bold(text_or(backend, "no backend")),
    cli::col_grey(paste0(" (source: ", text_or(x$source, "unknown"), ")"))
  )
  if (!ok) {
    head <- paste0(head, " ", cli::col_red("will not load"))
  }
  lines <- c(lines, head)
  if (!is.null(x$reason) && nzchar(x$reason)) {
    lines <- c(lines, indent(x$reason))
  }
  if (!ok && !is.null(x$error)) {
    lines <- c(lines, indent(cli::col_red(x$error)))
  }
  if (isTRUE(x$locked)) {
    lines <- c(lines, bullet("Locked", locked_text(x)))
  }

  keras_path <- if (isTRUE(x$keras$installed)) x$keras$path
  lines <- c(lines, bullet("Keras", paste0(
    keras_text(x$keras),
    if (!is.null(keras_path)) cli::col_grey(paste0(" ", keras_path))
  )))

  lines <- c(lines, bullet("keras.json", paste0(
    text_or(x$config_path, "?"),
    cli::col_grey(paste0(" (", config_state_text(x$config_file), ")"))
  )))
  if (!is.null(x$config_file$error)) {
    lines <- c(lines, indent(cli::col_red(x$config_file$error)))
  }

  lines <- c(lines, bullet("Python", python_text(x)))
  r <- x$r %||% list()
  if (length(r)) {
    lines <- c(lines, indent(cli::col_grey(paste0(
      "reticulate ", text_or(r$reticulate_version, "?"), ": chosen by ",
      text_or(r$python_source, "?"), "; ",
      if (isTRUE(r$python_started)) {
        "Python has started, asked in-process"
      } else {
        "Python has not started, asked in a subprocess"
      }
    ))))
  }

  interface <- interface_text(r$interface)
  if (!is.null(interface)) {
    lines <- c(lines, bullet("R interface", interface))
  }

  tf_keras <- tf_keras_text(x$tf_keras)
  if (!is.null(tf_keras)) {
    lines <- c(lines, bullet("tf.keras", tf_keras))
  }

  device <- device_text(x$device)
  if (!is.null(device)) {
    lines <- c(lines, bullet("Device", device))
    if (is.character(x$device$warning)) {
      lines <- c(lines, indent(cli::col_grey(paste0("it will print: ", x$device$warning))))
    }
  }

  lines <- c(lines, format_installed(x, bullet, indent))

  vars <- x$variables
  if (length(vars)) {
    shown <- vapply(vars, function(v) text_or(v, ""), character(1))
    lines <- c(lines, bullet("Variables", paste0(names(vars), "=", shown, collapse = ", ")))
  }

  lines <- c(lines, format_verify(x$verify, x, bullet, indent))

  c(lines, format_problems(x$problems, indent))
}

# The device forecast of the chosen backend in one line: "cpu (why)"; NULL
# when there is none (no forecast for this backend, or an older record).
device_text <- function(device) {
  if (!is.list(device) || !is.character(device$device)) {
    return(NULL)
  }
  paste0(device$device, if (is.character(device$reason)) paste0(" (", device$reason, ")"))
}

# The Installed block of format(): the packages found, then those missing.
format_installed <- function(x, bullet, indent) {
  inst <- as.data.frame(x)
  if (!nrow(inst)) {
    return(character())
  }
  have <- inst[inst$installed, , drop = FALSE]
  lines <- bullet("Installed", if (nrow(have)) {
    paste0(have$package, " ", have$version, collapse = ", ")
  } else {
    "none of the packages kbackend looks for"
  })
  missing <- inst$package[!inst$installed]
  if (length(missing)) {
    lines <- c(lines, indent(cli::col_grey(paste0(
      "not installed: ", paste(missing, collapse = ", ")
    ))))
  }
  lines
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
format_verify <- function(v, x, bullet, indent) {
  if (!is.list(v)) {
    return(character())
  }
  status <- v$status %||% "?"
  if (identical(status, "not-run")) {
    return(bullet("Verify", paste0("not run: ", v$reason %||% "?")))
  }
  lines <- bullet("Verify", "Keras imported in a child process")
  says <- verify_says_text(v)
  if (identical(status, "ok")) {
    says <- cli::style_bold(says)
  }
  lines <- c(lines, indent(paste0("Keras says: ", says)))
  predicted <- if (identical(x$status, "ok")) {
    x$backend %||% "no backend"
  } else {
    paste0("import fails: ", x$error %||% "?")
  }
  lines <- c(lines, indent(if (isTRUE(v$agrees)) {
    paste0(cli::col_green(cli::symbol$tick), " AGREES with the prediction (", predicted, ")")
  } else if (is.null(v$agrees)) {
    cli::col_yellow(paste0(
      "? INCONCLUSIVE: the import ", verify_failure_text(status),
      ", so nothing confirms or contradicts the prediction (", predicted, ")"
    ))
  } else {
    cli::col_red(cli::style_bold(paste0(
      cli::symbol$cross, " DISAGREES with the prediction (", predicted, "): ",
      "this is a kbackend bug. Trust what Keras says, and please report it."
    )))
  }))
  if (!is.null(v$import_seconds)) {
    lines <- c(lines, indent(paste0(
      "Import: ", sprintf("%.2f s", v$import_seconds),
      if (!is.null(v$peak_memory_mb)) paste0(", peak memory ", v$peak_memory_mb, " MiB")
    )))
  }
  if (!is.null(v$devices) || !is.null(v$devices_error)) {
    devices <- if (length(v$devices)) {
      paste(v$devices, collapse = ", ")
    } else {
      v$devices_error %||% "none"
    }
    lines <- c(lines, indent(paste0("Devices: ", devices)))
  }
  tail_err <- v$stderr_tail
  if (length(tail_err)) {
    lines <- c(lines, indent(cli::col_grey(paste0("stderr | ", tail_err))))
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
