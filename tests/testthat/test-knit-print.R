# knit_print() and its Markdown escaping; fake_info() and verify_json() are
# in helper-reports.R.

test_that("knit_print() renders a compact Markdown table", {
  need_package("knitr")
  out <- knit_print.kbackend_info(fake_info())
  expect_s3_class(out, "knit_asis")
  lines <- strsplit(as.character(out), "\n")[[1]]
  table <- grep("^\\|", lines, value = TRUE)
  # every row has exactly two cells: nothing unescaped splits one
  cells <- lengths(regmatches(table, gregexpr("(?<!\\\\)\\|", table, perl = TRUE)))
  expect_true(all(cells == 3L))
  expect_snapshot(cat(out))
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
  expect_snapshot(cat(text))
  # markup in messages is escaped, line breaks do not end the row
  expect_match(text, "- **bad**: a \\| b c \\<d\\> *Fix:* use \\*jax\\*", fixed = TRUE)
  hang <- fake_info(verify = verify_json(status = "timeout", backend = NULL, agrees = "null", devices = "null"))
  expect_match(as.character(knit_print.kbackend_info(hang)), "INCONCLUSIVE: the import timed out", fixed = TRUE)
})

test_that("md_escape() makes text literal in a Markdown table cell", {
  expect_equal(md_escape("a|b"), "a\\|b")
  expect_equal(md_escape("x\r\ny"), "x y")
  expect_equal(md_escape("`$HOME` *_[x]_* <b> \\ #1 @ref ~ ^"),
               "\\`\\$HOME\\` \\*\\_\\[x\\]\\_\\* \\<b\\> \\\\ \\#1 \\@ref \\~ \\^")
  expect_equal(md_escape("plain text 1.5"), "plain text 1.5")
})
