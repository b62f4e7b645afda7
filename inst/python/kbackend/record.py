"""The shape of the record :func:`kbackend.backend_info` returns.

These are ``TypedDict`` s for type checkers and readers; at run time each is
a plain ``dict`` subclass that nothing instantiates (Python 3.6 has no
``TypedDict``), so the record stays a plain dict at the boundary, as JSON and
as R's list.  README.md's field table lists exactly these fields (a test
compares the two).  Nested parts whose keys vary with the installation
(``installed``, ``variables``, ``devices``) or that other modules describe
in detail (``device``: :mod:`kbackend.devices`; ``verify``:
:mod:`kbackend.verify`; ``interface``: :mod:`kbackend.interfaces`) are typed
loosely.
"""

MYPY = False
if MYPY:  # typing costs milliseconds of start-up
    from typing import Any, Dict, List, Optional, TypedDict
else:
    TypedDict = dict


class ConfigFile(TypedDict):
    """What is at ``config_path``: whether it exists, what it is, whether it parses."""

    exists: bool
    type: "Optional[str]"
    parses: "Optional[bool]"
    error: "Optional[str]"
    backend: "Any"


class Keras(TypedDict):
    """The Keras that ``import keras`` finds."""

    installed: bool
    version: "Optional[str]"
    flavour: "Optional[str]"
    description: "Optional[str]"
    path: "Optional[str]"


class TfKeras(TypedDict):
    """What ``tf.keras`` resolves to (where TensorFlow is installed, the
    record also says, under ``module``, what ``tensorflow.keras`` is)."""

    routes_to: "Optional[str]"
    version: "Optional[str]"
    backend: "Optional[str]"
    status: str
    error: "Optional[str]"
    reason: str


class PythonInfo(TypedDict):
    """The interpreter that answered."""

    executable: str
    version: str
    implementation: str


class Problem(TypedDict):
    """What is wrong, and how to fix it."""

    code: str
    message: str
    fix: str


class Record(TypedDict):
    """The answer: which backend, why, will it work, on which device."""

    kbackend_version: str
    backend: "Any"
    status: str
    error: "Optional[str]"
    source: str
    reason: str
    locked: bool
    locked_by: "List[str]"
    keras_home: str
    keras_home_source: str
    config_path: str
    config_file: ConfigFile
    config: "Dict[str, Any]"
    keras: Keras
    installed: "Dict[str, Optional[str]]"
    tf_keras: TfKeras
    variables: "Dict[str, str]"
    python: PythonInfo
    interface: "Optional[Dict[str, Any]]"
    problems: "List[Problem]"
    verify: "Optional[Dict[str, Any]]"
    device: "Optional[Dict[str, Any]]"
    devices: "Dict[str, Any]"
