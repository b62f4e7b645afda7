#' Which Keras backend is or will be used, and why
#'
#' Reports the Keras backend that the Python interpreter reticulate uses (or
#' would use) has loaded or will load, where that choice comes from
#' (`KERAS_BACKEND`, `keras.json` or the default), whether it will import,
#' which backends are installed, and the problems found with a fix for each.
#' It never imports Keras.
#'
#' * **Before Python has started** it does not start it: it finds the
#'   interpreter reticulate would use ([reticulate::py_discover_config()],
#'   with every install or download path switched off), runs the bundled
#'   kbackend Python module there in a subprocess with R's current
#'   environment, and parses its JSON.
#' * **After Python has started** it asks the module in-process, so the live
#'   `os.environ` and `sys.modules` count (for instance, `locked` is `TRUE`
#'   once something has imported Keras).
#'
#' The fields are those of the Python function `kbackend.backend_info()`,
#' parsed from the same JSON in the same way on both paths, so R and Python
#' give the same answers. Element `r` adds what only R knows:
#'
#' * `python`: the interpreter reticulate uses or would use;
#' * `python_source`: how reticulate chose it (e.g. `"RETICULATE_PYTHON"`);
#' * `python_started`: whether the embedded Python has started;
#' * `via`: `"subprocess"` or `"in-process"`;
#' * `reticulate_version`;
#' * `interface`: the R interface the answer is for -- `name` (`"keras3"`,
#'   `"keras"`, `"kerasR"` or `"reticulate"`), `version`, `loaded`,
#'   `connected` (for a loaded kerasR: whether its load imported Keras; `NA`
#'   otherwise), `source` (how it was chosen: `"loaded"`, `"argument"`,
#'   `"installed"` or `"default"`), `module`, the Python module it imports
#'   (`"keras"`, or `"tensorflow.keras"` for the legacy package by default),
#'   and for kerasR `load`: `outcome` (before it loads: `"connects"`,
#'   `"unconnected"` or `"fails"`; after: `"connected"` or
#'   `"not-connected"`), `error`, `module` (the submodule that is missing)
#'   and `reason`;
#' * `env_mismatch`: a data frame (`variable`, `r`, `python`) of
#'   `KERAS_BACKEND`, `KERAS_HOME` and `TF_USE_LEGACY_KERAS` where R's value
#'   differs from what the running Python sees. reticulate does not copy
#'   [Sys.setenv()] into a Python that has already started; each difference is
#'   also added to `problems`, with its fix.
#'
#' @section R interfaces:
#' R users load an interface, and its load step changes the answer. Before the
#' interface has loaded, `backend_info()` applies those steps, so the answer
#' given in a setup chunk is the one that holds once `library()` has run:
#'
#' * **keras3** sets `KERAS_BACKEND` to its value or `"tensorflow"` (1.3+),
#'   so the backend in `keras.json` is never used, and reads `jax-cpu` /
#'   `jax-gpu` as `jax`; sets `KERAS_HOME` to
#'   `tools::R_user_dir("keras3", "cache")` when it is unset and `~/.keras`
#'   does not exist (1.4+); copies `KERAS_PYTHON` over `RETICULATE_PYTHON`;
#'   and makes reticulate prefer a virtual environment named `r-keras`.
#' * **keras** (the legacy package, 2.x) imports `tensorflow.keras` unless
#'   `KERAS_IMPLEMENTATION` is `"keras"`, so `KERAS_BACKEND` and `keras.json`
#'   are ignored by default; copies `KERAS_PYTHON` over `RETICULATE_PYTHON`;
#'   prefers a virtual environment named `r-tensorflow`.
#' * **kerasR** (0.8.0) starts Python when it loads (reticulate's default
#'   choice: it names no environment), imports `keras` -- so the backend is
#'   fixed by `library(kerasR)` -- and then 22 Keras 2 submodules
#'   (`keras.layers.core`, ...). If importing `keras` fails, kerasR loads
#'   unconnected and kerasR's `keras_init()` retries later; if a submodule is
#'   missing, `library(kerasR)` fails with that `ModuleNotFoundError`. Which
#'   submodules the installed Keras has is read from its files: no Keras
#'   since 2.3 has them all, so with Keras 2.4+ or 3 the record's `status` is
#'   `"error"` and `error` is the exception `library(kerasR)` raises.
#' * **reticulate**: a plain `import("keras")`, nothing changed.
#'
#' When no interface is loaded and none is named, the installed one is used,
#' newest first (keras3, then keras, then kerasR): someone with several
#' installed most likely follows current material; say otherwise with
#' `interface`.
#'
#' Each effect that matters is listed in `problems` with its fix
#' (`keras3-ignores-config-backend`, `keras3-keras-home`,
#' `keras-implementation-tensorflow`, `keras-python-overrides`,
#' `keras-legacy-with-keras3`, `reticulate-too-old`,
#' `theano-embedded-headers`, `kerasr-imports-keras`, `kerasr-keras-layout`,
#' `kerasr-unconnected`, `kerasr-not-connected`).
#'
#' With `verify = TRUE` it also imports Keras for real, in a separate Python
#' process with the same environment (and a temporary copy of `keras.json`, so
#' the user's Keras directory is never created or rewritten), and adds what
#' Keras itself said as element `verify`: `status` (`"ok"`, `"error"`,
#' `"timeout"`, `"crashed"`, or `"not-run"` when Keras is already loaded in
#' this process), `backend`, `error`, `import_seconds`, `peak_memory_mb`,
#' `devices` (character), `agrees` (`TRUE` when Keras confirms the
#' prediction), `stderr_tail` (character) and `timeout_seconds`. A
#' disagreement is a kbackend bug: `problems` then starts with a
#' `"kbackend-bug"` entry holding both answers, and printing the report says
#' `DISAGREES`. This costs what importing Keras costs (seconds, hundreds of
#' MB), in the child only: this process still imports nothing, and a hanging
#' import is stopped after `timeout` seconds and reported, not propagated.
#'
#' @param verify If `TRUE`, also import Keras in a child process and compare
#'   what it says with the prediction (see above).
#' @param timeout Time limit in seconds for the `verify` import (a single
#'   positive number). Unused unless `verify = TRUE`.
#' @param interface The R interface that will import Keras, when none is
#'   loaded yet: `"keras3"`, `"keras"` (the legacy package), `"kerasR"` or
#'   `"reticulate"` (a plain `reticulate::import("keras")`). By default the
#'   loaded one, else the installed one (keras3, keras, kerasR, in that
#'   order), else reticulate. See "R interfaces" below.
#' @returns A list of class `kbackend_info`. Among its elements: `backend`
#'   (`NULL` when none can be named), `status` (`"ok"` or `"error"`), `error`,
#'   `source`, `reason`, `locked`, `locked_by` (character), `keras_home`,
#'   `config_path`, `config_file`, `config`, `keras`, `installed` (a named
#'   list, `NULL` for not installed), `tf_keras`, `variables`, `python`,
#'   `problems` (a data frame with columns `code`, `message`, `fix`),
#'   `verify` (`NULL` unless `verify = TRUE`) and `r`.
#'   Use [as.data.frame()][as.data.frame.kbackend_info] for the installed
#'   packages as a table.
#' @family keras backend functions
#' @seealso [use_keras_backend()] to set the backend;
#'   [reticulate::py_discover_config()] for how reticulate picks Python.
#' @examples
#' info <- tryCatch(backend_info(), kbackend_error = function(e) NULL)
#' if (!is.null(info)) {
#'   print(info)
#'   info$backend
#'   info$source
#'   as.data.frame(info)
#' }
#'
#' if (interactive()) {
#'   # import Keras in a child process and compare (takes seconds)
#'   backend_info(verify = TRUE, timeout = 60)
#' }
#' @export
backend_info <- function(verify = FALSE, timeout = 120, interface = NULL) {
  check_flag_arg(verify, "verify")
  check_timeout_arg(timeout)
  check_interface_arg(interface)
  iface <- keras_interface(interface)
  interpreter <- reticulate_python(iface)
  facts <- interface_facts(iface, python_started = interpreter$started)
  if (interpreter$started) {
    json <- kb_py_call("backend_info_json", verify = verify, timeout = as.double(timeout),
                       interface = facts, text = TRUE)
    record <- parse_record(json)
    via <- "in-process"
  } else {
    args <- c(
      "--json", "--with-text",
      if (verify) c("--verify", "--timeout", format_seconds(timeout)),
      interface_args(facts)
    )
    # exit 4: Keras disagreed with the prediction -- a normal answer, whose
    # record carries the mismatch (and a "kbackend-bug" problem)
    result <- run_kbackend_cli(
      interpreter$python, args,
      timeout = cli_timeout() + if (verify) timeout else 0
    )
    record <- parse_cli_json(result, interpreter$python,
                             expected_status = c(0L, 1L, if (verify) 4L),
                             parser = parse_record)
    via <- "subprocess"
  }
  # a Python not yet started will copy R's environment when it starts
  mismatch <- if (interpreter$started) env_mismatch(isTRUE(record$locked)) else no_env_mismatch()
  record$problems <- rbind(record$problems, mismatch$problems)
  record$r <- list(
    python = interpreter$python,
    python_source = interpreter$source,
    python_started = interpreter$started,
    via = via,
    reticulate_version = reticulate_version(),
    interface = interface_report(iface, record),
    env_mismatch = mismatch$mismatch
  )
  structure(record, class = "kbackend_info")
}

