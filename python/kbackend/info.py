"""Assemble the backend record: collect facts, apply the rules, explain.

``backend_info()`` is the one entry point; everything it returns is plain
JSON-compatible data (dicts, lists, strings, numbers, None) so that it
crosses to R through reticulate or ``--json`` unchanged.
"""

import json
import math
import os
import re
import sys
MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional

from . import _stdlib, deps, discovery, interfaces, keras_json, live, rules, shadows
from ._version import __version__

FLAVOURS = {
    "keras3": "Keras 3 (multi-backend)",
    "keras2-multibackend": "Keras 2.2-2.3 (multi-backend: tensorflow, theano, cntk)",
    "keras2-tensorflow": "Keras 2.4-2.15 (TensorFlow only)",
    "keras-legacy": "Keras before 2.2 (not supported by kbackend's rules)",
}
#: What to ``pip install`` for a missing backend library.
PIP_NAMES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "numpy": "numpy",
             "openvino": "openvino", "theano": "theano", "cntk": "cntk", "flax": "flax"}
#: Environment variables that steer Keras or its backends.
_VARIABLE_PATTERN = re.compile(
    r"^(KERAS_.*|XLA_.*|JAX_.*|TF_USE_LEGACY_KERAS|TF_FORCE_GPU_ALLOW_GROWTH|TF_CPP_MIN_LOG_LEVEL"
    r"|TF_ENABLE_ONEDNN_OPTS|TF_XLA_FLAGS|TF_GPU_ALLOCATOR|CUDA_VISIBLE_DEVICES|HIP_VISIBLE_DEVICES"
    r"|ROCR_VISIBLE_DEVICES|PYTORCH_.*|TORCH_.*|THEANO_FLAGS|THEANORC|CNTK_.*|OPENVINO_.*)$"
)
_LEGACY_TRUE = ("true", "True", "1")


def keras_flavour(version: "Optional[str]", path: "Optional[str]") -> "Optional[str]":
    """Which Keras line a version (or, lacking metadata, a file layout) is."""
    parsed = discovery.version_tuple(version)
    if parsed:
        if parsed >= (3,):
            return "keras3"
        if parsed >= (2, 4):
            return "keras2-tensorflow"
        if parsed >= (2, 2):
            return "keras2-multibackend"
        return "keras-legacy"
    if path is None:
        return None
    package = os.path.dirname(path) if path.endswith(".py") else path
    if os.path.exists(os.path.join(package, "src", "backend", "config.py")):
        return "keras3"
    if os.path.exists(os.path.join(package, "backend", "load_backend.py")):
        return "keras2-multibackend"
    return "keras2-tensorflow"


def _problem(code: str, message: str, fix: str) -> "Dict[str, str]":
    return {"code": code, "message": message, "fix": fix}


def _has_module_factory(libs: "Dict[str, Dict[str, Optional[str]]]"):
    def has_module(name: str) -> bool:
        if name in libs:
            return libs[name]["version"] is not None
        return discovery.find_spec_without_import(name) is not None

    return has_module


def _custom_origin(name: str) -> "Optional[str]":
    """Where a custom backend module lives: a path, or "built-in"/"frozen"
    for modules without a file; None when it cannot be found."""
    spec = discovery.find_spec_without_import(name)
    if spec is None:
        return None
    return discovery.module_location(spec) or spec.origin or "namespace"


def predict(flavour: "Optional[str]", version: "Optional[str]", environ: "Dict[str, str]",
            config: "Dict[str, Any]", libs: "Dict[str, Dict[str, Optional[str]]]") -> "Dict[str, Any]":
    """Apply the rules of the installed Keras line to the collected facts."""
    parsed = discovery.version_tuple(version)
    has_module = _has_module_factory(libs)
    if flavour == "keras2-multibackend":
        return rules.resolve_keras2_multi(parsed, environ, config, has_module, _custom_origin)
    if flavour == "keras2-tensorflow":
        return rules.resolve_keras2_tensorflow(parsed, environ, config, has_module)
    # Keras 3 rules also describe what a fresh `pip install keras` would do.
    outcome = rules.resolve_keras3(parsed or (3, 99), environ, config, has_module)
    if flavour is None:
        outcome = dict(outcome, status="error", error="ModuleNotFoundError: No module named 'keras'",
                       cause="keras-not-installed")
    elif flavour == "keras-legacy":
        outcome = dict(outcome, status="error", error=None, cause="keras-unsupported")
    return outcome


