# Stand-in for the kerasR R package, 0.8.0: only what its load does, in the
# real order. Checked against statsmaths/kerasR (R/onLoad.R, .onLoad() calls
# keras_init(); R/keras_init.R, keras_available() and keras_init()). The
# layer, model and fitting functions are left out: the tests ask Keras
# itself through the modules the load stored.

.onLoad <- function(libname, pkgname) {
  keras_init()
}

# As the real keras_available(): Python starts here (reticulate's default
# choice: nothing names an environment or a module); numpy is checked and
# imported; py_module_available("keras") imports keras and turns any failure
# into FALSE. The keras check runs even when an earlier one failed.
keras_available <- function(silent = FALSE) {
  msg <- ""
  collapse <- function(...) paste(..., sep = "\n")
  if (!reticulate::py_available(initialize = TRUE)) {
    msg <- collapse(msg, "python not available")
  } else if (!reticulate::py_numpy_available()) {
    msg <- collapse(msg, "numpy  not available")
  }
  if (msg == "") {
    temp <- import("numpy", convert = FALSE)
  }
  if (!reticulate::py_module_available("keras")) {
    msg <- collapse(msg, "keras not available")
  }
  if (msg != "") {
    if (!silent) {
      message(msg, "\n",
              "See reticulate::use_python() to set python path, ", "\n",
              "then use kerasR::keras_init() to retry")
    }
    FALSE
  } else {
    TRUE
  }
}

# As the real keras_init(): with keras available, numpy and the 22
# submodules, one by one and with no handler, so the first that fails makes
# .onLoad, and so library(kerasR), fail with that import's error.
keras_init <- function() {
  if (keras_available()) {
    modules$builtin <- reticulate::import_builtins()
    modules$np <- import("numpy", convert = FALSE)
    for (name in keras_submodules) {
      assign(name, import(name), envir = modules)
    }
    message("successfully loaded keras")
  }
}

keras_submodules <- c(
  "keras.models",
  "keras.layers.core",
  "keras.layers.convolutional",
  "keras.layers.pooling",
  "keras.layers.local",
  "keras.layers.recurrent",
  "keras.layers.embeddings",
  "keras.layers.advanced_activations",
  "keras.layers.normalization",
  "keras.layers.noise",
  "keras.layers.wrappers",
  "keras.optimizers",
  "keras.callbacks",
  "keras.initializers",
  "keras.regularizers",
  "keras.constraints",
  "keras.utils",
  "keras.datasets",
  "keras.applications",
  "keras.preprocessing.text",
  "keras.preprocessing.sequence",
  "keras.preprocessing.image"
)

modules <- new.env(parent = emptyenv())
