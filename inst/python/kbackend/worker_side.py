"""What runs inside the workers of a survey or a setting, and nothing else.

:mod:`kbackend.workers` sends these functions to worker processes (Dask's
``client.run``, a process pool, Ray tasks), which unpickle them by
reference and run them there: so they are module-level, they answer with
plain JSON-compatible data, and they never raise, because Dask's
``client.run`` stops at the first worker that raises and the caller needs
every worker's answer.  Keeping them apart from the parent's side (the
verdict, the pool handshake of :mod:`kbackend.pool_gate`, the engines of
:mod:`kbackend.engines`) keeps this file to what a worker executes.

They keep the names they have always been pickled under,
``kbackend.workers.<name>`` (``kbackend.workers`` re-exports them), so that
a worker reached by another kbackend release still finds them.
"""

import json
import os
import sys

from . import errors
from .info import backend_info
from .keras_json import describe_exception
from .setting import change_keras_backend, plan_keras_backend
from .workers_data import ROW_FIELDS

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, Optional, Tuple


def survey_row(worker: "Any" = None) -> "Dict[str, Any]":
    """This process's backend, as one survey row; imports no Keras.

    Runs :func:`kbackend.backend_info` and keeps the fields that identify the
    process and its Keras backend.  Never raises: if kbackend itself fails,
    the row says so in ``error`` (``status`` "error", ``backend`` None) so
    that the survey still reports the worker, as inconsistent.
    """
    import socket

    row = dict.fromkeys(ROW_FIELDS)  # type: Dict[str, Any]
    row.update(worker=worker, host=socket.gethostname(), pid=os.getpid(), python=sys.executable, status="error")
    try:
        record = backend_info()
    except Exception as exc:  # noqa: BLE001 - a kbackend bug must not hide the worker
        row["error"] = "kbackend failed in this worker: {}".format(describe_exception(exc))
        return row
    row.update(backend=record["backend"], device=(record.get("device") or {}).get("device"), source=record["source"],
               status=record["status"], keras_version=record["keras"]["version"], locked=record["locked"],
               error=record["error"])
    return row


def _refusal(exc: "BaseException") -> "Dict[str, Any]":
    code = getattr(exc, "code", None) if isinstance(exc, errors.KBackendError) else None
    return {"ok": False, "code": code, "message": str(exc) if code else describe_exception(exc),
            "previous": os.environ.get("KERAS_BACKEND")}


def check_on_worker(name: "Any", device: "Optional[str]" = None) -> "Dict[str, Any]":
    """Would :func:`kbackend.use_keras_backend` accept ``name`` (and
    ``device``) here?  Changes nothing.

    Returns ``{"ok", "code", "message", "previous"}`` instead of raising,
    because Dask's ``client.run`` stops at the first worker that raises and
    the caller needs every worker's answer.
    """
    try:
        plan_keras_backend(name, device=device)
    except Exception as exc:  # noqa: BLE001 - every worker must answer; see the docstring
        return _refusal(exc)
    return {"ok": True, "code": None, "message": None, "previous": os.environ.get("KERAS_BACKEND")}


def set_on_worker(name: "Any", device: "Optional[str]" = None) -> "Dict[str, Any]":
    """:func:`kbackend.use_keras_backend` here, answering like
    :func:`check_on_worker`; ``saved`` holds every variable's old value."""
    try:
        change = change_keras_backend(name, device=device)
    except Exception as exc:  # noqa: BLE001 - every worker must answer, as in check_on_worker
        return _refusal(exc)
    return {"ok": True, "code": None, "message": None, "previous": change["previous"]["KERAS_BACKEND"],
            "saved": change["previous"]}


def restore_on_worker(saved: "Dict[str, Optional[str]]") -> None:
    """Put back each variable of ``saved`` (None: unset) after a partial change."""
    for variable, value in saved.items():
        if value is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = value


#: What a held pool worker may be asked to run (see :func:`gated_session`).
SESSION_CALLS = ("survey_row", "check_on_worker", "set_on_worker", "restore_on_worker")


def gated_session(address: "Tuple[str, int]", token: str, timeout: float) -> bool:
    """Hold this pool worker for the parent: say who it is, then run the
    parent's calls here until released.

    A pool worker runs one task at a time, so while this task holds it no
    other task can land on it: the parent (:mod:`kbackend.pool_gate`) sends
    one of these tasks per possible worker, waits until every live worker
    process has said hello, and then asks each, exactly once, for a survey
    row or to check, set and if need be restore the backend.  The parent
    sends one JSON line per call (``{"call": name, "args": [...]}``, only
    the functions named in :data:`SESSION_CALLS`) and ``{"call": null}`` to
    release; each answer is one JSON line.  Returns whether the parent
    released this worker; a task that runs after the parent closed (a
    surplus task) finds nobody listening and returns False at once.
    """
    import socket

    hello = {"token": token, "host": socket.gethostname(), "pid": os.getpid()}
    try:
        connection = socket.create_connection(address, timeout=timeout)
    except OSError:
        return False
    try:
        connection.sendall((json.dumps(hello) + "\n").encode("utf-8"))
        with connection.makefile("r", encoding="utf-8") as lines:
            for line in lines:
                request = json.loads(line)
                name = request.get("call")
                if name is None:
                    return True
                if name not in SESSION_CALLS:
                    answer = _refusal(ValueError("not a worker call: {!r}".format(name)))  # type: Any
                else:
                    answer = globals()[name](*request.get("args", []))
                connection.sendall((json.dumps(answer) + "\n").encode("utf-8"))
        return False  # the parent went away without releasing
    except (OSError, ValueError):
        return False
    finally:
        connection.close()


# pickled by reference as kbackend.workers.<name>: see the module docstring
for _function in (survey_row, check_on_worker, set_on_worker, restore_on_worker, gated_session):
    _function.__module__ = "kbackend.workers"
del _function
