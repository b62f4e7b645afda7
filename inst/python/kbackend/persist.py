"""Writing the backend into keras.json: atomically, keeping the rest.

Readers (Keras itself, another process asking kbackend) see the old file or
the new one, never a torn one; every other key, the file's permissions and a
symlinked file's link are kept; anything that is not a keras.json Keras could
have written (not a regular file, read-only, not a JSON object, huge) is
refused with :class:`~kbackend.ConfigFileError` and left alone.
"""

import contextlib
import json
import os
import stat

from . import keras_json
from .errors import ConfigFileError

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict

_TEMP_PREFIX = ".keras.json."
_TEMP_SUFFIX = ".tmp"
#: Keras writes a keras.json of about 100 bytes; a file over 1 MiB is not one
#: to read whole and rewrite.
_MAX_CONFIG_BYTES = 1 << 20


def _load_for_update(target: str) -> "Dict[str, Any]":
    """Read the existing keras.json for an update, refusing anything odd."""
    try:
        status = os.stat(target)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigFileError("Cannot inspect {}: {}".format(target, exc)) from exc
    if not stat.S_ISREG(status.st_mode):
        raise ConfigFileError("{} is not a regular file; refusing to replace it.".format(target))
    if status.st_size > _MAX_CONFIG_BYTES:
        raise ConfigFileError("{} is {} bytes, far larger than any keras.json Keras writes; refusing to "
                              "rewrite it.".format(target, status.st_size))
    # os.replace() needs only the directory to be writable: without this
    # check a keras.json its owner made read-only would be silently replaced.
    if not os.access(target, os.W_OK, effective_ids=os.access in os.supports_effective_ids):
        raise ConfigFileError("{} is read-only for this user; refusing to replace it.".format(target))
    try:
        with open(target) as handle:
            document = json.load(handle)
    except ValueError as exc:
        raise ConfigFileError(
            "{} is not valid JSON ({}); refusing to overwrite it. Fix or delete it first.".format(target, exc)
        ) from exc
    except (RecursionError, MemoryError) as exc:
        # Nested deeper than json.load can follow: as unusable as bad JSON.
        raise ConfigFileError("{} cannot be parsed ({}); refusing to overwrite it.".format(
            target, keras_json.describe_exception(exc))) from exc
    except OSError as exc:
        raise ConfigFileError("Cannot read {}: {}".format(target, exc)) from exc
    if not isinstance(document, dict):
        raise ConfigFileError(
            "{} holds a JSON {} rather than an object; refusing to overwrite it.".format(
                target, type(document).__name__)
        )
    return document


def remove_stale_temporaries(directory: str) -> int:
    """Delete temporary files left by writers that were killed mid-write.

    Each temporary carries its writer's pid; one whose process no longer
    exists is stale.  Returns how many were removed.
    """
    removed = 0
    try:
        entries = os.listdir(directory)
    except OSError:
        return 0
    for entry in entries:
        if not (entry.startswith(_TEMP_PREFIX) and entry.endswith(_TEMP_SUFFIX)):
            continue
        pid_text = entry[len(_TEMP_PREFIX):].split(".", 1)[0]
        if not pid_text.isdigit() or pid_alive(int(pid_text)):
            continue
        try:
            os.unlink(os.path.join(directory, entry))
            removed += 1
        except OSError:
            pass
    return removed


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def persist_backend(path: str, name: str) -> str:
    """Write ``backend: name`` into keras.json at ``path`` atomically.

    The new content goes to a temporary file in the same directory, is
    flushed to disk, then renamed over the original, so readers see either
    the old or the new file, never a torn one.  A symlinked keras.json keeps
    its link: the target is replaced.  Returns the path written.
    """
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    existed = os.path.exists(target)
    document = _load_for_update(target)
    if not existed:
        document = {"floatx": keras_json.DEFAULTS["floatx"], "epsilon": keras_json.DEFAULTS["epsilon"],
                    "backend": name, "image_data_format": keras_json.DEFAULTS["image_data_format"]}
    document["backend"] = name
    try:
        # Before any temporary exists: json.load follows deeper nesting than
        # the indenting (pure-Python) encoder can write back.
        text = json.dumps(document, indent=4)
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ConfigFileError("Cannot rewrite {} ({}); edit it by hand.".format(
            target, keras_json.describe_exception(exc))) from exc
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise ConfigFileError("Cannot create {}: {}".format(directory, exc)) from exc
    remove_stale_temporaries(directory)
    temp = os.path.join(directory, "{}{}.{}{}".format(
        _TEMP_PREFIX, os.getpid(), os.urandom(6).hex(), _TEMP_SUFFIX))
    try:
        # 0o666 lets the umask decide a new file's mode, as open() would.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if existed:
            os.chmod(temp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(temp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise ConfigFileError("Cannot write {}: {}".format(target, exc)) from exc
    _fsync_directory(directory)
    return target


def _fsync_directory(directory: str) -> None:
    """Make the rename durable; not every platform can open a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
