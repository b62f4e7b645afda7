"""A backend library's own start-up: the checks it runs on its variables at import.

``import keras`` imports its backend library, and some libraries validate
their own environment variables (or files) while they load: JAX its
``JAX_*`` flags, PyTorch ``TORCH_LOGS``, Theano ``THEANO_FLAGS`` and its
compile directory, TensorFlow its plug-in variables; ``PYTHONWARNINGS=error``
turns a warning one of them emits while loading into the exception.

Each check is replayed from the library's installed source, read as text
(``ast`` and regular expressions; nothing is executed), and only when one of
those variables is set: the ordinary path costs one scan of the variable
names.  :func:`apply` is the one entry point; it changes a record whose
import was predicted to work into the failure the library raises first, in
the order ``import keras`` meets the libraries, and adds the problem with its
fix.  A value a library only checks at first use does not fail the import; it
is reported as a problem only.

This module decides which libraries ``import keras`` loads and runs their
checks in that order; each library's checks are a module of their own
(:mod:`kbackend.startup_jax`, ``startup_torch``, ``startup_theano``,
``startup_tensorflow``, ``startup_cntk``), loaded only when a check runs,
with what they share in :mod:`kbackend.startup_common` and the warning
filters in :mod:`kbackend.startup_warnings`.
"""

import os
import sys

from . import discovery
from .problems import problem
from .startup_common import NAMES, PREFIXES, source_has

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional, Tuple

    from .startup_common import Found


def _relevant(environ: "Dict[str, str]") -> "Tuple[Tuple[str, str], ...]":
    return tuple(sorted((name, value) for name, value in environ.items()
                        if name in NAMES or name.startswith(PREFIXES)))


def apply(record: "Dict[str, Any]", environ: "Dict[str, str]", libs: "Dict[str, Dict[str, Any]]") -> None:
    """Turn ``record`` into the start-up failure of a library ``import keras`` loads, if any.

    Only a record that is not locked and predicts a working import changes;
    Keras's own checks (keras.json, KERAS_BACKEND) come first and keep
    their error.  Problems are added either way.
    """
    flavour = record["keras"]["flavour"]
    theano = record["backend"] == "theano" and flavour == "keras2-multibackend"
    relevant = _relevant(environ)
    if record["locked"] or flavour is None or not (relevant or theano or sys.warnoptions):
        return
    warnoptions = tuple(sys.warnoptions) or ((environ.get("PYTHONWARNINGS", ""),)
                                             if not sys.flags.ignore_environment else ())
    paths = tuple((name, lib["path"]) for name, lib in sorted(libs.items()) if lib.get("path"))
    home = environ.get("HOME", "")
    # keras.json may name the backend with any JSON value (a list): the key must hash
    backend = record["backend"] if record["backend"] is None or isinstance(record["backend"], str) \
        else repr(record["backend"])
    found = discovery.memo("startup", (relevant, warnoptions, flavour, backend, paths, home),
                           lambda: check(flavour, backend, dict(relevant), dict(paths), warnoptions, home))
    if found["error"] is not None and record["status"] == "ok":
        record.update(status="error", error=found["error"])
        record["reason"] = "{}; then {}".format(record["reason"], found["why"])
        record["problems"][:0] = [dict(p) for p in found["problems"]]
    else:  # Keras fails earlier (or nothing fails): what remains to fix after that
        record["problems"].extend(dict(p) for p in found["problems"])


def imports(flavour: "Optional[str]", backend: "Optional[str]", paths: "Dict[str, str]") -> "List[str]":
    """The libraries ``import keras`` loads, in the order it meets them."""
    order = []  # type: List[str]
    if flavour == "keras2-multibackend":
        order = [str(backend)] + (["tensorflow"] if backend != "tensorflow" else [])
    elif flavour == "keras2-tensorflow":
        order = ["tensorflow"]
    elif flavour == "keras3":
        order = [str(backend)]
        # Keras 3's checkpoint callback imports jax whatever the backend
        keras = paths.get("keras", "")
        if source_has(os.path.join(_package(keras), "src", "callbacks", "orbax_checkpoint.py"), r"^\s*import jax\b"):
            order.append("jax")
    expanded = []  # type: List[str]
    for name in order:
        if name == "tensorflow" and source_has(os.path.join(_package(paths.get("tensorflow", "")), "lite", "python",
                                                            "util.py"), r"^\s*from jax import"):
            expanded.append("jax")  # TensorFlow's TFLite utilities import jax optionally, early
        expanded.append(name)
    out = []  # type: List[str]
    for name in expanded:
        if name in paths and name not in out:
            out.append(name)
    return out


def check(flavour: "Optional[str]", backend: "Optional[str]", environ: "Dict[str, str]", paths: "Dict[str, str]",
          warnoptions: "Tuple[str, ...]", home: str) -> "Found":
    """The first start-up failure and every problem, for the libraries Keras imports."""
    checks = _checks()
    found = {"error": None, "why": None, "problems": []}  # type: Found
    for library in imports(flavour, backend, paths):
        if library not in checks:
            continue
        result = checks[library](_package(paths[library]), environ, warnoptions, home)
        found["problems"].extend(result["problems"])
        if result["error"] is not None and found["error"] is None:
            found["error"] = result["error"]
            found["why"] = result["why"]
    errors = [o for option in warnoptions for o in option.split(",") if o.strip().startswith("e")]
    if found["error"] is None and errors:
        found["problems"].append(problem(
            "warnings-as-errors", "-W / PYTHONWARNINGS ({}) turns warnings into exceptions. kbackend knows the "
            "import-time warnings of TensorFlow 1.x (its imp import) and CNTK (its Linux distribution check) and "
            "finds none here, but it cannot see a warning that code raises only when it runs (a version check, a "
            "deprecation in a dependency): those would fail import keras too.".format(", ".join(errors)),
            "Run backend_info(verify = TRUE) to import Keras for real, or limit the filter (e.g. "
            "error::UserWarning:mymodule)."))
    return found


def _checks() -> "Dict[str, Any]":
    """Each library's check, by library.  The checks, and the ast, bisect,
    shlex and linecache they parse with, cost milliseconds to import: only
    on this path."""
    from . import startup_cntk, startup_common, startup_jax, startup_tensorflow, startup_theano, startup_torch

    for module in (startup_common, startup_jax, startup_torch, startup_theano, startup_tensorflow, startup_cntk):
        module.load_parsers()
    return {"jax": startup_jax.check, "torch": startup_torch.check, "theano": startup_theano.check,
            "tensorflow": startup_tensorflow.check, "cntk": startup_cntk.check}


def _package(path: str) -> str:
    return os.path.dirname(path) if path.endswith(".py") else path

