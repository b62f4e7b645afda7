# The vignette "Choosing the Keras backend in R Markdown", rendered with
# rmarkdown and pandoc in a fresh R process with a throwaway HOME: with the
# .venv Python it must say jax in the R table and in the Python chunk's
# output; without a Python that has Keras it must still render, run nothing
# and say so. rmarkdown and pandoc are needed (tools/setup-r.sh installs
# both from Debian): without them these tests skip (fail in strict mode).

# The vignette source: the source tree's when the tests run from it
# (tools/test-r.sh), else the installed copy (R CMD check). The first is
# resolved now, while the working directory is still tests/testthat.
source_tree_vignette <- normalizePath(
  test_path("..", "..", "vignettes", "kbackend.Rmd"),
  mustWork = FALSE
)

vignette_source <- function() {
  candidates <- c(
    source_tree_vignette,
    system.file("doc", "kbackend.Rmd", package = "kbackend")
  )
  found <- candidates[nzchar(candidates) & file.exists(candidates)]
  skip_unless(length(found) > 0, paste(
    "needs vignettes/kbackend.Rmd: run the tests from the source tree, or install",
    "kbackend from a tarball built with its vignette"
  ))
  normalizePath(found[[1]])
}

# Render a copy of the vignette in a fresh R process under the current
# environment; returns the HTML and the knitted Markdown, as text.
render_vignette <- function() {
  need_pandoc()
  dir <- withr::local_tempdir("kbackend-vignette-")
  input <- file.path(dir, "kbackend.Rmd")
  file.copy(vignette_source(), input)
  out <- in_fresh_r(function(input, dir) {
    start <- Sys.time()
    html <- rmarkdown::render(
      input,
      output_dir = file.path(dir, "out"),
      intermediates_dir = file.path(dir, "work"),
      clean = FALSE,
      envir = new.env(),
      quiet = TRUE
    )
    list(
      html = html,
      seconds = as.double(difftime(Sys.time(), start, units = "secs")),
      python_started = isNamespaceLoaded("reticulate") &&
        reticulate::py_available(initialize = FALSE)
    )
  }, args = list(input = input, dir = dir))
  read <- function(path) paste(readLines(path, encoding = "UTF-8", warn = FALSE), collapse = "\n")
  list(
    html = read(out$html),
    md = read(file.path(dir, "work", "kbackend.knit.md")),
    seconds = out$seconds,
    python_started = out$python_started
  )
}

# Text of an HTML fragment: tags dropped, the entities pandoc writes decoded.
html_text <- function(html) {
  text <- gsub("<[^>]+>", "", html)
  entities <- c("&lt;" = "<", "&gt;" = ">", "&quot;" = "\"", "&#39;" = "'", "&amp;" = "&")
  for (e in names(entities)) text <- gsub(e, entities[[e]], text, fixed = TRUE)
  text
}

test_that("the vignette renders with the .venv Python and says jax in R and in Python", {
  home <- local_clean_env(python = venv_python("main"))
  res <- render_vignette()

  # the R chunk: backend_info() printed by knit_print() as a Markdown table...
  expect_match(res$md, "| Backend | **jax** (ok) |", fixed = TRUE)
  expect_match(res$md, sprintf("| Python | %s (", md_escape(venv_python("main"))), fixed = TRUE)
  # ...which pandoc turned into an HTML table whose Backend row says jax
  tables <- regmatches(res$html, gregexpr("(?s)<table.*?</table>", res$html, perl = TRUE))[[1]]
  report <- tables[grepl(">Backend<", tables, fixed = TRUE)]
  expect_length(report, 1L)
  rows <- regmatches(report, gregexpr("(?s)<tr.*?</tr>", report, perl = TRUE))[[1]]
  backend_row <- gsub("\\s+", " ", trimws(html_text(rows[grepl(">Backend<", rows, fixed = TRUE)])))
  expect_equal(backend_row, "Backend jax (ok)")
  expect_match(report, "<strong>jax</strong>", fixed = TRUE)

  # the Python chunk: real Keras, imported by the document's Python, says jax
  text <- html_text(res$html)
  expect_match(text, "print(keras.backend.backend())\n#> jax\n", fixed = TRUE)
  expect_match(res$md, "```python\nimport keras\nprint(keras.backend.backend())\n#> jax\n```",
               fixed = TRUE)

  # after it, the report comes in-process and Keras is locked on jax
  expect_match(res$md, 'info$locked\n#> [1] TRUE\ninfo$r$via\n#> [1] "in-process"', fixed = TRUE)
  expect_match(res$md, "Keras is already loaded in this process", fixed = TRUE)
  expect_false(grepl("was\n> not run", res$md, fixed = TRUE))
  expect_true(res$python_started)
  # Keras wrote its keras.json into the throwaway HOME, not the user's
  expect_true(file.exists(file.path(home, ".keras", "keras.json")))
})

# The vignette rendered under RETICULATE_PYTHON = `python` (NULL: unset)
# must show its code, run none of it, and say so.
expect_vignette_not_run <- function(python) {
  local_clean_env(python = python)
  res <- render_vignette()
  expect_match(res$md, "so the code below is shown but was\n> not run", fixed = TRUE)
  # the code is still shown
  expect_match(html_text(res$html), 'kbackend::use_keras_backend("jax")', fixed = TRUE)
  expect_false(grepl("| Backend |", res$md, fixed = TRUE))
  expect_false(grepl("#> jax", res$md, fixed = TRUE))
  expect_false(res$python_started)
}

test_that("without RETICULATE_PYTHON the vignette still renders, runs nothing and says so", {
  expect_vignette_not_run(python = NULL)
})

test_that("with a Python that has no Keras the vignette still renders, runs nothing and says so", {
  expect_vignette_not_run(python = test_python())
})
