# Calling the bundled Python module: in a subprocess before Python has
# started, in-process after; and the running Python's os.environ.

# The folder holding the bundled `kbackend` Python package.
kb_python_path <- function() {
  path <- getOption("kbackend.python_path")
  if (is.null(path)) {
    path <- system.file("python", package = "kbackend")
  }
  if (!nzchar(path) || !file.exists(file.path(path, "kbackend", "__init__.py"))) {
    kb_abort(
      c(
        "The bundled Python module is missing.",
        x = "No {.file kbackend/__init__.py} under {.path {path}}.",
        i = "Reinstall kbackend."
      ),
      class = "kbackend_error_python"
    )
  }
  normalizePath(path, winslash = "/", mustWork = TRUE)
}

# The command line that runs the module's CLI without installing it.
cli_bootstrap <- paste(
  "import sys; sys.path.insert(0, sys.argv.pop(1));",
  "from kbackend.cli import main; sys.exit(main(sys.argv[1:]))"
)

# Run `<python> -c <bootstrap> <path> ARGS` with R's current environment and
# working directory, for at most `timeout` seconds. Returns list(status,
# stdout, stderr).
#
# Like reticulate does for its own Python subprocesses and before it embeds
# Python, the interpreter's folder goes first on PATH and, on Linux, its
# <prefix>/lib first on LD_LIBRARY_PATH: R's launcher puts the system library
# folder on LD_LIBRARY_PATH, which outranks the interpreter's RUNPATH, so a
# python linked against a shared libpython (pyenv, ...) would otherwise load
# the system's libpython of the same name -- another Python than the one
# reticulate embeds (seen here: pyenv 3.11.7 ran as Debian's 3.11.2).
run_kbackend_cli <- function(python, args, timeout = cli_timeout()) {
  stderr_file <- tempfile("kbackend-stderr-")
  on.exit(unlink(stderr_file), add = TRUE)
  withr::local_envvar(python_subprocess_env(python))
  out <- tryCatch(
    suppressWarnings(system2(
      python,
      c("-c", shQuote(cli_bootstrap), shQuote(kb_python_path()), shQuote(args)),
      stdout = TRUE,
      stderr = stderr_file,
      timeout = timeout
    )),
    error = function(e) {
      structure(character(), status = 127L, run_error = conditionMessage(e))
    }
  )
  status <- attr(out, "status") %||% 0L
  err <- if (file.exists(stderr_file)) readLines(stderr_file, warn = FALSE) else character()
  err <- c(err, attr(out, "run_error"))
  list(
    status = as.integer(status),
    stdout = paste(out, collapse = "\n"),
    stderr = err
  )
}

# R's own limit on one CLI run (option kbackend.timeout, default 120 s). A
# verify run gets its import time limit on top: the module stops the import
# itself at that limit and reports it, so R's limit is never the one hit.
cli_timeout <- function() {
  getOption("kbackend.timeout", 120)
}

python_subprocess_env <- function(python) {
  paths <- unique(c(python, normalizePath(python, winslash = "/", mustWork = FALSE)))
  env <- c(PATH = prepend_path(dirname(paths), Sys.getenv("PATH")))
  if (identical(Sys.info()[["sysname"]], "Linux")) {
    libs <- file.path(dirname(dirname(paths)), "lib")
    libs <- unique(libs[dir.exists(libs)])
    if (length(libs)) {
      env <- c(env, LD_LIBRARY_PATH = prepend_path(libs, Sys.getenv("LD_LIBRARY_PATH")))
    }
  }
  env
}

prepend_path <- function(dirs, path) {
  paste(c(unique(dirs), if (nzchar(path)) path), collapse = .Platform$path.sep)
}

