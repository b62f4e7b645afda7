# Stand-in for the keras3 R package, 1.x: only the load-time steps that touch
# the environment, in the real order. Checked against rstudio/keras3 v1.0.0,
# v1.2.0, v1.3.0, v1.4.0, v1.5.0 and v1.5.1 (R/package.R .onLoad(),
# R/install.R use_backend() and is_keras_loaded()). Steps that appeared in a
# later release are gated on this package's own version, so one template
# stands in for several releases.

# The delay-loaded `keras` module (a reticulate module proxy).
keras <- NULL

.onLoad <- function(libname, pkgname) {
  version <- utils::packageVersion(pkgname)

  if (version >= "1.4.0") {
    quiet_tensorflow_logs()
  }
  requireNamespace("tensorflow", quietly = TRUE)
  forward_keras_python()
  if (version >= "1.3.0") {
    require_keras_packages()
  }
  if (version >= "1.4.0") {
    default_keras_home()
  }
  if (version >= "1.3.0") {
    use_backend(normalize_backend_variable())
  }
  try(keras <<- reticulate::import("keras", delay_load = list(
    # above tensorflow's 5: reticulate picks this package's environment
    priority = 10,
    environment = "r-keras",
    # as the real handler: the import's own message
    on_error = function(e) stop(conditionMessage(e), call. = FALSE)
  )))
}

# Set the Keras backend (the stand-in's version of keras3::use_backend()):
# refuses once the `keras` proxy has been imported with another backend;
# otherwise sets KERAS_BACKEND for R and, if Python runs, for Python.
# `gpu` is accepted for the real signature and ignored (no GPU logic here).
use_backend <- function(backend, gpu = NA) {
  if (keras_is_loaded()) {
    if (keras$config$backend() != backend) {
      stop("The keras backend must be set before keras has inititialized. Please restart the R session.")
    }
    # 1.3.0 went on to set the variables anyway; 1.4.0 stops here.
    if (utils::packageVersion("keras3") >= "1.4.0") {
      return(invisible())
    }
  }
  Sys.setenv(KERAS_BACKEND = backend)
  if (reticulate::py_available(initialize = FALSE)) {
    reticulate::import("os")$environ$update(list(KERAS_BACKEND = backend))
  }
  invisible()
}

# As the real is_keras_loaded(): this package's `keras` proxy has been
# resolved (reticulate removes `module` from the proxy when it imports it).
# A keras that Python imported some other way does not count -- the real
# package then sets the variables, too late to matter.
keras_is_loaded <- function() {
  !is.null(keras) &&
    reticulate::py_available(initialize = FALSE) &&
    !exists("module", envir = keras, inherits = FALSE)
}

quiet_tensorflow_logs <- function() {
  if (is.na(Sys.getenv("TF_CPP_MIN_LOG_LEVEL", NA))) {
    Sys.setenv(TF_CPP_MIN_LOG_LEVEL = "2")
  }
}

# KERAS_PYTHON, when set at all (even to ""), becomes RETICULATE_PYTHON.
forward_keras_python <- function() {
  python <- Sys.getenv("KERAS_PYTHON", unset = NA)
  if (!is.na(python)) {
    Sys.setenv(RETICULATE_PYTHON = python)
  }
}

# The real package declares its Python requirements (reticulate >= 1.41
# has py_require()); with an older reticulate there is nothing to declare to.
require_keras_packages <- function() {
  reticulate_ns <- asNamespace("reticulate")
  if (exists("py_require", envir = reticulate_ns, inherits = FALSE)) {
    py_require <- get("py_require", envir = reticulate_ns)
    py_require(c("keras", "pydot", "scipy", "pandas", "Pillow", "ipython"))
  }
}

# Without KERAS_HOME and without ~/.keras, Keras' files go to the R user
# cache directory instead of creating ~/.keras.
default_keras_home <- function() {
  if (is.na(Sys.getenv("KERAS_HOME", NA)) && !dir.exists("~/.keras/")) {
    home <- normalizePath(tools::R_user_dir("keras3", "cache"), mustWork = FALSE)
    Sys.setenv(KERAS_HOME = home)
  }
}

# KERAS_BACKEND, default "tensorflow", with a "-cpu"/"-gpu" suffix removed
# from the variable too (the real package uses the suffix only to choose
# Python requirements).
normalize_backend_variable <- function() {
  backend <- Sys.getenv("KERAS_BACKEND", "tensorflow")
  for (suffix in c("-cpu", "-gpu")) {
    if (endsWith(backend, suffix)) {
      backend <- sub(paste0(suffix, "$"), "", backend)
      Sys.setenv(KERAS_BACKEND = backend)
      break
    }
  }
  backend
}
