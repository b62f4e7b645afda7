# A report as backend_info() builds it, from a fixed record.
fake_info <- function(backend = "jax", status = "ok", problems = "[]",
                      locked_by = "[]", started = FALSE, verify = "null") {
  json <- sprintf('{
    "kbackend_version": "0.1.0", "backend": %s, "status": "%s",
    "error": %s, "source": "environment",
    "reason": "KERAS_BACKEND is set to \'jax\'",
    "locked": %s, "locked_by": %s,
    "keras_home": "/h/.keras", "keras_home_source": "home",
    "config_path": "/h/.keras/keras.json",
    "config_file": {"exists": false, "type": null, "parses": null, "error": null, "backend": null},
    "config": {"floatx": "float32", "epsilon": 1e-07, "image_data_format": "channels_last"},
    "keras": {"installed": true, "version": "3.15.1", "flavour": "keras3", "path": "/site/keras"},
    "installed": {"keras": "3.15.1", "tensorflow": "2.21.0", "jax": "0.10.2", "torch": null},
    "tf_keras": {"routes_to": "keras", "version": "3.15.1", "backend": "jax",
                 "status": "ok", "error": null, "reason": "r"},
    "variables": {"KERAS_BACKEND": "jax"},
    "python": {"executable": "/venv/bin/python", "version": "3.11.7", "implementation": "cpython"},
    "problems": %s, "verify": %s}',
    if (is.null(backend)) "null" else sprintf('"%s"', backend), status,
    if (status == "ok") "null" else '"ValueError: Unable to import backend : x"',
    if (locked_by == "[]") "false" else "true", locked_by, problems, verify
  )
  record <- parse_record(json)
  record$r <- list(
    python = "/venv/bin/python", python_source = "RETICULATE_PYTHON",
    python_started = started, via = if (started) "in-process" else "subprocess",
    reticulate_version = "1.28", env_mismatch = empty_env_mismatch()
  )
  structure(record, class = "kbackend_info")
}

test_that("format() names the backend, its source and the interpreter", {
  withr::local_options(cli.num_colors = 1)
  lines <- format(fake_info())
  expect_type(lines, "character")
  text <- paste(lines, collapse = "\n")
  expect_match(text, "jax (source: environment)", fixed = TRUE)
  expect_match(text, "KERAS_BACKEND is set to 'jax'", fixed = TRUE)
  expect_match(text, "Keras: 3.15.1 (keras3)", fixed = TRUE)
  expect_match(text, "/h/.keras/keras.json (does not exist)", fixed = TRUE)
  expect_match(text, "/venv/bin/python (3.11.7)", fixed = TRUE)
  expect_match(text, "chosen by RETICULATE_PYTHON; Python has not started", fixed = TRUE)
  expect_match(text, "Installed: keras 3.15.1, tensorflow 2.21.0, jax 0.10.2", fixed = TRUE)
  expect_match(text, "not installed: torch", fixed = TRUE)
  expect_match(text, "tf.keras: routes to keras 3.15.1 (backend jax)", fixed = TRUE)
  expect_match(text, "No problems found.", fixed = TRUE)
})

test_that("format() shows errors, locks and problems with their fixes", {
  withr::local_options(cli.num_colors = 1)
  info <- fake_info(
    backend = "theano", status = "error",
    locked_by = '["keras"]',
    problems = '[{"code": "bad", "message": "theano is gone", "fix": "use jax"},
                 {"code": "other", "message": "no fix here", "fix": null}]',
    started = TRUE
  )
  text <- paste(format(info), collapse = "\n")
  expect_match(text, "will not load", fixed = TRUE)
  expect_match(text, "ValueError: Unable to import backend : x", fixed = TRUE)
  expect_match(text, "Locked: yes, Keras is loaded (keras)", fixed = TRUE)
  expect_match(text, "Problems (2):", fixed = TRUE)
  expect_match(text, "theano is gone", fixed = TRUE)
  expect_match(text, "use jax", fixed = TRUE)
  expect_match(text, "asked in-process", fixed = TRUE)
})

