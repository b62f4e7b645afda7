# Stand-in for the tensorflow R package, 2.16-2.20: only the load-time steps
# that decide which Python reticulate will pick, nothing else. Checked against
# rstudio/tensorflow v2.16.0 and v2.20.0, R/package.R, .onLoad().

# The delay-loaded `tensorflow` module (a reticulate module proxy).
tf <- NULL

.onLoad <- function(libname, pkgname) {
  forward_tensorflow_python()
  tryCatch(
    tf <<- reticulate::import("tensorflow", delay_load = list(
      # keras3 registers "keras" with priority 10, so its environment wins
      # when both are loaded; tensorflow alone still names one.
      priority = 5,
      environment = tensorflow_environments()
    )),
    error = function(e) {
      # Only reached when Python is already running (the import is then
      # immediate) and has no tensorflow: the real package warns instead of
      # failing to load.
      if (!is_module_not_found(e)) stop(e)
      warning(
        conditionMessage(e), "\n",
        "Restart the R session and load tensorflow before reticulate starts ",
        "Python, or use a Python with the tensorflow module.",
        call. = FALSE
      )
    }
  )
}

# TENSORFLOW_PYTHON, when set at all (even to ""), becomes RETICULATE_PYTHON.
forward_tensorflow_python <- function() {
  python <- Sys.getenv("TENSORFLOW_PYTHON", unset = NA)
  if (!is.na(python)) {
    Sys.setenv(RETICULATE_PYTHON = python)
  }
}

# The named environments reticulate may use: "r-keras" joined the list for
# reticulate >= 1.36 (which can take several).
tensorflow_environments <- function() {
  reticulate_version <- as.package_version(getNamespaceVersion("reticulate"))
  c("r-tensorflow", if (reticulate_version >= "1.36.0") "r-keras")
}

# The real package catches the condition class reticulate >= 1.29 gives a
# Python ModuleNotFoundError; older reticulate (1.28 here) raises a plain
# error whose message starts with the exception name, so accept both.
is_module_not_found <- function(e) {
  inherits(e, "python.builtin.ModuleNotFoundError") ||
    grepl("^ModuleNotFoundError", conditionMessage(e))
}
