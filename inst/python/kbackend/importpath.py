"""Where ``import NAME`` will land, found without executing anything.

``import keras`` is answered by Python's import system, not by pip: the first
entry of ``sys.path`` that holds a module of that name wins.  A user's
``keras.py``, ``jax.py`` or ``random.py`` in the working directory (or on
``PYTHONPATH``) therefore replaces the real module, and Keras fails in ways
that look unrelated.  This module models the search path of the interpreter
that answers, with its own flags (``-E``, ``-I``, ``-s``, ``-P`` ...), resolves
names on it the way the path finder does
(builtin and frozen modules first, then each entry in order, namespace
portions only when nothing else is found), and reports the files that
shadow a real installation.
"""

import importlib.machinery
import os
import sys

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, Iterable, List, Mapping, Optional, Set

#: Standard-library modules that ``import keras`` loads (Keras 3 with each
#: backend on Python 3.11, Keras 2.3.1 with Theano on 3.7: the union of what
#: a fresh interpreter had not loaded yet).  A file of the same name ahead of
#: the standard library on the search path replaces the real module.
KERAS_STDLIB_IMPORTS = frozenset("""
argparse array ast asyncio atexit base64 bdb binascii bisect bz2 cProfile calendar cmath cmd code codeop
collections colorsys concurrent configparser contextlib contextvars copy copyreg csv ctypes dataclasses
datetime decimal difflib dis distutils email enum faulthandler fcntl fileinput fnmatch fractions functools gc
getopt getpass gettext glob grp gzip hashlib heapq hmac html http imp importlib inspect ipaddress json
keyword linecache locale logging lzma math mimetypes mmap multiprocessing numbers opcode operator pathlib pdb
pickle pickletools pkgutil platform pprint profile pstats pwd pydoc queue quopri random re reprlib resource
runpy secrets select selectors shlex shutil signal socket socketserver sre_compile sre_constants sre_parse
ssl statistics string stringprep struct subprocess sysconfig tarfile tempfile termios textwrap threading
timeit token tokenize traceback types typing unicodedata unittest urllib uu uuid warnings weakref xml zipfile
zlib
""".split())

#: Modules loaded before kbackend ran: the interpreter's start-up set when
#: kbackend runs as a command, the caller's modules when it is imported.
#: Either way, they are loaded already and cannot be shadowed any more.
LOADED_AT_START: "frozenset" = frozenset()
_OWN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


#: True when this process stands in for a fresh interpreter (the command
#: line, the R bridge's subprocess): then only the modules loaded before
#: kbackend count as loaded, not the ones kbackend itself imported.
FRESH_PROCESS = False


def remember_loaded(names: "Iterable[str]") -> None:
    """Record the modules loaded before kbackend (called from ``__init__``)."""
    global LOADED_AT_START
    LOADED_AT_START = frozenset(name.split(".")[0] for name in names)


def answer_for_a_fresh_process() -> None:
    """Called by the command line: answer for a new interpreter started here."""
    global FRESH_PROCESS
    FRESH_PROCESS = True


def already_loaded(name: str) -> bool:
    """Whether the target process has ``name`` loaded, so that no file can shadow it."""
    if FRESH_PROCESS:
        return name in LOADED_AT_START
    return name in sys.modules


def _absolute(path: str) -> str:
    """Normalised absolute path; a relative one stays relative when the
    working directory has been deleted (``abspath`` needs ``getcwd``)."""
    try:
        path = os.path.abspath(path or os.curdir)
    except OSError:
        pass
    return os.path.normcase(path)


def _same(a: str, b: str) -> bool:
    return _absolute(a) == _absolute(b)


def search_path(environ: "Optional[Mapping[str, str]]" = None) -> "List[str]":
    """The ``sys.path`` of ``python -c "import keras"`` started here.

    The interpreter that answers decides, with its own flags: in process
    the live ``sys.path``; as the command line, an interpreter started with
    the same flags (``-E``, ``-I``, ``-s``, ``-S``, ``-P``) and environment
    (``PYTHONPATH``, ``PYTHONSAFEPATH``, ``PYTHONNOUSERSITE``,
    ``PYTHONUSERBASE``), whose start-up built the same path: ``PYTHONPATH``,
    the site folders, ``.pth`` additions and the user site exactly where they
    apply.  One correction: the folder the R bridge (or a ``-c`` bootstrap)
    adds to reach the bundled kbackend is not the user's, unless the user's
    ``PYTHONPATH`` names it and this interpreter reads ``PYTHONPATH``.
    """
    env: "Mapping[str, str]" = os.environ if environ is None else environ
    pythonpath = [] if sys.flags.ignore_environment else \
        [entry for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry]
    return [entry for entry in sys.path
            if not (_same(entry, _OWN_DIR) and not any(_same(_OWN_DIR, p) for p in pythonpath))]


