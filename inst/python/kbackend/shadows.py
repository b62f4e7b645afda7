"""Files of the user's that replace the modules ``import keras`` needs.

A ``keras.py`` in the working directory, a ``jax.py`` on ``PYTHONPATH`` or a
``random.py`` next to a script wins over the installed module (see
:mod:`kbackend.importpath`), and Keras then fails with an error that names
neither file.  Which exception comes first depends on what the user's file
contains, which kbackend never runs; the prediction names the exception
class Python raises in the usual case, and the problem names the file.
"""


import os
import sys

from . import _stdlib, cache, importpath, rules
from .problems import problem

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional



#: How ``import keras`` fails when a file replaces a standard module it uses,
#: measured with real Keras (3.15 with TensorFlow on Python 3.11; ``json``
#: and ``random`` also with Keras 2.3.1 and 2.15 on 3.6, 3.7 and 3.11).  A
#: standard module missing here is still reported, as a file that may break
#: the import: whether it does depends on what is used of it while Keras
#: loads (a ``csv.py`` or ``shutil.py`` did not break it).
STDLIB_FAILURES = {
    "ast": "AttributeError", "copy": "AttributeError", "dataclasses": "AttributeError",
    "datetime": "AttributeError", "email": "ModuleNotFoundError", "http": "ModuleNotFoundError",
    "inspect": "AttributeError", "json": "AttributeError", "logging": "ImportError", "math": "AttributeError",
    "numbers": "AttributeError", "pickle": "AttributeError", "platform": "AttributeError",
    "queue": "ImportError", "random": "ImportError", "signal": "AttributeError", "socket": "AttributeError",
    "string": "ImportError", "struct": "ImportError", "tempfile": "AttributeError",
    "textwrap": "AttributeError", "threading": "AttributeError", "traceback": "AttributeError",
    "typing": "ImportError", "weakref": "AttributeError",
}


def needed_libraries(flavour: "Optional[str]", version: "Any", backend: "Any") -> "Dict[str, str]":
    """Third-party modules ``import keras`` loads with this backend, in order,
    each with the exception a file replacing it causes (measured as above)."""
    if not isinstance(backend, str):
        backend = None  # keras.json can hold any JSON value; Keras fails on it before any library
    needed = {"numpy": "ImportError" if flavour == "keras3" else "AttributeError"}
    if flavour == "keras3":
        # Keras 3 looks for JAX whatever the backend; a jax.py is then asked for jax.monitoring
        needed["jax"] = "ModuleNotFoundError" if backend == "jax" else "AttributeError"
        if backend in rules.KERAS3_BACKENDS:
            for name in rules.keras3_libraries(version or (3, 99), backend):
                needed.setdefault(name, "ModuleNotFoundError")
        if backend in ("jax", "numpy"):
            needed.update(jaxlib="ImportError", scipy="ModuleNotFoundError")
    elif flavour == "keras2-multibackend" and backend in rules.KERAS2_BUILTINS:
        library = rules.KERAS2_BUILTINS[backend]
        needed[library] = "ImportError" if library == "theano" else "ModuleNotFoundError"
    elif flavour == "keras2-tensorflow":
        needed["tensorflow"] = "ModuleNotFoundError"
    return needed


def find(libs: "Dict[str, Dict[str, Any]]", flavour: "Optional[str]", version: "Any",
         backend: "Any") -> "List[Dict[str, Any]]":
    """Every shadow that matters, in the order the import meets them:
    Keras itself, then the standard library, then its dependencies.  Each
    carries ``fails``: the exception class it causes, or None when that
    cannot be told without running the user's file."""
    found: "List[Dict[str, Any]]" = []
    if libs["keras"].get("shadow"):
        found.append(dict(libs["keras"]["shadow"], name="keras", role="keras", fails="AttributeError"))
    loaded = frozenset(name for name in importpath.KERAS_STDLIB_IMPORTS if importpath.already_loaded(name))
    for hit in cache.memo("stdlib-shadows", (loaded,), importpath.shadowed_stdlib):
        found.append({"name": hit["name"], "path": hit["origin"], "entry": hit["entry"], "kind": hit["kind"],
                      "role": "stdlib", "fails": STDLIB_FAILURES.get(hit["name"])})
    for name, fails in needed_libraries(flavour, version, backend).items():
        shadow = libs.get(name, {}).get("shadow")
        if shadow:
            # Keras 2 imports NumPy itself, before its backend; Keras 3 meets
            # a broken NumPy only through the backend library
            early = name == "numpy" and flavour != "keras3"
            found.append(dict(shadow, name=name, role="early-library" if early else "library", fails=fails))
    return found


