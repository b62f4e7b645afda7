"""Which backends would import here: the job matrix for a CI system.

Each backend the installed Keras knows is judged exactly as
:func:`~kbackend.use_keras_backend` validates it -- by
:func:`~kbackend.check_keras_backend`, the prediction with
``KERAS_BACKEND=name`` -- and nothing here adds a rule of its own.  The one
addition is that a backend needs a Keras to import with: where Keras is not
installed none would import, whatever is installed for a Keras still to come
(which is what ``check_keras_backend`` judges there).
"""

import os

from . import info, interfaces, problems, setting
from .errors import BackendNotInstalledError, InvalidBackendError, KBackendError

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Mapping, Optional


def usable_keras_backends(backends: "Optional[List[str]]" = None,
                          interface: "Optional[Dict[str, Any]]" = None) -> "Dict[str, Any]":
    """Which backends ``import keras`` would work with here, without importing Keras.

    ``backends``: the names to judge; by default every backend the installed
    Keras knows (Keras 3: tensorflow, jax, torch, numpy, openvino; Keras
    2.2-2.3: cntk, tensorflow, theano; Keras 2.4-2.15: tensorflow).
    ``interface`` is as for :func:`~kbackend.backend_info`.

    Returns a plain dict: ``backend``, the names that would import, in order
    (``[]`` when none would); ``candidates``, one dict per name judged, with
    ``backend``, ``usable``, and for one that would not import ``reason``
    (kbackend's explanation: the message of the refusal
    :func:`~kbackend.use_keras_backend` would raise), ``error_class`` and
    ``code`` (those of that :class:`~kbackend.KBackendError`); ``keras``
    (``installed``, ``version``, ``flavour``); ``python`` (the interpreter
    that answered); ``current`` (the backend the environment selects now);
    and ``locked`` (Keras is already imported here: only its backend would
    import in this process).

    >>> kbackend.usable_keras_backends()["backend"]
    ['tensorflow', 'jax', 'torch', 'numpy']
    """
    record = info.backend_info(interface=interface)
    keras = record["keras"]
    known = problems.valid_names(keras["flavour"], keras["version"])
    names = known if backends is None else list(backends)
    candidates = [_judge(name, interface, record, name in known) for name in names]
    return {
        "backend": [candidate["backend"] for candidate in candidates if candidate["usable"]],
        "candidates": candidates,
        "keras": {"installed": keras["installed"], "version": keras["version"], "flavour": keras["flavour"]},
        "python": record["python"]["executable"],
        "current": record["backend"],
        "locked": record["locked"],
    }


def _judge(name: "Any", interface: "Optional[Dict[str, Any]]", record: "Mapping[str, Any]",
           known: bool) -> "Dict[str, Any]":
    if not record["keras"]["installed"]:
        # no backend imports without Keras: that is the reason, for every name
        found = [p for p in record["problems"] if p["code"] == "keras-not-installed"]
        reason = "{} {}".format(found[0]["message"], found[0]["fix"]) if found else record["error"]
        return _no(name, reason, BackendNotInstalledError)
    try:
        setting.check_keras_backend(name, interface)
    except KBackendError as exc:
        return _no(name, str(exc), type(exc))
    if not known:
        # A name the installed Keras does not list that the check let
        # through: Keras 2.2-2.3 loads a custom backend module by that name,
        # Keras 2.4-2.15 ignores KERAS_BACKEND and imports with TensorFlow.
        # The prediction with the name set says which.
        facts = interfaces.parse(interface)
        value = interfaces.environment_value(facts, name)
        trial = info.collect(environ=dict(os.environ, KERAS_BACKEND=value),
                             interface=setting.with_backend(interface, value))
        if trial["backend"] != interfaces.backend_name(facts, name):
            return _no(name, "With KERAS_BACKEND={!r}, import keras would use {!r}: {}.".format(
                name, trial["backend"], trial["reason"]), InvalidBackendError)
    return {"backend": name, "usable": True, "reason": None, "error_class": None, "code": None}


def _no(name: "Any", reason: "Optional[str]", error: "type") -> "Dict[str, Any]":
    return {"backend": name, "usable": False, "reason": reason, "error_class": error.__name__,
            "code": getattr(error, "code", None)}


def format_table(answer: "Dict[str, Any]") -> str:
    """The answer as a readable table: one line per backend, with the reason
    for each that would not import."""
    keras = answer["keras"]
    if keras["installed"]:
        head = "Keras {} ({}) in {}".format(keras["version"], keras["flavour"], answer["python"])
    else:
        head = "No Keras in {} (judged by Keras 3's backends)".format(answer["python"])
    width = max([len("backend")] + [len(str(c["backend"])) for c in answer["candidates"]])
    lines = [head, "", "{}  imports  why not".format("backend".ljust(width))]
    for candidate in answer["candidates"]:
        lines.append("{}  {}  {}".format(
            str(candidate["backend"]).ljust(width), "yes    " if candidate["usable"] else "no     ",
            candidate["reason"] or "").rstrip())
    usable = answer["backend"]
    lines += ["", "would import: {}".format(", ".join(usable) if usable else "none")]
    return "\n".join(lines)