test_that("format() copes with a report that names no backend", {
  lines <- format(fake_info(backend = NULL, status = "error"))
  expect_match(paste(lines, collapse = "\n"), "no backend", fixed = TRUE)
})

test_that("print() writes format() to the console and returns its input", {
  withr::local_options(cli.num_colors = 1)
  info <- fake_info()
  out <- capture.output(res <- withVisible(print(info)))
  expect_false(res$visible)
  expect_identical(res$value, info)
  expect_equal(out, format(info))
})

test_that("as.data.frame() lists installed packages with the selected backend", {
  df <- as.data.frame(fake_info())
  expect_equal(names(df), c("package", "installed", "version", "selected"))
  expect_equal(df$package, c("keras", "tensorflow", "jax", "torch"))
  expect_equal(df$installed, c(TRUE, TRUE, TRUE, FALSE))
  expect_equal(df$version, c("3.15.1", "2.21.0", "0.10.2", NA))
  expect_equal(df$selected, c(FALSE, FALSE, TRUE, FALSE))
  none <- as.data.frame(fake_info(backend = NULL))
  expect_false(any(none$selected))
})

# What the module puts in `verify` (and a kbackend-bug problem on mismatch).
verify_json <- function(status = "ok", backend = "jax", agrees = TRUE,
                        devices = '["cpu:0"]', stderr_tail = "[]", error = "null") {
  sprintf(
    '{"status": "%s", "backend": %s, "error": %s, "devices": %s,
      "devices_error": null, "version": "3.15.1", "import_seconds": 4.032,
      "peak_memory_mb": 216.2, "wall_seconds": 4.996, "stderr_tail": %s,
      "timeout_seconds": 120.0, "agrees": %s}',
    status, if (is.null(backend)) "null" else sprintf('"%s"', backend), error,
    devices, stderr_tail, tolower(agrees)
  )
}

bug_problem <- paste0(
  '[{"code": "kbackend-bug", "message": "kbackend\'s prediction disagrees with real Keras. ',
  'Predicted: {\\"backend\\": \\"jax\\"}. Keras: {\\"backend\\": \\"numpy\\"}.", ',
  '"fix": "Trust the verified result."}]'
)

test_that("parse_record() keeps verify's devices and stderr_tail character", {
  info <- fake_info(verify = verify_json(devices = "[]", stderr_tail = '["a", "b"]'))
  expect_identical(info$verify$devices, character())
  expect_identical(info$verify$stderr_tail, c("a", "b"))
  expect_true(info$verify$agrees)
  expect_null(fake_info()$verify)
  expect_null(fake_info(verify = verify_json(status = "error", devices = "null"))$verify$devices)
})

test_that("format() shows what Keras said when it agrees", {
  withr::local_options(cli.num_colors = 1)
  text <- paste(format(fake_info(verify = verify_json())), collapse = "\n")
  expect_match(text, "Verify: Keras imported in a child process", fixed = TRUE)
  expect_match(text, "Keras says: jax", fixed = TRUE)
  expect_match(text, "AGREES with the prediction (jax)", fixed = TRUE)
  expect_match(text, "Import: 4.03 s, peak memory 216.2 MiB", fixed = TRUE)
  expect_match(text, "Devices: cpu:0", fixed = TRUE)
  expect_false(grepl("DISAGREES", text, fixed = TRUE))
  expect_false(grepl("Verify", paste(format(fake_info()), collapse = "\n"), fixed = TRUE))
})