def first_failure(found: "List[Dict[str, Any]]", import_fails: bool = False) -> "Optional[str]":
    """The exception the first breaking shadow causes, as ``Class: message``.

    A dependency's file is met while the backend loads, so when the import
    already fails earlier (a backend library missing, ...) that failure
    comes first; Keras's own file and standard modules are met before it.
    """
    for shadow in found:
        if shadow["fails"] is None or (import_fails and shadow["role"] == "library"):
            continue
        name, path = shadow["name"], shadow["path"]
        if shadow["role"] == "keras":
            # the user's keras runs instead, and is asked for its backend
            return "AttributeError: module 'keras' has no attribute 'backend' (import keras loads {}, " \
                   "not Keras)".format(path)
        what = "the standard module" if shadow["role"] == "stdlib" else "the installed"
        return "{}: {} replaces {} {!r}".format(shadow["fails"], path, what, name)
    return None


def problems(found: "List[Dict[str, Any]]") -> "List[Dict[str, str]]":
    """One problem per shadowing file, naming it and the fix."""
    out: "List[Dict[str, str]]" = []
    for shadow in found:
        what = {"keras": "Keras", "stdlib": "the standard library's {!r}".format(shadow["name"])}.get(
            shadow["role"], "the installed {!r}".format(shadow["name"]))
        effect = "import keras gets this file instead" if shadow["fails"] else \
            "import keras gets this file instead, which may break it"
        out.append(problem(
            "module-shadowed",
            "{} in {} replaces {}: {}.".format(shadow["path"], importpath.describe_entry(shadow["entry"]), what, effect),
            "Rename or remove {} (and any __pycache__ next to it), or run from another directory.".format(
                shadow["path"])))
    return out


#: The libraries whose own modules run only once Keras has chosen its
#: backend: a failure inside them comes after Keras's own checks.
_BACKEND_LIBRARIES = ("tensorflow", "jax", "jaxlib", "torch", "openvino", "theano", "cntk", "scipy")


def _own_site(entry: str) -> bool:
    """Whether a search-path entry belongs to this interpreter's own
    installation (its prefixes, the user site), not to another environment."""
    folder = os.path.normcase(os.path.abspath(entry or os.curdir))
    prefixes = {sys.prefix, sys.exec_prefix, getattr(sys, "base_prefix", sys.prefix),
                getattr(sys, "base_exec_prefix", sys.exec_prefix)}
    site = sys.modules.get("site")
    user = getattr(site, "USER_SITE", None) if site is not None else None
    for prefix in list(prefixes) + ([user] if user else []):
        root = os.path.normcase(os.path.abspath(prefix))
        if folder == root or folder.startswith(root + os.sep):
            return True
    return False


def sites(libs: "Dict[str, Dict[str, Any]]") -> "Dict[str, List[str]]":
    """The folders the found libraries are installed in, with the libraries
    in each; this interpreter's own site folders count as one (``""``)."""
    found: "Dict[str, List[str]]" = {}
    for name, lib in libs.items():
        where = lib.get("dist") or lib.get("path")
        if not where or lib.get("version") is None:
            continue
        entry = os.path.dirname(where) if lib.get("dist") else _entry_of_path(name, where)
        if entry is None:
            continue
        found.setdefault("" if _own_site(entry) else entry, []).append(name)
    return found


def _entry_of_path(name: str, path: str) -> "Optional[str]":
    folder = os.path.dirname(path)
    if os.path.basename(path).startswith("__init__."):
        folder = os.path.dirname(folder)
    return folder