def entry_of(spec: "Any", name: str) -> "Optional[str]":
    """The search-path entry a spec was found in (a folder or a zip file)."""
    archive = getattr(spec.loader, "archive", None)
    if archive:  # a zip (or a folder inside one: ``bundle.zip/lib``), an egg
        prefix = (getattr(spec.loader, "prefix", "") or "").rstrip("/" + os.sep)
        return os.path.join(archive, prefix) if prefix else archive
    origin = spec.origin
    if not origin or origin in ("built-in", "frozen", "namespace"):
        return None
    folder = os.path.dirname(origin)
    return os.path.dirname(folder) if spec.submodule_search_locations else folder


def resolve(name: str, path: "Optional[List[str]]" = None) -> "Optional[Dict[str, Any]]":
    """Where ``import name`` (a top-level name) lands, or None if nowhere.

    Returns ``{"name", "kind", "origin", "entry", "index"}``: ``kind`` is
    ``builtin``, ``frozen``, ``module`` (one file: source, bytecode or an
    extension), ``package`` or ``namespace``; ``entry`` and ``index`` say
    which search-path entry won.  Nothing is executed: the path finder only
    looks at file names.
    """
    if name in sys.builtin_module_names:
        return {"name": name, "kind": "builtin", "origin": None, "entry": None, "index": None}
    try:
        if importlib.machinery.FrozenImporter.find_spec(name) is not None:
            return {"name": name, "kind": "frozen", "origin": None, "entry": None, "index": None}
    except Exception:  # noqa: BLE001 - a finder is not supposed to raise; never let it crash us
        pass
    path = search_path() if path is None else path
    portion: "Optional[Dict[str, Any]]" = None
    for index, entry in enumerate(path):
        try:
            spec = importlib.machinery.PathFinder.find_spec(name, [entry])
        except Exception:  # noqa: BLE001 - third-party path hooks may raise anything
            continue
        if spec is None:
            continue
        if spec.loader is None:  # a namespace portion: a later regular module still wins
            if portion is None:
                portion = {"name": name, "kind": "namespace", "origin": entry, "entry": entry, "index": index}
            continue
        kind = "package" if spec.submodule_search_locations is not None else "module"
        return {"name": name, "kind": kind, "origin": spec.origin, "entry": entry_of(spec, name) or entry,
                "index": index}
    return portion


def is_stdlib_entry(entry: str) -> bool:
    """Whether a search-path entry is (part of) the standard library.

    Judged by content, not by ``os.__file__``: an interpreter embedded in R
    may come from another build than the standard library on its path (seen:
    Debian's libpython 3.11.2 with pyenv 3.11.7's library), and its frozen
    ``os`` then names a folder that is not on the path at all.
    """
    name = os.path.basename(os.path.normpath(entry or os.curdir))
    if name == "lib-dynload" or (name.startswith("python") and name.endswith(".zip")):
        return True
    return os.path.isfile(os.path.join(entry or os.curdir, "os.py")) and \
        os.path.isdir(os.path.join(entry or os.curdir, "importlib"))


def shadowed_stdlib(path: "Optional[List[str]]" = None,
                    names: "Iterable[str]" = KERAS_STDLIB_IMPORTS) -> "List[Dict[str, Any]]":
    """Standard modules Keras imports that a file ahead of the standard library replaces.

    Only the entries before the standard library can shadow it; their
    folders are listed once and only matching names are resolved, which
    keeps this to a few system calls on an ordinary path.
    """
    path = search_path() if path is None else path
    ahead: "List[str]" = []
    for entry in path:
        if is_stdlib_entry(entry):
            break
        ahead.append(entry)
    stdlib = [entry for entry in path if is_stdlib_entry(entry)]
    present: "Set[str]" = set()
    for entry in ahead:
        try:
            present.update(item.split(".", 1)[0] for item in os.listdir(entry or os.curdir))
        except OSError:  # a zip, a missing folder, a deleted working directory
            present.update(names)
    found: "List[Dict[str, Any]]" = []
    for name in sorted(set(names) & present):
        if already_loaded(name):
            continue
        hit = resolve(name, path)
        if hit is None or hit["kind"] in ("builtin", "frozen", "namespace") or hit["entry"] is None:
            continue
        if any(_inside(hit["entry"], entry) for entry in stdlib):
            continue
        found.append(hit)
    return found


def _inside(path: str, folder: str) -> bool:
    path, folder = _absolute(path), _absolute(folder)
    return path == folder or path.startswith(folder + os.sep)


def describe_entry(entry: "Optional[str]") -> str:
    """``the working directory (/x)`` or the folder itself, for messages."""
    if entry is None:
        return "?"
    if entry in ("", os.curdir):
        try:
            return "the working directory ({})".format(os.getcwd())
        except OSError:
            return "the working directory"
    try:
        if _same(entry, os.getcwd()):
            return "the working directory ({})".format(entry)
    except OSError:
        pass
    return entry