_IMPORT_ERRORS = ("ImportError", "ModuleNotFoundError")
_KERAS_CANNOT_BE_IMPORTED = "ImportError: Keras cannot be imported. Check that it is installed."


def _tf_keras_route(environ: "Dict[str, str]", libs: "Dict[str, Dict[str, Optional[str]]]",
                    keras: "Dict[str, Any]", prediction: "Dict[str, Any]",
                    config: "Dict[str, Any]") -> "Dict[str, Any]":
    """What ``tf.keras`` resolves to on first attribute access, and why.

    ``import tensorflow`` itself already matters: TensorFlow's internal copy of
    Keras 2 reads keras.json (asserts, no /tmp fallback) and, from 2.15, the
    end of ``tensorflow/__init__.py`` imports Keras 3 (or tf_keras) eagerly.
    TensorFlow's lazy loader then turns any ImportError from ``import keras``
    into "Keras cannot be imported"; other exceptions pass through.
    """
    route = {"routes_to": None, "version": None, "backend": None, "status": "error",
             "error": None, "reason": ""}  # type: Dict[str, Any]
    tf_version = libs["tensorflow"]["version"]
    if tf_version is None:
        route.update(error="ModuleNotFoundError: No module named 'tensorflow'", reason="TensorFlow is not installed")
        return route
    parsed = discovery.version_tuple(tf_version) or (2, 99)
    has_module = _has_module_factory(libs)
    internal = _tf_internal_keras(environ, libs, config)
    legacy_value = environ.get("TF_USE_LEGACY_KERAS")
    if parsed < (2, 6) or (parsed < (2, 15) and keras["version"] is None):
        # The bundled Keras's version depends on TF2 behaviour at run time
        # (2.2.4-tf or 2.3.0-tf in TF 1.15), so it is not predicted.
        route.update(routes_to="tensorflow.python.keras", backend="tensorflow",
                     reason="TensorFlow {} bundles its own Keras".format(tf_version))
    elif parsed >= (2, 15) and legacy_value in _LEGACY_TRUE:
        why = "TF_USE_LEGACY_KERAS={!r} routes tf.keras to tf_keras".format(legacy_value)
        if libs["tf_keras"]["version"] is None:
            route.update(error=_KERAS_CANNOT_BE_IMPORTED, reason=why + ", which is not installed")
        else:
            route.update(routes_to="tf_keras", version=libs["tf_keras"]["version"], backend="tensorflow", reason=why)
    elif keras["version"] is None:
        route.update(error=_KERAS_CANNOT_BE_IMPORTED, reason="tf.keras imports the keras package, which is not installed")
    else:
        if legacy_value is None or parsed < (2, 15):
            why = "TF_USE_LEGACY_KERAS is not set" if parsed >= (2, 15) else "TensorFlow {} uses the keras package".format(tf_version)
        else:
            why = "TF_USE_LEGACY_KERAS={!r} is not one of 'true', 'True', '1'".format(legacy_value)
        error = prediction["error"]
        if error and error.split(":")[0] in _IMPORT_ERRORS:
            error = _KERAS_CANNOT_BE_IMPORTED
        route.update(routes_to="keras", version=keras["version"], backend=prediction["backend"], error=error,
                     reason=why + ", so tf.keras is the installed Keras {}".format(keras["version"]))
    if internal["status"] == "error":
        route.update(error=internal["error"], reason=route["reason"] +
                     "; but import tensorflow fails first: TensorFlow's internal Keras reads {}".format(internal["path"]))
    route["status"] = "ok" if route["error"] is None else "error"
    if route["routes_to"] == "tf_keras" and route["status"] == "ok":
        # tf_keras reads the same file with the same checks as TF's internal copy.
        route["backend"] = "tensorflow"
    return route