# The CLI arguments that pass the interface facts (none for plain reticulate).
interface_args <- function(facts) {
  if (is.null(facts)) {
    return(character())
  }
  c("--interface-json", as.character(jsonlite::toJSON(facts, auto_unbox = TRUE, null = "null")))
}

# The one parser for the record's JSON, used on both paths (and by the parity
# tests for the Python side): jsonlite with vectors simplified, then two
# fields given a stable type whatever their length -- `locked_by` is always
# character and `problems` always a data frame (code, message, fix). The
# report's words, when the module sent them, become the "text" attribute:
# they are not a field of the record.
parse_record <- function(json) {
  record <- jsonlite::fromJSON(
    json,
    simplifyVector = TRUE,
    simplifyDataFrame = FALSE,
    simplifyMatrix = FALSE
  )
  text <- record$text
  record$text <- NULL
  attr(record, "text") <- text
  record$locked_by <- as.character(unlist(record$locked_by))
  record$problems <- problems_frame(record$problems)
  if (is.list(record$verify)) {
    # character whatever their length (jsonlite leaves [] a list)
    for (field in c("devices", "stderr_tail")) {
      if (!is.null(record$verify[[field]])) {
        record$verify[[field]] <- as.character(unlist(record$verify[[field]]))
      }
    }
  }
  record
}

