# Which R interface will import Keras -- keras3, the legacy keras package,
# kerasR, or a plain reticulate::import("keras") -- and what loading it does
# to the answer. R supplies the facts only R knows; the bundled Python module applies
# the interface's load steps to the environment it resolves with
# (interfaces.py of the bundled Python module), so the logic stays in one place. The steps
# that choose the interpreter are reticulate's, so they live here.

# Interfaces in the order an installed one is preferred: the current one
# (keras3), then the package it replaced (keras), then kerasR, the oldest,
# which imports Keras 2 modules that no Keras since 2.3 has. Someone with
# several installed most likely follows the newest material; the
# `interface` argument says otherwise. A loaded interface always wins.
interface_packages <- c("keras3", "keras", "kerasR")
interface_names <- c(interface_packages, "reticulate")

# The interface the answer is for: the one already loaded; else `interface`;
# else the installed one (keras3, keras, kerasR); else plain reticulate.
# Returns list(name, version, loaded, connected, source,
# reticulate_requirement); `connected` is NA but for a loaded kerasR.
keras_interface <- function(interface = NULL) {
  loaded <- Filter(isNamespaceLoaded, interface_packages)
  installed <- Filter(function(p) nzchar(system.file(package = p)), interface_packages)
  if (length(loaded)) {
    name <- loaded[[1]]
    source <- "loaded"
  } else if (!is.null(interface)) {
    name <- interface
    source <- "argument"
  } else if (length(installed)) {
    name <- installed[[1]]
    source <- "installed"
  } else {
    name <- "reticulate"
    source <- "default"
  }
  facts <- package_facts(name)
  list(
    name = name,
    version = facts$version,
    loaded = name %in% loaded,
    connected = if (name == "kerasR" && name %in% loaded) kerasr_connected() else NA,
    source = source,
    reticulate_requirement = facts$reticulate_requirement
  )
}

# Whether a loaded kerasR holds its Keras modules: its .onLoad (keras_init())
# stores each import in its `modules` environment, the last one
# keras.preprocessing.image; it stores nothing when keras was not available.
kerasr_connected <- function() {
  modules <- get0("modules", envir = asNamespace("kerasR"), inherits = FALSE)
  is.environment(modules) &&
    exists("keras.preprocessing.image", envir = modules, inherits = FALSE)
}

# Version and reticulate requirement of an installed package (NA when it is
# not installed), read from its DESCRIPTION: R checks that requirement when
# it loads the package.
package_facts <- function(name) {
  if (name == "reticulate") {
    return(list(version = reticulate_version(), reticulate_requirement = NA_character_))
  }
  desc <- suppressWarnings(utils::packageDescription(name, fields = c("Version", "Imports")))
  if (!is.list(desc)) {
    return(list(version = NA_character_, reticulate_requirement = NA_character_))
  }
  imports <- gsub("\\s+", " ", desc$Imports %||% "")
  found <- regmatches(imports, regexec("reticulate ?\\(([<>=]+) ?([0-9.-]+)\\)", imports))[[1]]
  list(
    version = as.character(desc$Version),
    reticulate_requirement = if (length(found)) paste(found[[2]], found[[3]]) else NA_character_
  )
}

# The facts the Python module needs to apply the interface's load steps; NULL
# for plain reticulate, which changes nothing.
interface_facts <- function(iface, python_started) {
  if (iface$name == "reticulate") {
    return(NULL)
  }
  r_environ <- lapply(
    Sys.getenv(interface_r_variables, unset = NA, names = TRUE),
    function(value) if (is.na(value)) NULL else value
  )
  list(
    name = iface$name,
    version = na_to_null(iface$version),
    loaded = iface$loaded,
    python_started = python_started,
    r_environ = r_environ,
    cache_dir = keras3_cache_dir(),
    # keras3 tests the folder with R's path expansion, which is not always
    # Python's home (Windows)
    home_keras_exists = dir.exists("~/.keras/"),
    # with Python running, loading the R tensorflow package imports TensorFlow
    tensorflow_loaded = isNamespaceLoaded("tensorflow"),
    connected = na_to_null(iface$connected),
    # reticulate accepts NumPy 2 from 1.38 on: kerasR's numpy check; and the
    # interface's DESCRIPTION may need a newer one
    reticulate_version = reticulate_version(),
    reticulate_requirement = na_to_null(iface$reticulate_requirement),
    python_copy = python_copy(iface, python_started)
  )
}