def _tf_internal_keras(environ: "Dict[str, str]", libs: "Dict[str, Dict[str, Optional[str]]]",
                       config: "Dict[str, Any]") -> "Dict[str, Any]":
    """``import tensorflow`` loads tensorflow.python.keras, which reads keras.json
    like TensorFlow-only Keras 2: no /tmp fallback, bare asserts."""
    home = keras_json.keras_dir(environ, tmp_fallback=False)
    path = keras_json.config_path(home["dir"])
    # Usually the file Keras itself reads, already read once: reuse it.
    internal_config = config if config["path"] == path else keras_json.read_config(path)
    outcome = rules.resolve_keras2_tensorflow((2, 15), environ, internal_config,
                                              _has_module_factory(libs))
    outcome["path"] = path
    return outcome


def _config_values(config: "Dict[str, Any]") -> "Dict[str, Any]":
    document = config["value"] if isinstance(config["value"], dict) else {}
    return {key: document.get(key, default) for key, default in keras_json.DEFAULTS.items()}


def _variables(environ: "Dict[str, str]") -> "Dict[str, str]":
    return {name: environ[name] for name in sorted(environ) if _VARIABLE_PATTERN.match(name)}


def _normalised_match(name: "Any", valid: "List[str]") -> "Optional[str]":
    if not isinstance(name, str):
        return None
    cleaned = name.strip().lower()
    return cleaned if cleaned in valid else None


def _valid_names(flavour: "Optional[str]", version: "Optional[str]") -> "List[str]":
    if flavour == "keras2-multibackend":
        return sorted(rules.KERAS2_BUILTINS)
    if flavour == "keras2-tensorflow":
        return ["tensorflow"]
    return rules.keras3_backend_names(discovery.version_tuple(version) or (3, 99))


def _error_problems(record: "Dict[str, Any]", cause: "Optional[str]") -> "List[Dict[str, str]]":
    """Turn a predicted failure into a sentence with its fix."""
    error = record["error"] or ""
    backend = record["backend"]
    keras = record["keras"]
    exe = record["python"]["executable"]
    path = record["config_path"]
    if cause == "keras-not-installed":
        return [_problem(cause, "Keras is not installed for {}.".format(exe),
                         "Install it into this interpreter: {} -m pip install keras".format(exe))]
    if cause == "backend-invalid":
        valid = _valid_names(keras["flavour"], keras["version"])
        suggestion = _normalised_match(backend, valid)
        fix = "Use one of: {}.".format(", ".join(valid))
        if suggestion:
            fix = "Use {!r}: backend names are case-sensitive and not trimmed.".format(suggestion)
        if record["source"] == "environment":
            where = "KERAS_BACKEND"
            fix += " For example: kbackend.use_keras_backend({!r}).".format(suggestion or valid[0])
        else:
            where = "keras.json ({})".format(path)
            fix += " Edit the file or call kbackend.use_keras_backend({!r}, persist=True).".format(suggestion or valid[0])
        return [_problem(cause, "{} names backend {!r}, which Keras {} cannot load ({}).".format(
            where, backend, keras["version"], error), fix)]
    if cause == "backend-not-installed":
        library = error.rsplit("'", 2)[-2] if error.count("'") >= 2 else str(backend)
        return [_problem(cause, "The {!r} backend needs {!r}, which is not installed for {}.".format(backend, library, exe),
                         "Install it ({} -m pip install {}) or choose an installed backend.".format(
                             exe, PIP_NAMES.get(library, library)))]
    if cause == "config-unreadable":
        return [_problem(cause, "Keras cannot read {} ({}); import keras fails even with KERAS_BACKEND set.".format(
            path, error), "Remove it or replace it with a regular, readable JSON file.")]
    if cause == "config-invalid-field":
        return [_problem(cause, "{} makes import keras fail ({}), even with KERAS_BACKEND set.".format(path, error),
                         "Make it a JSON object with valid floatx (float16/32/64), epsilon (a float) and "
                         "image_data_format (channels_last/channels_first), or delete it: Keras writes a fresh one.")]
    if cause == "env-not-integer":
        return [_problem(cause, "KERAS_MAX_EPOCHS or KERAS_MAX_STEPS_PER_EPOCH is not an integer ({}).".format(error),
                         "Unset the variable or set it to a whole number.")]
    if cause in ("module-shadowed", "install-broken"):
        return []  # each shadowing file, missing or foreign package is its own problem
    if cause == "tf-keras-fails":
        return [_problem(cause, "The R keras package imports tensorflow.keras, which fails: {} ({}).".format(
            error, record["tf_keras"]["reason"]), "Install TensorFlow into this interpreter ({} -m pip install "
            "tensorflow), or see the tf_keras field.".format(exe))]
    if cause in ("keras-implementation-missing", "keras-implementation-unknown"):
        return []  # explained with the interface's problems
    if cause == "nnx-without-flax":
        return [_problem(cause, "NNX is enabled (KERAS_NNX_ENABLED or keras.json's nnx_enabled) but flax is not installed.",
                         "{} -m pip install flax, or unset KERAS_NNX_ENABLED / remove nnx_enabled.".format(exe))]
    return [_problem("import-fails", "import keras would fail: {}".format(error),
                     "Check the installation of Keras and its backend.")]


