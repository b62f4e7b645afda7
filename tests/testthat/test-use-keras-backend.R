# Every bad `backend` argument, through every function that takes one, with
# Python not started and then started (hardening): each call must
# raise kbackend_error_bad_argument, and afterwards R's whole environment,
# Python's os.environ, the working directory and HOME must be as they were
# -- no shell ever saw the text (a marker file would show it).
test_that("bad backend arguments: classed errors everywhere, nothing changed, nothing run", {
  home <- local_clean_env()
  withr::local_envvar(KERAS_BACKEND = "sentinel")
  res <- in_fresh_r(function() {
    bad <- list(
      NA, NA_character_, NULL, character(), c("jax", "torch"), c(a = "jax", b = "jax"),
      1, 1L, TRUE, 0i, "", " ", "\t", " jax", "jax ", "ja x", "jax\n", "jax\r", "jax\t",
      "jax; rm -rf /", "jax;touch marker-semicolon", "$(touch marker-dollar)",
      "`touch marker-backtick`", "jax && touch marker-and", "jax|touch marker-pipe",
      "jax > marker-redirect", "jax\ntouch marker-newline", "${HOME}", "~", "*",
      "'jax'", "\"jax\"", "../jax", "/jax", "-jax", "--persist", "j\u00e4x", "\u0458ax",
      factor("jax"), list("jax"), as.name("jax"), function() "jax"
    )
    calls <- list(
      use = function(b) kbackend::use_keras_backend(b),
      check = function(b) kbackend::check_keras_backend(b),
      local = function(b) {
        f <- function() {
          kbackend::local_keras_backend(b)
          "not reached"
        }
        f()
      },
      with = function(b) kbackend::with_keras_backend(b, "not reached")
    )
    run_all <- function() {
      wrong <- character()
      for (b in bad) {
        for (name in names(calls)) {
          cls <- tryCatch({
            calls[[name]](b)
            "no error"
          }, error = function(e) class(e))
          if (!all(c("kbackend_error_bad_argument", "kbackend_error") %in% cls)) {
            wrong <- c(wrong, sprintf("%s(%s): %s", name, paste(deparse(b), collapse = " "),
                                      paste(cls, collapse = "/")))
          }
        }
      }
      wrong
    }
    python_environ <- function() reticulate::py_eval("dict(__import__('os').environ)")

    r_env <- Sys.getenv()
    not_started <- run_all()
    reticulate_loaded <- isNamespaceLoaded("reticulate")
    r_env_same_not_started <- identical(Sys.getenv(), r_env)

    reticulate::py_config()
    r_env <- Sys.getenv()
    py_env <- python_environ()
    started <- run_all()
    list(
      calls = length(bad) * length(calls),
      not_started = not_started,
      reticulate_loaded = reticulate_loaded,
      r_env_same_not_started = r_env_same_not_started,
      started = started,
      r_env_same_started = identical(Sys.getenv(), r_env),
      py_env_same = identical(python_environ(), py_env),
      py_backend = python_environ()$KERAS_BACKEND,
      wd = getwd()
    )
  })
  expect_equal(res$calls, 42L * 4L)
  expect_equal(res$not_started, character())
  expect_equal(res$started, character())
  expect_false(res$reticulate_loaded)  # refused before even looking for Python
  expect_true(res$r_env_same_not_started)
  expect_true(res$r_env_same_started)
  expect_true(res$py_env_same)
  expect_equal(res$py_backend, "sentinel")
  expect_equal(Sys.getenv("KERAS_BACKEND"), "sentinel")
  markers <- function() {
    list.files(c(res$wd, home), pattern = "^marker", recursive = TRUE, all.files = TRUE)
  }
  expect_equal(markers(), character())
  # control: the same text given to a shell in that folder does leave a mark
  withr::with_dir(res$wd, system2("sh", c("-c", shQuote("echo $(touch marker-control)")),
                                  stdout = FALSE))
  expect_equal(markers(), "marker-control")
  expect_false(file.exists(file.path(home, ".keras")))
})

