# Stand-ins for the R packages tensorflow, keras3, legacy keras and kerasR, which
# cannot be installed here: tests/standins holds minimal packages that do
# only the real packages' load-time steps (see the comments there). Their
# DESCRIPTIONs carry two placeholders: @VERSION@ (the stand-ins gate each
# step on their own version, as the real releases differ) and
# @RETICULATE_REQ@ (a version requirement on reticulate, to reproduce "this
# release needs a newer reticulate"; applied after installing, see
# require_reticulate()).

# The templates' folder, fixed when this file is sourced (from
# tests/testthat): test_path() is relative to the working directory, which
# tests may change (local_clean_env() does).
standins_templates <- normalizePath(
  tryCatch(test_path("..", "standins"), error = function(e) "standins-not-found"),
  mustWork = FALSE
)

# Install the stand-ins into a library and return its path, for
# callr::r(..., libpath = c(lib, .libPaths())). Builds are cached for the R
# process (in a folder under tempdir(), named after the arguments), so tests
# asking for the same versions share one install; `.local_envir` only owns
# the staging copy of the templates made on a cache miss.
local_standins <- function(versions = c(keras3 = "1.5.1", keras = "2.15.0",
                                        tensorflow = "2.20.0"),
                           reticulate_requirement = NULL,
                           which = c("tensorflow", "keras3", "keras"),
                           .local_envir = parent.frame()) {
  need_package("callr")
  which <- standins_to_install(which)
  versions <- standin_versions(versions, which)
  requirement <- if (is.null(reticulate_requirement)) "" else reticulate_requirement

  lib <- file.path(tempdir(), standins_cache_name(versions, requirement))
  if (dir.exists(lib)) {
    return(lib)
  }

  staging <- withr::local_tempdir("kbackend-standins-", .local_envir = .local_envir)
  # Install next to the final folder and rename at the end, so a failed or
  # interrupted build never looks like a cached one.
  building <- paste0(lib, ".building")
  unlink(building, recursive = TRUE)
  dir.create(building)
  on.exit(unlink(building, recursive = TRUE), add = TRUE)
  for (package in which) {
    source <- copy_standin(package, versions[[package]], staging)
    install_standin(source, building)
  }
  # Only now: R CMD INSTALL loads a package's imports to lazy-load it, so a
  # requirement the installed reticulate does not meet would stop the
  # install itself, not just the later loadNamespace() the tests want.
  for (package in which) {
    require_reticulate(file.path(building, package), requirement)
  }
  if (!file.rename(building, lib)) {
    stop("Could not move the stand-in library to ", lib, call. = FALSE)
  }
  lib
}

# keras3 and keras import tensorflow, so with either it is installed, and
# first. kerasR imports only reticulate.
standins_to_install <- function(which) {
  known <- c("tensorflow", "keras3", "keras", "kerasR")
  unknown <- setdiff(which, known)
  if (length(unknown) > 0) {
    stop("No stand-in for: ", paste(unknown, collapse = ", "), call. = FALSE)
  }
  needs_tensorflow <- any(c("keras3", "keras") %in% which)
  intersect(known, c(if (needs_tensorflow) "tensorflow", which))
}

# The version of each package to install, from `versions` over the defaults
# (so c(keras3 = "1.2.0") keeps the default tensorflow).
standin_versions <- function(versions, which) {
  defaults <- c(keras3 = "1.5.1", keras = "2.15.0", tensorflow = "2.20.0", kerasR = "0.8.0")
  versions <- c(versions, defaults[setdiff(names(defaults), names(versions))])
  versions[which]
}

# A folder name unique to the arguments: package-version pairs, then the
# requirement as hex (it holds characters such as ">" and " ").
standins_cache_name <- function(versions, requirement) {
  packages <- paste0(names(versions), "-", versions, collapse = "_")
  requirement_hex <- paste(as.character(charToRaw(requirement)), collapse = "")
  paste0("kbackend-standins_", packages, "_req", requirement_hex)
}

# Copy one template into `staging` with its version filled in and a plain
# reticulate import (see require_reticulate()); returns the package folder.
copy_standin <- function(package, version, staging) {
  template <- file.path(standins_templates, package)
  if (!dir.exists(template)) {
    stop("Stand-in template not found: ", template, call. = FALSE)
  }
  file.copy(template, staging, recursive = TRUE)
  description <- file.path(staging, package, "DESCRIPTION")
  lines <- readLines(description)
  lines <- gsub("@VERSION@", version, lines, fixed = TRUE)
  lines <- gsub("@RETICULATE_REQ@", "", lines, fixed = TRUE)
  writeLines(lines, description)
  file.path(staging, package)
}

# Give an installed stand-in the import "reticulate <requirement>", e.g.
# "(>= 1.42.0)": in its DESCRIPTION, and in Meta/package.rds, which is where
# loadNamespace() reads the version it checks.
require_reticulate <- function(installed, requirement) {
  if (!nzchar(requirement)) {
    return(invisible())
  }
  parts <- regmatches(
    requirement,
    regexec("^\\(\\s*(>=|<=|==|!=|>|<)\\s*([0-9]+([.-][0-9]+)*)\\s*\\)$", requirement)
  )[[1]]
  if (length(parts) == 0) {
    stop("reticulate_requirement must look like \"(>= 1.42.0)\", not: ",
         requirement, call. = FALSE)
  }
  imports <- function(text) {
    sub("\\breticulate\\b", paste("reticulate", requirement), text, perl = TRUE)
  }

  description <- file.path(installed, "DESCRIPTION")
  fields <- read.dcf(description)
  fields[, "Imports"] <- imports(fields[, "Imports"])
  write.dcf(fields, description)

  meta <- file.path(installed, "Meta", "package.rds")
  info <- readRDS(meta)
  info$DESCRIPTION[["Imports"]] <- imports(info$DESCRIPTION[["Imports"]])
  info$Imports$reticulate <- list(
    name = "reticulate", op = parts[[2]], version = package_version(parts[[3]])
  )
  saveRDS(info, meta)
  invisible()
}

# R CMD INSTALL into `lib`, with `lib` first on the library path so that
# keras3 and keras find the tensorflow stand-in. --no-test-load: loading
# must be left to the tests (a stand-in built to fail on load, e.g. with a
# reticulate requirement above the installed one, still installs).
install_standin <- function(source, lib) {
  result <- callr::rcmd(
    "INSTALL",
    c("--no-test-load", paste0("--library=", lib), source),
    libpath = c(lib, .libPaths()),
    fail_on_status = FALSE
  )
  if (result$status != 0) {
    stop(
      "R CMD INSTALL of the ", basename(source), " stand-in failed:\n",
      result$stdout, result$stderr,
      call. = FALSE
    )
  }
  invisible(lib)
}