# NULL (JSON null) for NA.
na_to_null <- function(x) if (is.na(x)) NULL else x

# What the interface's load will copy over RETICULATE_PYTHON (see
# interface_python_env()), and RETICULATE_PYTHON now; NULL when nothing.
python_copy <- function(iface, python_started) {
  env <- if (python_started) character() else interface_python_env(iface)
  if (!length(env)) {
    return(NULL)
  }
  current <- Sys.getenv("RETICULATE_PYTHON", unset = NA)
  list(
    from = attr(env, "from"),
    python = unname(env[["RETICULATE_PYTHON"]]),
    reticulate_python = if (is.na(current)) NULL else current
  )
}

# R variables the interfaces read at load or first use (the same list as
# R_VARIABLES in the Python module's interfaces.py).
interface_r_variables <- c(
  "KERAS_BACKEND", "KERAS_HOME", "KERAS_IMPLEMENTATION", "TF_CPP_MIN_LOG_LEVEL"
)

keras3_cache_dir <- function() {
  if (!exists("R_user_dir", envir = asNamespace("tools"))) {
    return(NULL) # R < 4.0, where keras3 does not install
  }
  normalizePath(tools::R_user_dir("keras3", "cache"), winslash = "/", mustWork = FALSE)
}

# What the interface's load (and that of the R tensorflow package it
# imports) does to RETICULATE_PYTHON: TENSORFLOW_PYTHON, then KERAS_PYTHON,
# is copied over it. A named character vector for withr::local_envvar().
# kerasR copies nothing: it lets reticulate choose.
interface_python_env <- function(iface) {
  if (iface$name %in% c("reticulate", "kerasR") || iface$loaded) {
    return(character())
  }
  env <- character()
  if (!isNamespaceLoaded("tensorflow")) {
    env <- copy_variable(env, "TENSORFLOW_PYTHON")
  }
  copy_variable(env, "KERAS_PYTHON")
}

# The attribute `from` names the variable copied last: the one that wins.
copy_variable <- function(env, from) {
  value <- Sys.getenv(from, unset = NA)
  if (is.na(value)) {
    return(env)
  }
  structure(c(env[names(env) != "RETICULATE_PYTHON"], RETICULATE_PYTHON = value), from = from)
}

# The module and virtual environments the interface registers with
# reticulate (import(..., delay_load = list(environment = ...))), in the
# order reticulate's discovery tries them: highest priority first.
# keras3 registers "keras" at priority 10 with "r-keras"; the R tensorflow
# package "tensorflow" at priority 5 with "r-tensorflow" (and "r-keras" with
# reticulate >= 1.36); legacy keras 2.13+ registers with no priority (0),
# earlier ones at 10, with "r-tensorflow" (2.7-2.11: "r-reticulate").
# kerasR registers nothing: its py_available(initialize = TRUE) starts
# reticulate's default choice, as a plain import does.
interface_discovery_hints <- function(iface) {
  if (iface$name %in% c("reticulate", "kerasR")) {
    return(list(module = NULL, environments = NULL))
  }
  tensorflow <- list(
    module = "tensorflow",
    environments = c("r-tensorflow", if (reticulate_at_least("1.36")) "r-keras")
  )
  own <- if (iface$name == "keras3") {
    list(module = "keras", environments = "r-keras", priority = 10)
  } else {
    version <- package_version(if (is.na(iface$version)) "2.15.0" else iface$version)
    list(
      module = "tensorflow",
      environments = if (version >= "2.7" && version < "2.13") "r-reticulate" else "r-tensorflow",
      priority = if (version >= "2.13") 0 else 10
    )
  }
  ordered <- if (own$priority > 5) list(own, tensorflow) else list(tensorflow, own)
  list(
    module = ordered[[1]]$module,
    environments = unique(unlist(lapply(ordered, `[[`, "environments")))
  )
}

reticulate_at_least <- function(version) {
  package_version(reticulate_version()) >= version
}

# The `r$interface` element of the report.
interface_report <- function(iface, record) {
  list(
    name = iface$name,
    version = iface$version,
    loaded = iface$loaded,
    connected = iface$connected,
    source = iface$source,
    module = record$interface$module %||% "keras",
    load = record$interface[["load"]]
  )
}
