"""The backend choice across worker processes: survey it, set it everywhere.

``KERAS_BACKEND`` is an environment variable, so a worker process sees the
value its parent had *when the worker started*: a pool or cluster started
after :func:`kbackend.use_keras_backend` inherits the choice, one started
before it (or a worker started later from another environment) does not.
Nothing fails at that point; each worker simply imports Keras with its own
backend.  :func:`backend_survey` runs :func:`kbackend.backend_info` in every
worker -- importing no Keras there -- and says whether they agree;
:func:`use_keras_backend_on` sets the backend in every worker of a running
Dask cluster or process pool, or in none of them.

Because workers inherit the environment, the reliable way to give every
worker the same backend is to call :func:`kbackend.use_keras_backend` in the
parent *before* the pool or cluster starts its workers
(``tests/python/test_workers.py`` proves it for fork, spawn and forkserver
children, process pools, loky executors, Dask LocalClusters and local Ray
clusters against a real ``import keras`` in each worker), then check with
:func:`backend_survey`.

No engine is imported here: each is used through the object the caller
passes in (:mod:`kbackend.engines` recognises it and reaches its workers;
:mod:`kbackend.pool_gate` holds each process of a pool once).  The
worker-side functions (:mod:`kbackend.worker_side`, re-exported here) are
module-level so that they pickle by reference; ``kbackend`` must be
importable in the workers (it has no dependencies).  Everything returned is
plain JSON-compatible data.
"""

from . import engines, errors
from .keras_json import describe_exception

# the worker-side functions, under the names they are pickled by (see worker_side)
from .worker_side import (  # noqa: F401
    check_on_worker,
    gated_session,
    restore_on_worker,
    set_on_worker,
    survey_row,
)
from .workers_data import COMPARED_FIELDS, CONSISTENCY_FIELDS, ROW_FIELDS, refusal

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional

#: Seconds a survey or setting waits for every worker of a pool or Ray to answer.
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
# surveys

def backend_survey(executor_or_client: "Any", timeout: float = DEFAULT_TIMEOUT) -> "Dict[str, Any]":
    """Which Keras backend every worker would use, and whether they agree.

    Runs :func:`kbackend.backend_info` in each worker -- without importing
    Keras there -- and returns a plain dict::

        {"workers": [row, ...], "consistent": True, "differences": [],
         "complete": True, "note": None}

    Each row has ``worker`` (the Dask address, an index for a pool, the node
    id for Ray), ``host``, ``pid``, ``python`` (the worker's interpreter),
    ``backend``, ``device``, ``source``, ``status``, ``keras_version``,
    ``locked`` and ``error``.  A worker where kbackend cannot run gets a row
    with only ``worker`` and ``error``.  See :func:`summarize` for
    ``consistent`` and ``differences``.  ``complete`` says whether every
    worker process was reached exactly once; when it is False, ``note``
    says what the rows stand for.

    ``executor_or_client`` is one of:

    - a Dask ``distributed.Client``: ``client.run`` runs once in every
      worker the scheduler knows now.
    - a process pool: a ``concurrent.futures.ProcessPoolExecutor``, a
      ``multiprocessing`` ``Pool`` (any start method) or a joblib/loky
      executor (``get_reusable_executor()``).  Every live worker process is
      surveyed, each exactly once: the survey submits one task per possible
      worker, and each holds its worker until every live worker process has
      reported (:mod:`kbackend.pool_gate`).  The pool must be free to run
      them: a pool busy with other work for longer than ``timeout`` seconds
      raises :class:`TimeoutError`.  A worker the pool starts *after* the
      survey (Python 3.9+ starts ``concurrent.futures`` workers on demand,
      loky restarts idle ones, ``maxtasksperchild`` replaces them) starts
      from this process's environment of that moment.
    - a thread pool (``ThreadPoolExecutor``, ``multiprocessing`` ``ThreadPool``):
      its threads share this process's environment, so one row (from a pool
      thread) answers for all.
    - a Ray runtime (what ``ray.init()`` returns, or the ``ray`` module):
      one row per alive node, from a task pinned there; ``complete`` is
      False, because Ray starts its workers on demand (see ``note``).

    Anything else raises :class:`TypeError`.  ``timeout`` bounds the wait
    for a pool's or Ray's workers; a Dask client keeps its own time limits.

    >>> import kbackend
    >>> from concurrent.futures import ProcessPoolExecutor
    >>> kbackend.use_keras_backend("jax")      # before the pool starts its workers
    >>> with ProcessPoolExecutor(4) as pool:
    ...     survey = kbackend.backend_survey(pool)
    >>> survey["consistent"], {row["backend"] for row in survey["workers"]}
    (True, {'jax'})
    """
    with engines.reach(executor_or_client, timeout) as workers:
        answers = workers.run(survey_row)
    rows = []
    for label in sorted(answers, key=str):
        answer = answers[label]
        if isinstance(answer, BaseException):
            row: "Dict[str, Any]" = dict.fromkeys(ROW_FIELDS)
            row["error"] = "kbackend could not run in this worker (it must be importable there): {}".format(
                describe_exception(answer))
        else:
            row = dict(answer)
        row["worker"] = label
        rows.append(row)
    survey = summarize(rows)
    survey.update(complete=workers.complete, note=workers.note)
    return survey


