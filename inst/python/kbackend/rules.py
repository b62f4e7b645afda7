"""The backend-selection rules of each Keras line, replayed on plain data.

Each ``resolve_*`` function takes what Keras would see at import time (the
environment, the decoded keras.json, which modules can be found) and returns
the backend Keras would select, where the choice came from, and the exception
Keras would raise, as ``"ClassName: message"``.  Where Keras evaluates an
expression on the decoded JSON (``doc.get(...)``, ``value in {...}``) the same
expression is evaluated here on the same builtin values, so messages such as
``'list' object has no attribute 'get'`` match to the letter.
"""

from .keras_json import DEFAULTS, describe_exception

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Callable, Dict, List, Optional, Tuple

    Version = Tuple[int, ...]
    Finder = Callable[[str], bool]

#: Backends Keras 3 can load, and the first library each imports.
KERAS3_BACKENDS = {
    "tensorflow": "tensorflow",
    "jax": "jax",
    "torch": "torch",
    "numpy": "numpy",
    "openvino": "openvino",
}
#: Built-in backends of multi-backend Keras 2 and the library each imports.
KERAS2_BUILTINS = {"theano": "theano", "tensorflow": "tensorflow", "cntk": "cntk"}

_FLOATX = {"float16", "float32", "float64"}
_FORMATS = {"channels_last", "channels_first"}


def keras3_backend_names(version: "Version") -> "List[str]":
    """Names ``keras/src/backend/__init__.py`` accepts in this version."""
    names = ["tensorflow", "jax", "torch", "numpy"]
    if version >= (3, 8):
        names.append("openvino")
    return names


def keras3_libraries(version: "Version", backend: str) -> "List[str]":
    """Libraries a Keras 3 backend imports, in the order it first imports them.

    The numpy backend borrows from SciPy and from the JAX backend: 3.10+
    imports scipy first (numpy/linalg.py), older versions jax first.
    """
    if backend == "numpy":
        return ["scipy", "jax"] if version >= (3, 10) else ["jax", "scipy"]
    return [KERAS3_BACKENDS[backend]]


def outcome(backend: "Any", source: str, reason: str) -> "Dict[str, Any]":
    """Keras choosing ``backend`` without error: ``source`` says where the
    choice came from, ``reason`` why (see :func:`fail` for a failing one)."""
    return {"backend": backend, "source": source, "reason": reason, "status": "ok", "error": None, "cause": None}


def fail(outcome: "Dict[str, Any]", error: "Optional[str]", cause: str) -> "Dict[str, Any]":
    """Mark ``outcome`` as failing with Keras's ``error``; ``cause`` is kbackend's code for why."""
    outcome["status"] = "error"
    outcome["error"] = error
    outcome["cause"] = cause
    return outcome


def check_config_fields(document: "Any", keras3_valueerror: bool) -> "Optional[str]":
    """Replay Keras's checks on keras.json's fields; return the error or None.

    Keras 3.14+ raises ``ValueError`` with a message; older Keras 3 and Keras 2
    use bare ``assert`` statements, which raise a message-less
    ``AssertionError``.  Non-dict documents fail on ``.get`` exactly as in
    Keras, and unhashable values fail the set-membership test with a
    ``TypeError``.
    """
    def rejected(message: str) -> str:
        return "ValueError: " + message if keras3_valueerror else "AssertionError"

    try:
        floatx = document.get("floatx", DEFAULTS["floatx"])
        if floatx not in _FLOATX:
            return rejected("Invalid `floatx` configuration. Expected one of {'float16', 'float32', 'float64'}. "
                            "Received: floatx=" + str(floatx))
        epsilon = document.get("epsilon", DEFAULTS["epsilon"])
        if not isinstance(epsilon, float):
            return rejected("Invalid `epsilon` configuration. Expected a float. Received: epsilon=" + str(epsilon))
        data_format = document.get("image_data_format", DEFAULTS["image_data_format"])
        if data_format not in _FORMATS:
            return rejected("Invalid `image_data_format` configuration. Expected one of {'channels_last', "
                            "'channels_first'}. Received: image_data_format=" + str(data_format))
    except Exception as exc:  # noqa: BLE001 - replaying Keras's own failure
        return describe_exception(exc)
    return None