test_that("before Python starts: validates in a subprocess, sets R, starts nothing", {
  local_clean_env(python = test_python_with_numpy())
  res <- in_fresh_r(function() {
    first <- withVisible(kbackend::use_keras_backend("numpy"))
    after_first <- Sys.getenv("KERAS_BACKEND")
    second <- kbackend::use_keras_backend("numpy")
    list(
      first = first,
      after_first = after_first,
      second = second,
      started = reticulate::py_available(initialize = FALSE),
      info = unclass(kbackend::backend_info())
    )
  })
  expect_false(res$first$visible)
  expect_identical(res$first$value, NA_character_)
  expect_equal(res$after_first, "numpy")
  expect_equal(res$second, "numpy")
  expect_false(res$started)
  expect_equal(res$info$backend, "numpy")
  expect_equal(res$info$source, "environment")
})

test_that("refusals are classed and change nothing", {
  local_clean_env()
  withr::local_envvar(KERAS_BACKEND = "tensorflow")
  res <- in_fresh_r(function() {
    catch <- function(expr) tryCatch(expr, error = function(e) {
      list(class = class(e), message = conditionMessage(e))
    })
    list(
      invalid = catch(kbackend::use_keras_backend("JAX")),
      theano = catch(kbackend::use_keras_backend("theano")),
      missing = catch(kbackend::use_keras_backend("openvino")),
      check = catch(kbackend::check_keras_backend("JAX")),
      env = Sys.getenv("KERAS_BACKEND"),
      started = reticulate::py_available(initialize = FALSE)
    )
  })
  expect_true(all(c("kbackend_error_invalid_backend", "kbackend_error") %in% res$invalid$class))
  expect_match(res$invalid$message, "jax", fixed = TRUE)
  expect_true("kbackend_error_invalid_backend" %in% res$theano$class)
  expect_true(all(c("kbackend_error_not_installed", "kbackend_error") %in% res$missing$class))
  expect_match(res$missing$message, "openvino", fixed = TRUE)
  expect_true("kbackend_error_invalid_backend" %in% res$check$class)
  expect_equal(res$env, "tensorflow")
  expect_false(res$started)
})

test_that("check_keras_backend() validates and changes nothing", {
  local_clean_env(python = test_python_with_numpy())
  res <- in_fresh_r(function() {
    value <- withVisible(kbackend::check_keras_backend("numpy"))
    list(value = value, env = Sys.getenv("KERAS_BACKEND", unset = NA),
         started = reticulate::py_available(initialize = FALSE))
  })
  expect_equal(res$value$value, "numpy")
  expect_false(res$value$visible)
  expect_identical(res$env, NA_character_)
  expect_false(res$started)
})

test_that("persist = TRUE writes keras.json, which later sessions read", {
  home <- local_clean_env(python = test_python_with_numpy())
  res <- in_fresh_r(function() {
    msg <- NULL
    withCallingHandlers(
      kbackend::use_keras_backend("numpy", persist = TRUE),
      message = function(m) {
        msg <<- conditionMessage(m)
        invokeRestart("muffleMessage")
      }
    )
    list(msg = msg, started = reticulate::py_available(initialize = FALSE))
  })
  path <- file.path(home, ".keras", "keras.json")
  expect_true(file.exists(path))
  expect_equal(jsonlite::fromJSON(path)$backend, "numpy")
  expect_match(res$msg, "keras.json", fixed = TRUE)
  expect_false(res$started)
  later <- in_fresh_r(function() unclass(kbackend::backend_info()))
  expect_equal(later$backend, "numpy")
  expect_equal(later$source, "config")
})