def _problems(record: "Dict[str, Any]", environ: "Dict[str, str]", would_be: "Dict[str, Any]") -> "List[Dict[str, str]]":
    found = []  # type: List[Dict[str, str]]
    keras = record["keras"]
    if would_be["status"] == "error" and not record["locked"]:
        found.extend(_error_problems(record, would_be["cause"]))
    if keras["flavour"] == "keras-legacy":
        found.append(_problem("keras-unsupported", "Keras {} predates 2.2; kbackend cannot predict its backend.".format(
            keras["version"]), "Upgrade Keras."))
    config_file = record["config_file"]
    if config_file["parses"] is False:
        found.append(_problem("config-invalid-json",
                              "{} is not valid JSON ({}); Keras silently ignores it and uses its defaults.".format(
                                  record["config_path"], config_file["error"]),
                              "Fix the JSON or delete the file."))
    if environ.get("KERAS_BACKEND") == "":
        found.append(_problem("env-empty", "KERAS_BACKEND is set but empty; Keras ignores it.",
                              "Unset it, or set it to a backend name."))
    if record["locked"] and would_be["backend"] != record["backend"] and would_be["source"] != "default":
        found.append(_problem("set-too-late",
                              "{} asks for {!r}, but Keras was already imported in this process with {!r}: "
                              "it was set too late.".format(would_be["reason"], would_be["backend"], record["backend"]),
                              "Restart Python and call kbackend.use_keras_backend({!r}) before anything imports keras."
                              .format(would_be["backend"])))
    if keras["flavour"] == "keras2-tensorflow" and environ.get("KERAS_BACKEND") not in (None, "", "tensorflow"):
        found.append(_problem("backend-ignored",
                              "Keras {} is TensorFlow-only; KERAS_BACKEND={!r} is ignored.".format(
                                  keras["version"], environ["KERAS_BACKEND"]),
                              "Install Keras 3 (pip install -U keras) to use other backends."))
    found.extend(_tf_problems(record, environ))
    found.extend(_home_problems(record, environ))
    return found


