"""The problem catalogue: what is wrong with a record, in words, with the fix.

Each problem is ``{code, message, fix}``; the codes are stable (the R side
and the README list them).  Problems explain a prediction, they never change it.
"""

import os

from . import cache, metadata, rules
from .tf_keras import LEGACY_TRUE

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional

PIP_NAMES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "numpy": "numpy",
             "openvino": "openvino", "theano": "theano", "cntk": "cntk", "flax": "flax"}


def problem(code: str, message: str, fix: str) -> "Dict[str, str]":
    return {"code": code, "message": message, "fix": fix}


def normalised_match(name: "Any", valid: "List[str]") -> "Optional[str]":
    if not isinstance(name, str):
        return None
    cleaned = name.strip().lower()
    return cleaned if cleaned in valid else None


def valid_names(flavour: "Optional[str]", version: "Optional[str]") -> "List[str]":
    if flavour == "keras2-multibackend":
        return sorted(rules.KERAS2_BUILTINS)
    if flavour == "keras2-tensorflow":
        return ["tensorflow"]
    return rules.keras3_backend_names(metadata.version_tuple(version) or (3, 99))


def for_error(record: "Dict[str, Any]", cause: "Optional[str]") -> "List[Dict[str, str]]":
    """Turn a predicted failure into a sentence with its fix."""
    error = record["error"] or ""
    backend = record["backend"]
    keras = record["keras"]
    exe = record["python"]["executable"]
    path = record["config_path"]
    if cause == "keras-not-installed":
        return [problem(cause, "Keras is not installed for {}.".format(exe),
                         "Install it into this interpreter: {} -m pip install keras".format(exe))]
    if cause == "backend-invalid":
        valid = valid_names(keras["flavour"], keras["version"])
        suggestion = normalised_match(backend, valid)
        fix = "Use one of: {}.".format(", ".join(valid))
        if suggestion:
            fix = "Use {!r}: backend names are case-sensitive and not trimmed.".format(suggestion)
        if record["source"] == "environment":
            where = "KERAS_BACKEND"
            fix += " For example: kbackend.use_keras_backend({!r}).".format(suggestion or valid[0])
        else:
            where = "keras.json ({})".format(path)
            fix += " Edit the file or call kbackend.use_keras_backend({!r}, persist=True).".format(suggestion or valid[0])
        return [problem(cause, "{} names backend {!r}, which Keras {} cannot load ({}).".format(
            where, backend, keras["version"], error), fix)]
    if cause == "backend-not-installed":
        library = error.rsplit("'", 2)[-2] if error.count("'") >= 2 else str(backend)
        return [problem(cause, "The {!r} backend needs {!r}, which is not installed for {}.".format(backend, library, exe),
                         "Install it ({} -m pip install {}) or choose an installed backend.".format(
                             exe, PIP_NAMES.get(library, library)))]
    if cause == "config-unreadable":
        return [problem(cause, "Keras cannot read {} ({}); import keras fails even with KERAS_BACKEND set.".format(
            path, error), "Remove it or replace it with a regular, readable JSON file.")]
    if cause == "config-invalid-field":
        return [problem(cause, "{} makes import keras fail ({}), even with KERAS_BACKEND set.".format(path, error),
                         "Make it a JSON object with valid floatx (float16/32/64), epsilon (a float) and "
                         "image_data_format (channels_last/channels_first), or delete it: Keras writes a fresh one.")]
    if cause == "env-not-integer":
        return [problem(cause, "KERAS_MAX_EPOCHS or KERAS_MAX_STEPS_PER_EPOCH is not an integer ({}).".format(error),
                         "Unset the variable or set it to a whole number.")]
    if cause in ("module-shadowed", "install-broken"):
        return []  # each shadowing file, missing or foreign package is its own problem
    if cause == "tf-keras-fails":
        return [problem(cause, "The R keras package imports tensorflow.keras, which fails: {} ({}).".format(
            error, record["tf_keras"]["reason"]), "Install TensorFlow into this interpreter ({} -m pip install "
            "tensorflow), or see the tf_keras field.".format(exe))]
    if cause in ("keras-implementation-missing", "keras-implementation-unknown"):
        return []  # explained with the interface's problems
    if cause == "nnx-without-flax":
        return [problem(cause, "NNX is enabled (KERAS_NNX_ENABLED or keras.json's nnx_enabled) but flax is not installed.",
                         "{} -m pip install flax, or unset KERAS_NNX_ENABLED / remove nnx_enabled.".format(exe))]
    return [problem("import-fails", "import keras would fail: {}".format(error),
                     "Check the installation of Keras and its backend.")]


