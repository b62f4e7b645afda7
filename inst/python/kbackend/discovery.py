"""Find installed libraries and their versions without importing them.

Importing TensorFlow to read ``tf.__version__`` costs seconds and hundreds of
megabytes, so locations come from the import system's finders, which locate
a module without executing it, and versions from the distribution installed
where the module is found (:mod:`kbackend.metadata`).  The answer is kept in
the process-wide cache (:mod:`kbackend.cache`) until the search path changes.
"""

import importlib.machinery
import importlib.util
import os
import sys

from . import cache, importpath, metadata

# Callers and tests that know these as discovery.<name>: custom.py (memo),
# modgraph.py (SIGNATURES, location_exists), startup.py
# (find_spec_without_import, memo) and the unit tests (the rest).
from .cache import STATE as _CACHE  # noqa: F401
from .cache import hold, memo, release, working_directory  # noqa: F401
from .metadata import (  # noqa: F401
    VERSION_FILES,
    locate_distribution,
    location_exists,
    normalize_dist_name,
    read_location,
    scan_distributions,
    split_archive,
    version_in_text,
    version_tuple,
)

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Callable, Dict, List, Optional, Tuple

    from .metadata import Listings

#: The libraries kbackend reports on, by importable module name, with the
#: distribution names that can provide each (first match on sys.path wins).
KNOWN_MODULES = {
    "keras": ("keras", "keras_nightly"),
    "tensorflow": (
        "tensorflow",
        "tensorflow_cpu",
        "tensorflow_gpu",
        "tensorflow_intel",
        "tensorflow_macos",
        "tensorflow_aarch64",
        "tensorflow_rocm",
        "intel_tensorflow",
        "tf_nightly",
        "tf_nightly_cpu",
    ),
    "jax": ("jax",),
    "torch": ("torch",),
    "numpy": ("numpy",),
    "openvino": ("openvino", "openvino_nightly"),
    "theano": ("theano",),
    "cntk": ("cntk", "cntk_gpu"),
    "tf_keras": ("tf_keras", "tf_keras_nightly"),
    "flax": ("flax",),
    "jaxlib": ("jaxlib", "jax_cuda12_plugin"),
    "scipy": ("scipy",),
}  # type: Dict[str, Tuple[str, ...]]

#: Entries every real copy of a package has (any one is enough): a package
#: folder with one of them but no metadata is a source checkout of the real
#: thing, not a user's folder of the same name.
SIGNATURES = {
    "keras": ("src", "backend"), "tensorflow": ("python",), "jax": ("_src",), "torch": ("_C", "nn"),
    "numpy": ("core", "_core"), "openvino": ("runtime",), "theano": ("gof", "tensor"), "cntk": ("ops",),
    "tf_keras": ("src",), "flax": ("linen",), "jaxlib": ("xla_client.py",), "scipy": ("sparse",),
}  # type: Dict[str, Tuple[str, ...]]
SIGNATURES["tensorflow"] += ("../tensorflow_core",)  # TensorFlow 1.15's package forwards to tensorflow_core


def find_spec_without_import(name: str) -> "Optional[importlib.machinery.ModuleSpec]":
    """Locate module ``name`` without executing it or any of its parents.

    ``importlib.util.find_spec("a.b")`` would import ``a``; a name that came
    from user input (``KERAS_BACKEND``, keras.json) must never run code, so
    dotted names are resolved one level at a time through the path finder.
    Returns None for anything that is not a findable module name.
    """
    if not isinstance(name, str) or not name or name.startswith("."):
        return None
    loaded = sys.modules.get(name)
    if loaded is not None:
        # Already imported (or an alias such as os.path): nothing new runs.
        return getattr(loaded, "__spec__", None)
    head, *rest = name.split(".")
    try:
        if head in sys.modules:
            spec = getattr(sys.modules[head], "__spec__", None)
        else:
            spec = importlib.util.find_spec(head)
        for part in rest:
            locations = spec.submodule_search_locations if spec is not None else None
            if spec is None or not locations or not part:
                return None
            spec = importlib.machinery.PathFinder.find_spec(
                spec.name + "." + part, list(locations)
            )
    except Exception:  # noqa: BLE001 - third-party finders may raise anything
        return None
    return spec


def module_location(spec: "Optional[importlib.machinery.ModuleSpec]") -> "Optional[str]":
    """The file or directory a spec points at, if it has one."""
    if spec is None:
        return None
    if spec.origin and spec.origin not in ("namespace", "built-in", "frozen"):
        return spec.origin
    locations = list(spec.submodule_search_locations or [])
    return locations[0] if locations else None


def module_finder(libs: "Dict[str, Dict[str, Any]]") -> "Callable[[str], bool]":
    """``has_module(name)`` for the rules: known modules from discovery, others by the finder."""
    def has_module(name: str) -> bool:
        if name in libs:
            return libs[name]["version"] is not None
        return find_spec_without_import(name) is not None

    return has_module


