"""Find installed libraries and their versions without importing them.

Importing TensorFlow to read ``tf.__version__`` costs seconds and hundreds of
megabytes, so versions come from distribution metadata (``*.dist-info`` and
``*.egg-info`` directories on ``sys.path``) and locations from the import
system's finders, which locate a module without executing it.
"""

import importlib.machinery
import importlib.util
import os
import posixpath
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
SIGNATURES["tensorflow"] += ("../tensorflow_core",)  # TensorFlow 1.15's package forwards to tensorflow_core

#: Where each library writes its own version, relative to its package folder
#: (read from the installed sources: Keras 3 ``src/version.py``, Keras 2
#: ``__init__.py``, TensorFlow the pip build script or the C header it ships,
#: versioneer's ``_version.py`` for Theano and old NumPy, CNTK a plain
#: ``VERSION`` file).  Read only when no metadata answers, in the location the
#: import finds: a folder, a zip or an egg alike.
VERSION_FILES = {
    "keras": ("src/version.py", "version.py", "__init__.py"),
    "tensorflow": ("tools/pip_package/setup.py", "include/tensorflow/core/public/version.h",
                   "../tensorflow_core/tools/pip_package/setup.py",
                   "../tensorflow_core/include/tensorflow/core/public/version.h"),
    "jax": ("version.py",), "jaxlib": ("version.py",), "torch": ("version.py",),
    "numpy": ("version.py", "_version.py"), "openvino": ("_version.py", "__init__.py"),
    "theano": ("_version.py", "version.py"), "cntk": ("VERSION", "__init__.py"),
    "tf_keras": ("__init__.py", "src/__init__.py"), "flax": ("version.py",), "scipy": ("version.py",),
}  # type: Dict[str, Tuple[str, ...]]
#: Names a version file assigns a literal version to, most authoritative first
#: (jax: ``_release_version`` is the release, ``_version`` the base of a dev build).
_VERSION_NAMES = ("__version__", "_release_version", "version", "full_version", "_VERSION", "VERSION", "_version",
                  "short_version")
_ASSIGNMENT = re.compile(r"""^(\w+)[ \t]*(?::[^=\n]*)?=[ \t]*[uUrR]?(['"])(\d[^'"\n]*)\2""", re.M)


def normalize_dist_name(name: str) -> str:
    """PEP 503-style normalisation, with ``_`` as wheels write it on disk."""
    return re.sub(r"[-_.]+", "_", name).lower()


_VERSIONS: "Dict[str, Tuple[int, ...]]" = {}


def version_tuple(version: "Optional[str]") -> "Tuple[int, ...]":
    """Leading numeric release components: ``"2.3.1rc0"`` → ``(2, 3, 1)``.

    Remembered: one record compares the same few versions many times."""
    if not version:
        return ()
    if version in _VERSIONS:
        return _VERSIONS[version]
    parts: "List[int]" = []
    for piece in version.split("."):
        match = re.match(r"\d+", piece)
        if not match:
            break
        parts.append(int(match.group()))
        if match.end() != len(piece):
            break
    if len(_VERSIONS) < 4096:  # versions come from files and variables: bound the memory
        _VERSIONS[version] = tuple(parts)
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
    for directory in importpath.search_path() if paths is None else paths:
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


_CACHE: "Dict[str, Any]" = {"key": None, "value": None, "memo": {}, "listings": {}, "archives": {}, "held": 0}


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


def hold() -> None:
    """Look at the search path once for a whole record: until :func:`release`,
    the look-ups reuse that look instead of taking the fingerprint again
    (a dozen ``stat`` calls each time).  One record describes one moment."""
    _refresh()
    _CACHE["held"] += 1


def release() -> None:
    """End a :func:`hold`."""
    _CACHE["held"] = max(0, _CACHE["held"] - 1)


