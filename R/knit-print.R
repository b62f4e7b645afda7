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
  words <- report_words(x)
  rows <- character()
  row <- function(label, cell) {
    if (!is.null(cell)) rows <<- c(rows, sprintf("| %s | %s |", label, cell))
  }
  ok <- identical(x$status, "ok")
  row("Backend", paste0(
    "**", md_escape(words$backend), "**",
    if (ok) " (ok)" else paste0(" **", md_escape(words$outcome), "**")
  ))
  row("Source", md_escape(words$source))
  if (isTRUE(x$locked)) {
    row("Locked", md_escape(words$locked))
  }
  row("Keras", md_escape(words$keras))
  row("keras.json", md_escape(words$keras_json))
  row("tf.keras", md_escape(words$tf_keras))
  row("Python", md_escape(paste0(
    words$python,
    if (!is.null(x$r$python_source)) paste0(", chosen by ", x$r$python_source)
  )))
  interface <- interface_text(x$r$interface)
  if (!is.null(interface)) {
    row("R interface", md_escape(interface))
  }
  if (!is.null(words$device)) {
    row("Device", md_escape(words$device))
  }
  row("Verified", markdown_verify(words))

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

# The Verified cell: what Keras said, the verdict (bold when it disagrees),
# import time, memory and devices; NULL without a verify run.
markdown_verify <- function(words) {
  if (is.null(words$verify)) {
    return(NULL)
  }
  if (identical(words$verify_kind, "not-run")) {
    return(md_escape(words$verify))
  }
  verdict <- md_escape(words$verify_verdict)
  if (identical(words$verify_kind, "disagrees")) {
    verdict <- paste0("**", verdict, "**")
  }
  details <- c(
    if (!is.null(words$verify_import)) paste0("import ", words$verify_import),
    if (!is.null(words$verify_devices)) paste0("devices ", words$verify_devices)
  )
  paste0(
    "Keras says **", md_escape(words$verify_says), "**: ", verdict,
    if (length(details)) paste0("; ", md_escape(paste(details, collapse = "; ")))
  )
}

# Text shown literally in Markdown, inside a table cell: the characters
# Markdown (and pandoc) would read as markup are backslash-escaped, and line
# breaks, which would end the table row, become spaces.
md_escape <- function(x) {
  x <- gsub("[\r\n]+", " ", as.character(x))
  gsub("([][\\\\`*_{}<>|$~^#@'\"])", "\\\\\\1", x)
}
