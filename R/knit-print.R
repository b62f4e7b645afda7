#' Show a backend report in R Markdown and Quarto documents
#'
#' When a chunk's value is a [backend_info()] report, knitr prints it with
#' this method: a compact Markdown table (backend and status, the error
#' `import keras` would raise, where the choice comes from and why, the Keras
#' version, the `keras.json` path and its state, what `tf.keras` resolves to,
#' the Python interpreter, and, with `verify = TRUE`, what Keras itself said),
#' followed by the problems found and their fixes. knitr is only needed when
#' knitting: the method is registered for knitr's generic when knitr is
#' loaded.
#'
#' @param x A `kbackend_info` object from [backend_info()].
#' @param ... Unused; for compatibility with the generic.
#' @returns Markdown text of class `knit_asis` ([knitr::asis_output()]).
#' @family keras backend functions
#' @seealso [print()][kbackend_info] for the console form.
#' @examples
#' info <- tryCatch(backend_info(), kbackend_error = function(e) NULL)
#' if (!is.null(info) && requireNamespace("knitr", quietly = TRUE)) {
#'   cat(knitr::knit_print(info))
#' }
#' @exportS3Method knitr::knit_print
knit_print.kbackend_info <- function(x, ...) { # nolint: object_name_linter. A knitr S3 method.
  knitr::asis_output(paste(markdown_lines(x), collapse = "\n"))
}

# The report as Markdown lines: a two-column pipe table (empty header, which
# pandoc renders as a table without a header row), then the problems.
markdown_lines <- function(x) {
  rows <- character()
  row <- function(label, cell) {
    rows <<- c(rows, sprintf("| %s | %s |", label, cell))
  }

  ok <- identical(x$status, "ok")
  row("Backend", paste0(
    "**", md_escape(text_or(x$backend, "no backend")), "**",
    if (ok) " (ok)" else paste0(
      " **will not load**",
      if (!is.null(x$error)) paste0(": ", md_escape(x$error))
    )
  ))
  row("Source", paste0(
    md_escape(text_or(x$source, "unknown")),
    if (!is.null(x$reason) && nzchar(x$reason)) paste0(": ", md_escape(x$reason))
  ))
  if (isTRUE(x$locked)) {
    row("Locked", md_escape(locked_text(x)))
  }

  row("Keras", md_escape(keras_text(x$keras)))

  config_error <- x$config_file$error
  row("keras.json", md_escape(paste0(
    text_or(x$config_path, "?"), " (", config_state_text(x$config_file),
    if (!is.null(config_error)) paste0(": ", config_error), ")"
  )))

  tf_keras <- tf_keras_text(x$tf_keras)
  if (!is.null(tf_keras)) {
    row("tf.keras", md_escape(tf_keras))
  }

  row("Python", md_escape(paste0(
    python_text(x),
    if (!is.null(x$r$python_source)) paste0(", chosen by ", x$r$python_source)
  )))

  interface <- interface_text(x$r$interface)
  if (!is.null(interface)) {
    row("R interface", md_escape(interface))
  }

  device <- device_text(x$device)
  if (!is.null(device)) {
    row("Device", md_escape(device))
  }

  v <- x$verify
  if (is.list(v)) {
    row("Verified", markdown_verify(v, x))
  }

  problems <- x$problems
  n <- if (is.data.frame(problems)) nrow(problems) else 0L
  row("Problems", if (n) {
    paste0(n, ": ", paste(md_escape(problems$code), collapse = ", "))
  } else {
    "none"
  })

  # dashes 2:8: pandoc gives wrapped tables those relative column widths
  lines <- c("", "|   |   |", "|:--|:--------|", rows, "")
  if (n) {
    items <- vapply(seq_len(n), function(i) {
      fix <- problems$fix[[i]]
      paste0(
        "- **", md_escape(problems$code[[i]]), "**: ", md_escape(problems$message[[i]]),
        if (!is.na(fix)) paste0(" *Fix:* ", md_escape(fix))
      )
    }, character(1))
    lines <- c(lines, items, "")
  }
  lines
}

markdown_verify <- function(v, x) {
  status <- v$status %||% "?"
  if (identical(status, "not-run")) {
    return(md_escape(paste0("not run: ", v$reason %||% "?")))
  }
  says <- verify_says_text(v)
  predicted <- if (identical(x$status, "ok")) x$backend %||% "no backend" else "import fails"
  verdict <- if (isTRUE(v$agrees)) {
    paste0("AGREES with the prediction (", md_escape(predicted), ")")
  } else if (is.null(v$agrees)) {
    paste0("INCONCLUSIVE: the import ", verify_failure_text(status), " (prediction: ",
           md_escape(predicted), ")")
  } else {
    paste0(
      "**DISAGREES with the prediction (", md_escape(predicted),
      "): a kbackend bug**"
    )
  }
  details <- c(
    if (!is.null(v$import_seconds)) sprintf("import %.2f s", v$import_seconds),
    if (!is.null(v$peak_memory_mb)) paste0("peak memory ", v$peak_memory_mb, " MiB"),
    if (length(v$devices)) paste0("devices ", paste(v$devices, collapse = ", "))
  )
  paste0(
    "Keras says **", md_escape(says), "**: ", verdict,
    if (length(details)) paste0("; ", md_escape(paste(details, collapse = ", ")))
  )
}

# Text shown literally in Markdown, inside a table cell: the characters
# Markdown (and pandoc) would read as markup are backslash-escaped, and line
# breaks, which would end the table row, become spaces.
md_escape <- function(x) {
  x <- gsub("[\r\n]+", " ", as.character(x))
  gsub("([][\\\\`*_{}<>|$~^#@'\"])", "\\\\\\1", x)
}
