"""What ``tf.keras`` resolves to, and what ``import tensorflow`` itself does.

TensorFlow's lazy loader decides at the first attribute access: Keras 3
(``keras._tf_keras``), tf_keras when ``TF_USE_LEGACY_KERAS`` asks for it, or
TensorFlow's own copy of Keras 2 before 2.16.  ``import tensorflow.keras``
and ``from tensorflow.keras import layers`` do not ask that loader: they go
through the import system, which searches the folders TensorFlow put at the
front of its package ``__path__``, and can land elsewhere (see
:func:`module_route`).  The legacy R keras package imports
``tensorflow.keras`` that way, so its answer is the module route's.
"""

import os

from . import discovery, interfaces, keras_json, metadata, rules

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional, Tuple

#: The values of TF_USE_LEGACY_KERAS that TensorFlow recognises, exactly.
LEGACY_TRUE = ("true", "True", "1")

IMPORT_ERRORS = ("ImportError", "ModuleNotFoundError")
KERAS_CANNOT_BE_IMPORTED = "ImportError: Keras cannot be imported. Check that it is installed."


def route(environ: "Dict[str, str]", libs: "Dict[str, Dict[str, Optional[str]]]",
          keras: "Dict[str, Any]", prediction: "Dict[str, Any]",
          config: "Dict[str, Any]") -> "Dict[str, Any]":
    """What ``tf.keras`` resolves to on first attribute access, and why; its
    ``module`` is what ``import tensorflow.keras`` gives (:func:`_module_route`).

    Both first run ``import tensorflow``, whose internal Keras reads
    keras.json: that is judged once, for both.
    """
    internal = _internal_keras(environ, libs, config) if libs["tensorflow"]["version"] is not None else None
    attribute = _attribute_route(environ, libs, keras, prediction, internal)
    attribute["module"] = _module_route(environ, libs, prediction, attribute, internal)
    return attribute