# Seconds as the CLI's --timeout reads them (a Python float).
format_seconds <- function(x) {
  format(as.double(x), digits = 15, scientific = FALSE, trim = TRUE)
}

problems_frame <- function(problems) {
  field <- function(name) {
    vapply(problems, function(p) {
      value <- p[[name]]
      if (is.null(value) || !length(value)) NA_character_ else as.character(value[[1]])
    }, character(1))
  }
  data.frame(
    code = field("code"),
    message = field("message"),
    fix = field("fix"),
    stringsAsFactors = FALSE
  )
}

# No mismatch: Python has not started, so it will copy R's environment.
no_env_mismatch <- function() {
  list(
    mismatch = data.frame(
      variable = character(), r = character(), python = character(), stringsAsFactors = FALSE
    ),
    problems = problems_frame(list())
  )
}

# R's environment against the running Python's (once R has started it):
# the kbackend module decides which variables differ and words the problems;
# R supplies its environment. A data frame (variable, r, python; NA: unset)
# and the problems.
env_mismatch <- function(locked) {
  json <- kb_py_call("environment_mismatch_json", as.list(Sys.getenv()), locked)
  answer <- jsonlite::fromJSON(json, simplifyVector = TRUE, simplifyDataFrame = FALSE)
  field <- function(name) {
    vapply(answer$mismatch, function(row) row[[name]] %||% NA_character_, character(1))
  }
  list(
    mismatch = data.frame(variable = field("variable"), r = field("r"), python = field("python"),
                          stringsAsFactors = FALSE),
    problems = problems_frame(answer$problems)
  )
}

reticulate_version <- function() {
  if (is.null(.kb$reticulate_version)) {
    .kb$reticulate_version <- as.character(utils::packageVersion("reticulate"))
  }
  .kb$reticulate_version
}
