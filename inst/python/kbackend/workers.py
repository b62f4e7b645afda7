"""The backend choice across worker processes: survey it, set it everywhere.

``KERAS_BACKEND`` is an environment variable, so a worker process sees the
value its parent had *when the worker started*: a pool or cluster started
after :func:`kbackend.use_keras_backend` inherits the choice, one started
before it (or a worker started later from another environment) does not.
Nothing fails at that point; each worker simply imports Keras with its own
backend.  :func:`backend_survey` runs :func:`kbackend.backend_info` in every
worker -- importing no Keras there -- and says whether they agree;
:func:`use_keras_backend_on` sets the backend in every worker of a running
Dask cluster, or in none of them.

Because workers inherit the environment, the reliable way to give every
worker the same backend is to call :func:`kbackend.use_keras_backend` in the
parent *before* the pool or cluster starts its workers
(``tests/python/test_workers.py`` proves it for fork, spawn and forkserver
children, process pools and Dask LocalClusters against a real
``import keras`` in each worker), then check with :func:`backend_survey`.

Dask and :mod:`concurrent.futures` are never imported here: they are only
used through the objects the caller passes in.  The worker-side functions
(:mod:`kbackend.worker_side`, re-exported here) are module-level so that
they pickle by reference; ``kbackend`` must be importable in the workers (it
has no dependencies).  The handshake that surveys each process of a pool
once is :mod:`kbackend.pool_gate`.  Everything returned is plain
JSON-compatible data.
"""

from . import errors
from .keras_json import describe_exception

# the worker-side functions, under the names they are pickled by (see worker_side)
from .worker_side import (  # noqa: F401
    FIELDS,
    ROW_FIELDS,
    check_on_worker,
    gated_row,
    restore_on_worker,
    set_on_worker,
    survey_row,
)

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional, Tuple

#: Fields compared across workers for ``differences``, in the order reported.
COMPARED_FIELDS = tuple(FIELDS["compared"])
#: Fields that must agree for a survey to be ``consistent``: the same backend
#: on the same kind of device, working or failing alike, with the same Keras.
CONSISTENCY_FIELDS = tuple(FIELDS["consistency"])
#: Seconds an executor survey waits for every worker process to report.
DEFAULT_TIMEOUT = 60.0


# ---------------------------------------------------------------------------
# the verdict

def summarize(rows: "Any") -> "Dict[str, Any]":
    """The survey verdict for rows from :func:`survey_row`.

    ``rows`` is a list of rows, or the ``{worker: row}`` dict that Dask's
    ``client.run(survey_row)`` returns (each row then gets its key as
    ``worker``; use this with an asynchronous client:
    ``summarize(await client.run(kbackend.workers.survey_row))``).

    ``consistent`` is True when every row has the same ``backend``,
    ``device``, ``status`` and ``keras_version`` (so also for no rows at
    all: check ``workers`` is not empty); ``differences`` lists each of
    ``python``, ``backend``, ``device``, ``source``, ``status``,
    ``keras_version``, ``locked`` that takes more than one value, in that
    order.
    """
    if isinstance(rows, dict):
        rows = [dict(rows[key], worker=key) for key in sorted(rows, key=str)]
    rows = [dict(row) for row in rows]
    differences = []
    for field in COMPARED_FIELDS:
        values: "List[Any]" = []
        for row in rows:
            if row.get(field) not in values:
                values.append(row.get(field))
        if len(values) > 1:
            differences.append(field)
    consistent = not any(field in differences for field in CONSISTENCY_FIELDS)
    return {"workers": rows, "consistent": consistent, "differences": differences}


# ---------------------------------------------------------------------------
# what the caller passed

def _is_dask_client(target: "Any") -> bool:
    """A Dask ``distributed.Client``, recognised without importing dask."""
    return callable(getattr(target, "run", None)) and callable(getattr(target, "scheduler_info", None))


def _executor_kind(target: "Any") -> "Optional[str]":
    """``"processes"`` or ``"threads"`` for concurrent.futures pools, by their attributes."""
    if not callable(getattr(target, "submit", None)):
        return None
    if isinstance(getattr(target, "_processes", None), dict) and isinstance(getattr(target, "_max_workers", None), int):
        return "processes"
    if hasattr(target, "_threads") and not hasattr(target, "_processes"):
        return "threads"
    return None