# Parse the CLI's JSON answer, or raise kbackend_error_python naming what
# went wrong (the interpreter could not run, the module crashed, ...).
parse_cli_json <- function(result, python, expected_status,
                           parser = parse_json_answer,
                           call = rlang::caller_env()) {
  parsed <- NULL
  if (result$status %in% expected_status && nzchar(result$stdout)) {
    parsed <- tryCatch(parser(result$stdout), error = function(e) NULL)
  }
  if (is.null(parsed)) {
    internal <- internal_error(result)
    tail_err <- cli_escape(utils::tail(result$stderr[nzchar(result$stderr)], 8))
    kb_abort(
      c(
        if (is.null(internal)) {
          "Running the bundled kbackend module with {.path {python}} failed."
        } else {
          paste(
            "The bundled kbackend module failed in {.path {python}}",
            "(a kbackend bug: please report it)."
          )
        },
        x = if (is.null(internal)) "Exit status {result$status}." else cli_escape(internal$error),
        if (length(tail_err)) stats::setNames(tail_err, rep(" ", length(tail_err)))
      ),
      class = c(if (!is.null(internal)) "kbackend_error_internal", "kbackend_error_python"),
      status = result$status,
      stderr = result$stderr,
      call = call
    )
  }
  parsed
}

# The module's own failure report (exit status 5 with an error object on
# stdout), or NULL.
internal_error <- function(result) {
  if (!identical(result$status, 5L) || !nzchar(result$stdout)) {
    return(NULL)
  }
  answer <- tryCatch(parse_json_answer(result$stdout), error = function(e) NULL)
  is_report <- is.list(answer) && isTRUE(answer$internal_error) && is.character(answer$error)
  if (is_report) answer else NULL
}

parse_json_answer <- function(json) {
  jsonlite::fromJSON(json, simplifyVector = TRUE, simplifyDataFrame = FALSE)
}

# The module, imported in-process. Only ever called once Python is running:
# registering a delay-loaded import before that would make reticulate's
# interpreter discovery prefer environments named after "kbackend", so
# loading this package would change which Python reticulate picks.
kb_module <- function() {
  if (!python_started()) {
    stop("internal error: kb_module() called before Python started")
  }
  if (is.null(.kb$module)) {
    .kb$module <- reticulate::import_from_path(
      "kbackend",
      path = kb_python_path(),
      delay_load = TRUE
    )
  }
  .kb$module
}

# Call kbackend.<fun>(...) in-process; a kbackend.KBackendError becomes the
# R error of the class its `code` names.
kb_py_call <- function(fun, ..., backend = NULL, call = rlang::caller_env()) {
  module <- kb_module()
  tryCatch(
    module[[fun]](...),
    error = function(e) {
      exc <- python_exception(e)
      if (is.null(exc)) {
        stop(e)
      }
      builtins <- reticulate::import_builtins()
      if (!isTRUE(builtins$isinstance(exc, module$KBackendError))) {
        stop(e)
      }
      abort_from_python(
        builtins$getattr(exc, "code"), builtins$str(exc),
        python_class = builtins$type(exc)$`__name__`,
        backend = backend, call = call
      )
    }
  )
}

# The Python exception behind an R error raised by reticulate: the condition
# itself in reticulate >= 1.29, py_last_error() before.
python_exception <- function(e) {
  if (inherits(e, "python.builtin.BaseException")) {
    return(e)
  }
  last <- tryCatch(reticulate::py_last_error(), error = function(err) NULL)
  if (is.null(last)) {
    return(NULL)
  }
  exc <- attr(last, "exception", exact = TRUE)
  if (is.null(exc) || !inherits(exc, "python.builtin.object")) {
    return(NULL)
  }
  # only if it is this error's exception, not a stale one
  value <- last$value %||% ""
  if (!nzchar(value) || !grepl(value, conditionMessage(e), fixed = TRUE)) {
    return(NULL)
  }
  exc
}

# os.environ of the running Python, looked up once per session.
python_environ <- function() {
  if (is.null(.kb$environ)) {
    .kb$environ <- reticulate::import("os", convert = TRUE)$environ
  }
  .kb$environ
}

# One variable of the running Python's os.environ (NA: unset).
python_getenv <- function(name) {
  python_environ()$get(name) %||% NA_character_
}

# Set one variable of the running Python's os.environ, or remove it (NA).
python_setenv <- function(name, value) {
  environ <- reticulate::import("os", convert = FALSE)$environ
  if (is.na(value)) {
    environ$pop(name, NULL)
  } else {
    environ$`__setitem__`(name, value)
  }
  invisible()
}