def _refresh() -> None:
    if _CACHE["held"] and _CACHE["key"] is not None:
        return
    key = _fingerprint()
    if _CACHE["key"] != key:
        # one listing per folder for the whole fingerprint: the requirement
        # checks look up dozens of distributions in the same site-packages
        _CACHE["listings"] = {}
        _CACHE["archives"] = {}
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
            if version is None and hit["kind"] == "loaded":  # what the module itself says, nothing run
                stated = vars(sys.modules[module]).get("__version__")
                version = stated if isinstance(stated, str) and stated else None
            real_layout = version is None and _looks_real(module, hit)
            if real_layout:  # no metadata where it is found: the package states its version itself
                version = own_version(module, os.path.dirname(hit["origin"]))
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
    """A package laid out like the real one (a checkout on PYTHONPATH, a copy
    in a zip or an egg), not a user's folder of the same name."""
    if hit["kind"] != "package" or not hit["origin"]:
        return False
    folder = os.path.dirname(hit["origin"])
    return any(location_exists(os.path.normpath(os.path.join(folder, *part.split("/"))))
               for part in SIGNATURES.get(module, ()))


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
        for item, name, version in _dist_entries(directory):
            if name is None:
                name, version = _parse_dist_dir(item, directory)
            found.setdefault(name, []).append((item, version))
        listings[directory] = found
    return listings[directory]


def _dist_entries(directory: str) -> "List[Tuple[str, Optional[str], Optional[str]]]":
    """``(item, name, version)`` for the metadata in one search-path entry:
    the ``*.dist-info``/``*.egg-info`` of a folder, of a zip archive (or a
    folder inside one), and an egg's own ``EGG-INFO``.  ``name`` is None
    where the folder name alone does not say (read from the metadata)."""
    found: "List[Tuple[str, Optional[str], Optional[str]]]" = []
    archive, inner = split_archive(directory)
    if archive is not None:
        prefix = inner + "/" if inner else ""
        tops = {name[len(prefix):].split("/", 1)[0] for name in _archive_names(archive) if name.startswith(prefix)}
        for top in sorted(tops):
            if top.endswith(_DIST_SUFFIXES):
                name, _, rest = top.rsplit(".", 1)[0].partition("-")
                found.append((top, normalize_dist_name(name), rest.split("-", 1)[0] or None))
    else:
        try:
            found = [(item, None, None) for item in sorted(os.listdir(directory or os.curdir))
                     if item.endswith(_DIST_SUFFIXES)]
        except OSError:
            pass
    egg = _egg_info(directory)
    if egg is not None:
        found.append(egg)
    return found


def _egg_info(entry: str) -> "Optional[Tuple[str, Optional[str], Optional[str]]]":
    """An egg on the search path (``name-version-pyX.Y.egg``, a folder or a
    zip) carries its metadata inside, as ``EGG-INFO``."""
    base = os.path.basename(os.path.normpath(entry or os.curdir))
    if not base.lower().endswith(".egg") or not location_exists(os.path.join(entry, "EGG-INFO")):
        return None
    name, _, rest = base[:-4].partition("-")
    version = rest.split("-", 1)[0] or None
    if version is None:
        text = read_location(os.path.join(entry, "EGG-INFO", "PKG-INFO")) or ""
        match = re.search(r"^Version:[ \t]*(\S+)", text, re.M)
        version = match.group(1) if match else None
        match = re.search(r"^Name:[ \t]*(\S+)", text, re.M)
        name = match.group(1) if match else name
    return "EGG-INFO", normalize_dist_name(name), version


def split_archive(path: str) -> "Tuple[Optional[str], str]":
    """``(archive, member path)`` when ``path`` lies inside a zip archive
    (``/x/keras.zip/keras/__init__.py``) or is one, else ``(None, path)``.
    The member path uses ``/``, as the archive does."""
    if not path or os.path.isdir(path):
        return None, path
    probe, rest = os.path.normpath(path), []  # type: str, List[str]
    while not os.path.exists(probe):
        head, tail = os.path.split(probe)
        if not tail or head == probe:
            return None, path
        probe, rest = head, [tail] + rest
    if os.path.isfile(probe) and _archive_names(probe):
        return probe, "/".join(rest)
    return None, path


