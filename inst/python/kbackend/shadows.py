"""Files of the user's that replace the modules ``import keras`` needs.

A ``keras.py`` in the working directory, a ``jax.py`` on ``PYTHONPATH`` or a
``random.py`` next to a script wins over the installed module (see
:mod:`kbackend.importpath`), and Keras then fails with an error that names
neither file.  Which exception comes first depends on what the user's file
contains, which kbackend never runs; the prediction names the exception
class Python raises in the usual case, and the problem names the file.
"""


from . import discovery, importpath, rules
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
    for hit in discovery.memo("stdlib-shadows", (loaded,), importpath.shadowed_stdlib):
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
