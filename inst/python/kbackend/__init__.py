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
    InvalidBackendError,
    KBackendError,
    KerasImportError,
)
from .info import backend_info, backend_info_json
from .setting import check_keras_backend, use_keras_backend, with_keras_backend
from .workers import backend_survey, use_keras_backend_on

_importpath.remember_loaded(_LOADED_AT_START)

__all__ = [
    "BackendLockedError",
    "BackendNotInstalledError",
    "ConfigFileError",
    "InvalidBackendError",
    "KBackendError",
    "KerasImportError",
    "__version__",
    "backend_info",
    "backend_info_json",
    "backend_survey",
    "check_keras_backend",
    "use_keras_backend",
    "use_keras_backend_on",
    "with_keras_backend",
]
