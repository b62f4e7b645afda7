# knit_print() and its Markdown escaping; fake_info() and verify_json() are
# in helper-reports.R.

test_that("knit_print() renders a compact Markdown table", {
  need_package("knitr")
  out <- knit_print.kbackend_info(fake_info())
  expect_s3_class(out, "knit_asis")
  lines <- strsplit(as.character(out), "\n")[[1]]
  table <- grep("^\\|", lines, value = TRUE)
  expect_equal(table[1:2], c("|   |   |", "|:--|:--------|"))
  # every row has exactly two cells: nothing unescaped splits one
  cells <- lengths(regmatches(table, gregexpr("(?<!\\\\)\\|", table, perl = TRUE)))
  expect_true(all(cells == 3L))
  labels <- sub("^\\| ([^|]*) \\|.*", "\\1", table[-(1:2)])
  expect_equal(labels, c("Backend", "Source", "Keras", "keras.json", "tf.keras", "Python", "Device", "Problems"))
  text <- paste(lines, collapse = "\n")
  expect_has(text, c(
    "| Backend | **jax** (ok) |",
    "| Source | environment: KERAS\\_BACKEND is set to \\'jax\\' |",
    "| Keras | 3.15.1 (keras3) |",
    "| keras.json | /h/.keras/keras.json (does not exist) |",
    "| tf.keras | routes to keras 3.15.1 (backend jax) |",
    "| Python | /venv/bin/python (3.11.7), chosen by RETICULATE\\_PYTHON |",
    "| Problems | none |"
  ))
  # registered for knitr's generic, so knitr finds it in documents
  expect_identical(knitr::knit_print(fake_info()), out)
})

test_that("knit_print() shows errors, locks, verify and problems with fixes", {
  need_package("knitr")
  info <- fake_info(
    backend = "theano", status = "error", locked_by = '["keras"]',
    problems = '[{"code": "bad", "message": "a | b\\nc <d>", "fix": "use *jax*"},
                 {"code": "other", "message": "no fix here", "fix": null}]',
    verify = verify_json(backend = "numpy", agrees = FALSE)
  )
  text <- as.character(knit_print.kbackend_info(info))
  expect_has(text, c(
    "| Backend | **theano** **will not load**: ValueError: Unable to import backend : x |",
    "| Locked | yes, Keras is loaded (keras)",
    "| Verified | Keras says **numpy**: **DISAGREES with the prediction (import fails): a kbackend bug**",
    "| Problems | 2: bad, other |"
  ))
  # markup in messages is escaped, line breaks do not end the row
  expect_match(text, "- **bad**: a \\| b c \\<d\\> *Fix:* use \\*jax\\*", fixed = TRUE)
  expect_match(text, "- **other**: no fix here\n", fixed = TRUE)
})

test_that("md_escape() makes text literal in a Markdown table cell", {
  expect_equal(md_escape("a|b"), "a\\|b")
  expect_equal(md_escape("x\r\ny"), "x y")
  expect_equal(md_escape("`$HOME` *_[x]_* <b> \\ #1 @ref ~ ^"),
               "\\`\\$HOME\\` \\*\\_\\[x\\]\\_\\* \\<b\\> \\\\ \\#1 \\@ref \\~ \\^")
  expect_equal(md_escape("plain text 1.5"), "plain text 1.5")
})
