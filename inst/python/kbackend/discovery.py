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

from . import _stdlib, importpath

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

    Listings = Dict[str, Dict[str, List[Tuple[str, Optional[str]]]]]

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

_DIST_SUFFIXES = (".dist-info", ".egg-info")
#: Entries every real copy of a package has (any one is enough): a package
#: folder with one of them but no metadata is a source checkout of the real
#: thing, not a user's folder of the same name.
SIGNATURES = {
    "keras": ("src", "backend"), "tensorflow": ("python",), "jax": ("_src",), "torch": ("_C", "nn"),
    "numpy": ("core", "_core"), "openvino": ("runtime",), "theano": ("gof", "tensor"), "cntk": ("ops",),
    "tf_keras": ("src",), "flax": ("linen",), "jaxlib": ("xla_client.py",), "scipy": ("sparse",),
}  # type: Dict[str, Tuple[str, ...]]


def normalize_dist_name(name: str) -> str:
    """PEP 503-style normalisation, with ``_`` as wheels write it on disk."""
    return re.sub(r"[-_.]+", "_", name).lower()


def version_tuple(version: "Optional[str]") -> "Tuple[int, ...]":
    """Leading numeric release components: ``"2.3.1rc0"`` → ``(2, 3, 1)``."""
    if not version:
        return ()
    parts: "List[int]" = []
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
    found: "Dict[str, Tuple[Optional[str], str]]" = {}
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


_CACHE: "Dict[str, Any]" = {"key": None, "value": None, "memo": {}, "listings": {}}


def _fingerprint() -> "Tuple[Any, ...]":
    """What discovery depends on: the search path, its directories' mtimes
    (installing or removing a package adds or removes a directory entry) and
    the import hooks.  Cheap: one stat per sys.path entry."""
    stamps: "List[Any]" = []
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
    _refresh()
    return {name: dict(entry) for name, entry in _CACHE["value"].items()}


def _refresh() -> None:
    key = _fingerprint()
    if _CACHE["key"] != key:
        # one listing per folder for the whole fingerprint: the requirement
        # checks look up dozens of distributions in the same site-packages
        _CACHE["listings"] = {}
        _CACHE["value"] = _discover()
        _CACHE["memo"] = {}
        _CACHE["key"] = key


def memo(name: str, args: "Tuple[Any, ...]", compute: "Any") -> "Any":
    """``compute()``, remembered until the search path or one of its folders
    changes (the same fingerprint as :func:`installed_libraries`).  For the
    other look-ups that read the file system (shadows, requirements): in
    process, ``backend_info()`` is called often and must stay cheap.  The
    result is shared: callers must not change it."""
    _refresh()
    key = (name, args)
    if key not in _CACHE["memo"]:
        _CACHE["memo"][key] = compute()
    return _CACHE["memo"][key]


def _discover() -> "Dict[str, Dict[str, Any]]":
    """Each known module as ``import`` will find it, with the metadata of the
    distribution at that location (never the first one anywhere on the path).

    A module found where no distribution of it is installed, while a real
    installation comes later on the path (or found as a single file where
    the real thing is a package), is a shadow: ``shadow`` then describes the
    file that wins, and ``version``/``path`` the installation it hides.
    """
    path = importpath.search_path()
    listings: "Listings" = _CACHE["listings"]
    result: "Dict[str, Dict[str, Any]]" = {}
    for module, candidates in KNOWN_MODULES.items():
        hit = _loaded(module) or importpath.resolve(module, path)
        entry: "Dict[str, Any]" = {"version": None, "path": None, "shadow": None, "dist": None}
        if hit is not None:
            version, dist = _version_at(hit, candidates, listings)
            entry.update(version=version or "unknown", path=hit["origin"], dist=dist)
            if version is None and hit["kind"] in ("module", "package") and hit["index"] is not None \
                    and not _looks_real(module, hit):
                real = _installed_after(module, candidates, path, hit["index"], listings)
                if real is not None or hit["kind"] == "module":
                    entry["shadow"] = {"path": hit["origin"], "entry": hit["entry"], "kind": hit["kind"]}
                    if real is not None:
                        entry.update(version=real[0], path=real[1], dist=real[2])
        result[module] = entry
    return result


def locate_distribution(name: str, path: "Optional[List[str]]" = None
                        ) -> "Optional[Tuple[Optional[str], str]]":
    """The first installation of distribution ``name`` on the search path:
    ``(version, metadata folder)``, or None."""
    if path is None:
        _refresh()
        listings: "Listings" = _CACHE["listings"]
    else:
        listings = {}
    wanted = normalize_dist_name(name)
    for entry in importpath.search_path() if path is None else path:
        dists = _listing(entry, listings).get(wanted)
        if dists:
            return dists[0][1] or "unknown", os.path.join(entry or os.curdir, dists[0][0])
    return None