def collect(record: "Dict[str, Any]", environ: "Dict[str, str]", would_be: "Dict[str, Any]") -> "List[Dict[str, str]]":
    found: "List[Dict[str, str]]" = []
    keras = record["keras"]
    if would_be["status"] == "error" and not record["locked"]:
        found.extend(for_error(record, would_be["cause"]))
    if keras["flavour"] == "keras-legacy":
        found.append(problem("keras-unsupported", "Keras {} predates 2.2; kbackend cannot predict its backend.".format(
            keras["version"]), "Upgrade Keras."))
    config_file = record["config_file"]
    if config_file["parses"] is False:
        found.append(problem("config-invalid-json",
                              "{} is not valid JSON ({}); Keras silently ignores it and uses its defaults.".format(
                                  record["config_path"], config_file["error"]),
                              "Fix the JSON or delete the file."))
    if environ.get("KERAS_BACKEND") == "":
        found.append(problem("env-empty", "KERAS_BACKEND is set but empty; Keras ignores it.",
                              "Unset it, or set it to a backend name."))
    if record["locked"] and would_be["backend"] != record["backend"] and would_be["source"] != "default":
        found.append(problem("set-too-late",
                              "{} asks for {!r}, but Keras was already imported in this process with {!r}: "
                              "it was set too late.".format(would_be["reason"], would_be["backend"], record["backend"]),
                              "Restart Python and call kbackend.use_keras_backend({!r}) before anything imports keras."
                              .format(would_be["backend"])))
    if keras["flavour"] == "keras2-tensorflow" and environ.get("KERAS_BACKEND") not in (None, "", "tensorflow"):
        found.append(problem("backend-ignored",
                              "Keras {} is TensorFlow-only; KERAS_BACKEND={!r} is ignored.".format(
                                  keras["version"], environ["KERAS_BACKEND"]),
                              "Install Keras 3 (pip install -U keras) to use other backends."))
    found.extend(would_be.get("problems") or [])  # the rules' own doubts (a custom backend judged from its source)
    found.extend(_tf_problems(record, environ))
    found.extend(_home_problems(record, environ))
    found.extend(_device_problems(record, environ))
    return found


#: How to get a GPU build of each backend library on Linux.
_GPU_BUILDS = {
    "tensorflow": "pip uninstall tensorflow-cpu; pip install 'tensorflow[and-cuda]'",
    "jax": "pip install -U 'jax[cuda12]' (or jax[cuda13])",
    "torch": "pip install --force-reinstall torch (PyPI's default Linux wheel is a CUDA build)",
}


def _device_problems(record: "Dict[str, Any]", environ: "Dict[str, str]") -> "List[Dict[str, str]]":
    """Why the chosen backend will not use the GPU, and GPU memory fights."""
    found: "List[Dict[str, str]]" = []
    entry = record.get("device")
    if not entry:
        return found
    name = record["backend"]
    build, driver = entry["build"], entry["driver"]
    gpu_build = build.get("kind") in ("cuda", "rocm")
    reason = entry["reason"] or ""
    if build.get("kind") == "cuda" and not driver["nvidia"] and driver["platform"].startswith("linux"):
        found.append(problem("gpu-build-without-driver",
                             "{} is a CUDA build, but there is no NVIDIA driver for it ({}): it will run on the CPU{}.".format(
                                 name, driver.get("note") or "libcuda.so.1 is not found by the loader",
                                 " and print {!r}".format(entry["warning"]) if entry["warning"] else ""),
                             "On a machine with a GPU, install the NVIDIA driver (in a container: run it with the GPU "
                             "passed through, e.g. docker --gpus all; on WSL: add /usr/lib/wsl/lib to the loader's path). "
                             "On a machine without one, this is expected: a CPU build is smaller."))
    elif build.get("kind") == "cpu" and driver["nvidia"] and name in _GPU_BUILDS:
        found.append(problem("cpu-only-build",
                             "An NVIDIA driver is installed ({}), but {} will run on the CPU: {}.".format(
                                 driver["version"] or driver["library"], name, reason),
                             "Install a GPU build: {}.".format(_GPU_BUILDS[name])))
    elif gpu_build and driver["nvidia"] and entry["device"] == "cpu" and entry["variables"] and \
            reason.split("=", 1)[0] in entry["variables"]:
        variable = reason.split("=", 1)[0]
        found.append(problem("devices-hidden-by-variable",
                             "{} will run on the CPU although it is a GPU build and a driver is there: {} "
                             "(read by {}).".format(name, reason, entry["variables"][variable]["read_by"]),
                             "Unset {} (or set it to the GPU's index, e.g. 0) before the backend starts, or call "
                             "kbackend.use_keras_backend({!r}, device='gpu').".format(variable, name)))
    elif gpu_build and driver["nvidia"] and entry["device"] == "cpu" and reason.startswith("NVIDIA driver"):
        found.append(problem("driver-older-than-cuda", "{}: {} will run on the CPU.".format(reason, name),
                             "Upgrade the NVIDIA driver, or install a build of {} for an older CUDA.".format(name)))
    found.extend(_memory_problems(record, environ))
    return found