def _run_everywhere(client: "Any", function: "Any", *args: "Any") -> "Dict[str, Any]":
    """``client.run(function, *args)`` on every worker, with an exception as
    the value for a worker where it failed (e.g. kbackend not importable)."""
    import inspect

    try:
        returns_errors = "on_error" in inspect.signature(client.run).parameters
    except (TypeError, ValueError):
        returns_errors = False
    results = client.run(function, *args, on_error="return") if returns_errors else client.run(function, *args)
    if not isinstance(results, dict):
        raise TypeError("the Dask client returned {} instead of a dict: an asynchronous client? Use "
                        "kbackend.workers.summarize(await client.run(kbackend.workers.survey_row)) "
                        "there.".format(type(results).__name__))
    return results


# ---------------------------------------------------------------------------
# surveys

def backend_survey(executor_or_client: "Any", timeout: float = DEFAULT_TIMEOUT) -> "Dict[str, Any]":
    """Which Keras backend every worker would use, and whether they agree.

    Runs :func:`kbackend.backend_info` in each worker -- without importing
    Keras there -- and returns a plain dict::

        {"workers": [row, ...], "consistent": True, "differences": []}

    Each row has ``worker`` (the Dask address, or an index), ``host``,
    ``pid``, ``python`` (the worker's interpreter), ``backend``, ``source``,
    ``status``, ``keras_version``, ``locked`` and ``error``; rows are sorted
    by worker address, or by (host, pid).  See :func:`summarize` for
    ``consistent`` and ``differences``.

    ``executor_or_client`` is one of:

    - a Dask ``distributed.Client`` (recognised by its ``run`` and
      ``scheduler_info`` methods): ``client.run`` runs once in every worker
      the scheduler knows now.  A worker where kbackend cannot run gets a
      row with only ``worker`` and ``error``.
    - a ``concurrent.futures.ProcessPoolExecutor``: every worker process
      the pool has is surveyed, each exactly once.  The survey submits one
      task per possible worker (``max_workers``); each task reports to this
      process and holds its worker until every live worker process has
      reported, so none can run two of them and none is missed.  The pool
      must be free to run them: a pool busy with other work for longer than
      ``timeout`` seconds raises :class:`TimeoutError`, naming how many
      reported.  Surplus tasks (a pool that has started fewer processes
      than ``max_workers``) return at once.  Python 3.9+ starts pool
      workers on demand, each with this process's environment of that
      moment (submitting the survey's tasks may start some): a worker the
      pool starts *after* the survey is not in it.
    - a ``concurrent.futures.ThreadPoolExecutor``: its threads share this
      process's environment, so one row (from a pool thread) answers for
      all.

    Anything else raises :class:`TypeError`.  ``timeout`` bounds the wait
    for a pool's workers; a Dask client keeps its own time limits.

    >>> import kbackend
    >>> from concurrent.futures import ProcessPoolExecutor
    >>> kbackend.use_keras_backend("jax")      # before the pool starts its workers
    >>> with ProcessPoolExecutor(4) as pool:
    ...     survey = kbackend.backend_survey(pool)
    >>> survey["consistent"], {row["backend"] for row in survey["workers"]}
    (True, {'jax'})
    """
    if _is_dask_client(executor_or_client):
        return _survey_dask(executor_or_client)
    kind = _executor_kind(executor_or_client)
    if kind == "processes":
        from . import pool_gate  # only a survey of a process pool needs it

        return summarize(pool_gate.collect_rows(executor_or_client, timeout))
    if kind == "threads":
        row = executor_or_client.submit(survey_row, 0).result(timeout)
        return summarize([row])
    raise TypeError("backend_survey() needs a Dask distributed.Client, a concurrent.futures "
                    "ProcessPoolExecutor or a ThreadPoolExecutor, not {}".format(type(executor_or_client).__name__))


def _survey_dask(client: "Any") -> "Dict[str, Any]":
    results = _run_everywhere(client, survey_row)
    rows = []
    for address in sorted(results, key=str):
        value = results[address]
        if isinstance(value, BaseException):
            row: "Dict[str, Any]" = dict.fromkeys(ROW_FIELDS)
            row["error"] = "kbackend could not run in this worker (it must be importable there): {}".format(
                describe_exception(value))
        else:
            row = dict(value)
        row["worker"] = address
        rows.append(row)
    return summarize(rows)


