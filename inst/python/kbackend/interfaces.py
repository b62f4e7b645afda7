"""R interfaces to Keras: what loading one does before Python imports Keras.

R users rarely run ``import keras`` themselves.  They load the keras3 package
or the legacy ``keras`` package, and its load step edits the environment and
even decides which Python module is imported.  An answer given before
``library(...)`` must be the one that holds after it, so the resolver needs
those steps.  R supplies the facts only R knows (which interface, its version,
whether it is loaded, whether Python already runs, R's own values of the
variables the interface reads, ``tools::R_user_dir()``); this module turns
them into the environment Keras will see and the module R will import.  The
steps follow the packages' ``.onLoad`` code, version by version:

* keras3 1.3+: ``KERAS_BACKEND`` becomes R's value or ``"tensorflow"``, a
  ``-cpu``/``-gpu`` suffix stripped, and is copied into a running Python's
  ``os.environ`` too; so keras.json's backend is never used.
* keras3 1.4+: ``TF_CPP_MIN_LOG_LEVEL=2`` when unset, and ``KERAS_HOME`` set
  to R's user cache directory when it is unset and ``~/.keras`` does not
  exist.  Both go through ``Sys.setenv()`` only, so a Python that already
  runs does not see them.
* legacy keras 2.x: the module is ``tensorflow.keras`` when
  ``KERAS_IMPLEMENTATION`` (lower-cased, default ``"tensorflow"``) is
  ``"tensorflow"``, else the module that variable names; it is resolved at
  first use, so the variable counts until then.
* kerasR 0.8.0: imports plain ``keras`` and changes no variable; what its
  load does (Python starts, keras is imported, 22 submodules are imported or
  the load fails) is :mod:`kbackend.kerasr`'s.

The interpreter steps (``KERAS_PYTHON`` over ``RETICULATE_PYTHON``, the
``r-keras`` environment) are reticulate's business and stay on the R side.
"""


from . import metadata

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional, Tuple

#: Interfaces an answer can be given for; "reticulate" is a plain import("keras").
NAMES = ("keras3", "keras", "kerasR", "reticulate")
#: R environment variables the interfaces read at load or first use.
R_VARIABLES = ("KERAS_BACKEND", "KERAS_HOME", "KERAS_IMPLEMENTATION", "TF_CPP_MIN_LOG_LEVEL")
#: The keras3 release each load step first appeared in.
_KERAS3_SETS_BACKEND = (1, 3)
_KERAS3_MOVES_HOME = (1, 4)
#: keras3 accepts these suffixes on KERAS_BACKEND and strips them at load.
KERAS3_SUFFIXES = ("-cpu", "-gpu")
#: Modules that are tf.keras under another name.
TF_KERAS_MODULES = ("tensorflow.keras", "tensorflow.python.keras")


def parse(facts: "Any") -> "Optional[Dict[str, Any]]":
    """Check the facts R sends and fill in defaults; None means no interface.

    Raises ValueError for a malformed description, so that a bug on the R
    side is loud rather than silently answered for plain ``import keras``.
    """
    if facts is None:
        return None
    if not isinstance(facts, dict) or facts.get("name") not in NAMES:
        raise ValueError("interface must be a dict whose 'name' is one of {}".format(", ".join(NAMES)))
    r_environ = facts.get("r_environ") or {}
    if not isinstance(r_environ, dict):
        raise ValueError("interface 'r_environ' must be a dict")
    version = facts.get("version")
    connected = facts.get("connected")
    return {
        "name": facts["name"],
        "version": version if isinstance(version, str) and version else None,
        "loaded": bool(facts.get("loaded", False)),
        "python_started": bool(facts.get("python_started", False)),
        "r_environ": {name: r_environ.get(name) for name in R_VARIABLES},
        "cache_dir": facts.get("cache_dir"),
        "home_keras_exists": bool(facts.get("home_keras_exists", True)),
        "tensorflow_loaded": bool(facts.get("tensorflow_loaded", False)),
        # kerasR, once loaded: whether its load imported keras and its modules
        "connected": bool(connected) if connected is not None else None,
        "reticulate_version": facts.get("reticulate_version") if isinstance(
            facts.get("reticulate_version"), str) else None,
        # the reticulate the interface's DESCRIPTION requires, e.g. ">= 1.36.0"
        "reticulate_requirement": facts.get("reticulate_requirement") if isinstance(
            facts.get("reticulate_requirement"), str) else None,
        # what its load copies over RETICULATE_PYTHON: {"from", "python", "reticulate_python"}
        "python_copy": _python_copy(facts.get("python_copy")),
    }


def _python_copy(value: "Any") -> "Optional[Dict[str, Optional[str]]]":
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("from"), str) or not isinstance(
            value.get("python"), str):
        raise ValueError("interface 'python_copy' must be a dict with 'from' and 'python'")
    current = value.get("reticulate_python")
    return {"from": value["from"], "python": value["python"],
            "reticulate_python": current if isinstance(current, str) else None}


def _at_least(facts: "Dict[str, Any]", release: "Tuple[int, ...]") -> bool:
    """Whether the interface version has a step; an unknown version counts as newest."""
    version = metadata.version_tuple(facts["version"])
    return not version or version >= release


