# How a survey is shown: format(), print(), as.data.frame(), knit_print();
# survey_row() and survey_of() are in helper-surveys.R.

test_that("print() and format() show the table and the verdict", {
  local_clean_env(python = NULL)
  s <- survey_of(survey_row(1L), survey_row(2L))
  lines <- cli::ansi_strip(format(s))
  expect_match(lines[[1]], "Keras backend across workers")
  expect_match(lines[[1]], "2 workers")
  expect_equal(
    lines[2:4],
    c(
      "Worker  Host   PID   Backend  Device  Source       Status  Keras   Locked  Python",
      "1       node1  1001  jax      cpu     environment  ok      3.15.1  no      /venv/bin/python",
      "2       node1  1002  jax      cpu     environment  ok      3.15.1  no      /venv/bin/python"
    )
  )
  expect_equal(lines[[5]],
               paste(cli::symbol$tick, "Consistent: both workers will use jax (Keras 3.15.1)."))
  expect_length(lines, 5L)
  expect_output(printed <- withVisible(print(s)), "Consistent: both workers will use jax",
                fixed = TRUE)
  expect_false(printed$visible)
  expect_identical(printed$value, s)

  # inconsistent, with a note and a failed worker
  s <- survey_of(
    survey_row(1L, locked = TRUE, source = "imported"),
    survey_row(2L, backend = "torch"),
    survey_row(3L, python = NA, backend = NA, device = NA, source = NA, status = "error", keras_version = NA,
               locked = NA, error = "kbackend needs a Python\n\u2716 none found")
  )
  lines <- cli::ansi_strip(format(s))
  expect_match(lines[[1]], "3 workers")
  expect_match(lines[[4]], "^2 +node1 +1002 +torch ")
  expect_match(lines[[5]], "^3 +node1 +1003 +- +- +- +error +- +- +-$")
  cross <- cli::symbol$cross
  expect_has(paste(lines, collapse = "\n"), c(
    paste(cross, "Inconsistent: the workers differ in backend, device, status, keras_version."),
    "  The workers also differ in python, source, locked.",
    paste(cross, "Worker 3 (pid 1003 on node1): kbackend needs a Python \u2716 none found")
  ))

  # everyone fails the same way: consistent, but said plainly
  failed <- survey_row(1L, backend = "theano", status = "error", error = "ValueError: x")
  text <- paste(cli::ansi_strip(format(survey_of(failed))), collapse = "\n")
  expect_match(text, "1 worker ", fixed = TRUE)
  expect_match(text, paste(
    cross, "Consistent, but Keras will not load: the one worker reports status error",
    "(theano, Keras 3.15.1)."
  ), fixed = TRUE)
  expect_match(text, "Worker 1 (pid 1001 on node1): ValueError: x", fixed = TRUE)

  expect_match(cli::ansi_strip(format(new_survey(list())))[[2]], "No workers answered.", fixed = TRUE)
  expect_match(
    survey_verdict_text(survey_of(survey_row(1L), survey_row(2L), survey_row(3L))),
    "Consistent: all 3 workers will use jax", fixed = TRUE
  )
})

test_that("as.data.frame() returns the workers", {
  local_clean_env(python = NULL)
  s <- survey_of(survey_row(1L), survey_row(2L, backend = "torch"))
  expect_identical(as.data.frame(s), s$workers)
  expect_identical(as.data.frame(s)$backend, c("jax", "torch"))
})

test_that("knit_print() renders a Markdown table and the verdict", {
  local_clean_env(python = NULL)
  need_package("knitr")
  s <- survey_of(
    survey_row(1L, python = "/a_b/python"),
    survey_row(2L, backend = "torch", error = "bad | thing\n*x*")
  )
  out <- knit_print.kbackend_survey(s)
  expect_s3_class(out, "knit_asis")
  lines <- strsplit(as.character(out), "\n")[[1]]
  table <- grep("^\\|", lines, value = TRUE)
  expect_equal(table[1:2], c(
    "| Worker | Host | PID | Backend | Device | Source | Status | Keras | Locked | Python |",
    "|--:|:--|--:|:--|:--|:--|:--|:--|:--|:--|"
  ))
  expect_length(table, 4L)
  # ten cells in every row: nothing unescaped splits one
  cells <- lengths(regmatches(table, gregexpr("(?<!\\\\)\\|", table, perl = TRUE)))
  expect_true(all(cells == 11L))
  expect_equal(table[3:4], c(
    "| 1 | node1 | 1001 | jax | cpu | environment | ok | 3.15.1 | no | /a\\_b/python |",
    "| 2 | node1 | 1002 | torch | cpu | environment | ok | 3.15.1 | no | /venv/bin/python |"
  ))
  text <- paste(lines, collapse = "\n")
  expect_match(text, "\n\n**Inconsistent**: the workers differ in backend.\n", fixed = TRUE)
  expect_match(text, "- Worker 2 (pid 1002 on node1): bad \\| thing \\*x\\*", fixed = TRUE)
  # registered for knitr's generic, so knitr finds it in documents
  expect_identical(knitr::knit_print(s), out)

  text <- as.character(knit_print.kbackend_survey(survey_of(survey_row(1L), survey_row(2L))))
  expect_match(text, "**Consistent**: both workers will use jax (Keras 3.15.1).", fixed = TRUE)
  expect_false(grepl("\n- ", text, fixed = TRUE))
})

test_that("R and the Python module reach the same verdict on the same workers", {
  local_clean_env(python = NULL)
  # every compared field changed alone, to another value and to missing, and
  # two fields at once: R's verdict beside workers.summarize() on the same rows
  variants <- list(
    list(python = "/other/python"), list(python = NA), list(backend = "torch"), list(backend = NA),
    list(device = "gpu"), list(device = NA), list(source = "config"), list(status = "error"),
    list(keras_version = "3.0.0"), list(keras_version = NA), list(locked = TRUE), list(locked = NA),
    list(backend = "torch", locked = TRUE), list(source = "imported", status = "error")
  )
  surveys <- c(
    lapply(variants, function(v) list(survey_row(1L), do.call(survey_row, c(list(2L), v)))),
    list(list(survey_row(1L), survey_row(2L)), list(survey_row(1L)), list())
  )
  r_verdicts <- lapply(surveys, function(rows) {
    s <- new_survey(rows)
    list(consistent = s$consistent, differences = as.list(s$differences))
  })
  rows_json <- jsonlite::toJSON(surveys, auto_unbox = TRUE, na = "null", null = "null")
  python_verdicts <- jsonlite::fromJSON(simplifyVector = FALSE, python_module_value(
    "from kbackend import workers",
    paste0(
      "json.dumps([{'consistent': v['consistent'], 'differences': v['differences']} for v in ",
      "(workers.summarize(rows) for rows in json.loads(", deparse(as.character(rows_json)), "))])"
    )
  ))
  expect_length(python_verdicts, length(surveys))
  expect_identical(python_verdicts, r_verdicts)
})
