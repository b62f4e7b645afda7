"""kerasR: what ``library(kerasR)`` will do, and what it did.

kerasR 0.8.0 (statsmaths/kerasR, ``R/onLoad.R`` and ``R/keras_init.R``)
connects to Keras in its ``.onLoad``, through ``keras_init()``:

1. ``keras_available()``: ``reticulate::py_available(initialize = TRUE)`` --
   Python starts at ``library(kerasR)``, reticulate's default choice (kerasR
   names no environment and registers no module) -- then
   ``py_numpy_available()``, ``import("numpy")`` and
   ``py_module_available("keras")``, which *imports* keras, so the backend is
   fixed by ``library(kerasR)`` -- even when the numpy check failed, as the
   keras check runs anyway.  Any failure here is swallowed: kerasR prints
   "keras not available" (or "numpy not available") and loads without a
   connection; ``kerasR::keras_init()`` tries again later.  reticulate reads
   NumPy through its C API and accepts NumPy 2's only from 1.38.0 on
   (``src/libpython.cpp``), so with an older reticulate NumPy 2 counts as
   not available.
2. Then numpy and the 22 submodules of :data:`SUBMODULES`, one by one, with
   no error handler: the first that cannot be imported makes
   ``library(kerasR)`` fail (".onLoad failed in loadNamespace()") with that
   import's exception.

Which of those submodules a Keras provides is read from its files, through
the import system's path finder one level at a time, never by importing
them and never from a table of Keras versions: a patched Keras is judged by
what is on disk.  R says whether kerasR is loaded and, if so, connected (it
holds the imported modules); this module turns that into the record.
"""

import importlib.machinery
import os

from . import cache, interface_problems, interfaces, metadata
from .problems import problem

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional, Tuple

#: The first reticulate that accepts NumPy 2's C API.
RETICULATE_NUMPY2 = (1, 38)

#: The modules keras_init() imports after keras itself, in its order.
SUBMODULES = (
    "keras.models",
    "keras.layers.core",
    "keras.layers.convolutional",
    "keras.layers.pooling",
    "keras.layers.local",
    "keras.layers.recurrent",
    "keras.layers.embeddings",
    "keras.layers.advanced_activations",
    "keras.layers.normalization",
    "keras.layers.noise",
    "keras.layers.wrappers",
    "keras.optimizers",
    "keras.callbacks",
    "keras.initializers",
    "keras.regularizers",
    "keras.constraints",
    "keras.utils",
    "keras.datasets",
    "keras.applications",
    "keras.preprocessing.text",
    "keras.preprocessing.sequence",
    "keras.preprocessing.image",
)


def keras_package(path: "Optional[str]") -> "Optional[str]":
    """The folder of the keras package ``import keras`` finds (discovery's path)."""
    if not path:
        return None
    if os.path.basename(path) == "__init__.py":
        return os.path.dirname(path)
    return path if os.path.isdir(path) else None


def missing_submodule(package: "Optional[str]") -> "Optional[Tuple[str, str]]":
    """The first of :data:`SUBMODULES` the keras package in ``package`` lacks,
    with the exception ``import`` raises for it; None when all are there.

    Each dotted name is resolved one level at a time with the path finder over
    the parent's folder, as the import system would after importing the
    parent -- without running anything.
    """
    if package is None:
        return None
    return cache.memo("kerasr-submodules", (package,), lambda: _first_missing(package))


def _first_missing(package: str) -> "Optional[Tuple[str, str]]":
    found: "Dict[str, Optional[List[str]]]" = {"keras": [package]}
    for name in SUBMODULES:
        parts = name.split(".")
        for depth in range(2, len(parts) + 1):
            prefix = ".".join(parts[:depth])
            if prefix in found:
                continue
            parent = ".".join(parts[:depth - 1])
            locations = found[parent]
            if locations is None:  # a module, not a package
                return name, "ModuleNotFoundError: No module named {!r}; {!r} is not a package".format(
                    prefix, parent)
            try:
                spec = importlib.machinery.PathFinder.find_spec(prefix, list(locations))
            except (ImportError, OSError, ValueError):
                spec = None
            if spec is None:
                return name, "ModuleNotFoundError: No module named {!r}".format(prefix)
            search = spec.submodule_search_locations
            found[prefix] = list(search) if search else None
    return None


def numpy_unavailable(record: "Dict[str, Any]", facts: "Dict[str, Any]") -> "Optional[str]":
    """Why reticulate's ``py_numpy_available()`` is FALSE here, or None."""
    version = record["installed"].get("numpy")
    if version is None:
        return "numpy is not installed in this Python"
    reticulate = metadata.version_tuple(facts["reticulate_version"])
    if reticulate and reticulate < RETICULATE_NUMPY2 and metadata.version_tuple(version) >= (2,):
        return ("reticulate {} cannot use NumPy {} (NumPy 2 needs reticulate 1.38 or later), so "
                "py_numpy_available() is FALSE".format(facts["reticulate_version"], version))
    return None


def settle(record: "Dict[str, Any]", facts: "Dict[str, Any]", environ: "Dict[str, str]",
           state: "Dict[str, Any]") -> None:
    """Apply kerasR's load to ``record`` (in place): ``interface.load``, the
    error a failing ``library(kerasR)`` raises, and the problems."""
    name = interfaces.label(facts)
    if facts["loaded"]:
        load = _after_load(record, facts, environ, state, name)
    else:
        load = _before_load(record, facts, state, name)
    if record["interface"] is not None:
        record["interface"]["connected"] = facts["connected"] if facts["loaded"] else None
        record["interface"]["load"] = load


