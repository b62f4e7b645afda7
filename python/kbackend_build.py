"""The PEP 517 build backend of python/: setuptools, plus one staging step.

The package's one copy lives in ``inst/python/kbackend`` (the R package ships
it from there), and ``python/kbackend`` is a symbolic link to it.  Where that
link is a real directory (a POSIX checkout, a copy made with links
dereferenced, an unpacked sdist) this backend is plain
``setuptools.build_meta``.  A checkout without symbolic links (Windows, or git
with ``core.symlinks=false``) has ``python/kbackend`` as a small text file
holding the link's target; there each hook runs in a temporary copy of this
folder in which ``kbackend`` is a real copy of the directory the text names.
The source tree is never modified, and the sdist carries the package as plain
files either way, so it builds on its own.

An editable install must keep pointing at the real directory, not at a
temporary copy: from a checkout without links it maps the package there with
setuptools' ``package-dir``, from a copy of this folder made beside it.
"""

import contextlib
import os
import shutil
import tempfile
from typing import Any, Dict, Iterator, List, Optional

from setuptools import build_meta as _setuptools  # type: ignore[import-untyped,unused-ignore]

PACKAGE = "kbackend"
#: Where the package is when python/kbackend is missing altogether.
DEFAULT_TARGET = "../inst/python/kbackend"
#: A link written as a file holds a short relative path; anything bigger is
#: not a link, and is left for setuptools to complain about.
_LINK_FILE_LIMIT = 4096
#: Entries of this folder that never belong in a staged copy (dot entries,
#: such as tool caches, are skipped too).
_SKIP = ("build", "dist", "__pycache__")

ConfigSettings = Optional[Dict[str, Any]]


def linked_package(root: str) -> Optional[str]:
    """The directory ``root/kbackend`` stands for, or None when it is one.

    None: ``kbackend`` is a package directory (itself or through a working
    symbolic link) and setuptools builds from ``root`` as it is.  Otherwise
    the absolute path of the package directory named by the text file git
    writes for a link (or of DEFAULT_TARGET when there is no entry at all).
    """
    entry = os.path.join(root, PACKAGE)
    if os.path.isfile(os.path.join(entry, "__init__.py")):
        return None
    target = DEFAULT_TARGET
    if os.path.isfile(entry) and os.path.getsize(entry) <= _LINK_FILE_LIMIT:
        with open(entry, encoding="utf-8") as handle:
            target = handle.read().strip()
    # git stores a link's target with "/", whatever the platform
    source = os.path.normpath(os.path.join(root, *target.split("/")))
    if not os.path.isfile(os.path.join(source, "__init__.py")):
        raise RuntimeError("{} is neither the {} package nor a link to it (looked for {})".format(entry, PACKAGE, source))
    return source


def _copy_project(root: str, stage: str) -> None:
    """Copy this folder's own files from ``root`` into ``stage``: everything
    but the package entry, build leftovers and tool caches."""
    for name in os.listdir(root):
        if name == PACKAGE or name.startswith(".") or name.endswith(".egg-info") or name in _SKIP:
            continue
        path = os.path.join(root, name)
        if os.path.isdir(path):
            shutil.copytree(path, os.path.join(stage, name))
        else:
            shutil.copy2(path, stage)


def _map_package(stage: str, source: str) -> None:
    """Point setuptools at ``source`` from ``stage``'s pyproject.toml.

    setuptools takes only relative, "/"-separated package directories: the
    stage sits beside the source's folder, so the path is short and on the
    same drive.
    """
    relative = os.path.relpath(source, stage).replace(os.sep, "/")
    with open(os.path.join(stage, "pyproject.toml"), "a", encoding="utf-8") as handle:
        handle.write('\n[tool.setuptools.package-dir]\n{} = "{}"\n'.format(PACKAGE, relative))


@contextlib.contextmanager
def _staged(editable: bool = False) -> Iterator[None]:
    """Run the body in a copy of the project with a real package directory,
    when the working directory (the project, for every PEP 517 hook) lacks one.

    ``editable``: the copy maps the package to where it is instead of holding
    a copy of it, since the installed project keeps pointing there.
    """
    root = os.getcwd()
    source = linked_package(root)
    if source is None:
        yield
        return
    if editable:
        stage = tempfile.mkdtemp(prefix=".kbackend-editable-", dir=os.path.dirname(root))
    else:
        stage = tempfile.mkdtemp(prefix="kbackend-build-")
    try:
        _copy_project(root, stage)
        if editable:
            _map_package(stage, source)
        else:
            shutil.copytree(source, os.path.join(stage, PACKAGE), ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        os.chdir(stage)
        yield
    finally:
        os.chdir(root)
        shutil.rmtree(stage, ignore_errors=True)


def _absolute(path: Optional[str]) -> Optional[str]:
    """A directory handed to a hook, made absolute (relative to the project)."""
    return None if path is None else os.path.abspath(path)


# The PEP 517 and PEP 660 hooks: setuptools' own, run where the package is
# real.  Output directories are made absolute before the hook changes directory.

def get_requires_for_build_wheel(config_settings: ConfigSettings = None) -> List[str]:
    with _staged():
        return _setuptools.get_requires_for_build_wheel(config_settings)


def get_requires_for_build_sdist(config_settings: ConfigSettings = None) -> List[str]:
    with _staged():
        return _setuptools.get_requires_for_build_sdist(config_settings)


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: ConfigSettings = None) -> str:
    metadata = _absolute(metadata_directory)
    with _staged():
        return _setuptools.prepare_metadata_for_build_wheel(metadata, config_settings)


def build_wheel(wheel_directory: str, config_settings: ConfigSettings = None, metadata_directory: Optional[str] = None) -> str:
    wheels, metadata = _absolute(wheel_directory), _absolute(metadata_directory)
    with _staged():
        return _setuptools.build_wheel(wheels, config_settings, metadata)


def build_sdist(sdist_directory: str, config_settings: ConfigSettings = None) -> str:
    sdists = _absolute(sdist_directory)
    with _staged():
        return _setuptools.build_sdist(sdists, config_settings)


def get_requires_for_build_editable(config_settings: ConfigSettings = None) -> List[str]:
    with _staged(editable=True):
        return _setuptools.get_requires_for_build_editable(config_settings)


def prepare_metadata_for_build_editable(metadata_directory: str, config_settings: ConfigSettings = None) -> str:
    metadata = _absolute(metadata_directory)
    with _staged(editable=True):
        return _setuptools.prepare_metadata_for_build_editable(metadata, config_settings)


def build_editable(wheel_directory: str, config_settings: ConfigSettings = None, metadata_directory: Optional[str] = None) -> str:
    wheels, metadata = _absolute(wheel_directory), _absolute(metadata_directory)
    with _staged(editable=True):
        return _setuptools.build_editable(wheels, config_settings, metadata)