def _tf_problems(record: "Dict[str, Any]", environ: "Dict[str, str]") -> "List[Dict[str, str]]":
    found = []  # type: List[Dict[str, str]]
    installed = record["installed"]
    legacy = environ.get("TF_USE_LEGACY_KERAS")
    if legacy is not None and legacy not in _LEGACY_TRUE and legacy.strip().lower() in ("true", "1", "yes", "on", "t", "y"):
        found.append(_problem("legacy-value-ignored",
                              "TF_USE_LEGACY_KERAS={!r} is not one of 'true', 'True', '1', so TensorFlow ignores it.".format(legacy),
                              "Set TF_USE_LEGACY_KERAS=1."))
    route = record["tf_keras"]
    if legacy in _LEGACY_TRUE and installed["tensorflow"] and route["routes_to"] != "tf_keras" and \
            discovery.version_tuple(installed["tensorflow"]) >= (2, 16):
        found.append(_problem("tf-keras-missing",
                              "TF_USE_LEGACY_KERAS={!r} asks for tf_keras, which is not installed.".format(legacy),
                              "pip install tf_keras=={}.*".format(".".join(installed["tensorflow"].split(".")[:2]))))
    if legacy in _LEGACY_TRUE and record["keras"]["flavour"] == "keras3":
        found.append(_problem("legacy-only-tf-keras",
                              "TF_USE_LEGACY_KERAS only reroutes tf.keras; code that runs `import keras` still gets Keras {} "
                              "with the {!r} backend.".format(record["keras"]["version"], record["backend"]),
                              "Import tf_keras (or use tf.keras) in code that needs Keras 2."))
    if installed["tf_keras"] and installed["tensorflow"]:
        tf_minor = discovery.version_tuple(installed["tensorflow"])[:2]
        tfk_minor = discovery.version_tuple(installed["tf_keras"])[:2]
        if tf_minor and tfk_minor and tf_minor != tfk_minor:
            found.append(_problem("tf-keras-mismatch",
                                  "tf_keras {} does not match TensorFlow {}.".format(installed["tf_keras"], installed["tensorflow"]),
                                  "pip install tf_keras=={}.*".format(".".join(str(p) for p in tf_minor))))
    return found


def _home_problems(record: "Dict[str, Any]", environ: "Dict[str, str]") -> "List[Dict[str, str]]":
    found = []  # type: List[Dict[str, str]]
    home = environ.get("KERAS_HOME")
    if record["keras_home_source"] == "tmp":
        found.append(_problem("home-not-writable",
                              "The home directory {} is not writable, so Keras uses /tmp/.keras.".format(os.path.expanduser("~")),
                              "Set KERAS_HOME to a writable directory."))
    if home == "":
        found.append(_problem("keras-home-empty",
                              "KERAS_HOME is set but empty: Keras reads keras.json from the current directory ({}).".format(
                                  discovery.working_directory() or "which no longer exists"),
                              "Unset KERAS_HOME or set it to an absolute path."))
    elif home and home.startswith("~"):
        found.append(_problem("keras-home-tilde",
                              "KERAS_HOME={!r}: Keras reads {} but creates the directory {!r} literally, relative to the "
                              "current directory.".format(home, record["config_path"], home),
                              "Set KERAS_HOME to an absolute path."))
    return found


def _tensorflow_imports_keras(libs: "Dict[str, Dict[str, Optional[str]]]") -> bool:
    """``import tensorflow`` imports Keras (or tf_keras) itself from 2.15 on."""
    version = discovery.version_tuple(libs["tensorflow"]["version"])
    return bool(version) and version >= (2, 15)


def _route_target(route: "Dict[str, Any]") -> str:
    """The live-module kind behind a tf.keras route (see :func:`live.live_keras`)."""
    if route["routes_to"] in ("keras", "tf_keras"):
        return route["routes_to"]
    return "tensorflow.python.keras"