def _choose(environ: "Dict[str, str]", document: "Any", default: str,
            ignore_empty_env: bool = True) -> "Dict[str, Any]":
    """Environment over keras.json over the default, as Keras applies them."""
    if "KERAS_BACKEND" in environ and (environ["KERAS_BACKEND"] or not ignore_empty_env):
        value = environ["KERAS_BACKEND"]
        return outcome(value, "environment", "KERAS_BACKEND={!r} is set in the environment".format(value))
    if isinstance(document, dict) and "backend" in document:
        return outcome(document["backend"], "config", "keras.json sets backend {!r}".format(document["backend"]))
    reason = "no KERAS_BACKEND and no backend in keras.json: Keras's default"
    if environ.get("KERAS_BACKEND") == "":
        reason = "KERAS_BACKEND is set but empty, which Keras ignores; no backend in keras.json: Keras's default"
    return outcome(default, "default", reason)


def _int_env(environ: "Dict[str, str]", name: str) -> "Optional[str]":
    if name not in environ:
        return None
    try:
        int(environ[name])
    except ValueError as exc:
        return describe_exception(exc)
    return None


def resolve_keras3(
    version: "Version", environ: "Dict[str, str]", config: "Dict[str, Any]", has_module: "Finder"
) -> "Dict[str, Any]":
    """Keras 3: ``keras/src/backend/config.py`` then ``backend/__init__.py``."""
    document = config["value"] if config["exists"] else {}
    if config["raises"]:
        outcome = _choose(environ, {}, "tensorflow")
        return fail(outcome, config["raises"], "config-unreadable")
    outcome = _choose(environ, document, "tensorflow")
    if config["exists"]:
        error = check_config_fields(document, keras3_valueerror=version >= (3, 14))
        if error:
            return fail(outcome, error, "config-invalid-field")
    if version >= (3, 10):
        for name in ("KERAS_MAX_EPOCHS", "KERAS_MAX_STEPS_PER_EPOCH"):
            error = _int_env(environ, name)
            if error:
                return fail(outcome, error, "env-not-integer")
    backend = outcome["backend"]
    # 3.11+ ends config.py with set_nnx_enabled(), whose imports reach
    # keras.src.tree: TensorFlow (3.11+) or torch (3.12+) load there, before
    # the flax check and before the backend name is validated.
    if version >= (3, 11):
        early = {"tensorflow": (3, 11), "torch": (3, 12)}
        if isinstance(backend, str) and backend in early and version >= early[backend] and not has_module(backend):
            return fail(outcome, "ModuleNotFoundError: No module named '{}'".format(backend), "backend-not-installed")
        if _nnx_enabled(environ, document) and not has_module("flax"):
            return fail(outcome, "ImportError: To use NNX with the JAX backend, you must install `flax`.",
                         "nnx-without-flax")
    if backend == "torch" and not has_module("torch"):
        return fail(outcome, "ModuleNotFoundError: No module named 'torch'", "backend-not-installed")
    if not isinstance(backend, str) or backend not in keras3_backend_names(version):
        return fail(outcome, "ValueError: Unable to import backend : {}".format(backend), "backend-invalid")
    for library in keras3_libraries(version, backend):
        if not has_module(library):
            return fail(outcome, "ModuleNotFoundError: No module named '{}'".format(library), "backend-not-installed")
    return outcome


def _nnx_enabled(environ: "Dict[str, str]", document: "Any") -> bool:
    """Keras 3.11+: KERAS_NNX_ENABLED overrides keras.json's ``nnx_enabled``."""
    if "KERAS_NNX_ENABLED" in environ:
        return environ["KERAS_NNX_ENABLED"].lower() in ("true", "1")
    if isinstance(document, dict):
        return bool(document.get("nnx_enabled", False))
    return False


