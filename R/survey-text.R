# The plain-text wording of a survey, shared by format() and knit_print()
# (survey-methods.R): unstyled and unescaped. Surveys are R's own (R
# clusters and future plans), so R words them.

# The displayed table: one row per worker, every cell text.
survey_table <- function(workers) {
  cell <- function(x, none = "-") ifelse(is.na(x), none, as.character(x))
  data.frame(
    Worker = cell(workers$worker),
    Host = cell(workers$host),
    PID = cell(workers$pid),
    Backend = cell(workers$backend),
    Device = cell(workers$device),
    Source = cell(workers$source),
    Status = cell(workers$status),
    Keras = cell(workers$keras_version),
    Locked = ifelse(is.na(workers$locked), "-", ifelse(workers$locked, "yes", "no")),
    Python = cell(workers$python),
    check.names = FALSE,
    stringsAsFactors = FALSE
  )
}

# "Consistent: every worker will use jax (Keras 3.15.1)." / "Inconsistent:
# the workers differ in backend."
survey_verdict_text <- function(x) {
  workers <- x$workers
  n <- nrow(workers)
  if (!n) {
    return("No workers answered.")
  }
  if (!isTRUE(x$consistent)) {
    differ <- intersect(x$differences, workers_data()$consistency)
    return(paste0(
      "Inconsistent: the workers differ in ", paste(differ, collapse = ", "), "."
    ))
  }
  every <- switch(as.character(min(n, 3)),
    "1" = "the one worker",
    "2" = "both workers",
    sprintf("all %d workers", n)
  )
  backend <- text_or(workers$backend[[1]], "no backend")
  keras <- workers$keras_version[[1]]
  if (identical(workers$status[[1]], "ok")) {
    paste0(
      "Consistent: ", every, " will use ", backend,
      if (!is.na(keras)) paste0(" (Keras ", keras, ")"), "."
    )
  } else {
    paste0(
      "Consistent, but Keras will not load: ", every, if (n == 1) " reports" else " report",
      " status ", text_or(workers$status[[1]], "unknown"), " (", backend,
      if (!is.na(keras)) paste0(", Keras ", keras), ")."
    )
  }
}

# The other differences, worth knowing though they do not break consistency.
survey_notes_text <- function(x) {
  other <- setdiff(x$differences, workers_data()$consistency)
  if (!length(other)) {
    return(character())
  }
  paste0("The workers also differ in ", paste(other, collapse = ", "), ".")
}

# "Worker 2 (pid 123 on host): message", for each worker with an error.
survey_errors_text <- function(workers) {
  has <- !is.na(workers$error)
  if (!any(has)) {
    return(character())
  }
  w <- workers[has, , drop = FALSE]
  unknown <- function(x) ifelse(is.na(x), "?", x)
  named <- worker_names(w$worker, unknown(w$pid), unknown(w$host))
  paste0(upper_first(named), ": ", one_line(w$error))
}
