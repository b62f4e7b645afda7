"""Installed distributions and their versions, read from files alone.

Importing TensorFlow to read ``tf.__version__`` costs seconds and hundreds of
megabytes, so versions come from distribution metadata (``*.dist-info`` and
``*.egg-info`` directories, an egg's ``EGG-INFO``, the ``RECORD`` that says
which install owns a file) and, where there is none, from the version file a
library ships (:data:`VERSION_FILES`).  A search-path entry may be a zip
archive, or an egg: every read here works inside one as on disk.

What a folder holds is listed once per fingerprint of the search path, in
:data:`kbackend.cache.STATE`.
"""

import os
import posixpath
import re

from . import _stdlib, cache, importpath

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, Iterable, List, Optional, Tuple

    Listings = Dict[str, Dict[str, List[Tuple[str, Optional[str]]]]]

_DIST_SUFFIXES = (".dist-info", ".egg-info")

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


def locate_distribution(name: str, path: "Optional[List[str]]" = None
                        ) -> "Optional[Tuple[Optional[str], str]]":
    """The first installation of distribution ``name`` on the search path:
    ``(version, metadata folder)``, or None."""
    if path is None:
        cache.refresh()
        listings: "Listings" = cache.STATE["listings"]
    else:
        listings = {}
    wanted = normalize_dist_name(name)
    for entry in importpath.search_path() if path is None else path:
        dists = listing(entry, listings).get(wanted)
        if dists:
            return dists[0][1] or "unknown", os.path.join(entry or os.curdir, dists[0][0])
    return None


def listing(directory: str, listings: "Listings") -> "Dict[str, List[Tuple[str, Optional[str]]]]":
    """Distributions installed in one search-path entry: name -> [(folder, version)]
    (made once into ``listings``, usually ``cache.STATE["listings"]``)."""
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


def record_owner(hit: "Dict[str, Any]", directory: str,
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


# ---------------------------------------------------------------------------
# files on disk or inside a zip archive

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
    per refresh of the cache (:mod:`kbackend.cache`)."""
    archives = cache.STATE["archives"]
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


# ---------------------------------------------------------------------------
# versions a library states in its own files

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
