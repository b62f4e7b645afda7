"""Reaching the workers of whatever the caller passed: a Dask client, a
process or thread pool, a Ray runtime.

:func:`reach` recognises the object and returns a :class:`Reach`: a context
manager (a pool's workers are held for its duration, see
:mod:`kbackend.pool_gate`) whose :meth:`~Reach.run` calls a worker-side
function of :mod:`kbackend.worker_side` in every worker and returns
``{worker label: answer}``, with an exception as the answer where a worker
could not run it.  Each says whether it reaches every worker exactly once
(``complete``), and if not, why (``note``), and whether a setting can reach
every worker that will ever run a task (:meth:`~Reach.cannot_set`).

No engine is imported here: Dask and loky are recognised by their
attributes, Ray by its class name (and used through ``sys.modules`` only
once the caller has imported it), the standard library's pools by class.
"""

import os
import sys

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Callable, Dict, Optional

#: What the survey and the setter accept, for the TypeError that lists them.
ACCEPTED = ("a Dask distributed.Client, a concurrent.futures ProcessPoolExecutor or ThreadPoolExecutor, a "
            "multiprocessing Pool or ThreadPool, a joblib/loky executor (get_reusable_executor()) or a Ray runtime "
            "(what ray.init() returns)")


class Reach:
    """Every worker of one engine; see the module docstring."""

    #: Whether :meth:`run` reaches every worker process exactly once.
    complete = True
    #: Why not, when it does not (None when it does).
    note: "Optional[str]" = None

    def __enter__(self) -> "Reach":
        return self

    def __exit__(self, *exc_info: "Any") -> None:
        return None

    def run(self, function: "Callable[..., Any]", *args: "Any") -> "Dict[Any, Any]":
        raise NotImplementedError

    def run_on(self, label: "Any", function: "Callable[..., Any]", *args: "Any") -> "Any":
        """``function(*args)`` in the one worker ``label``."""
        raise NotImplementedError

    def describe(self, label: "Any") -> str:
        """How a worker is named in messages."""
        return str(label)

    def cannot_set(self, name: str) -> "Optional[str]":
        """Why setting ``name`` in today's workers would not reach all of
        them (None: it does)."""
        return None


class DaskReach(Reach):
    """A Dask client: ``client.run`` runs once in every worker the scheduler
    knows now; workers are labelled by address."""

    def __init__(self, client: "Any") -> None:
        self.client = client

    def run(self, function: "Callable[..., Any]", *args: "Any") -> "Dict[Any, Any]":
        import inspect

        try:
            returns_errors = "on_error" in inspect.signature(self.client.run).parameters
        except (TypeError, ValueError):
            returns_errors = False
        results = (self.client.run(function, *args, on_error="return") if returns_errors
                   else self.client.run(function, *args))
        if not isinstance(results, dict):
            raise TypeError("the Dask client returned {} instead of a dict: an asynchronous client? Use "
                            "kbackend.workers.summarize(await client.run(kbackend.workers.survey_row)) "
                            "there.".format(type(results).__name__))
        return results

    def run_on(self, label: "Any", function: "Callable[..., Any]", *args: "Any") -> "Any":
        return self.client.run(function, *args, workers=[label])[label]


class PoolReach(Reach):
    """A process pool whose workers can be counted: each live worker process
    held once for the block (:class:`kbackend.pool_gate.PoolSession`),
    labelled 0, 1, ... in (host, pid) order."""

    def __init__(self, session: "Any") -> None:
        self.session = session

    def __enter__(self) -> "Reach":
        self.session.__enter__()
        return self

    def __exit__(self, *exc_info: "Any") -> None:
        self.session.__exit__(*exc_info)

    def run(self, function: "Callable[..., Any]", *args: "Any") -> "Dict[Any, Any]":
        return self.session.run(function, *args)

    def run_on(self, label: "Any", function: "Callable[..., Any]", *args: "Any") -> "Any":
        return self.session.run(function, *args, only=[label])[label]

    def describe(self, label: "Any") -> str:
        return self.session.describe(label)


class SampledReach(Reach):
    """A process pool that does not say which workers it has: the distinct
    processes that answered a batch of tasks, which may miss some."""

    complete = False

    def __init__(self, submit: "Callable[..., Any]", tasks: int, timeout: float) -> None:
        self.submit, self.tasks, self.timeout = submit, tasks, timeout
        self.note = ("this pool does not say which worker processes it has, so the rows are the distinct processes "
                     "that answered {} tasks: a worker may be missing.".format(tasks))

    def run(self, function: "Callable[..., Any]", *args: "Any") -> "Dict[Any, Any]":
        handles = [self.submit(function, None, *args) for _ in range(self.tasks)]
        by_pid: "Dict[Any, Any]" = {}
        for handle in handles:
            answer = handle.result(self.timeout)
            by_pid.setdefault((answer.get("host"), answer.get("pid")), answer)
        return {label: by_pid[key] for label, key in enumerate(sorted(by_pid, key=str))}

    def cannot_set(self, name: str) -> "Optional[str]":
        return ("this pool does not say which worker processes it has, so kbackend cannot reach each of them. "
                "Call kbackend.use_keras_backend({!r}) before creating the pool: its workers inherit this "
                "process's environment.".format(name))


