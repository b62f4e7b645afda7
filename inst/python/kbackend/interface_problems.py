"""Problems that come from the R interface: what its load or its import does
that a user would not expect, each with the fix.

Kept apart from the Keras problems in :mod:`kbackend.info` because only the R
bridge describes an interface; a Python caller never loads this module.
"""

import os
import sys

from . import interfaces
from .problems import problem

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional



def problems(record: "Dict[str, Any]", facts: "Dict[str, Any]", applied: "Dict[str, Any]",
             environ: "Dict[str, str]") -> "List[Dict[str, str]]":
    """Every interface problem that applies to this record."""
    found: "List[Dict[str, str]]" = []
    if facts["name"] == "keras3":
        found.extend(_keras3(record, facts, applied))
    elif facts["name"] == "keras":
        found.extend(_legacy(record, facts, applied, environ))
    found.extend(_loading(facts))
    return found


def _loading(facts: "Dict[str, Any]") -> "List[Dict[str, str]]":
    """What loading the interface itself will do, from R's facts: fail on
    an old reticulate, or switch the Python that reticulate starts."""
    found: "List[Dict[str, str]]" = []
    requirement, installed = facts["reticulate_requirement"], facts["reticulate_version"]
    if not facts["loaded"] and requirement and installed and not _satisfies(installed, requirement):
        found.append(problem(
            "reticulate-too-old",
            "{} {} needs reticulate {}, but reticulate {} is installed: library({}) will fail.".format(
                facts["name"], facts["version"], requirement, installed, facts["name"]),
            "Update reticulate: install.packages(\"reticulate\"), then restart R."))
    copy = facts["python_copy"]
    if copy is not None and copy["python"] != copy["reticulate_python"]:
        now = copy["reticulate_python"]
        found.append(problem(
            "keras-python-overrides",
            "{} copies {} over RETICULATE_PYTHON when it loads: reticulate will use {}, not {}.".format(
                facts["name"], copy["from"], copy["python"],
                "its own choice" if now is None else "RETICULATE_PYTHON={}".format(now)),
            "Unset {}, or set it to the Python you mean to use.".format(copy["from"])))
    return found


def _satisfies(version: str, requirement: str) -> bool:
    """Whether an R package ``version`` meets an R requirement such as
    ">= 1.36.0" (R compares the numbers between dots and dashes)."""
    operator, _, wanted = requirement.partition(" ")

    def numbers(text: str) -> "List[int]":
        return [int(part) for part in text.replace("-", ".").split(".") if part.isdigit()]

    if operator == ">=":
        return numbers(version) >= numbers(wanted)
    if operator == ">":
        return numbers(version) > numbers(wanted)
    return True


def settle(record: "Dict[str, Any]", facts: "Dict[str, Any]", environ: "Dict[str, str]",
           state: "Dict[str, Any]") -> None:
    """What the interface's load does to the record beyond its environment
    (in place): kerasR's load connects, loads unconnected or fails."""
    if facts["name"] == "kerasR":
        from . import kerasr

        kerasr.settle(record, facts, environ, state)


def _keras3(record: "Dict[str, Any]", facts: "Dict[str, Any]", applied: "Dict[str, Any]") -> "List[Dict[str, str]]":
    found: "List[Dict[str, str]]" = []
    steps = {step["code"]: step for step in applied["steps"]}
    name = interfaces.label(facts)
    backend_step = steps.get("keras3-sets-backend")
    in_file = record["config_file"]["backend"]
    if backend_step is not None and backend_step["given"] is None and in_file is not None \
            and in_file != backend_step["value"]:
        found.append(problem(
            "keras3-ignores-config-backend",
            "{} sets KERAS_BACKEND={!r} when it loads, so the backend {!r} in {} is never used.".format(
                name, backend_step["value"], in_file, record["config_path"]),
            "Set KERAS_BACKEND before library(keras3): kbackend::use_keras_backend({!r}) in the setup chunk, "
            "or KERAS_BACKEND={} in ~/.Renviron.".format(in_file, in_file)))
    home_step = steps.get("keras3-keras-home")
    if home_step is not None:
        found.append(problem(
            "keras3-keras-home",
            "{} sets KERAS_HOME={} when it loads ({}), so Keras reads {}, not ~/.keras/keras.json.".format(
                name, home_step["value"], home_step["reason"], record["config_path"]),
            "To keep keras.json in ~/.keras, create that folder (or set KERAS_HOME) before library(keras3)."))
    return found


