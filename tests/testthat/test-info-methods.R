test_that("format() names the backend, its source and the interpreter", {
  withr::local_options(cli.num_colors = 1)
  lines <- format(fake_info())
  expect_type(lines, "character")
  text <- paste(lines, collapse = "\n")
  expect_has(text, c(
    "jax (source: environment)",
    "KERAS_BACKEND is set to 'jax'",
    "Keras: 3.15.1 (keras3)",
    "/h/.keras/keras.json (does not exist)",
    "/venv/bin/python (3.11.7)",
    "chosen by RETICULATE_PYTHON; Python has not started",
    "Installed: keras 3.15.1, tensorflow 2.21.0, jax 0.10.2",
    "not installed: torch",
    "tf.keras: routes to keras 3.15.1 (backend jax)",
    "No problems found."
  ))
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
  expect_has(text, c(
    "will not load",
    "ValueError: Unable to import backend : x",
    "Locked: yes, Keras is loaded (keras)",
    "Problems (2):",
    "theano is gone",
    "use jax",
    "asked in-process"
  ))
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
  expect_has(text, c(
    "Verify: Keras imported in a child process",
    "Keras says: jax",
    "AGREES with the prediction (jax)",
    "Import: 4.03 s, peak memory 216.2 MiB",
    "Devices: cpu:0"
  ))
  expect_false(grepl("DISAGREES", text, fixed = TRUE))
  expect_false(grepl("Verify", paste(format(fake_info()), collapse = "\n"), fixed = TRUE))
})

test_that("format() says DISAGREES loudly, and shows timeouts and not-run", {
  need_package("knitr")
  info <- fake_info(verify = verify_json(backend = "numpy", agrees = FALSE), problems = bug_problem)
  # (colours only here: set for the whole test they would colour the reporter's output too)
  lines <- withr::with_options(list(cli.num_colors = 256), format(info))
  loud <- grep("DISAGREES", lines, value = TRUE)
  expect_length(loud, 1L)
  expect_true(cli::ansi_has_any(loud))  # red and bold when the console has colours
  plain <- cli::ansi_strip(paste(lines, collapse = "\n"))
  expect_has(plain, c(
    "Keras says: numpy",
    "DISAGREES with the prediction (jax): this is a kbackend bug",
    "Problems (1):"
  ))

  hang <- fake_info(verify = verify_json(
    status = "timeout", backend = NULL, agrees = "null", devices = "null",
    error = '"no answer within 2 s; the import was stopped"', stderr_tail = '["stuck here"]'
  ))
  plain <- cli::ansi_strip(paste(format(hang), collapse = "\n"))
  expect_has(plain, c(
    "Keras says: timeout: no answer within 2 s",
    "INCONCLUSIVE: the import timed out",
    "stderr | stuck here"
  ))
  expect_false(grepl("DISAGREES", plain, fixed = TRUE))
  crash <- fake_info(verify = verify_json(status = "crashed", backend = NULL, agrees = "null", devices = "null"))
  expect_match(cli::ansi_strip(paste(format(crash), collapse = "\n")), "the import crashed", fixed = TRUE)
  expect_match(paste(knitr::knit_print(hang), collapse = "\n"), "INCONCLUSIVE: the import timed out", fixed = TRUE)

  not_run <- fake_info(verify = '{"status": "not-run", "agrees": null, "reason": "Keras is already imported"}')
  plain <- cli::ansi_strip(paste(format(not_run), collapse = "\n"))
  expect_match(plain, "Verify: not run: Keras is already imported", fixed = TRUE)
  expect_false(grepl("AGREES", plain, fixed = TRUE))
})

test_that("the fixed record has the fields of a real one, in order", {
  local_clean_env()
  real <- parse_record(paste(system2(test_python(), c(
    "-c", shQuote("import sys; sys.path.insert(0, sys.argv[1]); import kbackend; print(kbackend.backend_info_json())"),
    shQuote(kb_python_path())
  ), stdout = TRUE), collapse = "\n"))
  expect_identical(setdiff(names(fake_info()), "r"), names(real))
})