def installed_libraries() -> "Dict[str, Dict[str, Optional[str]]]":
    """For each known module: its version (from metadata) and location.

    A module counts as installed when the import system can find it.  Its
    version is read from the first matching distribution's metadata; a module
    found without metadata (a source checkout on PYTHONPATH) reports
    ``"unknown"``.  The answer is cached until sys.path, one of its
    directories or the import hooks change.
    """
    cache.refresh()
    return {name: dict(entry) for name, entry in cache.STATE["value"].items()}


def discover() -> "Dict[str, Dict[str, Any]]":
    """Each known module as ``import`` will find it, with the metadata of the
    distribution at that location (never the first one anywhere on the path).
    Called by :func:`kbackend.cache.refresh`, which keeps the answer.

    A module found where no distribution of it is installed, while a real
    installation comes later on the path (or found as a single file where
    the real thing is a package), is a shadow: ``shadow`` then describes the
    file that wins, and ``version``/``path`` the installation it hides.
    """
    path = importpath.search_path()
    listings: "Listings" = cache.STATE["listings"]
    result: "Dict[str, Dict[str, Any]]" = {}
    for module, candidates in KNOWN_MODULES.items():
        hit = _loaded(module) or importpath.resolve(module, path)
        entry: "Dict[str, Any]" = {"version": None, "path": None, "shadow": None, "dist": None}
        if hit is not None:
            version, dist = _version_at(hit, candidates, listings)
            if version is None and hit["kind"] == "loaded":  # what the module itself says, nothing run
                stated = vars(sys.modules[module]).get("__version__")
                version = stated if isinstance(stated, str) and stated else None
            real_layout = version is None and _looks_real(module, hit)
            if real_layout:  # no metadata where it is found: the package states its version itself
                version = metadata.own_version(module, os.path.dirname(hit["origin"]))
            entry.update(version=version or "unknown", path=hit["origin"], dist=dist)
            if version is None and hit["kind"] in ("module", "package") and hit["index"] is not None \
                    and not real_layout:
                real = _installed_after(module, candidates, path, hit["index"], listings)
                if real is not None or hit["kind"] == "module":
                    entry["shadow"] = {"path": hit["origin"], "entry": hit["entry"], "kind": hit["kind"]}
                    if real is not None:
                        entry.update(version=real[0], path=real[1], dist=real[2])
        result[module] = entry
    return result


def _looks_real(module: str, hit: "Dict[str, Any]") -> bool:
    """A package laid out like the real one (a checkout on PYTHONPATH, a copy
    in a zip or an egg), not a user's folder of the same name."""
    if hit["kind"] != "package" or not hit["origin"]:
        return False
    folder = os.path.dirname(hit["origin"])
    return any(metadata.location_exists(os.path.normpath(os.path.join(folder, *part.split("/"))))
               for part in SIGNATURES.get(module, ()))


def _loaded(module: str) -> "Optional[Dict[str, Any]]":
    """An already-imported module is what the process will keep using."""
    loaded = sys.modules.get(module)
    spec = getattr(loaded, "__spec__", None)
    if spec is None:
        return None
    origin = module_location(spec) if spec.origin in (None, "namespace") else spec.origin
    return {"name": module, "kind": "loaded", "origin": origin, "entry": importpath.entry_of(spec, module),
            "index": None}


def keras_flavour(version: "Optional[str]", path: "Optional[str]") -> "Optional[str]":
    """Which Keras line a version (or, lacking one, the layout of the package
    at ``path``, a folder or inside a zip) is."""
    parsed = metadata.version_tuple(version)
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
    if metadata.location_exists(os.path.join(package, "src", "backend", "config.py")):
        return "keras3"
    if metadata.location_exists(os.path.join(package, "backend", "load_backend.py")):
        return "keras2-multibackend"
    return "keras2-tensorflow"


def _version_at(hit: "Dict[str, Any]", candidates: "Tuple[str, ...]",
                listings: "Listings") -> "Tuple[Optional[str], Optional[str]]":
    """The version and metadata folder of the distribution installed where
    ``hit`` was found; (None, None) when there is none."""
    if hit["entry"] is None:
        return None, None
    found = metadata.listing(hit["entry"], listings)
    for dist in candidates:
        dists = found.get(dist)
        if not dists:
            continue
        chosen = (metadata.record_owner(hit, hit["entry"], dists) if len(dists) > 1 else None) or dists[0]
        return chosen[1] or "unknown", os.path.join(hit["entry"], chosen[0])
    return None, None


def _installed_after(module: str, candidates: "Tuple[str, ...]", path: "List[str]", index: int,
                     listings: "Listings") -> "Optional[Tuple[str, Optional[str], Optional[str]]]":
    """A real installation of ``module`` later on the path: (version, location)."""
    for entry in path[index + 1:]:
        found = metadata.listing(entry, listings)
        if not any(dist in found for dist in candidates):
            continue
        hit = importpath.resolve(module, [entry])
        if hit is not None and hit["kind"] in ("module", "package"):
            version, dist = _version_at(dict(hit, entry=entry), candidates, listings)
            return (version or "unknown", hit["origin"], dist)
    return None
