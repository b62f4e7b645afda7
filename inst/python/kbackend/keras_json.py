"""Locate and read keras.json exactly the way Keras does at import time.

Keras computes its directory and reads keras.json in module-level code that
runs once.  The quirks matter (an empty ``KERAS_HOME`` means the current
directory, ``~`` is expanded for reading only, bad JSON is silently ignored
while a JSON list crashes the import), so this module repeats the same calls
in the same order and records what happened instead of raising.
"""

import json
import os
import stat

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, Optional

#: Values Keras fills in when keras.json is absent or lacks a key.
DEFAULTS = {
    "floatx": "float32",
    "epsilon": 1e-07,
    "image_data_format": "channels_last",
}  # type: Dict[str, Any]


def describe_exception(exc: "BaseException") -> str:
    """Render an exception the way the issue tracker quotes it: ``Class: msg``."""
    message = str(exc)
    name = type(exc).__name__
    return "{}: {}".format(name, message) if message else name


def keras_dir(environ: "Dict[str, str]", tmp_fallback: bool = True) -> "Dict[str, Any]":
    """The Keras directory and why it was chosen.

    ``KERAS_HOME`` wins whenever it is *present*, even empty.  Otherwise it is
    ``~/.keras``, or ``/tmp/.keras`` when the home directory is not writable
    (Keras 3 and multi-backend Keras 2 only; ``tmp_fallback=False`` for the
    TensorFlow-only Keras 2 line).
    """
    if "KERAS_HOME" in environ:
        return {"dir": environ["KERAS_HOME"], "source": "KERAS_HOME"}
    base = os.path.expanduser("~")
    if tmp_fallback and not os.access(base, os.W_OK):
        return {"dir": os.path.join("/tmp", ".keras"), "source": "tmp"}
    return {"dir": os.path.join(base, ".keras"), "source": "home"}


def config_path(directory: str) -> str:
    """The keras.json path Keras opens: joined, then user-expanded."""
    return os.path.expanduser(os.path.join(directory, "keras.json"))


def _file_type(path: str) -> str:
    """One word for what sits at ``path`` (following symlinks, as open does)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "broken-link" if os.path.islink(path) else "missing"
    except OSError:
        return "unreadable"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "fifo"
    return "other"


def _finishes_at_once(path: str) -> bool:
    """Special files Keras's open()/json.load get through immediately: a Unix
    socket (open fails with ENXIO) and the null device (reads as empty), e.g.
    keras.json linked to /dev/null.  Those are replayed, not called hangs."""
    try:
        status = os.stat(path)
        if stat.S_ISSOCK(status.st_mode):
            return True
        return stat.S_ISCHR(status.st_mode) and status.st_rdev == os.stat(os.devnull).st_rdev
    except OSError:
        return False


def read_config(path: str) -> "Dict[str, Any]":
    """Read keras.json as Keras does, without ever raising.

    Returns a dict with ``exists`` (what ``os.path.exists`` says, which is
    what Keras tests), ``type``, ``parses`` (JSON decoded), ``value`` (the
    decoded document, or ``{}`` where Keras swallows a ``ValueError``),
    ``error`` (why it did not parse) and ``raises`` (the exception that escapes
    Keras's ``open``/``json.load``, e.g. ``IsADirectoryError``).
    """
    kind = _file_type(path)
    result = {
        "path": path,
        "exists": os.path.exists(path),
        "type": kind,
        "parses": None,
        "error": None,
        "raises": None,
        "value": None,
    }  # type: Dict[str, Any]
    if not result["exists"]:
        return result
    if kind in ("fifo", "other") and not _finishes_at_once(path):
        # open() on a FIFO or device blocks or never ends; Keras would hang.
        result["error"] = "keras.json is a {}, not a regular file".format(
            "FIFO" if kind == "fifo" else "special file"
        )
        result["raises"] = "Hang: Keras blocks reading a {} at {}".format(kind, path)
        return result
    try:
        # Same call as Keras: text mode with the locale's encoding.
        with open(path) as handle:
            result["value"] = json.load(handle)
        result["parses"] = True
    except ValueError as exc:
        # JSONDecodeError and UnicodeDecodeError: Keras treats the file as {}.
        result["parses"] = False
        result["error"] = describe_exception(exc)
        result["value"] = {}
    except (OSError, RecursionError, MemoryError) as exc:
        result["error"] = describe_exception(exc)
        result["raises"] = describe_exception(exc)
    return result


def config_backend(document: "Any") -> "Optional[Any]":
    """The ``backend`` value of a decoded keras.json, if it has one."""
    if isinstance(document, dict):
        return document.get("backend")
    return None
