"""Set the Keras backend safely: validate first, change nothing on refusal.

Setting ``KERAS_BACKEND`` only works before Keras is imported, and only to a
name the installed Keras can load; both mistakes otherwise surface much later
as confusing errors.  Everything here validates against the same record
``backend_info()`` returns and raises a :class:`~kbackend.KBackendError`
subclass before touching ``os.environ`` or keras.json.
"""

import contextlib
import json
import os
import re
import stat
import sys

from . import devices, discovery, info, interfaces, keras_json, problems, rules
from .errors import BackendLockedError, BackendNotInstalledError, ConfigFileError, InvalidBackendError, KBackendError, KerasImportError

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, Iterator, List, Optional

#: A backend name as Keras could possibly accept it: a (dotted) module name,
#: with the -cpu/-gpu suffix keras3 accepts.  R's argument check anchors the
#: same text (tested), so both sides refuse the same names.
NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?:-cpu|-gpu)?"
_NAME = re.compile(NAME_PATTERN)
_TEMP_PREFIX = ".keras.json."
_TEMP_SUFFIX = ".tmp"
#: Keras writes a keras.json of about 100 bytes; a file over 1 MiB is not one
#: to read whole and rewrite.
_MAX_CONFIG_BYTES = 1 << 20


def check_keras_backend(name: "Any", interface: "Optional[Dict[str, Any]]" = None) -> "Dict[str, Any]":
    """Would ``import keras`` work with backend ``name``?  Changes nothing.

    This is the prediction itself, made with ``KERAS_BACKEND=name``: it
    refuses exactly when :func:`backend_info` would then say the import
    fails, and the message carries the exception Keras would raise.  Raises
    :class:`InvalidBackendError` for a name this Keras cannot load,
    :class:`BackendNotInstalledError` when a module the import needs is
    missing, :class:`KerasImportError` when it fails otherwise (keras.json,
    a missing dependency such as scipy for numpy), and
    :class:`BackendLockedError` when Keras is already imported with another
    backend.  Returns the current :func:`backend_info` record.  Under the R
    keras3 interface (``interface``, see :func:`backend_info`) ``jax-cpu``
    and ``jax-gpu`` mean ``jax``, as keras3 reads them.

    >>> kbackend.check_keras_backend("jax")["keras"]["version"]
    '3.15.1'
    """
    record = info.backend_info(interface=interface)
    keras = record["keras"]
    valid = problems.valid_names(keras["flavour"], keras["version"])
    label = "Keras {}".format(keras["version"]) if keras["installed"] else "Keras 3 (not installed here)"
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        suggestion = problems.normalised_match(name, valid)
        hint = " Did you mean {!r}?".format(suggestion) if suggestion else ""
        raise InvalidBackendError(
            "{!r} is not a backend name. {} accepts: {}.{}".format(name, label, ", ".join(valid), hint)
        )
    facts = interfaces.parse(interface)
    effective = interfaces.backend_name(facts, name)
    if record["locked"] and record["backend"] != effective:
        by = ", ".join(record["locked_by"]) or "keras"
        raise BackendLockedError(
            "Keras is already loaded in this process (imported via: {}) with the {!r} backend; it cannot "
            "switch to {!r} now. Restart Python and call use_keras_backend({!r}) before anything imports "
            "keras, or run the work in a subprocess.".format(by, record["backend"], effective, name)
        )
    value = interfaces.environment_value(facts, name)  # what use_keras_backend() would set
    trial = info.collect(environ=dict(os.environ, KERAS_BACKEND=value), interface=_with_backend(interface, value))
    if trial["status"] == "error":
        if trial["problems"] and trial["problems"][0]["code"] == "keras-not-installed":
            # no Keras yet (a managed environment may install it later): the
            # name is judged by Keras 3's rules and its library alone
            _check_without_keras(effective, valid, label, trial)
        else:
            raise _refusal(trial, name, effective, valid, label)
    return record


def _check_without_keras(name: str, valid: "List[str]", label: str, trial: "Dict[str, Any]") -> None:
    if name not in valid:
        suggestion = problems.normalised_match(name, valid)
        hint = " Did you mean {!r}?".format(suggestion) if suggestion else ""
        raise InvalidBackendError("{!r} is not a backend {} can load. Valid: {}.{}".format(
            name, label, ", ".join(valid), hint))
    library = rules.KERAS3_BACKENDS[name]
    if not trial["installed"].get(library):
        python = trial["python"]["executable"]
        raise BackendNotInstalledError(
            "The {!r} backend needs the {!r} package, which is not installed for {}. Install it with: "
            "{} -m pip install {}".format(name, library, python, python, problems.PIP_NAMES.get(library, library)))


def _with_backend(interface: "Optional[Dict[str, Any]]", name: str) -> "Optional[Dict[str, Any]]":
    """The interface facts once ``name`` is set as use_keras_backend() sets it
    (in R, with the legacy keras package, KERAS_IMPLEMENTATION too)."""
    if interface is None:
        return None
    r_environ = dict(interface.get("r_environ") or {}, KERAS_BACKEND=name)
    if interface.get("name") == "keras" and name != "tensorflow":
        r_environ["KERAS_IMPLEMENTATION"] = "keras"
    return dict(interface, r_environ=r_environ)