def _attribute_route(environ: "Dict[str, str]", libs: "Dict[str, Dict[str, Optional[str]]]",
                     keras: "Dict[str, Any]", prediction: "Dict[str, Any]",
                     internal: "Optional[Dict[str, Any]]") -> "Dict[str, Any]":
    """What the attribute ``tf.keras`` resolves to on first access, and why.

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
    parsed = metadata.version_tuple(tf_version) or (2, 99)
    legacy_value = environ.get("TF_USE_LEGACY_KERAS")
    if parsed < (2, 6) or (parsed < (2, 15) and keras["version"] is None):
        # The bundled Keras's version depends on TF2 behaviour at run time
        # (2.2.4-tf or 2.3.0-tf in TF 1.15), so it is not predicted.
        route.update(routes_to="tensorflow.python.keras", backend="tensorflow",
                     reason="TensorFlow {} bundles its own Keras".format(tf_version))
    elif parsed >= (2, 15) and legacy_value in LEGACY_TRUE:
        why = "TF_USE_LEGACY_KERAS={!r} routes tf.keras to tf_keras".format(legacy_value)
        if libs["tf_keras"]["version"] is None:
            route.update(error=KERAS_CANNOT_BE_IMPORTED, reason=why + ", which is not installed")
        else:
            route.update(routes_to="tf_keras", version=libs["tf_keras"]["version"], backend="tensorflow", reason=why)
    elif keras["version"] is None:
        route.update(error=KERAS_CANNOT_BE_IMPORTED, reason="tf.keras imports the keras package, which is not installed")
    else:
        if legacy_value is None or parsed < (2, 15):
            why = "TF_USE_LEGACY_KERAS is not set" if parsed >= (2, 15) else "TensorFlow {} uses the keras package".format(tf_version)
        else:
            why = "TF_USE_LEGACY_KERAS={!r} is not one of 'true', 'True', '1'".format(legacy_value)
        error = prediction["error"]
        if error and error.split(":")[0] in IMPORT_ERRORS:
            error = KERAS_CANNOT_BE_IMPORTED
        route.update(routes_to="keras", version=keras["version"], backend=prediction["backend"], error=error,
                     reason=why + ", so tf.keras is the installed Keras {}".format(keras["version"]))
    _fails_first(route, internal)
    route["status"] = "ok" if route["error"] is None else "error"
    if route["routes_to"] == "tf_keras" and route["status"] == "ok":
        # tf_keras reads the same file with the same checks as TF's internal copy.
        route["backend"] = "tensorflow"
    return route


def _module_route(environ: "Dict[str, str]", libs: "Dict[str, Dict[str, Optional[str]]]",
                  prediction: "Dict[str, Any]", attribute: "Dict[str, Any]",
                  internal: "Optional[Dict[str, Any]]") -> "Dict[str, Any]":
    """What ``import tensorflow.keras`` / ``from tensorflow.keras import ...`` gives.

    From TensorFlow 2.15, ``import tensorflow`` puts two folders in front of
    its own ``__path__``: Keras 3's ``keras/_tf_keras``, and ahead of it
    ``tf_keras/api/_v2`` when ``TF_USE_LEGACY_KERAS`` is one of its true
    values, else ``keras/api/_v2`` (Keras 2's).  A folder whose package
    cannot be found is left as None, which the import system skips.  The
    first of them holding a ``keras`` package is ``tensorflow.keras``.  So,
    unlike the attribute, a legacy request without tf_keras falls through
    to Keras 3, and with no Keras at all the module is simply not found.
    Before 2.15 the module is taken to be the one the attribute gives.
    """
    tf_version = libs["tensorflow"]["version"]
    parsed = metadata.version_tuple(tf_version) or (2, 99)
    if tf_version is None or parsed < (2, 15):
        return dict(attribute)
    legacy_value = environ.get("TF_USE_LEGACY_KERAS")
    legacy = legacy_value in LEGACY_TRUE
    keras_dir = _package_dir(libs["keras"])
    tf_keras_dir = _package_dir(libs["tf_keras"])
    front: "List[Tuple[str, Optional[str]]]" = []
    if legacy:
        front.append(("tf_keras", os.path.join(tf_keras_dir, "api", "_v2") if tf_keras_dir else None))
    else:
        front.append(("keras", os.path.join(keras_dir, "api", "_v2") if keras_dir else None))
    front.append(("keras", os.path.join(keras_dir, "_tf_keras") if keras_dir else None))
    found = next((owner for owner, folder in front
                  if folder and metadata.location_exists(os.path.join(folder, "keras"))), None)
    result: "Dict[str, Any]" = {"routes_to": found, "version": libs[found]["version"] if found else None,
                                "backend": None, "status": "error", "error": None, "reason": ""}
    if legacy and found != "tf_keras":
        why = "TF_USE_LEGACY_KERAS={!r} puts tf_keras first on tensorflow's module path, but it is not " \
              "installed".format(legacy_value)
    elif legacy:
        why = "TF_USE_LEGACY_KERAS={!r} puts tf_keras first on tensorflow's module path".format(legacy_value)
    else:
        why = "tensorflow's module path holds the installed Keras's tf.keras API"
    if found is None:
        result.update(error="ModuleNotFoundError: No module named 'tensorflow.keras'",
                      reason=why + "; no Keras provides tensorflow.keras")
    elif found == "tf_keras":
        result.update(backend="tensorflow", reason=why)
    else:
        # the Keras package itself is imported: its own choice and failures
        # apply, unwrapped by the lazy loader's "Keras cannot be imported"
        result.update(backend=prediction["backend"], error=prediction["error"],
                      reason="{}, so tensorflow.keras is Keras {}".format(why, libs["keras"]["version"]))
    _fails_first(result, internal)
    result["status"] = "ok" if result["error"] is None else "error"
    if result["status"] == "error":
        result["backend"] = None
    return result


def _fails_first(result: "Dict[str, Any]", internal: "Optional[Dict[str, Any]]") -> None:
    """``import tensorflow`` fails before anything Keras is looked for when its
    internal Keras rejects keras.json: that error replaces ``result``'s."""
    if internal is not None and internal["status"] == "error":
        result.update(error=internal["error"], reason=result["reason"] +
                      "; but import tensorflow fails first: TensorFlow's internal Keras reads {}".format(internal["path"]))


def _package_dir(lib: "Dict[str, Any]") -> "Optional[str]":
    """The folder of the package ``importlib.util.find_spec`` finds for ``lib``
    (a shadowing file wins there, as it does for TensorFlow)."""
    shadow = lib.get("shadow")
    origin = shadow["path"] if shadow else lib.get("path")
    return os.path.dirname(origin) if origin else None


def _internal_keras(environ: "Dict[str, str]", libs: "Dict[str, Dict[str, Optional[str]]]",
                       config: "Dict[str, Any]") -> "Dict[str, Any]":
    """``import tensorflow`` loads tensorflow.python.keras, which reads keras.json
    like TensorFlow-only Keras 2: no /tmp fallback, bare asserts."""
    home = keras_json.keras_dir(environ, tmp_fallback=False)
    path = keras_json.config_path(home["dir"])
    # Usually the file Keras itself reads, already read once: reuse it.
    internal_config = config if config["path"] == path else keras_json.read_config(path)
    outcome = rules.resolve_keras2_tensorflow((2, 15), environ, internal_config,
                                              discovery.module_finder(libs))
    outcome["path"] = path
    return outcome


def imports_keras(libs: "Dict[str, Dict[str, Optional[str]]]") -> bool:
    """``import tensorflow`` imports Keras (or tf_keras) itself from 2.15 on."""
    version = metadata.version_tuple(libs["tensorflow"]["version"])
    return bool(version) and version >= (2, 15)


def live_target(route: "Dict[str, Any]") -> str:
    """The live-module kind behind a tf.keras route (see :func:`live.live_keras`)."""
    if route["routes_to"] in ("keras", "tf_keras"):
        return route["routes_to"]
    return "tensorflow.python.keras"


def outcome_through(would_be: "Dict[str, Any]", route: "Dict[str, Any]", facts: "Dict[str, Any]",
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
        outcome = rules.outcome(route["backend"], "interface", "{}; {}".format(why, route["reason"]))
    if route["status"] == "error":
        cause = would_be["cause"] if route["routes_to"] == "keras" and would_be["cause"] else "tf-keras-fails"
        outcome.update(status="error", error=route["error"], cause=cause)
    return outcome
