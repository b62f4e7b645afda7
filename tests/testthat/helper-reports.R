# Reports built from fixed records, for the tests of the renderers
# (test-info-methods.R, test-knit-print.R).

# A report as backend_info() builds it, from a fixed record.
fake_info <- function(backend = "jax", status = "ok", problems = "[]",
                      locked_by = "[]", started = FALSE, verify = "null") {
  json <- sprintf('{
    "kbackend_version": "0.1.0", "backend": %s, "status": "%s",
    "error": %s, "source": "environment",
    "reason": "KERAS_BACKEND is set to \'jax\'",
    "locked": %s, "locked_by": %s,
    "keras_home": "/h/.keras", "keras_home_source": "home",
    "config_path": "/h/.keras/keras.json",
    "config_file": {"exists": false, "type": null, "parses": null, "error": null, "backend": null},
    "config": {"floatx": "float32", "epsilon": 1e-07, "image_data_format": "channels_last"},
    "keras": {"installed": true, "version": "3.15.1", "flavour": "keras3",
              "description": "Keras 3 (multi-backend)", "path": "/site/keras"},
    "installed": {"keras": "3.15.1", "tensorflow": "2.21.0", "jax": "0.10.2", "torch": null},
    "tf_keras": {"routes_to": "keras", "version": "3.15.1", "backend": "jax",
                 "status": "ok", "error": null, "reason": "r"},
    "variables": {"KERAS_BACKEND": "jax"},
    "python": {"executable": "/venv/bin/python", "version": "3.11.7", "implementation": "cpython"},
    "interface": null, "problems": %s, "verify": %s,
    "device": {"device": "cpu", "reason": "a CPU-only build of jax (jaxlib 0.10.2, no GPU plugin)",
               "build": {"library": "jax", "kind": "cpu"}, "driver": {"nvidia": false},
               "warning": null, "variables": {}},
    "devices": {}}',
    if (is.null(backend)) "null" else sprintf('"%s"', backend), status,
    if (status == "ok") "null" else '"ValueError: Unable to import backend : x"',
    if (locked_by == "[]") "false" else "true", locked_by, problems, verify
  )
  record <- parse_record(with_module_words(json))
  record$r <- list(
    python = "/venv/bin/python", python_source = "RETICULATE_PYTHON",
    python_started = started, via = if (started) "in-process" else "subprocess",
    reticulate_version = "1.28", env_mismatch = no_env_mismatch()$mismatch
  )
  structure(record, class = "kbackend_info")
}

# The record JSON with the words the bundled module gives it (as the R
# bridge asks for them): the renderers only lay these out. Needs the test
# Python (skips without one); asked once per record.
with_module_words <- function(json) {
  key <- as.character(json)
  if (is.null(module_words_cache[[key]])) {
    out <- system2(test_python(), c("-c", shQuote(paste(
      "import sys, json; sys.path.insert(0, sys.argv[1]); from kbackend import info;",
      "print(info.record_json(info.with_text(json.loads(sys.stdin.read()))))"
    )), shQuote(kb_python_path())), input = json, stdout = TRUE)
    assign(key, paste(out, collapse = "\n"), envir = module_words_cache)
  }
  module_words_cache[[key]]
}
module_words_cache <- new.env(parent = emptyenv())

# What the module puts in `verify` (and a kbackend-bug problem on mismatch).
verify_json <- function(status = "ok", backend = "jax", agrees = TRUE,
                        devices = '["cpu:0"]', stderr_tail = "[]", error = "null") {
  sprintf(
    '{"status": "%s", "backend": %s, "error": %s, "devices": %s,
      "devices_error": null, "version": "3.15.1", "import_seconds": 4.032,
      "peak_memory_mb": 216.2, "wall_seconds": 4.996, "stderr_tail": %s,
      "timeout_seconds": 120.0, "agrees": %s}',
    status, if (is.null(backend)) "null" else sprintf('"%s"', backend), error,
    devices, stderr_tail, tolower(agrees)
  )
}

# Expect `text` to contain each of `fragments` verbatim.
expect_has <- function(text, fragments) {
  for (fragment in fragments) {
    expect_match(text, fragment, fixed = TRUE)
  }
  invisible(text)
}