def _looks_real(module: str, hit: "Dict[str, Any]") -> bool:
    """A package folder laid out like the real one (a checkout on PYTHONPATH)."""
    if hit["kind"] != "package" or not hit["origin"]:
        return False
    folder = os.path.dirname(hit["origin"])
    return any(os.path.exists(os.path.join(folder, part)) for part in SIGNATURES.get(module, ()))


def _loaded(module: str) -> "Optional[Dict[str, Any]]":
    """An already-imported module is what the process will keep using."""
    loaded = sys.modules.get(module)
    spec = getattr(loaded, "__spec__", None)
    if spec is None:
        return None
    origin = module_location(spec) if spec.origin in (None, "namespace") else spec.origin
    return {"name": module, "kind": "loaded", "origin": origin, "entry": importpath._entry_of(spec, module),
            "index": None}


def _listing(directory: str, listings: "Listings") -> "Dict[str, List[Tuple[str, Optional[str]]]]":
    """Distributions installed in one search-path entry: name -> [(folder, version)]."""
    if directory not in listings:
        found: "Dict[str, List[Tuple[str, Optional[str]]]]" = {}
        for item, version in _dist_entries(directory):
            name, parsed = _parse_dist_dir(item, directory) if version is None else (
                normalize_dist_name(item.split("-", 1)[0]), version)
            found.setdefault(name, []).append((item, parsed))
        listings[directory] = found
    return listings[directory]


def _dist_entries(directory: str) -> "List[Tuple[str, Optional[str]]]":
    """``*.dist-info``/``*.egg-info`` names in a folder or a zip archive."""
    if os.path.isfile(directory):
        with _stdlib.first():
            import zipfile
        try:
            with zipfile.ZipFile(directory) as archive:
                tops = {name.split("/", 1)[0] for name in archive.namelist()}
        except (OSError, zipfile.BadZipFile):
            return []
        return [(top, top.rsplit(".", 1)[0].partition("-")[2].split("-", 1)[0] or None) for top in sorted(tops)
                if top.endswith(_DIST_SUFFIXES)]
    try:
        return [(item, None) for item in sorted(os.listdir(directory or os.curdir)) if item.endswith(_DIST_SUFFIXES)]
    except OSError:
        return []


def _version_at(hit: "Dict[str, Any]", candidates: "Tuple[str, ...]",
                listings: "Listings") -> "Tuple[Optional[str], Optional[str]]":
    """The version and metadata folder of the distribution installed where
    ``hit`` was found; (None, None) when there is none."""
    if hit["entry"] is None:
        return None, None
    found = _listing(hit["entry"], listings)
    for dist in candidates:
        dists = found.get(dist)
        if not dists:
            continue
        chosen = (_owner(hit, hit["entry"], dists) if len(dists) > 1 else None) or dists[0]
        return chosen[1] or "unknown", os.path.join(hit["entry"], chosen[0])
    return None, None


def _installed_after(module: str, candidates: "Tuple[str, ...]", path: "List[str]", index: int,
                     listings: "Listings") -> "Optional[Tuple[str, Optional[str], Optional[str]]]":
    """A real installation of ``module`` later on the path: (version, location)."""
    for entry in path[index + 1:]:
        found = _listing(entry, listings)
        if not any(dist in found for dist in candidates):
            continue
        hit = importpath.resolve(module, [entry])
        if hit is not None and hit["kind"] in ("module", "package"):
            version, dist = _version_at(dict(hit, entry=entry), candidates, listings)
            return (version or "unknown", hit["origin"], dist)
    return None


def _owner(hit: "Dict[str, Any]", directory: str,
           dists: "List[Tuple[str, Optional[str]]]") -> "Optional[Tuple[str, Optional[str]]]":
    """Of several installs of one distribution in a folder (an upgrade left
    the old metadata behind), the one whose RECORD lists the file on disk
    with its hash."""
    origin = hit["origin"]
    if not origin or not os.path.isfile(origin):
        return None
    with _stdlib.first():
        import base64
        import hashlib
    try:
        with open(origin, "rb") as handle:
            digest = base64.urlsafe_b64encode(hashlib.sha256(handle.read()).digest()).rstrip(b"=").decode()
    except OSError:
        return None
    relative = os.path.relpath(origin, directory).replace(os.sep, "/")
    for item, version in dists:
        try:
            with open(os.path.join(directory, item, "RECORD"), encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    if line.startswith(relative + ",") and digest in line:
                        return (item, version)
        except OSError:
            continue
    return None