def _load(outcome: str, reason: str, error: "Optional[str]" = None,
          module: "Optional[str]" = None) -> "Dict[str, Any]":
    return {"outcome": outcome, "error": error, "module": module, "reason": reason}


def _before_load(record: "Dict[str, Any]", facts: "Dict[str, Any]", state: "Dict[str, Any]",
                 name: str) -> "Dict[str, Any]":
    # keras_available() imports keras whatever the numpy check said
    imports_keras = record["status"] == "ok" and not state["locked"]
    numpy = numpy_unavailable(record, facts)
    if numpy is not None:
        missing = missing_submodule(keras_package(record["keras"]["path"])) if imports_keras else None
        later = "" if missing is None else "; with numpy usable, kerasR would then fail on Keras {}'s missing {}".format(
            record["keras"]["version"], missing[0])
        load = _load("unconnected", numpy + later, record["error"], missing[0] if missing else None)
    elif record["status"] == "error":
        load = _load("unconnected", "its import of keras fails ({}), and kerasR swallows that".format(
            record["error"] or record["reason"]), record["error"])
    else:
        missing = missing_submodule(keras_package(record["keras"]["path"]))
        if missing is None:
            load = _load("connects", "keras and the {} modules kerasR imports are all there".format(
                len(SUBMODULES)))
        else:
            module, error = missing
            load = _load("fails", "Keras {} has no {} (kerasR needs the Keras 2 module layout)".format(
                record["keras"]["version"], module), error, module)
            record.update(status="error", error=error)
            record["problems"].insert(0, problem(
                "kerasr-keras-layout",
                "{} needs the Keras 2 module layout (keras.layers.core, ...), which Keras {} does not have: "
                "library(kerasR) will fail with {} (.onLoad failed in loadNamespace() for 'kerasR').".format(
                    name, record["keras"]["version"], error),
                "Install a Keras with that layout, Keras 2.3 or earlier (pip install \"keras<2.4\", which needs "
                "TensorFlow 1.x or Theano), in this Python, or use the keras3 R package instead."))
    if imports_keras:
        record["problems"].append(problem(
            "kerasr-imports-keras",
            "{} imports keras when it loads: library(kerasR) starts Python and fixes the backend ({!r}) "
            "for the rest of the R session.".format(name, record["backend"]),
            "Call kbackend::use_keras_backend() before library(kerasR) (in R Markdown, in the setup "
            "chunk), never after it."))
    if load["outcome"] == "unconnected":
        record["problems"].append(problem(
            "kerasr-unconnected",
            "library(kerasR) will load without a connection to Keras: {} (it only prints a message).".format(
                load["reason"]),
            _fix(numpy, "then kerasR::keras_init() connects, or load kerasR after the fix.")))
    return load


def _after_load(record: "Dict[str, Any]", facts: "Dict[str, Any]", environ: "Dict[str, str]",
                state: "Dict[str, Any]", name: str) -> "Dict[str, Any]":
    if facts["connected"]:
        return _load("connected", "kerasR imported keras and its modules when it loaded")
    if state["failed_import"] and record["status"] == "ok":
        # the retry re-runs what failed; info skips this check once Keras is
        # (partly) loaded
        failure = interface_problems.theano_compile_failure(record, environ)
        if failure is not None:
            record.update(status="error", error=failure["error"])
            record["problems"].insert(0, failure["problem"])
    missing = None
    numpy = numpy_unavailable(record, facts)
    if record["status"] == "ok" and numpy is None:
        missing = missing_submodule(keras_package(record["keras"]["path"]))
        if missing is not None:
            record.update(status="error", error=missing[1])
    if numpy is not None:
        failed = numpy
    elif missing is not None:
        failed = "keras imports, but Keras {} has no {}, so kerasR::keras_init() fails ({})".format(
            record["keras"]["version"], missing[0], missing[1])
    elif record["status"] == "error":
        failed = "importing keras fails ({})".format(record["error"] or record["reason"])
    else:
        failed = None
    if failed is None:
        message = ("{} is loaded but not connected to Keras (its import of keras failed when it loaded); "
                   "import keras would now work.".format(name))
        fix = "Call kerasR::keras_init(), which retries the connection."
    else:
        message = "{} is loaded but not connected to Keras: {}.".format(name, failed)
        fix = _fix(numpy, "then call kerasR::keras_init(), which retries the connection.")
    record["problems"].insert(0, problem("kerasr-not-connected", message, fix))
    return _load("not-connected", failed or "its import of keras failed when it loaded",
                 record["error"], missing[0] if missing else None)


def _fix(numpy: "Optional[str]", then: str) -> str:
    """The fix for an unconnected kerasR; a numpy fix needs a new R session
    (the running Python and reticulate keep what they loaded)."""
    if numpy is not None and numpy.startswith("reticulate"):
        return ("Update reticulate (install.packages(\"reticulate\")) or install numpy<2 in this Python, then "
                "restart R and load kerasR again.")
    if numpy is not None:
        return "Install numpy in this Python, then restart R and load kerasR again."
    return "Fix that first (see the other problems; kerasR needs Keras 2.3 or earlier); {}".format(then)