def resolve_keras2_multi(
    version: "Version",
    environ: "Dict[str, str]",
    config: "Dict[str, Any]",
    has_module: "Finder",
    find_origin: "Callable[[str], Optional[str]]",
) -> "Dict[str, Any]":
    """Multi-backend Keras 2.2+ (``keras/backend/load_backend.py``)."""
    default = "tensorflow"
    document = config["value"] if config["exists"] else {}
    if config["raises"]:
        return fail(_choose(environ, {}, default), config["raises"], "config-unreadable")
    # 2.2.0 took an empty KERAS_BACKEND literally; 2.2.1 started ignoring it.
    outcome = _choose(environ, document, default, ignore_empty_env=version >= (2, 2, 1))
    if config["exists"]:
        error = check_config_fields(document, keras3_valueerror=False)
        if error:
            return fail(outcome, error, "config-invalid-field")
    backend = outcome["backend"]
    if isinstance(backend, str) and backend in KERAS2_BUILTINS:
        library = KERAS2_BUILTINS[backend]
        if not has_module(library):
            return fail(outcome, "ModuleNotFoundError: No module named '{}'".format(library), "backend-not-installed")
        return outcome
    return _resolve_custom_backend(outcome, backend, find_origin)


def _resolve_custom_backend(
    outcome: "Dict[str, Any]", backend: "Any", find_origin: "Callable[[str], Optional[str]]"
) -> "Dict[str, Any]":
    """Keras 2.2+ imports any other name as a module; predict, never import."""
    if not isinstance(backend, str):
        # importlib.import_module calls name.startswith('.') first.
        return fail(
            outcome,
            "AttributeError: '{}' object has no attribute 'startswith'".format(type(backend).__name__),
            "backend-invalid",
        )
    if not backend:
        return fail(outcome, "ValueError: Empty module name", "backend-invalid")
    if backend.startswith("."):
        return fail(outcome, "TypeError: the 'package' argument is required to perform a relative import "
                              "for {!r}".format(backend), "backend-invalid")
    # Keras imports the module (a failing import becomes "Unable to import
    # backend"), checks its required entries, then keras.backend imports the
    # rest of the backend API by name: all judged from the source, never run.
    origin = find_origin(backend)
    from . import custom  # a dozen modules: loaded only for a backend Keras would import as a module

    try:
        judged = custom.judged(backend, origin, find_origin)
    except Exception as exc:  # noqa: BLE001 - a reading kbackend cannot finish must not break the report
        judged = {"error": None if origin else "ValueError: Unable to import backend : {}".format(backend),
                  "origin": origin, "notes": ["reading its source failed ({}: {})".format(type(exc).__name__, exc)]}
    if judged["origin"] is not None:
        outcome["custom_module"] = judged["origin"]
    if judged["notes"]:
        outcome["problems"] = [{
            "code": "custom-backend-uncertain",
            "message": "kbackend judged the custom backend module {!r} from its source and cannot be sure: {}."
                       .format(backend, "; ".join(judged["notes"][:3])),
            "fix": "Check with verify = TRUE (backend_info(verify=True)), which imports Keras in a separate process.",
        }]
    if judged["error"]:
        return fail(outcome, judged["error"], "backend-invalid")
    return outcome


def resolve_keras2_tensorflow(
    version: "Version", environ: "Dict[str, str]", config: "Dict[str, Any]", has_module: "Finder"
) -> "Dict[str, Any]":
    """Keras 2.4–2.15 and tf_keras: always TensorFlow; keras.json fields checked."""
    if environ.get("KERAS_BACKEND"):
        reason = "this Keras is TensorFlow-only and ignores KERAS_BACKEND={!r}".format(environ["KERAS_BACKEND"])
    else:
        reason = "this Keras is TensorFlow-only"
    result = outcome("tensorflow", "default", reason)
    if config["raises"]:
        return fail(result, config["raises"], "config-unreadable")
    if config["exists"]:
        error = check_config_fields(config["value"], keras3_valueerror=False)
        if error:
            return fail(result, error, "config-invalid-field")
    if not has_module("tensorflow"):
        return fail(result, "ModuleNotFoundError: No module named 'tensorflow'", "backend-not-installed")
    return result