def _through_tf_keras(would_be: "Dict[str, Any]", route: "Dict[str, Any]", facts: "Dict[str, Any]",
                      module: str) -> "Dict[str, Any]":
    """The outcome when the interface imports tf.keras instead of keras."""
    why = "{} imports {} (KERAS_IMPLEMENTATION is {})".format(
        interfaces.label(facts), module,
        "{!r}".format(facts["r_environ"]["KERAS_IMPLEMENTATION"])
        if facts["r_environ"]["KERAS_IMPLEMENTATION"] is not None else "unset: 'tensorflow'")
    if route["routes_to"] == "keras":
        # tf.keras is Keras 3 itself: its own choice of backend applies.
        outcome = dict(would_be, reason="{}, which is the keras package: {}".format(why, would_be["reason"]))
    else:
        outcome = rules._outcome(route["backend"], "interface", "{}; {}".format(why, route["reason"]))
    if route["status"] == "error":
        cause = would_be["cause"] if route["routes_to"] == "keras" and would_be["cause"] else "tf-keras-fails"
        outcome.update(status="error", error=route["error"], cause=cause)
    return outcome


def _other_module(module: str, facts: "Dict[str, Any]") -> "Dict[str, Any]":
    """KERAS_IMPLEMENTATION names some other module; never run it, only find it."""
    outcome = rules._outcome(None, "interface", "{} imports the module {!r} named by KERAS_IMPLEMENTATION".format(
        interfaces.label(facts), module))
    top = module.split(".")[0]
    missing = top if discovery.find_spec_without_import(top) is None else (
        module if discovery.find_spec_without_import(module) is None else None)
    if missing is not None:
        return rules._fail(outcome, "ModuleNotFoundError: No module named {!r}".format(missing), "keras-implementation-missing")
    return rules._fail(outcome, None, "keras-implementation-unknown")


