# How a backend survey is shown: format(), print(), as.data.frame() and
# knit_print(); the words are in survey-text.R.

#' Print, format and tabulate a backend survey
#'
#' `format()` renders a [backend_survey()] as console lines -- a table with
#' one row per worker, then the verdict and the errors of workers that
#' failed -- `print()` writes them, and `as.data.frame()` returns the table
#' of workers.
#'
#' @param x A `kbackend_survey` object from [backend_survey()].
#' @param ... Unused.
#' @param row.names,optional Unused; for compatibility with the generic.
#' @returns `format()`: a character vector, one element per line. `print()`:
#'   `x`, invisibly. `as.data.frame()`: `x$workers`, a data frame with one
#'   row per worker (see [backend_survey()]).
#' @family keras backend functions
#' @seealso [backend_survey()];
#'   [knit_print()][knit_print.kbackend_survey] for R Markdown.
#' @examples
#' if (interactive()) {
#'   cl <- parallel::makePSOCKcluster(2)
#'   survey <- backend_survey(cl)
#'   print(survey)
#'   as.data.frame(survey)
#'   parallel::stopCluster(cl)
#' }
#' @name kbackend_survey
NULL

#' @rdname kbackend_survey
#' @export
format.kbackend_survey <- function(x, ...) {
  workers <- x$workers
  n <- nrow(workers)
  lines <- cli::rule(
    left = "Keras backend across workers",
    right = sprintf("%d worker%s", n, if (n == 1) "" else "s")
  )
  if (n) {
    table <- survey_table(workers)
    cells <- rbind(names(table), as.matrix(table))
    widths <- apply(cells, 2, function(column) max(nchar(column)))
    padded <- vapply(seq_len(ncol(cells)), function(j) {
      formatC(cells[, j], width = -widths[[j]])
    }, character(nrow(cells)))
    padded <- matrix(padded, nrow = nrow(cells))
    text <- apply(padded, 1, function(cells) trimws(paste(cells, collapse = "  "), "right"))
    lines <- c(lines, cli::style_bold(text[[1]]), text[-1])
  }
  verdict <- survey_verdict_text(x)
  good <- isTRUE(x$consistent) && all(workers$status %in% "ok")
  lines <- c(lines, if (good) {
    paste0(cli::col_green(cli::symbol$tick), " ", verdict)
  } else {
    paste0(cli::col_red(cli::symbol$cross), " ", cli::style_bold(verdict))
  })
  notes <- survey_notes_text(x)
  if (length(notes)) {
    lines <- c(lines, paste0("  ", cli::col_grey(notes)))
  }
  errors <- survey_errors_text(workers)
  if (length(errors)) {
    lines <- c(lines, paste0(cli::col_red(cli::symbol$cross), " ", errors))
  }
  lines
}

#' @rdname kbackend_survey
#' @export
print.kbackend_survey <- function(x, ...) {
  cat(format(x, ...), sep = "\n")
  invisible(x)
}

#' @rdname kbackend_survey
#' @export
as.data.frame.kbackend_survey <- function(x, row.names = NULL, # nolint: object_name_linter.
                                          optional = FALSE, ...) {
  # (row.names: as the generic names it, hence the nolint above)
  x$workers
}

#' Show a backend survey in R Markdown and Quarto documents
#'
#' When a chunk's value is a [backend_survey()], knitr prints it with this
#' method: a Markdown table with one row per worker (worker, host, process
#' id, backend, source, status, Keras version, whether Keras is loaded there,
#' Python), then the verdict and the errors of workers that failed. knitr is
#' only needed when knitting: the method is registered for knitr's generic
#' when knitr is loaded.
#'
#' @param x A `kbackend_survey` object from [backend_survey()].
#' @param ... Unused; for compatibility with the generic.
#' @returns Markdown text of class `knit_asis` ([knitr::asis_output()]).
#' @family keras backend functions
#' @seealso [print()][kbackend_survey] for the console form.
#' @examples
#' if (interactive() && requireNamespace("knitr", quietly = TRUE)) {
#'   cl <- parallel::makePSOCKcluster(2)
#'   cat(knitr::knit_print(backend_survey(cl)))
#'   parallel::stopCluster(cl)
#' }
#' @exportS3Method knitr::knit_print
knit_print.kbackend_survey <- function(x, ...) { # nolint: object_name_linter. A knitr S3 method.
  knitr::asis_output(paste(survey_markdown_lines(x), collapse = "\n"))
}

survey_markdown_lines <- function(x) {
  workers <- x$workers
  lines <- ""
  if (nrow(workers)) {
    table <- survey_table(workers)
    right <- c("Worker", "PID")
    align <- ifelse(names(table) %in% right, "--:", ":--")
    rows <- apply(table, 1, function(cells) {
      paste0("| ", paste(md_escape(cells), collapse = " | "), " |")
    })
    lines <- c(
      lines,
      paste0("| ", paste(names(table), collapse = " | "), " |"),
      paste0("|", paste(align, collapse = "|"), "|"),
      rows,
      ""
    )
  }
  verdict <- md_escape(survey_verdict_text(x))
  verdict <- sub("^(Consistent|Inconsistent)", "**\\1**", verdict)
  lines <- c(lines, verdict, "")
  notes <- survey_notes_text(x)
  errors <- survey_errors_text(workers)
  if (length(notes) || length(errors)) {
    lines <- c(lines, paste0("- ", md_escape(c(notes, errors))), "")
  }
  lines
}