def _archive_names(archive: str) -> "frozenset":
    """Every member of a zip archive and every folder above one (``keras``,
    ``keras/src``, ...); empty for a file that is not a zip.  Listed once
    per refresh of the discovery cache."""
    archives = _CACHE["archives"]
    if archive not in archives:
        names: "set" = set()
        with _stdlib.first():
            import zipfile
        try:
            with zipfile.ZipFile(archive) as bundle:
                for name in bundle.namelist():
                    parts = name.rstrip("/").split("/")
                    names.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        except (OSError, zipfile.BadZipFile, ValueError, EOFError):
            pass
        archives[archive] = frozenset(names)
    return archives[archive]


def location_exists(path: str) -> bool:
    """Whether a file or folder exists, on disk or inside a zip archive."""
    if os.path.exists(path):
        return True
    archive, inner = split_archive(path)
    return archive is not None and posixpath.normpath(inner) in _archive_names(archive)


def read_location(path: str, limit: int = 1 << 20) -> "Optional[str]":
    """The text of a file on disk or inside a zip archive (at most ``limit``
    bytes), or None."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit)
    except OSError:
        archive, inner = split_archive(path)
        if archive is None or not inner:
            return None
        with _stdlib.first():
            import zipfile
        try:
            with zipfile.ZipFile(archive) as bundle, bundle.open(posixpath.normpath(inner)) as handle:
                data = handle.read(limit)
        except (OSError, KeyError, zipfile.BadZipFile, ValueError, EOFError, RuntimeError):
            return None
    return data.decode("utf-8", "replace")


def version_in_text(text: str, filename: str) -> "Optional[str]":
    """The version a library's own version file states (see VERSION_FILES):
    a literal assignment in Python source, versioneer's JSON, TensorFlow's
    C header, or a file holding only the version."""
    if filename.endswith(".h"):
        parts = [re.search(r"^#define[ \t]+TF_{}_VERSION[ \t]+(\d+)".format(part), text, re.M)
                 for part in ("MAJOR", "MINOR", "PATCH")]
        if not all(parts):
            return None
        suffix = re.search(r'^#define[ \t]+TF_VERSION_SUFFIX[ \t]+"([^"]*)"', text, re.M)
        return ".".join(match.group(1) for match in parts if match) + (suffix.group(1) if suffix else "")
    if not filename.endswith(".py"):
        text = text.strip()
        return text if re.match(r"^\d+(\.\w+)*$", text) else None
    assigned: "Dict[str, str]" = {}
    for match in _ASSIGNMENT.finditer(text):
        assigned.setdefault(match.group(1), match.group(3))
    for name in _VERSION_NAMES:
        if name in assigned:
            return assigned[name]
    versioneer = re.search(r"^version_json = '''.*?\"version\":[ \t]*\"(\d[^\"]*)\"", text, re.M | re.S)
    return versioneer.group(1) if versioneer else None


def own_version(module: str, package: str) -> "Optional[str]":
    """The version a library's package folder states in its own files
    (``package``: the folder, on disk or inside a zip or an egg)."""
    for relative in VERSION_FILES.get(module, ()):
        text = read_location(os.path.normpath(os.path.join(package, *relative.split("/"))))
        version = version_in_text(text, relative) if text is not None else None
        if version:
            return version
    return None


def keras_flavour(version: "Optional[str]", path: "Optional[str]") -> "Optional[str]":
    """Which Keras line a version (or, lacking one, the layout of the package
    at ``path``, a folder or inside a zip) is."""
    parsed = version_tuple(version)
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
    if location_exists(os.path.join(package, "src", "backend", "config.py")):
        return "keras3"
    if location_exists(os.path.join(package, "backend", "load_backend.py")):
        return "keras2-multibackend"
    return "keras2-tensorflow"


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