# ---------------------------------------------------------------------------
# setting

def use_keras_backend_on(executor_or_client: "Any", name: str, device: "Optional[str]" = None,
                         timeout: float = DEFAULT_TIMEOUT) -> "Dict[Any, Optional[str]]":
    """Set the Keras backend in every worker, or in none.

    First asks every worker whether it would accept ``name`` (as
    :func:`kbackend.check_keras_backend` there).  If any refuses -- Keras
    already imported there with another backend, a name or library that
    worker lacks -- it raises the refusal's :class:`~kbackend.KBackendError`
    subclass (the base class when workers refuse for different reasons),
    whose message names each refusing worker and why and whose ``workers``
    attribute maps worker to reason; no worker is changed.  Otherwise it
    runs :func:`kbackend.use_keras_backend` (with ``device``, if given: see
    there) in every worker and returns ``{worker: previous KERAS_BACKEND}``.
    Should a worker refuse in that second step, the workers already changed
    are restored before the error is raised.

    ``executor_or_client`` is what :func:`backend_survey` takes:

    - a Dask client: every worker the scheduler knows now.  A worker that
      joins later, or one its nanny restarts (``client.restart()``), starts
      from the environment it is launched with: set ``KERAS_BACKEND`` there
      (call :func:`kbackend.use_keras_backend` before starting a
      ``LocalCluster``, or pass ``env=`` to it).
    - a process pool: every live worker process, each held (so that no
      other task runs on it) from the check to the last change.  Workers the
      pool starts later start from *this* process's environment, so call
      :func:`kbackend.use_keras_backend` here as well (for loky, or pass
      ``env={"KERAS_BACKEND": ...}`` to ``get_reusable_executor()``).
    - a thread pool: its threads are this process, so this process is set.
    - a Ray runtime: refused with
      :class:`~kbackend.WorkersUnreachableError`, changing nothing: Ray
      starts workers on demand, so the way is ``ray.init(runtime_env=
      {"env_vars": {"KERAS_BACKEND": name}})``.  So is a pool that does not
      say which workers it has.

    With no workers it changes nothing and returns ``{}``.

    >>> previous = kbackend.use_keras_backend_on(client, "torch")
    >>> kbackend.backend_survey(client)["consistent"]
    True
    """
    with engines.reach(executor_or_client, timeout) as workers:
        unreachable = workers.cannot_set(name)
        if unreachable:
            raise errors.WorkersUnreachableError(unreachable)
        answers = workers.run(check_on_worker, name, device)
        refused = _refusals(answers, workers)
        if refused:
            raise _refusal_error(name, refused, len(answers))
        results = workers.run(set_on_worker, name, device)
        refused = _refusals(results, workers)
        if refused:
            changed = [label for label in results if label not in refused]
            for label in changed:
                workers.run_on(label, restore_on_worker, results[label]["saved"])
            raise _refusal_error(name, refused, len(results), restored=len(changed))
    return {label: results[label]["previous"] for label in sorted(results, key=str)}


def _refusals(answers: "Dict[Any, Any]", workers: "engines.Reach") -> "Dict[Any, Dict[str, Any]]":
    """worker -> its refusal (as :func:`kbackend.workers_data.refusal` takes
    it) for every worker that did not say ok, in worker order."""
    refused: "Dict[Any, Dict[str, Any]]" = {}
    for label in sorted(answers, key=str):
        answer = answers[label]
        if isinstance(answer, BaseException):
            refused[label] = {"worker": workers.describe(label), "code": None,
                              "message": "kbackend could not run there: {}".format(describe_exception(answer))}
        elif not answer["ok"]:
            refused[label] = {"worker": workers.describe(label), "code": answer["code"], "message": answer["message"]}
    return refused


def _error_class(code: str) -> "type":
    """The KBackendError subclass a refusal ``code`` stands for (the base
    class for a code no subclass carries, such as a worker's own failure)."""
    for value in vars(errors).values():
        if isinstance(value, type) and issubclass(value, errors.KBackendError) and value.code == code:
            return value
    return errors.KBackendError


def _refusal_error(name: str, refused: "Dict[Any, Dict[str, Any]]", total: int,
                   restored: "Optional[int]" = None) -> "errors.KBackendError":
    verdict = refusal(name, list(refused.values()), total, restored)
    error = _error_class(verdict["code"])("\n".join([verdict["headline"]] + ["  " + line for line in verdict["lines"]]))
    error.workers = {label: entry["message"] for label, entry in refused.items()}
    return error