def _refusal(trial: "Dict[str, Any]", name: str, effective: str, valid: "List[str]", label: str) -> "KBackendError":
    """The refusal for a prediction that ``import keras`` fails with ``name``."""
    error = trial["error"] or "import keras would fail"
    problem = trial["problems"][0] if trial["problems"] else {"code": "", "message": error, "fix": ""}
    if problem["code"].startswith("config-"):
        return ConfigFileError("{} would make import keras fail with any backend: {}. {}".format(
            trial["config_path"], error, problem["fix"]))
    if problem["code"] == "backend-invalid":
        suggestion = problems.normalised_match(effective, valid)
        hint = " Did you mean {!r}? Names are case-sensitive.".format(suggestion) if suggestion else ""
        extra = " (this Keras is TensorFlow-only; install Keras 3 for other backends)" \
            if trial["keras"]["flavour"] == "keras2-tensorflow" else ""
        return InvalidBackendError("{!r} is not a backend {} can load{} ({}). Valid: {}.{}".format(
            name, label, extra, error, ", ".join(valid), hint))
    message = "With KERAS_BACKEND={!r}, import keras would fail: {}. {} {}".format(
        name, error.rstrip("."), problem["message"], problem["fix"]).strip()
    if error.startswith(("ModuleNotFoundError", "ImportError")):
        return BackendNotInstalledError(message)
    return KerasImportError(message)


def use_keras_backend(name: str, persist: bool = False,
                      interface: "Optional[Dict[str, Any]]" = None, device: "Optional[str]" = None) -> "Optional[str]":
    """Select the backend Keras will use, before Keras is imported.

    Validates ``name`` (see :func:`check_keras_backend`), then sets
    ``os.environ["KERAS_BACKEND"]``.  With ``persist=True`` it also writes the
    backend into the keras.json Keras reads, atomically, keeping every other
    key and the file's permissions.  With ``device="cpu"`` or ``"gpu"`` it
    also sets what that backend reads to pick its device (``JAX_PLATFORMS``,
    ``CUDA_VISIBLE_DEVICES``, Keras's torch device variable), after checking
    the device forecast: a GPU that the build or the machine cannot give is
    refused, and so is any device once the backend library is imported.
    Returns the previous value of ``KERAS_BACKEND`` (None if unset).  On any
    error nothing is changed.

    >>> previous = kbackend.use_keras_backend("jax")
    >>> import keras
    >>> keras.backend.backend()
    'jax'
    """
    record = check_keras_backend(name, interface)
    changes = device_variables(record, interfaces.backend_name(interfaces.parse(interface), name), device) \
        if device is not None else {}
    if persist:
        # keras.json holds what Keras reads: keras3's "jax-cpu" is "jax" there.
        persist_backend(record["config_path"], interfaces.backend_name(interfaces.parse(interface), name))
    previous = os.environ.get("KERAS_BACKEND")
    os.environ["KERAS_BACKEND"] = interfaces.environment_value(interfaces.parse(interface), name)
    for variable, value in changes.items():
        if value is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = value
    return previous


#: What makes each backend run on the CPU, set before it starts.
_CPU_VARIABLE = {"jax": ("JAX_PLATFORMS", "cpu"), "tensorflow": ("CUDA_VISIBLE_DEVICES", "-1")}


def device_variables(record: "Dict[str, Any]", backend: str, device: str) -> "Dict[str, Optional[str]]":
    """The variables to set (a value) or unset (None) so that ``backend``
    runs on ``device`` ("cpu" or "gpu"), validated against the device
    forecast; raises :class:`KBackendError` when the device is not possible
    (a GPU asked of a CPU-only build, or with no driver) and
    :class:`BackendLockedError` once the backend library is imported."""
    if device not in ("cpu", "gpu"):
        raise KBackendError("device must be 'cpu' or 'gpu', not {!r}".format(device))
    library = rules.KERAS3_BACKENDS.get(backend)
    if backend in ("numpy", "openvino") or library is None:
        # nothing to set, so nothing an earlier import could have fixed:
        # numpy is loaded in most sessions (reticulate loads it)
        if device == "gpu":
            raise KBackendError("The {!r} backend runs on the CPU only.".format(backend))
        return {}
    if library in sys.modules:
        raise BackendLockedError("{} is already imported in this process, so its device is fixed; restart Python and "
                                 "choose the device before anything imports it.".format(library))
    libs = discovery.installed_libraries()
    keras_path = record["keras"]["path"]
    if device == "cpu":
        if backend == "torch":
            names = devices.keras_torch_variables(keras_path)
            return {names[0]: "cpu"} if names else {"CUDA_VISIBLE_DEVICES": "-1"}
        variable, value = _CPU_VARIABLE[backend]
        return {variable: value}
    environ = dict(os.environ)
    changes: "Dict[str, Optional[str]]" = {}
    forecast = devices.forecast(libs, environ, backend, keras_path)["device"]
    hiding = [v for v in (forecast or {}).get("variables", {}) if (forecast or {}).get("reason", "").startswith(v + "=")]
    for variable in hiding:
        changes[variable] = None
        environ.pop(variable, None)
    forecast = devices.forecast(libs, environ, backend, keras_path)["device"] if hiding else forecast
    if not forecast or forecast["device"] in (None, "cpu"):
        raise KBackendError("The {!r} backend cannot run on a GPU here: {}.".format(
            backend, (forecast or {}).get("reason") or "its library is not installed"))
    return changes


@contextlib.contextmanager
def with_keras_backend(name: str) -> "Iterator[Optional[str]]":
    """Set ``KERAS_BACKEND`` for a block, then restore the previous value.

    Useful around a subprocess or a fresh import in a worker::

        >>> with kbackend.with_keras_backend("torch"):
        ...     subprocess.run([sys.executable, "train.py"])
    """
    previous = use_keras_backend(name)
    try:
        yield previous
    finally:
        if previous is None:
            os.environ.pop("KERAS_BACKEND", None)
        else:
            os.environ["KERAS_BACKEND"] = previous


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
        if not pid_text.isdigit() or _pid_alive(int(pid_text)):
            continue
        try:
            os.unlink(os.path.join(directory, entry))
            removed += 1
        except OSError:
            pass
    return removed


def _pid_alive(pid: int) -> bool:
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