def unusual(libs: "Dict[str, Dict[str, Any]]", found: "List[Dict[str, Any]]") -> bool:
    """Whether the installation is out of the ordinary, so that the import
    must be followed module by module: a shadowing file, a library found
    without its distribution's metadata (a stub, a partial copy), or the
    libraries of more than one environment on one search path."""
    if found:
        return True
    if any(lib.get("version") == "unknown" for lib in libs.values()):
        return True
    return len(cache.memo("sites", (), lambda: sites(libs))) > 1


def graph(libs: "Dict[str, Dict[str, Any]]", backend: "Any", environ: "Optional[Dict[str, str]]" = None
          ) -> "Dict[str, Any]":
    """``import keras`` followed statically (see :mod:`kbackend.modgraph`),
    through the modules that win on the search path; cached until it changes."""
    with _stdlib.first():  # ast, only on this path; before the loaded modules are listed
        from . import modgraph
    loaded = frozenset(name for name in (importpath.LOADED_AT_START if importpath.FRESH_PROCESS else sys.modules)
                       if not name.startswith(("kbackend", "__main__")))

    def compute() -> "Dict[str, Any]":

        # what Keras decides at import from its own state: the backend, and
        # whether its lazily imported tree libraries can be found
        path = importpath.search_path()
        facts = {"keras.src.backend.config.backend": backend, "keras.backend.load_backend._BACKEND": backend}
        for name, module in (("optree", "optree"), ("dmtree", "tree")):
            facts["keras.src.utils.module_utils.{}.available".format(name)] = \
                importpath.resolve(module, path) is not None
        return modgraph.walk("keras", path, loaded, facts, ("backend",), environ)

    variables = tuple(sorted((environ or {}).items()))
    return cache.memo("module-graph", (backend if isinstance(backend, str) else None, loaded, variables), compute)


def graph_failure(walked: "Dict[str, Any]", import_fails: bool) -> "Optional[str]":
    """The exception the followed import meets first, or None.  When the
    rules already predict a failure, a failure inside a backend library comes
    after it (Keras checks its configuration before loading one)."""
    if not walked["error"]:
        return None
    if import_fails and any(name.split(".")[0] in _BACKEND_LIBRARIES for name in walked["chain"] + [walked["module"]]):
        return None
    return walked["error"]


def graph_problems(walked: "Dict[str, Any]", libs: "Dict[str, Dict[str, Any]]") -> "List[Dict[str, str]]":
    """The failure the followed import meets, where it happens, and a mix of
    environments, as problems (cached with the walk)."""
    return cache.memo("module-graph-problems", (id(walked),), lambda: _graph_problems(walked, libs))


def _graph_problems(walked: "Dict[str, Any]", libs: "Dict[str, Dict[str, Any]]") -> "List[Dict[str, str]]":
    out: "List[Dict[str, str]]" = []
    if walked["error"]:
        chain = [name for name in walked["chain"] if name]
        where = " -> ".join(chain[-4:]) if chain else walked["module"]
        top = (walked["module"] or "?").split(".")[0]
        folder = walked.get("tops", {}).get(top)
        out.append(problem(
            "import-fails-inside",
            "import keras fails while importing {} ({}): {}".format(walked["module"], where, walked["error"]),
            "The {!r} that wins on the search path{} is not a whole installation of it: remove that file or "
            "folder, or reinstall the package.".format(top, " ({})".format(folder) if folder else "")))
    groups = sites(libs)
    for module, folder in walked.get("tops", {}).items():
        if importpath.is_stdlib_entry(folder) or any(module in names for names in groups.values()):
            continue
        groups.setdefault("" if _own_site(folder) else folder, []).append(module)
    if len(groups) > 1:
        described = ["{} ({}{})".format(folder or "this Python's own site-packages", ", ".join(sorted(names)[:6]),
                                        ", ..." if len(names) > 6 else "")
                     for folder, names in sorted(groups.items())]
        out.append(problem(
            "environments-mixed",
            "import keras loads packages from more than one environment: {}.".format("; ".join(described)),
            "Remove the other environment's folder from PYTHONPATH (or .pth files), or run that environment's own "
            "Python."))
    return out