def _legacy(record: "Dict[str, Any]", facts: "Dict[str, Any]", applied: "Dict[str, Any]",
            environ: "Dict[str, str]") -> "List[Dict[str, str]]":
    found: "List[Dict[str, str]]" = []
    module = applied["module"]
    name = interfaces.label(facts)
    route = record["tf_keras"]
    through_tf = module in interfaces.TF_KERAS_MODULES
    if through_tf and route["routes_to"] != "keras":
        asked = [(where, value) for where, value in (
            ("KERAS_BACKEND", environ.get("KERAS_BACKEND")),
            ("keras.json's backend", record["config_file"]["backend"]),
        ) if value not in (None, "", "tensorflow")]
        if asked:
            found.append(problem(
                "keras-implementation-tensorflow",
                "{} imports {} because KERAS_IMPLEMENTATION is not 'keras', so {} is ignored: R keras uses "
                "{}.".format(name, module, " and ".join("{}={!r}".format(w, v) for w, v in asked),
                             route["backend"] or "TensorFlow's Keras"),
                "Call kbackend::use_keras_backend({0!r}, interface = \"keras\") (or keras::use_backend({0!r})), "
                "which also sets KERAS_IMPLEMENTATION=\"keras\", before Keras is first used.".format(asked[0][1])))
    keras3_loads = record["keras"]["flavour"] == "keras3" and (
        module == "keras" or (through_tf and route["routes_to"] == "keras"))
    if keras3_loads:
        found.append(problem(
            "keras-legacy-with-keras3",
            "{} with Keras {}: k_backend() works, but building any model fails (ValueError: Only input tensors "
            "may be passed as positional arguments).".format(name, record["keras"]["version"]),
            "Use the keras3 R package with Keras 3; or keep R keras with Keras 2: pip install tf_keras and set "
            "TF_USE_LEGACY_KERAS=1 before Python starts."))
    if record["error"] is None and record["status"] == "error":
        found.append(problem(
            "keras-implementation-unknown",
            "KERAS_IMPLEMENTATION={!r} makes {} import the module {!r}; kbackend cannot tell which backend it "
            "uses.".format(facts["r_environ"]["KERAS_IMPLEMENTATION"], name, module),
            "Unset KERAS_IMPLEMENTATION (TensorFlow's Keras) or set it to \"keras\"."))
    elif record["error"] and record["error"].startswith("ModuleNotFoundError") and module not in ("keras",) \
            and not through_tf:
        found.append(problem(
            "keras-implementation-missing",
            "KERAS_IMPLEMENTATION={!r} makes {} import {!r}, which is not installed ({}).".format(
                facts["r_environ"]["KERAS_IMPLEMENTATION"], name, module, record["error"]),
            "Unset KERAS_IMPLEMENTATION (TensorFlow's Keras) or set it to \"keras\"."))
    return found


def python_headers(prefix: "Optional[str]" = None) -> "Optional[str]":
    """The Python.h a C extension built against ``prefix`` needs, if it is missing."""
    prefix = sys.prefix if prefix is None else prefix
    abiflags = getattr(sys, "abiflags", "")
    include = os.path.join(prefix, "include", "python{}.{}{}".format(sys.version_info[0], sys.version_info[1], abiflags))
    header = os.path.join(include, "Python.h")
    return None if os.path.exists(header) else header


def _theano_compiles(environ: "Dict[str, str]") -> bool:
    """Whether importing Theano will run the C compiler.

    ``cxx=`` with no value turns compilation off.  Otherwise Theano builds its
    lazylinker extension at import unless an earlier run left it in the
    compile directory (``base_compiledir``, default ``~/.theano``), one folder
    per platform and Python version.
    """
    base = os.path.join(os.path.expanduser("~"), ".theano")
    for item in environ.get("THEANO_FLAGS", "").split(","):
        key, _, value = item.partition("=")
        if key.strip() == "cxx" and not value.strip():
            return False
        if key.strip() == "base_compiledir" and value.strip():
            base = os.path.expanduser(value.strip())
    suffix = "-{}.{}.{}-{}".format(sys.version_info[0], sys.version_info[1], sys.version_info[2],
                                   64 if sys.maxsize > 2 ** 32 else 32)
    try:
        entries = os.listdir(base)
    except OSError:
        return True
    for entry in entries:
        if entry.startswith("compiledir_") and entry.endswith(suffix) and any(
                name.startswith("lazylinker_ext.") for name in _listdir(os.path.join(base, entry, "lazylinker_ext"))):
            return False
    return True


def _listdir(path: str) -> "List[str]":
    try:
        return os.listdir(path)
    except OSError:
        return []


def _base_interpreter() -> str:
    """The interpreter a virtualenv was made from (its pyvenv.cfg ``home``)."""
    try:
        with open(os.path.join(sys.prefix, "pyvenv.cfg")) as handle:
            for line in handle:
                key, _, value = line.partition("=")
                if key.strip() == "home":
                    return os.path.join(value.strip(), "python{}.{}".format(*sys.version_info[:2]))
    except OSError:
        pass
    return "the interpreter the virtualenv was made from"


def theano_compile_failure(record: "Dict[str, Any]", environ: "Dict[str, str]") -> "Optional[Dict[str, Any]]":
    """Theano under R's embedded Python from a virtualenv: the import fails.

    Embedded in R, a virtualenv's interpreter takes the venv as its base
    prefix, whose include/ has no Python.h, so Theano's C compile at import
    fails in R although the same interpreter works on the command line.
    Returns the error and the problem, or None.
    """
    if record["backend"] != "theano" or record["keras"]["flavour"] != "keras2-multibackend":
        return None
    if not os.path.exists(os.path.join(sys.prefix, "pyvenv.cfg")) or not _theano_compiles(environ):
        return None
    missing = python_headers()
    if missing is None:
        return None
    error = ("Exception: Compilation failed (return status=1): lazylinker_ext/mod.cpp: fatal error: Python.h: "
             "No such file or directory")
    return {"error": error, "problem": problem(
        "theano-embedded-headers",
        "Theano compiles C code when Keras loads it, and inside R's embedded Python the virtualenv {} is the "
        "base prefix: {} does not exist, so the compile fails in R (it works from the command line).".format(
            sys.prefix, missing),
        "Set THEANO_FLAGS=cxx= (pure Python, slower) before Python starts, or point RETICULATE_PYTHON at the "
        "base interpreter {}.".format(_base_interpreter()))}
