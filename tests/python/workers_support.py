"""Functions that run inside worker processes for test_workers.py and
test_unit_pools.py, and :func:`in_each`, which runs one in each worker.

They live in a module of their own, at top level, so that every kind of
worker -- fork, spawn and forkserver children, process-pool workers, Dask
workers -- unpickles them by reference without importing pytest or the test
module.  ``real_backend`` is the ground truth: it imports Keras for real.
Standard library only.
"""

import multiprocessing
import os
import sys

#: Modules whose presence means Keras or a backend was imported.
HEAVY = ("keras", "tensorflow", "jax", "torch")
#: Seconds any wait inside a worker may take (Keras with torch imports in ~5 s).
TIMEOUT = 240


def loaded_heavy():
    """Which of Keras and the backend libraries this process has imported."""
    return [name for name in HEAVY if name in sys.modules]


def keras_backend_variable():
    """This process's KERAS_BACKEND (None when unset)."""
    return os.environ.get("KERAS_BACKEND")


def environment_variable(name):
    """This process's value of ``name`` (None when unset)."""
    return os.environ.get(name)


def real_backend():
    """Import Keras here, for real, and report what it chose."""
    before = loaded_heavy()
    import keras

    return {"pid": os.getpid(), "heavy_before": before, "backend": keras.backend.backend(),
            "variable": os.environ.get("KERAS_BACKEND")}


def report(queue):
    """A multiprocessing child: kbackend's survey row, what the survey
    imported, then real Keras's answer, onto ``queue``."""
    try:
        from kbackend.workers import survey_row

        row = survey_row()
        heavy = loaded_heavy()
        queue.put({"row": row, "heavy_after_survey": heavy, "real": real_backend()})
    except BaseException as exc:  # the parent must hear about it, not time out
        queue.put({"error": "{}: {}".format(type(exc).__name__, exc)})


def real_backend_at_barrier(barrier):
    """``real_backend`` in a process-pool worker, after every party has
    reached ``barrier``: one call per worker process, in distinct workers."""
    barrier.wait(TIMEOUT)
    return real_backend()


def in_each(pool, function, *args, processes=2):
    """In the parent: ``function(barrier, *args)`` once in each of
    ``processes`` pool workers, their answers in a list.  A barrier of that
    many parties keeps any worker from taking two calls.  Any pool:
    concurrent.futures, loky or multiprocessing."""
    with multiprocessing.Manager() as manager:
        barrier = manager.Barrier(processes)
        if hasattr(pool, "apply_async"):
            handles = [pool.apply_async(function, (barrier,) + args) for _ in range(processes)]
            return [handle.get(TIMEOUT) for handle in handles]
        futures = [pool.submit(function, barrier, *args) for _ in range(processes)]
        return [future.result(TIMEOUT) for future in futures]


def pid_at_barrier(barrier):
    """This worker's pid, once every party has reached ``barrier``: ``n``
    calls with an ``n``-party barrier land in ``n`` distinct workers."""
    barrier.wait(TIMEOUT)
    return os.getpid()


def deviate_at_barrier(barrier, value):
    """In exactly one of the workers meeting at ``barrier`` (the one the
    barrier numbers 0), set KERAS_BACKEND to ``value``; every worker returns
    ``(pid, whether it is the one)``."""
    chosen = barrier.wait(TIMEOUT) == 0
    if chosen:
        os.environ["KERAS_BACKEND"] = value
    return os.getpid(), chosen