test_that("format() says DISAGREES loudly, and shows timeouts and not-run", {
  info <- fake_info(verify = verify_json(backend = "numpy", agrees = FALSE), problems = bug_problem)
  # (colours only here: set for the whole test they would colour the reporter's output too)
  lines <- withr::with_options(list(cli.num_colors = 256), format(info))
  loud <- grep("DISAGREES", lines, value = TRUE)
  expect_length(loud, 1L)
  expect_true(cli::ansi_has_any(loud))  # red and bold when the console has colours
  plain <- cli::ansi_strip(paste(lines, collapse = "\n"))
  expect_match(plain, "Keras says: numpy", fixed = TRUE)
  expect_match(plain, "DISAGREES with the prediction (jax): this is a kbackend bug", fixed = TRUE)
  expect_match(plain, "Problems (1):", fixed = TRUE)

  hang <- fake_info(verify = verify_json(
    status = "timeout", backend = NULL, agrees = FALSE, devices = "null",
    error = '"no answer within 2 s; the import was stopped"', stderr_tail = '["stuck here"]'
  ))
  plain <- cli::ansi_strip(paste(format(hang), collapse = "\n"))
  expect_match(plain, "Keras says: timeout: no answer within 2 s", fixed = TRUE)
  expect_match(plain, "DISAGREES", fixed = TRUE)
  expect_match(plain, "stderr | stuck here", fixed = TRUE)

  not_run <- fake_info(verify = '{"status": "not-run", "agrees": null, "reason": "Keras is already imported"}')
  plain <- cli::ansi_strip(paste(format(not_run), collapse = "\n"))
  expect_match(plain, "Verify: not run: Keras is already imported", fixed = TRUE)
  expect_false(grepl("AGREES", plain, fixed = TRUE))
})

test_that("knit_print() renders a compact Markdown table", {
  out <- knit_print.kbackend_info(fake_info())
  expect_s3_class(out, "knit_asis")
  lines <- strsplit(as.character(out), "\n")[[1]]
  table <- grep("^\\|", lines, value = TRUE)
  expect_equal(table[1:2], c("|   |   |", "|:--|:--------|"))
  # every row has exactly two cells: nothing unescaped splits one
  cells <- lengths(regmatches(table, gregexpr("(?<!\\\\)\\|", table, perl = TRUE)))
  expect_true(all(cells == 3L))
  labels <- sub("^\\| ([^|]*) \\|.*", "\\1", table[-(1:2)])
  expect_equal(labels, c("Backend", "Source", "Keras", "keras.json", "tf.keras", "Python", "Problems"))
  text <- paste(lines, collapse = "\n")
  expect_match(text, "| Backend | **jax** (ok) |", fixed = TRUE)
  expect_match(text, "| Source | environment: KERAS\\_BACKEND is set to \\'jax\\' |", fixed = TRUE)
  expect_match(text, "| Keras | 3.15.1 (keras3) |", fixed = TRUE)
  expect_match(text, "| keras.json | /h/.keras/keras.json (does not exist) |", fixed = TRUE)
  expect_match(text, "| tf.keras | routes to keras 3.15.1 (backend jax) |", fixed = TRUE)
  expect_match(text, "| Python | /venv/bin/python (3.11.7), chosen by RETICULATE\\_PYTHON |", fixed = TRUE)
  expect_match(text, "| Problems | none |", fixed = TRUE)
  # registered for knitr's generic, so knitr finds it in documents
  expect_identical(knitr::knit_print(fake_info()), out)
})

test_that("knit_print() shows errors, locks, verify and problems with fixes", {
  info <- fake_info(
    backend = "theano", status = "error", locked_by = '["keras"]',
    problems = '[{"code": "bad", "message": "a | b\\nc <d>", "fix": "use *jax*"},
                 {"code": "other", "message": "no fix here", "fix": null}]',
    verify = verify_json(backend = "numpy", agrees = FALSE)
  )
  text <- as.character(knit_print.kbackend_info(info))
  expect_match(text, "| Backend | **theano** **will not load**: ValueError: Unable to import backend : x |", fixed = TRUE)
  expect_match(text, "| Locked | yes, Keras is loaded (keras)", fixed = TRUE)
  expect_match(text, "| Verified | Keras says **numpy**: **DISAGREES with the prediction (import fails): a kbackend bug**", fixed = TRUE)
  expect_match(text, "| Problems | 2: bad, other |", fixed = TRUE)
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
