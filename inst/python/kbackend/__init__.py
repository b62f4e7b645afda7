"""kbackend: which Keras backend is, or will be, used here — and why.

Predicts the backend ``import keras`` will select, without importing Keras or
any backend, and sets it safely before Keras starts::

    >>> import kbackend
    >>> kbackend.backend_info()["backend"]
    'tensorflow'
    >>> kbackend.use_keras_backend("jax")     # returns the previous value
"""

import sys as _sys

from . import _stdlib

_LOADED_AT_START = list(_sys.modules)
with _stdlib.first():  # a json.py in the working directory must not break kbackend
    import contextlib, json, math, re, stat  # noqa: E401,F401 - loaded once, from the stdlib
    import importlib.machinery, importlib.util  # noqa: E401,F401

from . import importpath as _importpath
from ._version import __version__
from .errors import (
    BackendLockedError,
    BackendNotInstalledError,
    ConfigFileError,
    DeviceError,
    InvalidBackendError,
    KBackendError,
    KerasImportError,
    WorkerFailedError,
    WorkersUnreachableError,
)

_importpath.remember_loaded(_LOADED_AT_START)

#: Functions loaded on first use: `python -m kbackend` and the R bridge's
#: report need only the first two, and every module imported adds to the
#: start-up time the CLI is measured on (benchmarks/bench.py).  The record's
#: modules load on first use too: the pytest plugin (kbackend.pytest_plugin)
#: imports this package in every pytest run, and a run that does not use it
#: must not pay for them.
_LAZY = {
    "backend_info": "info",
    "backend_info_json": "info",
    "check_keras_backend": "setting",
    "change_keras_backend_json": "setting",  # the R bridge's setter: the decided changes as data
    "environment_mismatch_json": "r_session",  # the R bridge: R's environment against this process's
    "use_keras_backend": "setting",
    "with_keras_backend": "setting",
    "backend_survey": "workers",
    "use_keras_backend_on": "workers",
    "usable_keras_backends": "matrix",
}

if _sys.version_info >= (3, 7):
    def __getattr__(name: str) -> "object":
        if name not in _LAZY:
            raise AttributeError("module {!r} has no attribute {!r}".format(__name__, name))
        import importlib

        value = getattr(importlib.import_module("." + _LAZY[name], __name__), name)
        globals()[name] = value
        return value

    def __dir__() -> "list":
        return sorted(set(globals()) | set(_LAZY))

MYPY = False
if MYPY or _sys.version_info < (3, 7):  # type checkers see them; 3.6 has no module __getattr__ (PEP 562)
    from .info import backend_info, backend_info_json
    from .matrix import usable_keras_backends
    from .r_session import environment_mismatch_json  # noqa: F401 - for the R bridge, not the public API
    from .setting import change_keras_backend_json  # noqa: F401 - for the R bridge, not the public API
    from .setting import check_keras_backend, use_keras_backend, with_keras_backend
    from .workers import backend_survey, use_keras_backend_on

__all__ = [
    "BackendLockedError",
    "BackendNotInstalledError",
    "ConfigFileError",
    "DeviceError",
    "InvalidBackendError",
    "KBackendError",
    "KerasImportError",
    "WorkerFailedError",
    "WorkersUnreachableError",
    "__version__",
    "backend_info",
    "backend_info_json",
    "backend_survey",
    "check_keras_backend",
    "usable_keras_backends",
    "use_keras_backend",
    "use_keras_backend_on",
    "with_keras_backend",
]