# ---------------------------------------------------------------------------
# setting

def use_keras_backend_on(client: "Any", name: str, device: "Optional[str]" = None) -> "Dict[str, Optional[str]]":
    """Set the Keras backend in every worker of a Dask cluster, or in none.

    First asks every worker whether it would accept ``name`` (as
    :func:`kbackend.check_keras_backend` there).  If any refuses -- Keras
    already imported there with another backend, a name or library that
    worker lacks -- it raises the refusal's :class:`~kbackend.KBackendError`
    subclass (the base class when workers refuse for different reasons),
    whose message names each refusing worker and why and whose ``workers``
    attribute maps address to reason; no worker is changed.  Otherwise it
    runs :func:`kbackend.use_keras_backend` (with ``device``, if given:
    see there) in every worker and returns
    ``{address: previous KERAS_BACKEND}``.  Should a worker refuse in that
    second step (something imported Keras in between), the workers already
    changed are restored before the error is raised.

    It changes the running worker processes only (not this process: use
    :func:`kbackend.use_keras_backend` here), and with no workers it
    changes nothing and returns ``{}``.  A worker that joins
    later, or one its nanny restarts (``client.restart()``), starts from the
    environment it is launched with: set ``KERAS_BACKEND`` there (call
    :func:`kbackend.use_keras_backend` before starting a ``LocalCluster``, or
    pass ``env=`` to it) and check with :func:`backend_survey`.

    Only Dask clients are accepted.  A ``concurrent.futures`` pool raises
    :class:`TypeError`: a process pool starts and replaces workers on
    demand from this process's environment, so a value set inside today's
    workers would not reach tomorrow's.  Set the backend here with
    :func:`kbackend.use_keras_backend` before creating the pool instead.

    >>> previous = kbackend.use_keras_backend_on(client, "torch")
    >>> kbackend.backend_survey(client)["consistent"]
    True
    """
    if not _is_dask_client(client):
        raise TypeError("use_keras_backend_on() needs a Dask distributed.Client, not {}. For a "
                        "concurrent.futures pool, call kbackend.use_keras_backend({!r}) before creating it: its "
                        "workers inherit this process's environment.".format(type(client).__name__, name))
    answers = _run_everywhere(client, check_on_worker, name, device)
    refused = _refusals(answers)
    if refused:
        raise _refusal_error(name, refused, len(answers), "nothing was changed")
    results = _run_everywhere(client, set_on_worker, name, device)
    refused = _refusals(results)
    if refused:
        changed = [address for address in results if address not in refused]
        for address in changed:
            client.run(restore_on_worker, results[address]["saved"], workers=[address])
        raise _refusal_error(name, refused, len(results), "the {} workers already changed were restored".format(
            len(changed)))
    return {address: results[address]["previous"] for address in sorted(results, key=str)}


def _refusals(answers: "Dict[str, Any]") -> "Dict[str, Tuple[Optional[str], str]]":
    """address -> (error code, message) for every worker that did not say ok."""
    refused: "Dict[str, Tuple[Optional[str], str]]" = {}
    for address in sorted(answers, key=str):
        answer = answers[address]
        if isinstance(answer, BaseException):
            refused[address] = (None, "kbackend could not run there: {}".format(describe_exception(answer)))
        elif not answer["ok"]:
            refused[address] = (answer["code"], answer["message"])
    return refused


def _error_class(code: "Optional[str]") -> "type":
    """The KBackendError subclass a worker's refusal ``code`` stands for."""
    for value in vars(errors).values():
        if isinstance(value, type) and issubclass(value, errors.KBackendError) and value.code == code:
            return value
    return errors.KBackendError


def _refusal_error(name: str, refused: "Dict[str, Tuple[Optional[str], str]]", total: int,
                   outcome: str) -> "errors.KBackendError":
    codes = {code for code, _message in refused.values()}
    cls = _error_class(codes.pop()) if len(codes) == 1 else errors.KBackendError
    lines = ["{} of {} workers refused backend {!r}; {}:".format(len(refused), total, name, outcome)]
    lines.extend("  {}: {}".format(address, message) for address, (_code, message) in refused.items())
    error = cls("\n".join(lines))
    error.workers = {address: message for address, (_code, message) in refused.items()}
    return error
