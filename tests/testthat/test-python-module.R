test_that("the bundled Python module ships with the package", {
  path <- kb_python_path()
  expect_true(file.exists(file.path(path, "kbackend", "__init__.py")))
  expect_true(file.exists(file.path(path, "kbackend", "cli.py")))
})

test_that("a missing module is a classed error", {
  withr::local_options(kbackend.python_path = withr::local_tempdir())
  expect_error(kb_python_path(), class = "kbackend_error_python")
})

test_that("the CLI runs in a subprocess and answers JSON", {
  local_clean_env()
  result <- run_kbackend_cli(test_python(), "--json")
  expect_true(result$status %in% c(0L, 1L))
  record <- parse_record(result$stdout)
  expect_equal(normalizePath(record$python$executable), normalizePath(test_python()))
  expect_equal(record$status == "ok", result$status == 0L)
})

test_that("the subprocess sees R's current environment and working directory", {
  home <- local_clean_env()
  withr::local_envvar(KERAS_BACKEND = "numpy")
  record <- parse_record(run_kbackend_cli(test_python(), "--json")$stdout)
  expect_equal(record$backend, "numpy")
  expect_equal(record$source, "environment")
  expect_equal(record$variables$KERAS_BACKEND, "numpy")

  # a relative KERAS_HOME is read against R's working directory
  dir.create("kh")
  writeLines('{"backend": "torch"}', file.path("kh", "keras.json"))
  withr::local_envvar(KERAS_BACKEND = NA, KERAS_HOME = "kh")
  record <- parse_record(run_kbackend_cli(test_python(), "--json")$stdout)
  expect_equal(record$backend, "torch")
  expect_equal(record$source, "config")
  expect_true(record$config_file$exists)
})

test_that("the subprocess runs the interpreter reticulate embeds, not another libpython", {
  local_clean_env()
  python <- test_python()
  # what the interpreter says about itself outside R (no R LD_LIBRARY_PATH)
  withr::with_envvar(c(LD_LIBRARY_PATH = NA), {
    outside <- system2(python, c("-c", shQuote("import sys; print(sys.version.split()[0])")),
                       stdout = TRUE)
  })
  record <- parse_record(run_kbackend_cli(python, "--json")$stdout)
  expect_equal(record$python$version, outside)
})

test_that("python_subprocess_env() puts the interpreter's folders first", {
  prefix <- withr::local_tempdir()
  dir.create(file.path(prefix, "bin"))
  dir.create(file.path(prefix, "lib"))
  python <- file.path(prefix, "bin", "python")
  file.create(python)
  withr::local_envvar(PATH = "/usr/bin", LD_LIBRARY_PATH = "/usr/lib/R/lib")
  env <- python_subprocess_env(python)
  sep <- .Platform$path.sep
  expect_equal(strsplit(env[["PATH"]], sep, fixed = TRUE)[[1]][[1]], dirname(python))
  expect_match(env[["PATH"]], paste0(sep, "/usr/bin$"))
  if (identical(Sys.info()[["sysname"]], "Linux")) {
    expect_equal(
      strsplit(env[["LD_LIBRARY_PATH"]], sep, fixed = TRUE)[[1]][[1]],
      file.path(prefix, "lib")
    )
    expect_match(env[["LD_LIBRARY_PATH"]], "/usr/lib/R/lib$")
  }
})

test_that("a usage error or a crash is a classed error with the stderr tail", {
  local_clean_env()
  result <- run_kbackend_cli(test_python(), c("--no-such-option"))
  expect_equal(result$status, 2L)
  err <- expect_error(
    parse_cli_json(result, test_python(), expected_status = 0L),
    class = "kbackend_error_python"
  )
  expect_equal(err$status, 2L)
  expect_match(conditionMessage(err), "{use,matrix}", fixed = TRUE)

  missing <- run_kbackend_cli(file.path(tempdir(), "no-python"), "--json")
  expect_false(missing$status %in% c(0L, 1L, 3L))
  expect_error(
    parse_cli_json(missing, "no-python", expected_status = c(0L, 1L)),
    class = "kbackend_error_python"
  )
})

test_that("the module's own failure (exit 5) is a classed internal error", {
  local_clean_env()
  # a malformed interface description is a bug of the caller: exit 5
  result <- run_kbackend_cli(test_python(), c("--json", "--interface-json", "{\"name\": \"x\"}"))
  expect_equal(result$status, 5L)
  err <- expect_error(
    parse_cli_json(result, test_python(), expected_status = c(0L, 1L)),
    class = "kbackend_error_internal"
  )
  expect_s3_class(err, "kbackend_error_python")
  expect_match(conditionMessage(err), "ValueError: interface must be", fixed = TRUE)
})

test_that("a hostile working directory does not break the module", {
  local_clean_env()
  for (module in c("json", "re", "math", "stat", "argparse", "traceback", "ast")) {
    writeLines(sprintf("raise SystemExit('shadowed %s')", module), paste0(module, ".py"))
  }
  result <- run_kbackend_cli(test_python(), "--json")
  expect_true(result$status %in% c(0L, 1L))
  expect_equal(parse_record(result$stdout)$python$executable != "", TRUE)
  withr::local_dir(tempdir())
  gone <- withr::local_tempdir()
  withr::local_dir(gone)
  unlink(gone, recursive = TRUE)
  result <- run_kbackend_cli(test_python(), "--json")
  expect_true(result$status %in% c(0L, 1L))
})

test_that("in-process calls map the module's exceptions to R classes", {
  local_clean_env()
  res <- in_fresh_r(function() {
    reticulate::py_config()
    catch <- function(expr) tryCatch(expr, error = function(e) class(e))
    list(
      invalid = catch(kbackend:::kb_py_call("check_keras_backend", "JAX")),
      not_installed = catch(kbackend:::kb_py_call("check_keras_backend", "openvino")),
      other = catch(kbackend:::kb_py_call("check_keras_backend", 1L, 2L, 3L)),
      ok = kbackend:::kb_py_call("backend_info_json")
    )
  })
  expect_true(all(c("kbackend_error_invalid_backend", "kbackend_error") %in% res$invalid))
  expect_true(all(c("kbackend_error_not_installed", "kbackend_error") %in% res$not_installed))
  # a Python error that is not a kbackend error passes through unchanged
  expect_false("kbackend_error" %in% res$other)
  expect_true("error" %in% res$other)
  expect_type(res$ok, "character")
})

test_that("the module is imported only once Python runs, never registered before", {
  local_clean_env()
  res <- in_fresh_r(function() {
    kbackend::backend_info()
    before <- reticulate:::.globals$delay_load_imports$module
    reticulate::py_config()
    kbackend::backend_info()
    module <- kbackend:::kb_module()
    list(
      before = before,
      file = module$`__file__`,
      started = reticulate::py_available(initialize = FALSE)
    )
  })
  expect_false("kbackend" %in% res$before)
  expect_true(res$started)
  expect_match(
    normalizePath(as.character(res$file)),
    normalizePath(kb_python_path()),
    fixed = TRUE
  )
})
