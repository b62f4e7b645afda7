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
import sys

from . import devices, discovery, info, interfaces, persist, problems, rules
from .errors import (
    BackendLockedError,
    BackendNotInstalledError,
    ConfigFileError,
    DeviceError,
    InvalidBackendError,
    KBackendError,
    KerasImportError,
)

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, Iterator, List, Mapping, Optional, TypedDict

    from .record import Record
else:  # the record's types matter to type checkers only (Python 3.6 has no TypedDict)
    TypedDict = dict

#: A backend name as Keras could possibly accept it: a (dotted) module name,
#: with the -cpu/-gpu suffix keras3 accepts.  R's argument check anchors the
#: same text (tested), so both sides refuse the same names.
#: The devices a setter can choose (R's argument check offers the same, tested).
DEVICES = ("cpu", "gpu")
NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?:-cpu|-gpu)?"
_NAME = re.compile(NAME_PATTERN)


def check_keras_backend(name: "Any", interface: "Optional[Dict[str, Any]]" = None) -> "Record":
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
    trial = info.collect(environ=dict(os.environ, KERAS_BACKEND=value), interface=with_backend(interface, value))
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


def with_backend(interface: "Optional[Dict[str, Any]]", name: str) -> "Optional[Dict[str, Any]]":
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


class Note(TypedDict):
    """Something a setter tells its user: ``level`` "inform", "success" or
    "warning", the condition class R raises a warning with, the text."""

    level: str
    condition_class: "Optional[str]"
    message: str


class Change(TypedDict):
    """What setting a backend does, decided here once for Python and R.

    ``set``/``unset``: the environment variables to set and to remove;
    ``r_set``: those only an R interface reads, set in R's environment alone;
    ``persist_to``: the keras.json to write (None: none) and
    ``persist_backend`` the name written there (keras3's "jax-cpu" is "jax"
    in the file Keras reads); ``notes``: what to tell the user.  After it is applied, ``previous`` holds each changed
    variable's value before (None: it was unset) and ``persisted_to`` the
    file written."""

    backend: str
    set: "Dict[str, str]"
    unset: "List[str]"
    r_set: "Dict[str, str]"
    persist_to: "Optional[str]"
    persist_backend: str
    notes: "List[Note]"
    previous: "Dict[str, Optional[str]]"
    persisted_to: "Optional[str]"


def plan_keras_backend(name: str, persist: bool = False, interface: "Optional[Dict[str, Any]]" = None,
                       device: "Optional[str]" = None) -> Change:
    """Validate ``name`` (and ``device``) and decide every change that
    setting it makes, without making any; raises as
    :func:`check_keras_backend` does, and for an impossible device."""
    record = check_keras_backend(name, interface)
    facts = interfaces.parse(interface)
    backend = interfaces.backend_name(facts, name)
    changes = device_variables(record, backend, device) if device is not None else {}
    plan = Change(backend=interfaces.environment_value(facts, name), set={}, unset=[], r_set={},
                  persist_to=record["config_path"] if persist else None, persist_backend=backend, notes=[],
                  previous={}, persisted_to=None)
    plan["set"]["KERAS_BACKEND"] = plan["backend"]
    for variable, value in changes.items():
        if value is None:
            plan["unset"].append(variable)
        else:
            plan["set"][variable] = value
    interface_name = facts["name"] if facts else None
    if interface_name == "keras" and backend != "tensorflow":
        # as the legacy R package's own use_backend() does: only standalone
        # Keras has other backends; by default it imports tensorflow.keras
        plan["r_set"]["KERAS_IMPLEMENTATION"] = "keras"  # the R package reads it, in R
        plan["notes"].append(Note(level="inform", condition_class=None, message=(
            "Also set KERAS_IMPLEMENTATION to \"keras\": the R keras package uses {!r} only through standalone "
            "Keras.".format(backend))))
    if persist and interface_name == "keras3":
        plan["notes"].append(Note(level="warning", condition_class="kbackend_warning_keras3_overrides", message=(
            "keras3 ignores the backend in keras.json. When it loads it sets KERAS_BACKEND (to \"tensorflow\" if "
            "unset), which wins over the file. For later sessions, set KERAS_BACKEND={} in ~/.Renviron "
            "instead.".format(backend))))
    return plan


def apply_keras_backend(plan: Change, environ: "Optional[Any]" = None) -> Change:
    """Make the changes of ``plan``: write keras.json (if asked), then set
    and unset the variables in ``environ`` (``os.environ``; None: leave the
    environment to the caller, as R does).  Returns the plan with
    ``persisted_to`` and ``previous`` filled in."""
    done = Change(**plan)
    if plan["persist_to"]:
        done["persisted_to"] = persist.persist_backend(plan["persist_to"], plan["persist_backend"])
        done["notes"] = [Note(level="success", condition_class=None, message="Saved {!r} as the backend in {}.".format(
            plan["persist_backend"], done["persisted_to"]))] + list(plan["notes"])
    if environ is not None:
        done["previous"] = {variable: environ.get(variable) for variable in list(plan["set"]) + plan["unset"]}
        for variable in plan["unset"]:
            environ.pop(variable, None)
        environ.update(plan["set"])
    return done


def change_keras_backend(name: str, persist: bool = False, interface: "Optional[Dict[str, Any]]" = None,
                         device: "Optional[str]" = None, check: bool = False, environ: bool = True) -> Change:
    """:func:`plan_keras_backend`, then (unless ``check``) apply it, to
    ``os.environ`` too unless ``environ`` is false: the whole answer as
    data, for the CLI and the R bridge."""
    plan = plan_keras_backend(name, persist and not check, interface, device)
    return plan if check else apply_keras_backend(plan, os.environ if environ else None)


def change_keras_backend_json(name: str, persist: bool = False, interface: "Optional[Dict[str, Any]]" = None,
                              device: "Optional[str]" = None, check: bool = False) -> str:
    """For the R bridge: :func:`change_keras_backend` as JSON, leaving the
    environment to R, which sets its own and the running Python's together
    (they share the process's C environment: R must read the old values
    first)."""
    return json.dumps(dict(change_keras_backend(name, persist, interface, device, check, environ=False), ok=True))


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
    return change_keras_backend(name, persist, interface, device)["previous"]["KERAS_BACKEND"]


#: What makes each backend run on the CPU, set before it starts.
_CPU_VARIABLE = {"jax": ("JAX_PLATFORMS", "cpu"), "tensorflow": ("CUDA_VISIBLE_DEVICES", "-1")}


def device_variables(record: "Mapping[str, Any]", backend: str, device: str) -> "Dict[str, Optional[str]]":
    """The variables to set (a value) or unset (None) so that ``backend``
    runs on ``device`` ("cpu" or "gpu"), validated against the device
    forecast; raises :class:`DeviceError` when the device is not possible
    (a GPU asked of a CPU-only build, or with no driver) and
    :class:`BackendLockedError` once the backend library is imported."""
    if device not in DEVICES:
        raise DeviceError("device must be one of {}, not {!r}".format(", ".join(map(repr, DEVICES)), device))
    library = rules.KERAS3_BACKENDS.get(backend)
    if backend in ("numpy", "openvino") or library is None:
        # nothing to set, so nothing an earlier import could have fixed:
        # numpy is loaded in most sessions (reticulate loads it)
        if device == "gpu":
            raise DeviceError("The {!r} backend runs on the CPU only.".format(backend))
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
        raise DeviceError("The {!r} backend cannot run on a GPU here: {}.".format(
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
