"""Every pool of the standard library, reached on every CPython kbackend
supports (run by each pyenv interpreter, 3.6-3.13).

How many workers a pool has, and which processes they are, is read from
attributes the pools do not document (kbackend.pool_gate); these tests hold
that reading against what the pool's own workers say (their pids, collected
with a barrier so that each answers once), in real pools of every start
method, with a fake Keras 3 installed so that setting can succeed.  When the
attributes are missing, the survey must say it may be incomplete, and the
setter must refuse.
"""

import contextlib
import multiprocessing
import multiprocessing.pool
import os
import sys
import unittest
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from unit_support import HERE, KERAS3, installed  # first: it puts kbackend on sys.path

import kbackend
from kbackend import pool_gate
from workers_support import in_each, pid_at_barrier

#: The directory kbackend is imported from.
KBACKEND_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(kbackend.__file__)))
#: Seconds a pool gets to answer; generous, for a loaded machine.
WAIT = 120


@contextlib.contextmanager
def in_workers(libraries):
    """A fake installation of ``libraries`` (KERAS_BACKEND=tensorflow),
    with kbackend and these tests' worker functions importable too: a
    spawned worker starts from this process's sys.path."""
    with installed(libraries, KERAS_BACKEND="tensorflow"):
        sys.path.extend([KBACKEND_PARENT, HERE])
        yield


@contextlib.contextmanager
def closing_pool(pool):
    """A multiprocessing pool closed and joined at the end: its workers
    finish their queue and exit, instead of being killed (terminate())."""
    try:
        yield pool
    finally:
        pool.close()
        pool.join()


def process_pools():
    """(name, factory) for a two-worker pool of each kind and start method."""
    for method in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context(method)
        yield "Pool-" + method, lambda context=context: closing_pool(context.Pool(2))
    yield "ProcessPoolExecutor", lambda: ProcessPoolExecutor(2)


class ProcessPools(unittest.TestCase):
    def test_every_worker_is_surveyed_and_set_once(self):
        with in_workers(KERAS3):
            for name, factory in process_pools():
                with self.subTest(pool=name), factory() as pool:
                    survey = kbackend.backend_survey(pool, timeout=WAIT)
                    pids = sorted(in_each(pool, pid_at_barrier))
                    self.assertEqual(sorted(row["pid"] for row in survey["workers"]), pids)
                    self.assertEqual([row["worker"] for row in survey["workers"]], [0, 1])
                    self.assertEqual((survey["complete"], survey["note"]), (True, None))
                    self.assertEqual({row["backend"] for row in survey["workers"]}, {"tensorflow"})

                    self.assertEqual(kbackend.use_keras_backend_on(pool, "jax", timeout=WAIT),
                                     {0: "tensorflow", 1: "tensorflow"})
                    survey = kbackend.backend_survey(pool, timeout=WAIT)
                    self.assertEqual([(row["pid"], row["backend"]) for row in survey["workers"]],
                                     [(pid, "jax") for pid in pids])
                    self.assertEqual(os.environ["KERAS_BACKEND"], "tensorflow")  # this process is not a worker

    def test_a_refusal_names_each_worker_and_changes_none(self):
        with in_workers(KERAS3), ProcessPoolExecutor(2) as pool:
            with self.assertRaises(kbackend.BackendNotInstalledError) as caught:
                kbackend.use_keras_backend_on(pool, "torch", timeout=WAIT)
            pids = sorted(in_each(pool, pid_at_barrier))
            message = str(caught.exception)
            self.assertTrue(message.startswith('Refused to set the Keras backend to "torch" on 2 of 2 workers; '
                                               "nothing was changed on any worker."), message)
            for label, pid in enumerate(pids):
                self.assertIn("worker {} (pid {} on ".format(label, pid), message)
            self.assertEqual(sorted(caught.exception.workers), [0, 1])
            survey = kbackend.backend_survey(pool, timeout=WAIT)
            self.assertEqual({row["backend"] for row in survey["workers"]}, {"tensorflow"})

    def test_a_pool_that_hides_its_workers_is_sampled_and_not_set(self):
        shape = pool_gate.pool_shape
        pool_gate.pool_shape = lambda pool: None  # as if a Python release renamed the attributes
        try:
            with in_workers(KERAS3):
                for name, factory in process_pools():
                    with self.subTest(pool=name), factory() as pool:
                        survey = kbackend.backend_survey(pool, timeout=WAIT)
                        self.assertIs(survey["complete"], False)
                        self.assertIn("a worker may be missing", survey["note"])
                        self.assertLessEqual({row["pid"] for row in survey["workers"]},
                                             set(in_each(pool, pid_at_barrier)))
                        with self.assertRaises(kbackend.WorkersUnreachableError) as caught:
                            kbackend.use_keras_backend_on(pool, "jax", timeout=WAIT)
                        self.assertIn("kbackend.use_keras_backend('jax') before creating the pool",
                                      str(caught.exception))
        finally:
            pool_gate.pool_shape = shape

    def test_the_attributes_read_are_there(self):
        # On this CPython, every pool exposes what pool_shape reads.
        for name, factory in process_pools():
            with self.subTest(pool=name), factory() as pool:
                self.assertIsNotNone(pool_gate.pool_shape(pool))


class ThreadPools(unittest.TestCase):
    def test_threads_are_this_process(self):
        with in_workers(KERAS3):
            for name, factory in (("ThreadPoolExecutor", lambda: ThreadPoolExecutor(2)),
                                  ("ThreadPool", lambda: closing_pool(multiprocessing.pool.ThreadPool(2)))):
                with self.subTest(pool=name), factory() as pool:
                    survey = kbackend.backend_survey(pool, timeout=WAIT)
                    self.assertEqual([(row["worker"], row["pid"]) for row in survey["workers"]], [(0, os.getpid())])
                    self.assertEqual(kbackend.use_keras_backend_on(pool, "jax", timeout=WAIT), {0: "tensorflow"})
                    self.assertEqual(os.environ["KERAS_BACKEND"], "jax")
                    os.environ["KERAS_BACKEND"] = "tensorflow"


if __name__ == "__main__":
    unittest.main()