test_that("after Python started: sets os.environ too, in-process", {
  local_clean_env(python = test_python_with_numpy())
  res <- in_fresh_r(function() {
    reticulate::py_config()
    previous <- kbackend::use_keras_backend("numpy")
    os <- reticulate::import("os")
    info <- kbackend::backend_info()
    list(
      previous = previous,
      r = Sys.getenv("KERAS_BACKEND"),
      python = os$environ$get("KERAS_BACKEND"),
      info = unclass(info)
    )
  })
  expect_identical(res$previous, NA_character_)
  expect_equal(res$r, "numpy")
  expect_equal(res$python, "numpy")
  expect_equal(res$info$r$via, "in-process")
  expect_equal(res$info$backend, "numpy")
  expect_equal(res$info$source, "environment")
  expect_equal(nrow(res$info$r$env_mismatch), 0L)
})

test_that("after Python started: refusals are classed and change nothing", {
  local_clean_env()
  res <- in_fresh_r(function() {
    reticulate::py_config()
    Sys.setenv(KERAS_BACKEND = "tensorflow")
    e <- tryCatch(kbackend::use_keras_backend("JAX"), error = identity)
    list(
      class = class(e),
      r = Sys.getenv("KERAS_BACKEND"),
      python = reticulate::import("os")$environ$get("KERAS_BACKEND")
    )
  })
  expect_true(all(c("kbackend_error_invalid_backend", "kbackend_error") %in% res$class))
  expect_equal(res$r, "tensorflow")
  expect_null(res$python)
})

test_that("persist = TRUE in-process reports where it wrote", {
  home <- local_clean_env(python = test_python_with_numpy())
  res <- in_fresh_r(function() {
    reticulate::py_config()
    msgs <- character()
    withCallingHandlers(
      kbackend::use_keras_backend("numpy", persist = TRUE),
      message = function(m) {
        msgs <<- c(msgs, conditionMessage(m))
        invokeRestart("muffleMessage")
      }
    )
    msgs
  })
  path <- file.path(home, ".keras", "keras.json")
  expect_equal(jsonlite::fromJSON(path)$backend, "numpy")
  expect_match(paste(res, collapse = "\n"), "keras.json", fixed = TRUE)
})

test_that("device = sets what the backend reads, in R and in the running Python; an impossible GPU changes nothing", {
  local_clean_env(python = venv_python("main"))
  res <- in_fresh_r(function() {
    vars <- c("KERAS_BACKEND", "JAX_PLATFORMS", "KERAS_TORCH_DEVICE", "CUDA_VISIBLE_DEVICES")
    before_start <- kbackend::use_keras_backend("jax", device = "cpu")
    r_jax <- Sys.getenv(vars, unset = NA)
    gpu <- tryCatch(kbackend::use_keras_backend("torch", device = "gpu"), error = function(e) e)
    r_refused <- Sys.getenv(vars, unset = NA)
    reticulate::py_config()
    kbackend::use_keras_backend("torch", device = "cpu")
    environ <- reticulate::import("os")$environ
    list(
      before_start = before_start, r_jax = r_jax, r_refused = r_refused,
      gpu = list(class = class(gpu), message = conditionMessage(gpu)),
      r_torch = Sys.getenv(vars, unset = NA),
      py_torch = lapply(stats::setNames(vars, vars), function(v) {
        value <- environ$get(v)
        if (is.null(value)) NA_character_ else value
      }),
      keras = reticulate::import("keras")$backend$backend()
    )
  })
  expect_identical(res$before_start, NA_character_)
  expect_equal(res$r_jax[c("KERAS_BACKEND", "JAX_PLATFORMS")], c(KERAS_BACKEND = "jax", JAX_PLATFORMS = "cpu"))
  # .venv's torch is a CPU-only build: the GPU is refused, with the reason
  expect_true(all(c("kbackend_error_device", "kbackend_error") %in% res$gpu$class))
  expect_match(res$gpu$message, "cannot run on a GPU here", fixed = TRUE)
  expect_identical(res$r_refused, res$r_jax)
  # the torch device variable the installed Keras reads, in R and os.environ
  expect_equal(res$r_torch[["KERAS_TORCH_DEVICE"]], "cpu")
  expect_equal(res$py_torch$KERAS_TORCH_DEVICE, "cpu")
  expect_equal(res$py_torch$KERAS_BACKEND, "torch")
  expect_equal(res$keras, "torch")
})