def _memory_problems(record: "Dict[str, Any]", environ: "Dict[str, str]") -> "List[Dict[str, str]]":
    devices = record.get("devices") or {}
    on_gpu = sorted(name for name, entry in devices.items() if entry["device"] == "cuda")
    if record["backend"] not in on_gpu or len(on_gpu) < 2:
        return []
    claims = []
    if "tensorflow" in on_gpu and record["backend"] == "tensorflow" and \
            environ.get("TF_FORCE_GPU_ALLOW_GROWTH", "").lower() != "true":
        claims.append("TensorFlow takes nearly all of the GPU's memory when it starts (Keras sets "
                      "TF_FORCE_GPU_ALLOW_GROWTH only for other backends)")
    if "jax" in on_gpu and environ.get("XLA_PYTHON_CLIENT_PREALLOCATE", "").lower() not in ("false", "0") and \
            not environ.get("XLA_PYTHON_CLIENT_MEM_FRACTION") and not environ.get("XLA_PYTHON_CLIENT_ALLOCATOR"):
        claims.append("jax takes 75% of the GPU's memory at its first use")
    if not claims:
        return []
    return [problem("gpu-memory-contention",
                    "{} GPU libraries can share this process ({}): {}; the other one then runs out of memory.".format(
                        len(on_gpu), ", ".join(on_gpu), "; ".join(claims)),
                    "Before anything starts: set TF_FORCE_GPU_ALLOW_GROWTH=true, and XLA_PYTHON_CLIENT_PREALLOCATE=false "
                    "(or XLA_PYTHON_CLIENT_MEM_FRACTION=.5).")]


def _tf_problems(record: "Dict[str, Any]", environ: "Dict[str, str]") -> "List[Dict[str, str]]":
    found: "List[Dict[str, str]]" = []
    installed = record["installed"]
    legacy = environ.get("TF_USE_LEGACY_KERAS")
    if legacy is not None and legacy not in LEGACY_TRUE and legacy.strip().lower() in ("true", "1", "yes", "on", "t", "y"):
        found.append(problem("legacy-value-ignored",
                              "TF_USE_LEGACY_KERAS={!r} is not one of 'true', 'True', '1', so TensorFlow ignores it.".format(legacy),
                              "Set TF_USE_LEGACY_KERAS=1."))
    route = record["tf_keras"]
    if legacy in LEGACY_TRUE and installed["tensorflow"] and route["routes_to"] != "tf_keras" and \
            metadata.version_tuple(installed["tensorflow"]) >= (2, 16):
        found.append(problem("tf-keras-missing",
                              "TF_USE_LEGACY_KERAS={!r} asks for tf_keras, which is not installed.".format(legacy),
                              "pip install tf_keras=={}.*".format(".".join(installed["tensorflow"].split(".")[:2]))))
    if legacy in LEGACY_TRUE and record["keras"]["flavour"] == "keras3":
        found.append(problem("legacy-only-tf-keras",
                              "TF_USE_LEGACY_KERAS only reroutes tf.keras; code that runs `import keras` still gets Keras {} "
                              "with the {!r} backend.".format(record["keras"]["version"], record["backend"]),
                              "Import tf_keras (or use tf.keras) in code that needs Keras 2."))
    if installed["tf_keras"] and installed["tensorflow"]:
        tf_minor = metadata.version_tuple(installed["tensorflow"])[:2]
        tfk_minor = metadata.version_tuple(installed["tf_keras"])[:2]
        if tf_minor and tfk_minor and tf_minor != tfk_minor:
            found.append(problem("tf-keras-mismatch",
                                  "tf_keras {} does not match TensorFlow {}.".format(installed["tf_keras"], installed["tensorflow"]),
                                  "pip install tf_keras=={}.*".format(".".join(str(p) for p in tf_minor))))
    return found


def _home_problems(record: "Dict[str, Any]", environ: "Dict[str, str]") -> "List[Dict[str, str]]":
    found: "List[Dict[str, str]]" = []
    home = environ.get("KERAS_HOME")
    if record["keras_home_source"] == "tmp":
        found.append(problem("home-not-writable",
                              "The home directory {} is not writable, so Keras uses /tmp/.keras.".format(os.path.expanduser("~")),
                              "Set KERAS_HOME to a writable directory."))
    if home == "":
        found.append(problem("keras-home-empty",
                              "KERAS_HOME is set but empty: Keras reads keras.json from the current directory ({}).".format(
                                  cache.working_directory() or "which no longer exists"),
                              "Unset KERAS_HOME or set it to an absolute path."))
    elif home and home.startswith("~"):
        found.append(problem("keras-home-tilde",
                              "KERAS_HOME={!r}: Keras reads {} but creates the directory {!r} literally, relative to the "
                              "current directory.".format(home, record["config_path"], home),
                              "Set KERAS_HOME to an absolute path."))
    return found
