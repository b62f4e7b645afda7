# Stand-in for the legacy keras R package, 2.2.5-2.15: only the load-time
# steps that touch the environment, and the functions that set the backend
# or implementation. Checked against rstudio/keras tags 2.2.5.0, 2.3.0.0,
# v2.4.0, v2.6.0, v2.7.0, v2.8.0, v2.9.0, v2.11.0, v2.13.0 and v2.15.0
# (R/package.R .onLoad(), use_implementation(), use_backend(),
# resolve_implementation_module(); R/backend.R k_backend()).

# The delay-loaded implementation module ("tensorflow.keras" or, e.g.,
# "keras"), a reticulate module proxy.
keras <- NULL

.onLoad <- function(libname, pkgname) {
  version <- utils::packageVersion(pkgname)
  module <- resolve_module()
  forward_keras_python()
  keras <<- reticulate::import(module, delay_load = keras_delay_load(version))
}

# The delay_load list: the module is chosen again when the proxy resolves
# (`get_module`, which reticulate 1.28 honours), so use_backend() or
# use_implementation() after loading still take effect. 2.13 dropped the
# priority; 2.7-2.11 named "r-reticulate" rather than "r-tensorflow".
keras_delay_load <- function(version) {
  environment <- if (version >= "2.7.0" && version < "2.13.0") {
    "r-reticulate"
  } else {
    "r-tensorflow"
  }
  delay_load <- list(
    environment = environment,
    get_module = function() resolve_module(),
    # the real handler stops with the import's own message (for the
    # tensorflow implementation, with tf_config()'s, which names the same
    # failure); without one, reticulate would only say "not found"
    on_error = function(e) stop(conditionMessage(e), call. = FALSE)
  )
  if (version < "2.13.0") {
    delay_load$priority <- 10
  }
  delay_load
}

# The Python module KERAS_IMPLEMENTATION names: "tensorflow" (the default)
# means tensorflow.keras; anything else is the module name itself. From 2.4
# the real package warns, once a session, about anything but "tensorflow".
resolve_module <- function() {
  implementation <- tolower(Sys.getenv("KERAS_IMPLEMENTATION", "tensorflow"))
  if (implementation == "tensorflow") {
    return("tensorflow.keras")
  }
  if (utils::packageVersion("keras") >= "2.4.0") {
    warn_implementation_once(implementation)
  }
  implementation
}

unsupported_warned <- new.env(parent = emptyenv())

warn_implementation_once <- function(implementation) {
  if (isTRUE(unsupported_warned$done)) {
    return(invisible())
  }
  unsupported_warned$done <- TRUE
  warning(
    "We no longer support the '", implementation, "' Keras implementation.\n",
    "Use Sys.setenv(KERAS_IMPLEMENTATION='tensorflow') or unset that ",
    "environment variable.",
    call. = FALSE
  )
}

# KERAS_PYTHON, when set at all (even to ""), becomes RETICULATE_PYTHON.
forward_keras_python <- function() {
  python <- Sys.getenv("KERAS_PYTHON", unset = NA)
  if (!is.na(python)) {
    Sys.setenv(RETICULATE_PYTHON = python)
  }
}

use_implementation <- function(implementation = c("keras", "tensorflow")) {
  Sys.setenv(KERAS_IMPLEMENTATION = match.arg(implementation))
}

# Any backend but tensorflow also switches to the standalone keras module,
# as the real function does. plaidml needs a Python package this stand-in
# does not emulate.
use_backend <- function(backend = c("tensorflow", "cntk", "theano", "plaidml")) {
  backend <- match.arg(backend)
  if (backend == "plaidml") {
    stop("plaidml not supported by the stand-in", call. = FALSE)
  }
  Sys.setenv(KERAS_BACKEND = backend)
  if (backend != "tensorflow") {
    use_implementation("keras")
  }
}

k_backend <- function() {
  keras$backend$backend()
}