def strip_suffix(name: str) -> str:
    """keras3's reading of KERAS_BACKEND: ``jax-cpu`` means ``jax``."""
    for suffix in KERAS3_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def backend_name(facts: "Optional[Dict[str, Any]]", name: str) -> str:
    """The backend Keras sees when ``name`` is set under this interface."""
    if facts is not None and facts["name"] == "keras3":
        return strip_suffix(name)
    return name


def environment_value(facts: "Optional[Dict[str, Any]]", name: str) -> str:
    """What to put in KERAS_BACKEND for ``name``: as given, unless keras3 has
    already loaded and so will not strip a -cpu/-gpu suffix any more."""
    if facts is not None and facts["name"] == "keras3" and facts["loaded"]:
        return strip_suffix(name)
    return name


def module(facts: "Optional[Dict[str, Any]]") -> str:
    """The Python module the interface imports as Keras."""
    if facts is None or facts["name"] != "keras":
        return "keras"
    implementation = (facts["r_environ"].get("KERAS_IMPLEMENTATION") or "tensorflow").lower()
    if implementation != "tensorflow":
        return implementation
    # 2.2.x imported tensorflow.python.keras; 2.3 on, tensorflow.keras.
    legacy = metadata.version_tuple(facts["version"])
    return "tensorflow.python.keras" if legacy and legacy < (2, 3) else "tensorflow.keras"


def label(facts: "Dict[str, Any]") -> str:
    """``keras3 1.5.1``, or just the name when the version is unknown."""
    if facts["name"] == "keras":
        name = "the R keras package"
    else:
        name = facts["name"]
    return "{} {}".format(name, facts["version"]) if facts["version"] else name


def apply(facts: "Optional[Dict[str, Any]]", environ: "Dict[str, str]",
          tensorflow_imports_keras: bool = False) -> "Dict[str, Any]":
    """The environment Keras will see once the interface has loaded.

    Returns ``environ`` (a new dict when anything changed), the module to
    import, and ``steps``: one ``{code, variable, value, reason}`` entry per
    change the load makes.  A loaded interface has made its changes already.

    With Python already running, reticulate imports a delay-loaded module at
    once: keras3 loads the R tensorflow package first, whose import of
    TensorFlow imports Keras (``tensorflow_imports_keras``: TensorFlow 2.15+)
    with Python's environment as it is -- before keras3 sets KERAS_BACKEND.
    """
    result: "Dict[str, Any]" = {"environ": environ, "module": module(facts), "steps": []}
    if facts is None or facts["loaded"] or facts["name"] != "keras3":
        return result
    environ = dict(environ)
    steps: "List[Dict[str, Any]]" = []
    r_env = facts["r_environ"]
    # Sys.setenv() alone does not reach a Python that already runs.
    reaches_python = not facts["python_started"]
    if _at_least(facts, _KERAS3_MOVES_HOME) and reaches_python:
        if r_env["TF_CPP_MIN_LOG_LEVEL"] is None:
            environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
            steps.append(_step("keras3-tf-log-level", "TF_CPP_MIN_LOG_LEVEL", "2", "it is unset"))
        if r_env["KERAS_HOME"] is None and not facts["home_keras_exists"] and facts["cache_dir"]:
            environ["KERAS_HOME"] = facts["cache_dir"]
            steps.append(_step("keras3-keras-home", "KERAS_HOME", facts["cache_dir"],
                               "KERAS_HOME is unset and ~/.keras does not exist"))
    keras_first = facts["python_started"] and not facts["tensorflow_loaded"] and tensorflow_imports_keras
    if _at_least(facts, _KERAS3_SETS_BACKEND) and not keras_first:
        # keras3 reads R's variable and also writes it into a running Python.
        given = r_env["KERAS_BACKEND"]
        value = strip_suffix("tensorflow" if given is None else given)
        environ["KERAS_BACKEND"] = value
        if given is None:
            why = "KERAS_BACKEND is unset, and tensorflow is keras3's default"
        elif given != value:
            why = "KERAS_BACKEND={!r}: keras3 strips the {!r} suffix".format(given, given[len(value):])
        else:
            why = "KERAS_BACKEND={!r}".format(given)
        steps.append(_step("keras3-sets-backend", "KERAS_BACKEND", value, why, given=given))
    result.update(environ=environ, steps=steps)
    return result


def _step(code: str, variable: str, value: str, reason: str, given: "Optional[str]" = None) -> "Dict[str, Any]":
    return {"code": code, "variable": variable, "value": value, "reason": reason, "given": given}


def describe(facts: "Optional[Dict[str, Any]]", applied: "Dict[str, Any]") -> "Optional[Dict[str, Any]]":
    """The record's ``interface`` field: what the answer is for."""
    if facts is None:
        return None
    return {
        "name": facts["name"],
        "version": facts["version"],
        "loaded": facts["loaded"],
        "module": applied["module"],
        "steps": [{key: step[key] for key in ("variable", "value", "reason")} for step in applied["steps"]],
    }