class ThreadReach(Reach):
    """A thread pool: its threads share this process's environment, so one
    answer (from a pool thread) is every thread's."""

    def __init__(self, call: "Callable[..., Any]") -> None:
        self.call = call

    def run(self, function: "Callable[..., Any]", *args: "Any") -> "Dict[Any, Any]":
        return {0: self.call(function, *args)}

    def run_on(self, label: "Any", function: "Callable[..., Any]", *args: "Any") -> "Any":
        return self.call(function, *args)

    def describe(self, label: "Any") -> str:
        return "this process (pid {}), whose threads the pool runs".format(os.getpid())


class _Future:
    """A submitted task, as :class:`kbackend.pool_gate.PoolSession` sees it."""

    def __init__(self, done: "Callable[[], bool]", error: "Callable[[], Optional[BaseException]]",
                 result: "Callable[[float], Any]") -> None:
        self.done, self.error, self.result = done, error, result


def _futures_submit(executor: "Any") -> "Callable[..., Any]":
    """``submit(function, on_end, *args)`` for a concurrent.futures-style executor."""
    def submit(function: "Callable[..., Any]", on_end: "Optional[Callable[[], None]]", *args: "Any") -> _Future:
        future = executor.submit(function, *args)
        if on_end is not None:
            future.add_done_callback(lambda _future: on_end())

        def error() -> "Optional[BaseException]":
            return None if future.cancelled() else future.exception()
        return _Future(future.done, error, future.result)
    return submit


def _multiprocessing_submit(pool: "Any") -> "Callable[..., Any]":
    """``submit(function, on_end, *args)`` for a multiprocessing pool."""
    def submit(function: "Callable[..., Any]", on_end: "Optional[Callable[[], None]]", *args: "Any") -> _Future:
        def ended(_value: "Any") -> None:
            if on_end is not None:
                on_end()
        handle = pool.apply_async(function, args, callback=ended, error_callback=ended)

        def error() -> "Optional[BaseException]":
            try:
                handle.get(0)
            except BaseException as exc:  # noqa: BLE001 - the task's own exception, handed to the caller
                return exc
            return None
        return _Future(handle.ready, error, handle.get)
    return submit


def _is_dask_client(target: "Any") -> bool:
    """A Dask ``distributed.Client``, recognised without importing dask."""
    return callable(getattr(target, "run", None)) and callable(getattr(target, "scheduler_info", None))


def _is_ray(target: "Any") -> bool:
    """What ``ray.init()`` returns (or the ``ray`` module), without importing ray."""
    kind = type(target)
    return "ray" in sys.modules and (
        (kind.__name__ == "RayContext" and kind.__module__.split(".")[0] == "ray") or target is sys.modules["ray"])


def _is_loky(target: "Any") -> bool:
    """A loky (or joblib's bundled loky) process pool executor, by its module."""
    module = type(target).__module__
    return callable(getattr(target, "submit", None)) and (
        module.split(".")[0] == "loky" or module.startswith("joblib.externals.loky"))


def reach(target: "Any", timeout: float) -> Reach:
    """The :class:`Reach` for ``target``; :class:`TypeError` for anything
    that is not one of :data:`ACCEPTED`."""
    if _is_dask_client(target):
        return DaskReach(target)
    if _is_ray(target):
        from .engine_ray import RayReach

        return RayReach(timeout)
    import concurrent.futures
    import multiprocessing.pool

    if isinstance(target, (concurrent.futures.ThreadPoolExecutor, multiprocessing.pool.ThreadPool)):
        submit = _futures_submit(target) if hasattr(target, "submit") else _multiprocessing_submit(target)
        return ThreadReach(lambda function, *args: submit(function, None, *args).result(timeout))
    if isinstance(target, multiprocessing.pool.Pool):
        submit = _multiprocessing_submit(target)
    elif isinstance(target, concurrent.futures.ProcessPoolExecutor) or _is_loky(target):
        submit = _futures_submit(target)
    else:
        raise TypeError("kbackend reaches the workers of {}, not of {}".format(ACCEPTED, type(target).__name__))
    from . import pool_gate  # process pools only

    shape = pool_gate.pool_shape(target)
    if shape is None:
        return SampledReach(submit, 2 * (os.cpu_count() or 1), timeout)
    tasks, live_pids = shape
    return PoolReach(pool_gate.PoolSession(submit, tasks, live_pids, timeout))
