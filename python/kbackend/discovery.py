"""Find installed libraries and their versions without importing them.

Importing TensorFlow to read ``tf.__version__`` costs seconds and hundreds of
megabytes, so versions come from distribution metadata (``*.dist-info`` and
``*.egg-info`` directories on ``sys.path``) and locations from the import
system's finders, which locate a module without executing it.
"""

import importlib.machinery
import importlib.util
import os
import re
import sys
MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, Iterable, List, Optional, Tuple

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
}  # type: Dict[str, Tuple[str, ...]]

_DIST_SUFFIXES = (".dist-info", ".egg-info")


def normalize_dist_name(name: str) -> str:
    """PEP 503-style normalisation, with ``_`` as wheels write it on disk."""
    return re.sub(r"[-_.]+", "_", name).lower()


def version_tuple(version: "Optional[str]") -> "Tuple[int, ...]":
    """Leading numeric release components: ``"2.3.1rc0"`` → ``(2, 3, 1)``."""
    if not version:
        return ()
    parts = []  # type: List[int]
    for piece in version.split("."):
        match = re.match(r"\d+", piece)
        if not match:
            break
        parts.append(int(match.group()))
        if match.end() != len(piece):
            break
    return tuple(parts)


def _metadata_version(path: str) -> "Optional[str]":
    """The ``Version:`` header of a METADATA or PKG-INFO file."""
    for filename in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(path, filename), encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    if line.startswith("Version:"):
                        return line.split(":", 1)[1].strip()
                    if not line.strip():
                        break
        except OSError:
            continue
    return None


def _parse_dist_dir(entry: str, directory: str) -> "Tuple[str, Optional[str]]":
    """Split ``name-version.dist-info`` into (normalised name, version)."""
    stem = entry.rsplit(".", 1)[0]
    name, sep, rest = stem.partition("-")
    if sep:
        # egg-info names may carry a "-py3.7" tag after the version.
        version = rest.split("-", 1)[0] or None
    else:
        version = _metadata_version(os.path.join(directory, entry))
    return normalize_dist_name(name), version


def scan_distributions(
    paths: "Optional[Iterable[str]]" = None, wanted: "Optional[Iterable[str]]" = None
) -> "Dict[str, Tuple[Optional[str], str]]":
    """Map normalised distribution names to ``(version, directory)``.

    Walks ``paths`` (default ``sys.path``) in order, as the import system does,
    so the first distribution found shadows later ones.  Only names in
    ``wanted`` are kept, which keeps the walk cheap on large environments.
    """
    want = None if wanted is None else {normalize_dist_name(n) for n in wanted}
    found = {}  # type: Dict[str, Tuple[Optional[str], str]]
    for directory in sys.path if paths is None else paths:
        directory = directory or "."  # "" is the working directory, even a deleted one
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        for entry in entries:
            if not entry.endswith(_DIST_SUFFIXES):
                continue
            name, version = _parse_dist_dir(entry, directory)
            if (want is None or name in want) and name not in found:
                found[name] = (version, directory)
    return found


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
            locations = spec.submodule_search_locations if spec else None
            if not locations or not part:
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


_CACHE = {"key": None, "value": None}  # type: Dict[str, Any]


def _fingerprint() -> "Tuple[Any, ...]":
    """What discovery depends on: the search path, its directories' mtimes
    (installing or removing a package adds or removes a directory entry) and
    the import hooks.  Cheap: one stat per sys.path entry."""
    stamps = []  # type: List[Any]
    for directory in sys.path:
        try:
            stamps.append(os.stat(directory or ".").st_mtime_ns)
        except OSError:
            stamps.append(None)
    return (tuple(sys.path), tuple(stamps), working_directory(), tuple(map(id, sys.meta_path)),
            tuple(map(id, sys.path_hooks)))


def working_directory() -> "Optional[str]":
    """The current directory, or None when it has been deleted under us."""
    try:
        return os.getcwd()
    except OSError:
        return None


def installed_libraries() -> "Dict[str, Dict[str, Optional[str]]]":
    """For each known module: its version (from metadata) and location.

    A module counts as installed when the import system can find it.  Its
    version is read from the first matching distribution's metadata; a module
    found without metadata (a source checkout on PYTHONPATH) reports
    ``"unknown"``.  The answer is cached until sys.path, one of its
    directories or the import hooks change.
    """
    key = _fingerprint()
    if _CACHE["key"] != key:
        _CACHE["value"] = _discover()
        _CACHE["key"] = key
    return {name: dict(entry) for name, entry in _CACHE["value"].items()}


def _discover() -> "Dict[str, Dict[str, Optional[str]]]":
    wanted = [dist for dists in KNOWN_MODULES.values() for dist in dists]
    dists = scan_distributions(wanted=wanted)
    result = {}  # type: Dict[str, Dict[str, Optional[str]]]
    for module, candidates in KNOWN_MODULES.items():
        spec = find_spec_without_import(module)
        if spec is None:
            result[module] = {"version": None, "path": None}
            continue
        version = "unknown"
        for dist in candidates:
            if dist in dists:
                version = dists[dist][0] or "unknown"
                break
        result[module] = {"version": version, "path": module_location(spec)}
    return result
