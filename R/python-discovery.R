# Which Python interpreter reticulate uses, or would use -- found without
# starting Python and without letting reticulate create or download anything.

#' Is the embedded Python running?
#'
#' @returns `TRUE` once reticulate has started Python in this R session.
#' @noRd
python_started <- function() {
  # reticulate not loaded: nothing in this session can have started Python
  # (checking this first also spares loading reticulate and Matrix, ~1 s)
  isNamespaceLoaded("reticulate") &&
    isTRUE(reticulate::py_available(initialize = FALSE))
}

# The interpreter reticulate uses (Python started) or would use (not started),
# and how reticulate chose it. Never starts Python. With an interface that is
# not loaded yet (see keras_interface()), the answer is the one that holds
# once it has loaded: its copies of KERAS_PYTHON / TENSORFLOW_PYTHON over
# RETICULATE_PYTHON are applied, and discovery looks for the module and the
# virtual environments it registers with reticulate.
#
# Returns list(python, source, started). Raises kbackend_error_no_python.
reticulate_python <- function(iface = NULL, call = rlang::caller_env()) {
  if (python_started()) {
    config <- reticulate::py_config()
    return(list(
      python = config$python,
      source = describe_python_source(config$forced),
      started = TRUE
    ))
  }

  if (!is.null(iface)) {
    withr::local_envvar(interface_python_env(iface))
  }
  fast <- reticulate_python_env_only()
  if (!is.null(fast)) {
    return(fast)
  }
  hints <- if (is.null(iface)) list() else interface_discovery_hints(iface)

  reason <- discovery_would_install()
  if (!is.null(reason)) {
    abort_no_python(reason, managed = TRUE, call = call)
  }

  config <- tryCatch(
    guarded_discovery(required_module = hints$module, use_environment = hints$environments),
    error = function(e) e
  )
  if (inherits(config, "error")) {
    abort_no_python(conditionMessage(config), call = call)
  }
  if (is.null(config) || is.null(config$python)) {
    if (would_use_managed_python()) {
      abort_no_python(
        paste(
          "reticulate would use an ephemeral environment that it builds with",
          "uv from the py_require() requirements when Python starts;",
          "kbackend does not build it for you (that can download Python and",
          "packages)."
        ),
        managed = TRUE,
        call = call
      )
    }
    abort_no_python("reticulate found no Python interpreter.", call = call)
  }
  if (!file.exists(config$python)) {
    abort_no_python(
      sprintf("the Python reticulate chose (%s) does not exist.", config$python),
      call = call
    )
  }
  list(
    python = config$python,
    source = describe_python_source(config$forced),
    started = FALSE
  )
}

# The answer py_discover_config() gives, without loading reticulate, in the
# one case where it is certain: reticulate is not loaded yet (so no
# use_python(), use_virtualenv() or py_require() call can have been made), no
# embedding process announced its Python (PYTHON_SESSION_INITIALIZED) and
# RETICULATE_PYTHON names an existing file. Every reticulate version then
# takes RETICULATE_PYTHON as it is (after path.expand()). Loading reticulate
# costs about a second (it loads Matrix), far more than the rest of
# backend_info(). A test checks this against py_discover_config().
reticulate_python_env_only <- function() {
  if (isNamespaceLoaded("reticulate")) {
    return(NULL)
  }
  if (!is.na(Sys.getenv("PYTHON_SESSION_INITIALIZED", unset = NA))) {
    return(NULL)
  }
  value <- Sys.getenv("RETICULATE_PYTHON", unset = NA)
  if (is.na(value) || value %in% c("", "managed")) {
    return(NULL)
  }
  python <- path.expand(value)
  if (!file.exists(python) || dir.exists(python)) {
    return(NULL)
  }
  list(python = python, source = "RETICULATE_PYTHON", started = FALSE)
}

