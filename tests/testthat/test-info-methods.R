# What people read is pinned by snapshots (_snaps/info-methods.md), for
# representative records; the words come from the Python module
# (report.py), format() lays them out.
local_plain_cli <- function(.local_envir = parent.frame()) {
  withr::local_options(cli.num_colors = 1, cli.unicode = FALSE, cli.width = 100,
                       .local_envir = .local_envir)
}

test_that("format(): a working backend", {
  local_plain_cli()
  expect_snapshot(cat(format(fake_info()), sep = "\n"))
})

test_that("format(): an error, a lock and problems with their fixes", {
  local_plain_cli()
  info <- fake_info(
    backend = "theano", status = "error",
    locked_by = '["keras"]',
    problems = '[{"code": "bad", "message": "theano is gone", "fix": "use jax"},
                 {"code": "other", "message": "no fix here", "fix": null}]',
    started = TRUE
  )
  expect_snapshot(cat(format(info), sep = "\n"))
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

test_that("format(): verify agrees, disagrees, times out, crashes, is not run", {
  local_plain_cli()
  agrees <- fake_info(verify = verify_json())
  expect_snapshot(cat(format(agrees), sep = "\n"))
  expect_false(grepl("Verify", paste(format(fake_info()), collapse = "\n"), fixed = TRUE))

  disagrees <- fake_info(verify = verify_json(backend = "numpy", agrees = FALSE), problems = bug_problem)
  expect_snapshot(cat(format(disagrees), sep = "\n"))
  # red and bold when the console has colours
  loud <- grep("DISAGREES", withr::with_options(list(cli.num_colors = 256), format(disagrees)), value = TRUE)
  expect_length(loud, 1L)
  expect_true(cli::ansi_has_any(loud))

  hang <- fake_info(verify = verify_json(
    status = "timeout", backend = NULL, agrees = "null", devices = "null",
    error = '"no answer within 2 s; the import was stopped"', stderr_tail = '["stuck here"]'
  ))
  expect_snapshot(cat(format(hang), sep = "\n"))
  crash <- fake_info(verify = verify_json(status = "crashed", backend = NULL, agrees = "null", devices = "null"))
  expect_match(paste(format(crash), collapse = "\n"), "the import crashed", fixed = TRUE)
  not_run <- fake_info(verify = '{"status": "not-run", "agrees": null, "reason": "Keras is already imported"}')
  expect_snapshot(cat(format(not_run), sep = "\n"))
})

test_that("format() and the CLI's report use the same words", {
  info <- fake_info(verify = verify_json())
  words <- unlist(attr(info, "text"))
  text <- paste(format(info), collapse = "\n")
  for (key in c("source", "keras", "keras_json", "keras_home", "tf_keras", "python", "device",
                "installed", "verify_verdict", "verify_import")) {
    expect_match(text, words[[key]], fixed = TRUE, label = key)
  }
})

test_that("the fixed record has the fields of a real one, in order", {
  local_clean_env()
  real <- python_module_value("import kbackend", "kbackend.backend_info()")
  expect_identical(setdiff(names(fake_info()), "r"), names(real))
})