def collect(environ: "Optional[Dict[str, str]]" = None, interface: "Any" = None) -> "Dict[str, Any]":
    """Gather every fact and build the record.  See :func:`backend_info`."""
    facts = interfaces.parse(interface)
    libs = discovery.installed_libraries()
    applied = interfaces.apply(facts, dict(os.environ if environ is None else environ), _tensorflow_imports_keras(libs))
    environ = applied["environ"]
    module = applied["module"]
    keras_version = libs["keras"]["version"]
    flavour = keras_flavour(keras_version, libs["keras"]["path"])
    keras = {"installed": flavour is not None, "version": keras_version, "flavour": flavour,
             "description": FLAVOURS.get(flavour or "", "not installed"), "path": libs["keras"]["path"]}
    home = keras_json.keras_dir(environ, tmp_fallback=flavour != "keras2-tensorflow")
    path = keras_json.config_path(home["dir"])
    config = keras_json.read_config(path)
    would_be = predict(flavour, keras_version, environ, config, libs)
    route = _tf_keras_route(environ, libs, keras, would_be, config)
    if module == "keras":
        target = "keras"
    elif module in interfaces.TF_KERAS_MODULES:
        would_be = _through_tf_keras(would_be, route, facts, module)
        target = _route_target(route)
    else:
        would_be = _other_module(module, facts)
        target = "keras"
    if facts is not None and facts["name"] == "keras3":
        would_be = _credit_keras3(would_be, applied["steps"], facts)
    shadowing = shadows.find(libs, flavour, discovery.version_tuple(keras_version), would_be["backend"]) \
        if target == "keras" else []
    needed = list(shadows.needed_libraries(flavour, discovery.version_tuple(keras_version), would_be["backend"]))
    installs = deps.check(libs, flavour, needed, sys.executable) if target == "keras" and flavour else \
        {"error": None, "problems": []}
    if installs["error"] and (would_be["status"] == "ok" or would_be["cause"] in ("backend-invalid",
                                                                                  "backend-not-installed")):
        would_be = rules._fail(dict(would_be), installs["error"], "install-broken")
    shadow_error = shadows.first_failure(shadowing, import_fails=would_be["status"] == "error")
    if shadow_error is not None:
        would_be = rules._fail(dict(would_be), shadow_error, "module-shadowed")
    state = live.live_keras(target=target)
    outcome = dict(would_be)
    if state["failed_import"]:
        outcome = _retry(state, flavour, keras_version, environ, config, libs)
    elif state["locked"]:
        outcome.update(backend=state["backend"], source="imported", status="ok", error=None,
                       reason="Keras is already imported in this process ({} holds {!r})".format(
                           state["module"], state["backend"]))
    record = {
        "kbackend_version": __version__,
        "backend": outcome["backend"],
        "status": outcome["status"],
        "error": outcome["error"],
        "source": outcome["source"],
        "reason": outcome["reason"],
        "locked": state["locked"],
        "locked_by": state["locked_by"],
        "keras_home": home["dir"],
        "keras_home_source": home["source"],
        "config_path": path,
        "config_file": {
            "exists": config["exists"],
            "type": config["type"],
            "parses": config["parses"],
            "error": config["error"],
            "backend": keras_json.config_backend(config["value"]),
        },
        "config": _config_values(config),
        "keras": keras,
        "installed": {name: lib["version"] for name, lib in libs.items()},
        "tf_keras": None,
        "variables": _variables(environ),
        "python": {
            "executable": sys.executable,
            "version": "{}.{}.{}".format(*sys.version_info[:3]),
            "implementation": sys.implementation.name,
        },
        "interface": interfaces.describe(facts, applied),
        "problems": [],
        "verify": None,
    }  # type: Dict[str, Any]
    record["tf_keras"] = _tf_keras_route(environ, libs, keras, outcome, config) if state["locked"] else route
    record["problems"] = _problems(record, environ, would_be)
    if state["failed_import"]:
        record["problems"][:0] = [_problem(
            "failed-import-cached",
            "import keras already failed in this process, after choosing the {!r} backend; Python keeps that "
            "choice ({}), so a retry uses it{}.".format(
                state["backend"], state["module"], " and fails again" if outcome["status"] == "error" else ""),
            "Restart Python to choose the backend again (fix what failed first).")] + (
            _error_problems(record, outcome["cause"]) if outcome["status"] == "error" else [])
    if shadowing and not state["locked"]:
        record["problems"][:0] = shadows.problems(shadowing)
    if not state["locked"]:
        record["problems"].extend(installs["problems"])
    if facts is not None:
        with _stdlib.first():  # only R asks about interfaces
            from . import interface_problems

        record["problems"].extend(interface_problems.problems(record, facts, applied, environ))
        compile_failure = None if state["locked"] else interface_problems.theano_compile_failure(record, environ)
        if compile_failure is not None and record["status"] == "ok":
            record.update(status="error", error=compile_failure["error"])
            record["problems"].insert(0, compile_failure["problem"])
    return record


def _retry(state: "Dict[str, Any]", flavour: "Optional[str]", version: "Optional[str]",
           environ: "Dict[str, str]", config: "Dict[str, Any]", libs: "Dict[str, Dict[str, Any]]") -> "Dict[str, Any]":
    """After a failed ``import keras`` in this process: what a retry does.

    The config module stays cached with the backend it chose, so a retry
    keeps that backend whatever the environment says now, and fails again
    for the same reason unless that was fixed (a library installed since).
    """
    retry = predict(flavour, version, dict(environ, KERAS_BACKEND=state["backend"]), config, libs)
    why = ("an earlier import keras failed in this process after choosing {!r} ({} keeps it), so a retry "
           "uses {!r} whatever the environment says now".format(state["backend"], state["module"], state["backend"]))
    return dict(retry, backend=state["backend"], source="imported", reason=why)


def _credit_keras3(outcome: "Dict[str, Any]", steps: "List[Dict[str, Any]]", facts: "Dict[str, Any]") -> "Dict[str, Any]":
    """Say that keras3's load step, not the user, chose KERAS_BACKEND."""
    step = next((s for s in steps if s["variable"] == "KERAS_BACKEND"), None)
    if step is None or outcome["source"] != "environment":
        return outcome
    reason = "{} sets KERAS_BACKEND={!r} when it loads ({})".format(interfaces.label(facts), step["value"], step["reason"])
    return dict(outcome, source="interface" if step["given"] is None else "environment", reason=reason)


