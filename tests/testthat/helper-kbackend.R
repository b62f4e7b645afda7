# Test helpers. Conventions:
# * A test that needs an interpreter, an environment or an optional package
#   asks for it through helper-requirements.R: without it the test skips
#   with a reason, or fails under KBACKEND_STRICT_TESTS=true (the lab).
# * Everything that involves Python runs in a fresh R process (callr), so the
#   test process never starts Python and no state leaks between tests.
# * Every test gets a throwaway HOME (so ~/.keras is a temp dir) and no
#   KERAS_* / reticulate variables from the outside.

# A clean environment for one test: temp HOME, TMPDIR and working directory,
# no KERAS_* or TF_USE_LEGACY_KERAS, reticulate pointed at `python`. (TMPDIR:
# children, and the libraries Keras imports there, leave their temp files in
# a folder removed with the test -- torch leaves torchinductor_<user>/.)
# `python = NULL` leaves RETICULATE_PYTHON unset: for tests that start no
# Python, so that they run where there is none. Returns the temp HOME.
local_clean_env <- function(python = test_python(), .local_envir = parent.frame()) {
  home <- withr::local_tempdir("kbackend-home-", .local_envir = .local_envir)
  work <- withr::local_tempdir("kbackend-wd-", .local_envir = .local_envir)
  tmp <- withr::local_tempdir("kbackend-tmp-", .local_envir = .local_envir)
  keras_vars <- grep("^(KERAS_|TF_USE_LEGACY_KERAS$)", names(Sys.getenv()), value = TRUE)
  unset <- c(
    keras_vars, "RETICULATE_PYTHON_ENV", "RETICULATE_PYTHON_FALLBACK",
    "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP",
    "PYTHON_SESSION_INITIALIZED", "CONDA_PREFIX"
  )
  withr::local_envvar(
    c(
      stats::setNames(rep(NA_character_, length(unset)), unset),
      HOME = home,
      TMPDIR = tmp,
      R_USER_CACHE_DIR = file.path(home, ".cache"),
      RETICULATE_MINICONDA_PATH = file.path(home, "no-miniconda"),
      RETICULATE_PYTHON = if (is.null(python)) NA_character_ else python
    ),
    .local_envir = .local_envir
  )
  withr::local_dir(work, .local_envir = .local_envir)
  home
}

# Run `fun` in a fresh R process with the current environment and library
# paths. Errors in the child fail the test.
in_fresh_r <- function(fun, args = list()) {
  need_package("callr")
  callr::r(fun, args = args, libpath = .libPaths(), show = FALSE)
}

# Write HOME/.keras/keras.json.
write_keras_json <- function(home, content) {
  dir.create(file.path(home, ".keras"), showWarnings = FALSE)
  path <- file.path(home, ".keras", "keras.json")
  writeLines(content, path)
  path
}

# A fake `keras` package in a new folder under `root` (put the folder on
# PYTHONPATH): it shadows the real Keras on import, while kbackend still
# predicts from the real Keras's package metadata -- which is how the verify
# tests make real-looking Keras contradict the prediction, or hang.
fake_keras <- function(root, body) {
  dir <- file.path(root, "fakekeras")
  dir.create(file.path(dir, "keras", "src", "backend"), recursive = TRUE)
  writeLines(body, file.path(dir, "keras", "__init__.py"))
  # laid out like Keras 3, so kbackend takes it for a checkout of the real
  # thing (without metadata), not for a user's folder shadowing Keras
  file.create(file.path(dir, "keras", "src", "backend", "config.py"))
  dir
}

# Every path under `root` (files, folders, hidden ones) with its MD5, or
# "<dir>": equal digests mean the tree is byte-for-byte the same.
tree_digest <- function(root) {
  paths <- list.files(root, recursive = TRUE, all.files = TRUE,
                      include.dirs = TRUE, no.. = TRUE)
  paths <- sort(paths)
  full <- file.path(root, paths)
  is_dir <- dir.exists(full)
  digest <- rep("<dir>", length(paths))
  digest[!is_dir] <- unname(tools::md5sum(full[!is_dir]))
  stats::setNames(digest, paths)
}

# A value the bundled Python module holds, as data: `expression` (Python,
# after `imports`, with the module's folder on sys.path) run by the test
# Python and returned through JSON. For tests that compare a fact R keeps
# with the module's own.
python_module_value <- function(imports, expression) {
  out <- system2(test_python(), c("-c", shQuote(paste0(
    "import sys, json; sys.path.insert(0, sys.argv[1]); ", imports,
    "; print(json.dumps(", expression, "))"
  )), shQuote(kb_python_path())), stdout = TRUE)
  jsonlite::fromJSON(paste(out, collapse = "\n"), simplifyMatrix = FALSE)
}