# reticulate::py_discover_config() with every install/download path switched
# off:
# * reticulate >= 1.41 builds its uv-managed environment only while
#   `reticulate.python.initializing` is TRUE; off, discovery returns NULL.
# * reticulate <= 1.30 may offer to install Miniconda in interactive sessions
#   unless RETICULATE_MINICONDA_ENABLED is false (the conda-creating cases
#   are refused beforehand by discovery_would_install()).
guarded_discovery <- function(discover = reticulate::py_discover_config, ...) {
  withr::with_options(
    list(reticulate.python.initializing = FALSE),
    withr::with_envvar(
      c(RETICULATE_MINICONDA_ENABLED = "FALSE"),
      discover(...)
    )
  )
}

# reticulate <= 1.30: when nothing names an interpreter, py_discover_config()
# creates a conda environment if Miniconda is installed without its
# r-reticulate environment, or if conda has no environment at all. Say so
# instead of letting that happen. Returns NULL when discovery is safe.
discovery_would_install <- function(version = utils::packageVersion("reticulate")) {
  version <- package_version(version)
  if (version >= "1.31") {
    return(NULL)
  }
  named <- Sys.getenv(c(
    "RETICULATE_PYTHON", "RETICULATE_PYTHON_ENV", "RETICULATE_PYTHON_FALLBACK"
  ), unset = NA)
  if (any(!is.na(named))) {
    return(NULL)
  }
  miniconda <- reticulate::miniconda_path()
  conda_exe <- miniconda_conda(miniconda)
  envpath <- Sys.getenv(
    "RETICULATE_MINICONDA_PYTHON_ENVPATH",
    unset = file.path(miniconda, "envs", "r-reticulate")
  )
  if (file.exists(conda_exe) && !file.exists(envpath)) {
    return(sprintf(
      paste(
        "reticulate %s would create the conda environment %s with Miniconda",
        "to answer; kbackend does not create it."
      ),
      version, envpath
    ))
  }
  conda <- tryCatch(reticulate::conda_binary(), error = function(e) NULL)
  if (!is.null(conda)) {
    envs <- tryCatch(reticulate::conda_list(conda = conda), error = function(e) NULL)
    if (!is.null(envs) && nrow(envs) == 0) {
      return(sprintf(
        paste(
          "reticulate %s would create an r-reticulate conda environment with",
          "%s to answer; kbackend does not create it."
        ),
        version, conda
      ))
    }
  }
  NULL
}

# The conda executable of a Miniconda installation, in the layout of the
# platform: condabin\conda.bat on Windows, bin/conda elsewhere.
miniconda_conda <- function(miniconda, windows = .Platform$OS.type == "windows") {
  if (windows) {
    file.path(miniconda, "condabin", "conda.bat")
  } else {
    file.path(miniconda, "bin", "conda")
  }
}

# reticulate >= 1.41 falls back to a uv-managed environment (py_require())
# unless told otherwise.
would_use_managed_python <- function(version = utils::packageVersion("reticulate")) {
  if (package_version(version) < "1.41") {
    return(FALSE)
  }
  if (identical(Sys.getenv("RETICULATE_PYTHON"), "managed")) {
    return(TRUE)
  }
  !tolower(Sys.getenv("RETICULATE_USE_MANAGED_VENV")) %in% c("false", "0", "no")
}

describe_python_source <- function(forced) {
  if (is.null(forced) || !length(forced) || !nzchar(forced[[1]])) {
    return("reticulate's default search")
  }
  forced[[1]]
}

abort_no_python <- function(reason, managed = FALSE, call = rlang::caller_env()) {
  kb_abort(
    c(
      "kbackend needs a Python interpreter and none can be used.",
      x = "{reason}",
      i = paste(
        "Point reticulate at one before Python starts: set",
        "{.envvar RETICULATE_PYTHON} to a python executable (e.g. in",
        "{.file .Renviron}), or call {.run reticulate::use_python()} or",
        "{.run reticulate::use_virtualenv()}."
      ),
      if (managed) c(i = paste(
        "Or start Python first (e.g. {.run reticulate::py_config()}), then",
        "call {.run kbackend::backend_info()} again."
      ))
    ),
    class = c(
      if (managed) "kbackend_error_managed_python",
      "kbackend_error_no_python"
    ),
    reason = reason,
    call = call
  )
}
