"""Exceptions raised by kbackend when asked to *change* something.

Predictions never raise: a failure Keras would hit is reported in the record's
``status``/``error`` fields instead.  These classes are for refusals, so that
callers (and the R bridge, which maps them to classed R conditions) can tell
them apart.
"""


class KBackendError(ValueError):
    """Base class: kbackend refused a request and changed nothing."""

    #: Stable identifier used by the CLI's JSON output and the R bridge.
    code = "kbackend_error"


class InvalidBackendError(KBackendError):
    """The name is not a backend the installed Keras can load."""

    code = "kbackend_error_invalid_backend"


class BackendNotInstalledError(KBackendError):
    """The backend is valid for this Keras but its library is not installed."""

    code = "kbackend_error_not_installed"


class BackendLockedError(KBackendError):
    """Keras is already imported in this process; its backend is fixed."""

    code = "kbackend_error_locked"


class KerasImportError(KBackendError):
    """With this backend ``import keras`` would fail for another reason (a
    missing dependency, an unreadable keras.json, ...)."""

    code = "kbackend_error_import_fails"


class ConfigFileError(KBackendError):
    """keras.json cannot be read or written safely."""

    code = "kbackend_error_config"


class DeviceError(KBackendError):
    """The device asked for is not one this backend can run on here (a GPU
    of a CPU-only build, or with no driver)."""

    code = "kbackend_error_device"


class WorkersUnreachableError(KBackendError):
    """A setting across workers cannot reach every worker that will run
    tasks (Ray starts its workers on demand; a pool that hides its
    workers): the message names the engine's own way."""

    code = "kbackend_error_workers_unreachable"


class WorkerFailedError(KBackendError):
    """A setting across workers was refused because kbackend could not run
    in a worker (not importable there, or the worker died)."""

    code = "kbackend_error_worker"