def backend_info(verify: bool = False, timeout: "Optional[float]" = None,
                 interface: "Optional[Dict[str, Any]]" = None) -> "Dict[str, Any]":
    """Which Keras backend is (or will be) used in this process, why, and whether it works.

    Reads ``os.environ``, keras.json, installed distribution metadata and
    ``sys.modules``; imports nothing from Keras or any backend, and never a
    module named by the environment or keras.json.

    With ``verify=True`` it also imports Keras in a separate process (with
    a time limit, ``timeout`` seconds, default 120) against a temporary copy
    of keras.json, and fills ``verify`` with what Keras itself reported:
    backend, import time, peak memory, devices.  A disagreement with the
    prediction is added to ``problems`` as a kbackend bug.

    ``interface`` is for the R bridge: the facts about the R package that
    will import Keras (keras3, the legacy keras package), whose load step
    changes the environment and the module imported (see
    :mod:`kbackend.interfaces`).  The answer is then the one that holds after
    that package has loaded.

    Returns a plain dict (see the README for every field), e.g.::

        >>> import kbackend
        >>> info = kbackend.backend_info()
        >>> info["backend"], info["source"], info["status"]
        ('tensorflow', 'default', 'ok')
        >>> kbackend.backend_info(verify=True)["verify"]["devices"]
        ['/physical_device:CPU:0']
    """
    record = collect(interface=interface)
    if verify:
        with _stdlib.first():  # subprocess machinery only when asked
            from . import verify as verifying

        applied = interfaces.apply(interfaces.parse(interface), dict(os.environ),
                                   _tensorflow_imports_keras(discovery.installed_libraries()))
        record["verify"] = verifying.verify(record, timeout, environ=applied["environ"], module=applied["module"])
        if record["verify"]["agrees"] is False:
            record["problems"].insert(0, verifying.mismatch_problem(record, record["verify"]))
    return record


def _finite(value: "Any") -> "Any":
    """A copy of ``value`` with non-finite floats as the strings ``"NaN"``,
    ``"Infinity"``, ``"-Infinity"``.

    Python's JSON reads those bare literals from keras.json (Keras accepts
    ``"epsilon": NaN``) and writes them back, but they are not JSON: strict
    parsers such as R's jsonlite reject the whole record.  Iterative, because
    a keras.json value can nest nearly as deep as the recursion limit.
    """
    holder = [value]
    stack = [(holder, 0)]  # type: List[Any]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, float) and not math.isfinite(item):
            container[key] = "NaN" if item != item else ("Infinity" if item > 0 else "-Infinity")
        elif isinstance(item, dict):
            container[key] = dict(item)
            stack.extend((container[key], k) for k in item)
        elif isinstance(item, (list, tuple)):
            container[key] = list(item)
            stack.extend((container[key], i) for i in range(len(item)))
    return holder[0]


def record_json(record: "Dict[str, Any]", indent: "Optional[int]" = None) -> str:
    """The record as strict JSON (no NaN/Infinity literals), for R and ``--json``."""
    try:
        return json.dumps(record, indent=indent, allow_nan=False)
    except ValueError:  # a non-finite float, copied from keras.json
        return json.dumps(_finite(record), indent=indent, allow_nan=False)


def backend_info_json(verify: bool = False, timeout: "Optional[float]" = None,
                      interface: "Optional[Dict[str, Any]]" = None) -> str:
    """:func:`backend_info` as strict JSON text, the form the R bridge parses.

        >>> import json, kbackend
        >>> json.loads(kbackend.backend_info_json())["source"]
        'default'
    """
    return record_json(backend_info(verify, timeout, interface))
