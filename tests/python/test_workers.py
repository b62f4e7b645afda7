"""The backend choice reaches every worker, and kbackend can prove it.

Real workers only: multiprocessing children and pools (fork, spawn,
forkserver), concurrent.futures and loky pools, Dask LocalClusters and a
local Ray cluster, each started *after*
``kbackend.use_keras_backend()`` so that they inherit ``KERAS_BACKEND``.  In
each worker, kbackend's survey is held against a real ``import keras`` (see
workers_support.py).  Every test has a throwaway HOME and KERAS_HOME, set
before any worker starts, so Keras never writes into a real ~/.keras.  No
fixed ports (xdist runs these in parallel), no sleeps, every wait bounded.
"""

import contextlib
import json
import multiprocessing
import multiprocessing.pool
import os
import shutil
import sys
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from conftest import import_or_skip, require_modules

distributed = import_or_skip("distributed")

import kbackend
from kbackend import workers
from workers_support import TIMEOUT, deviate_at_barrier, environment_variable, in_each, keras_backend_variable, \
    loaded_heavy, pid_at_barrier, real_backend, real_backend_at_barrier, report

ROW_FIELDS = ["worker", "host", "pid", "python", "backend", "device", "source", "status", "keras_version", "locked",
              "error"]


@pytest.fixture
def keras_sandbox(monkeypatch, tmp_path):
    """A throwaway Keras directory holding a keras.json that names tensorflow
    (so KERAS_BACKEND must win, and no worker needs to write the file), and
    KERAS_BACKEND restored afterwards whatever the test set it to."""
    require_modules("keras", "jax", "torch")  # the workers import real Keras on these backends
    home = tmp_path / "keras"
    home.mkdir()
    (home / "keras.json").write_text(json.dumps({"floatx": "float32", "epsilon": 1e-07, "backend": "tensorflow",
                                                 "image_data_format": "channels_last"}))
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setenv("KERAS_BACKEND", "unset-by-the-fixture")  # records the original for restoring
    monkeypatch.delenv("KERAS_BACKEND")
    assert "keras" not in sys.modules, "this process must not have imported Keras (fork would inherit it)"
    return str(home)


def check_row(row, backend, locked=False):
    assert list(row) == ROW_FIELDS
    assert (row["backend"], row["source"], row["status"], row["locked"], row["error"]) == \
        (backend, "environment", "ok", locked, None), row
    assert row["keras_version"] == kbackend.backend_info()["keras"]["version"]
    assert row["python"] == sys.executable


# ---------------------------------------------------------------------------
# the verdict and the argument checks, without workers

def row(**fields):
    base = {"worker": 0, "host": "h", "pid": 1, "python": "/py", "backend": "jax", "device": "cpu", "source": "environment",
            "status": "ok", "keras_version": "3.15.1", "locked": False, "error": None}
    base.update(fields)
    return base


def test_verdict_compares_backend_device_status_and_keras_version():
    assert workers.summarize([row(), row(pid=2)]) == {"workers": [row(), row(pid=2)], "consistent": True,
                                                      "differences": []}
    # Differences are reported in a fixed order; only four break consistency.
    mixed = workers.summarize([row(), row(pid=2, locked=True, source="config", python="/other")])
    assert mixed["consistent"] is True
    assert mixed["differences"] == ["python", "source", "locked"]
    for field, value in (("backend", "torch"), ("device", "cuda"), ("status", "error"), ("keras_version", "3.0.0")):
        verdict = workers.summarize([row(), row(pid=2, **{field: value})])
        assert verdict["consistent"] is False and verdict["differences"] == [field]
    everything = workers.summarize([row(), row(pid=2, python="/b", backend="torch", device="cuda", source="config",
                                               status="error", keras_version=None, locked=True)])
    assert everything["differences"] == list(workers.COMPARED_FIELDS)
    assert workers.summarize([]) == {"workers": [], "consistent": True, "differences": []}


def test_verdict_takes_the_dict_client_run_returns():
    verdict = workers.summarize({"tcp://b:2": row(), "tcp://a:1": row(backend="torch")})
    assert [r["worker"] for r in verdict["workers"]] == ["tcp://a:1", "tcp://b:2"]
    assert verdict["differences"] == ["backend"]


def test_only_engines_kbackend_can_reach_are_accepted(keras_sandbox):
    for function, args in ((kbackend.backend_survey, ()), (kbackend.use_keras_backend_on, ("jax",))):
        with pytest.raises(TypeError, match="a Dask distributed.Client, .* or a Ray runtime .*, not of object"):
            function(object(), *args)
    assert "KERAS_BACKEND" not in os.environ


class FakeClient:
    """Just enough of distributed.Client: ``run`` answers from a table per
    worker-side function, and records every call."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def scheduler_info(self):
        return {"workers": {address: {} for address in self.answers["check_on_worker"]}}

    def run(self, function, *args, workers=None, wait=True, nanny=False, on_error="raise"):
        self.calls.append((function.__name__, args, workers))
        table = self.answers[function.__name__]
        return {address: table[address] for address in (workers or sorted(table))}


OK = {"ok": True, "code": None, "message": None, "previous": None}


def refusal(code, message):
    return {"ok": False, "code": code, "message": message, "previous": "torch"}


def test_a_refusal_names_every_refusing_worker_and_changes_nothing():
    client = FakeClient({"check_on_worker": {
        "tcp://a:1": OK, "tcp://b:2": refusal("kbackend_error_locked", "Keras is already loaded in b"),
        "tcp://c:3": refusal("kbackend_error_locked", "Keras is already loaded in c")}})
    with pytest.raises(kbackend.BackendLockedError) as caught:
        kbackend.use_keras_backend_on(client, "jax")
    assert caught.value.workers == {"tcp://b:2": "Keras is already loaded in b",
                                    "tcp://c:3": "Keras is already loaded in c"}
    assert str(caught.value).startswith(
        'Refused to set the Keras backend to "jax" on 2 of 3 workers; nothing was changed on any worker.')
    assert "tcp://b:2: Keras is already loaded in b" in str(caught.value)
    assert [call[0] for call in client.calls] == ["check_on_worker"]


def test_refusals_of_different_kinds_raise_the_base_class():
    client = FakeClient({"check_on_worker": {
        "tcp://a:1": refusal("kbackend_error_not_installed", "no torch in a"),
        "tcp://b:2": ValueError("kbackend import failed")}})
    with pytest.raises(kbackend.KBackendError) as caught:
        kbackend.use_keras_backend_on(client, "torch")
    assert type(caught.value) is kbackend.KBackendError
    assert caught.value.workers == {"tcp://a:1": "no torch in a",
                                    "tcp://b:2": "kbackend could not run there: ValueError: kbackend import failed"}


def test_workers_kbackend_cannot_run_in_raise_worker_failed():
    client = FakeClient({"check_on_worker": {"tcp://a:1": OK, "tcp://b:2": ValueError("no module named kbackend")}})
    with pytest.raises(kbackend.WorkerFailedError) as caught:
        kbackend.use_keras_backend_on(client, "torch")
    assert caught.value.code == "kbackend_error_worker"
    assert str(caught.value).splitlines()[1] == "  tcp://b:2: kbackend could not run there: ValueError: no module named kbackend"


def test_a_worker_refusing_late_gets_the_others_restored():
    client = FakeClient({
        "check_on_worker": {"tcp://a:1": OK, "tcp://b:2": OK},
        "set_on_worker": {"tcp://a:1": dict(OK, previous="numpy", saved={"KERAS_BACKEND": "numpy"}),
                          "tcp://b:2": refusal("kbackend_error_locked", "imported meanwhile")},
        "restore_on_worker": {"tcp://a:1": None, "tcp://b:2": None}})
    with pytest.raises(kbackend.BackendLockedError, match=r"the workers already changed \(1\) were set back"):
        kbackend.use_keras_backend_on(client, "jax")
    assert client.calls[-1] == ("restore_on_worker", ({"KERAS_BACKEND": "numpy"},), ["tcp://a:1"])


def test_every_row_of_a_fake_cluster_is_labelled_with_its_address():
    client = FakeClient({"check_on_worker": {}, "survey_row": {
        "tcp://b:2": row(worker=None), "tcp://a:1": RuntimeError("no kbackend here")}})
    survey = kbackend.backend_survey(client)
    assert [r["worker"] for r in survey["workers"]] == ["tcp://a:1", "tcp://b:2"]
    broken = survey["workers"][0]
    assert list(broken) == ROW_FIELDS and broken["backend"] is None
    assert broken["error"].endswith("RuntimeError: no kbackend here")
    assert survey["consistent"] is False


# ---------------------------------------------------------------------------
# multiprocessing: children started after use_keras_backend inherit it

@pytest.mark.parametrize("method", multiprocessing.get_all_start_methods())
def test_multiprocessing_children_inherit_the_backend(method, keras_sandbox):
    assert kbackend.use_keras_backend("jax") is None
    context = multiprocessing.get_context(method)
    queue = context.Queue()
    children = [context.Process(target=report, args=(queue,)) for _ in range(2)]
    for child in children:
        child.start()
    try:
        answers = [queue.get(timeout=TIMEOUT) for _ in children]
    finally:
        for child in children:
            child.join(TIMEOUT)
    assert [child.exitcode for child in children] == [0, 0]
    assert sorted(answer["row"]["pid"] for answer in answers) == sorted(child.pid for child in children)
    for answer in answers:
        assert "error" not in answer, answer
        check_row(answer["row"], "jax")
        assert answer["heavy_after_survey"] == []
        assert answer["real"]["backend"] == "jax"


# ---------------------------------------------------------------------------
# concurrent.futures

def real_backend_in_each(pool, processes):
    """real_backend() once in each of ``processes`` pool workers, by pid."""
    return {answer["pid"]: answer for answer in in_each(pool, real_backend_at_barrier, processes=processes)}


def test_process_pool_survey_reaches_every_worker(keras_sandbox):
    kbackend.use_keras_backend("jax")
    with ProcessPoolExecutor(2) as pool:
        survey = kbackend.backend_survey(pool, timeout=TIMEOUT)
        assert kbackend.backend_survey(pool, timeout=TIMEOUT) == survey  # the same workers, each once
        real = real_backend_in_each(pool, 2)
    assert survey["consistent"] is True and survey["differences"] == []
    assert [r["worker"] for r in survey["workers"]] == [0, 1]
    assert {r["pid"] for r in survey["workers"]} == set(real)
    for surveyed in survey["workers"]:
        check_row(surveyed, "jax")
        assert real[surveyed["pid"]]["heavy_before"] == []  # the surveys imported no Keras
        assert real[surveyed["pid"]]["backend"] == "jax"


def test_a_pool_worker_started_after_a_change_differs_and_the_survey_says_so(keras_sandbox):
    # Python 3.9+ starts spawn/forkserver pool workers on demand, each with
    # the parent's environment of that moment.
    kbackend.use_keras_backend("jax")
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        first = pool.submit(os.getpid).result(TIMEOUT)
        kbackend.use_keras_backend("torch")
        survey = kbackend.backend_survey(pool, timeout=TIMEOUT)
        real = real_backend_in_each(pool, 2)
    assert survey["consistent"] is False
    assert survey["differences"] == ["backend"]
    backends = {r["pid"]: r["backend"] for r in survey["workers"]}
    assert backends[first] == "jax" and sorted(backends.values()) == ["jax", "torch"]
    assert {pid: answer["backend"] for pid, answer in real.items()} == backends


def test_a_busy_pool_times_out_instead_of_guessing(keras_sandbox):
    kbackend.use_keras_backend("jax")
    with multiprocessing.Manager() as manager, ProcessPoolExecutor(2) as pool:
        # both workers started and answering first, so that within the short
        # limit below only the held worker can be missing, however loaded the machine
        assert len(kbackend.backend_survey(pool, timeout=TIMEOUT)["workers"]) == 2
        barrier = manager.Barrier(2)  # never completed: holds one worker until released
        held = pool.submit(barrier.wait, TIMEOUT)
        with pytest.raises(TimeoutError, match="1 of 2 worker processes reported within 0.5 s"):
            kbackend.backend_survey(pool, timeout=0.5)
        barrier.abort()
        with pytest.raises(threading.BrokenBarrierError):
            held.result(TIMEOUT)
        assert len(kbackend.backend_survey(pool, timeout=TIMEOUT)["workers"]) == 2


@pytest.mark.parametrize("kind", ["ThreadPoolExecutor", "ThreadPool"])
def test_thread_pool_answers_and_is_set_once_for_this_process(kind, keras_sandbox):
    kbackend.use_keras_backend("jax")
    with (ThreadPoolExecutor(4) if kind == "ThreadPoolExecutor" else multiprocessing.pool.ThreadPool(4)) as pool:
        survey = kbackend.backend_survey(pool, timeout=TIMEOUT)
        assert [r["pid"] for r in survey["workers"]] == [os.getpid()]
        check_row(survey["workers"][0], "jax")
        assert (survey["consistent"], survey["complete"]) == (True, True)
        # the threads are this process: setting them sets it
        assert kbackend.use_keras_backend_on(pool, "torch", timeout=TIMEOUT) == {0: "jax"}
        assert os.environ["KERAS_BACKEND"] == "torch"
        check_row(kbackend.backend_survey(pool, timeout=TIMEOUT)["workers"][0], "torch")


# ---------------------------------------------------------------------------
# every kind of process pool: set, made to deviate, surveyed, against real Keras

PROCESS_POOLS = ["Pool-" + method for method in multiprocessing.get_all_start_methods()] + [
    "ProcessPoolExecutor", "loky"]


@contextlib.contextmanager
def process_pool(kind):
    """A pool of two worker processes, shut down (its workers killed) afterwards."""
    if kind.startswith("Pool-"):
        pool = multiprocessing.get_context(kind[len("Pool-"):]).Pool(2)
        try:
            yield pool
        finally:  # close and join rather than kill the workers (terminate): see conftest.collect_ignore
            pool.close()
            pool.join()
    elif kind == "ProcessPoolExecutor":
        with ProcessPoolExecutor(2) as pool:
            yield pool
    else:
        require_modules("joblib")
        from joblib.externals import loky

        # reuse=False: a new executor, not one an earlier test left; no idle timeout within the test
        pool = loky.get_reusable_executor(max_workers=2, reuse=False, timeout=TIMEOUT)
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, kill_workers=True)


@pytest.mark.parametrize("kind", PROCESS_POOLS)
@pytest.mark.filterwarnings("ignore:A worker stopped while some jobs were given")  # loky's replacement, below
def test_every_process_pool_is_set_surveyed_and_flagged_as_real_keras_sees_it(kind, keras_sandbox):
    kbackend.use_keras_backend("jax")  # the workers start from jax
    with process_pool(kind) as pool:
        assert kbackend.use_keras_backend_on(pool, "torch", device="cpu", timeout=TIMEOUT) == {0: "jax", 1: "jax"}
        survey = kbackend.backend_survey(pool, timeout=TIMEOUT)
        assert (survey["consistent"], survey["differences"], survey["complete"], survey["note"]) == (
            True, [], True, None)
        pids = sorted(in_each(pool, pid_at_barrier))
        assert sorted(r["pid"] for r in survey["workers"]) == pids  # every worker, each once
        for surveyed in survey["workers"]:
            check_row(surveyed, "torch")
            assert surveyed["device"] == "cpu"

        # One worker's KERAS_BACKEND goes back to jax, as a task might do.
        (deviant,) = [pid for pid, chosen in in_each(pool, deviate_at_barrier, "jax") if chosen]
        survey = kbackend.backend_survey(pool, timeout=TIMEOUT)
        assert survey["consistent"] is False and survey["differences"] == ["backend"]
        backends = {r["pid"]: r["backend"] for r in survey["workers"]}
        assert backends == {pid: "jax" if pid == deviant else "torch" for pid in pids}
        real = real_backend_in_each(pool, 2)
        assert {pid: answer["backend"] for pid, answer in real.items()} == backends
        assert [answer["heavy_before"] for answer in real.values()] == [[], []]  # kbackend imported none

        # Both are locked now: torch is refused by the jax worker alone, and nothing changes.
        with pytest.raises(kbackend.BackendLockedError) as caught:
            kbackend.use_keras_backend_on(pool, "torch", timeout=TIMEOUT)
        assert len(caught.value.workers) == 1
        assert "(pid {} on ".format(deviant) in str(caught.value) and "nothing was changed" in str(caught.value)
        survey = kbackend.backend_survey(pool, timeout=TIMEOUT)
        now = {r["pid"]: (r["backend"], r["locked"]) for r in survey["workers"]}
        if kind != "loky":
            assert now == {pid: (backend, True) for pid, backend in backends.items()}
        else:
            # loky replaces a worker whose memory grew by 300 MB (importing
            # Keras can), and the new one starts from this process: jax.
            assert len(now) == 2 and all(
                state == ((backends[pid], True) if pid in backends else ("jax", False)) for pid, state in now.items())


# ---------------------------------------------------------------------------
# Ray: a local cluster of two nodes

def test_ray_nodes_are_surveyed_as_real_keras_sees_them_and_setting_names_runtime_env(keras_sandbox, monkeypatch):
    require_modules("ray")
    import ray
    from ray.cluster_utils import Cluster
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    def real_on(node):
        pinned = ray.remote(real_backend).options(scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False))
        return ray.get(pinned.remote(), timeout=TIMEOUT)

    import workers_support
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(workers_support)  # Ray workers cannot import the tests' modules
    kbackend.use_keras_backend("jax")  # the head node's raylet starts from this environment
    # Ray's sessions in a short throwaway folder (its sockets live there), not /tmp/ray
    sessions = tempfile.mkdtemp(prefix="kb-ray-")
    monkeypatch.setenv("RAY_TMPDIR", sessions)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        deviant = cluster.add_node(num_cpus=1, env_vars={"KERAS_BACKEND": "torch"}).node_id
        context = ray.init(address=cluster.address, log_to_driver=False)
        survey = kbackend.backend_survey(context, timeout=TIMEOUT)
        assert survey["complete"] is False and "one alive node" in survey["note"]
        assert survey["consistent"] is False and survey["differences"] == ["backend"]
        backends = {r["worker"]: r["backend"] for r in survey["workers"]}
        assert len(backends) == 2 and backends[deviant] == "torch" and sorted(backends.values()) == ["jax", "torch"]
        for surveyed in survey["workers"]:
            check_row(surveyed, backends[surveyed["worker"]])
        assert {node: real_on(node)["backend"] for node in backends} == backends

        # Ray starts workers on demand: no setting of today's workers reaches them all.
        with pytest.raises(kbackend.WorkersUnreachableError,
                           match=r'ray.init\(runtime_env=\{"env_vars": \{"KERAS_BACKEND": "jax"\}\}\)'):
            kbackend.use_keras_backend_on(context, "jax")
        # Ray's own way, the job's runtime environment, reaches every node.
        ray.shutdown()
        context = ray.init(address=cluster.address, log_to_driver=False,
                           runtime_env={"env_vars": {"KERAS_BACKEND": "jax"}})
        survey = kbackend.backend_survey(context, timeout=TIMEOUT)
        assert survey["consistent"] is True and [r["backend"] for r in survey["workers"]] == ["jax", "jax"]
        assert {node: real_on(node)["backend"] for node in backends} == dict.fromkeys(backends, "jax")
    finally:
        ray.shutdown()
        cluster.shutdown()
        cloudpickle.unregister_pickle_by_value(workers_support)
        shutil.rmtree(sessions, ignore_errors=True)


# ---------------------------------------------------------------------------
# Dask

def local_cluster(**options):
    return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                    scheduler_port=0, host="127.0.0.1", **options)


def on_workers(client, addresses, function):
    """``function()`` as a task pinned to each worker, all at once, with
    bounded waits: ``{address: result}``."""
    futures = {address: client.submit(function, workers=[address], allow_other_workers=False, pure=False)
               for address in addresses}
    return {address: future.result(TIMEOUT) for address, future in futures.items()}


def test_dask_cluster_survey_and_setting_the_backend_everywhere(keras_sandbox):
    kbackend.use_keras_backend("jax")
    with local_cluster() as cluster, distributed.Client(cluster) as client:
        client.wait_for_workers(2, timeout=TIMEOUT)
        survey = kbackend.backend_survey(client)
        addresses = sorted(client.scheduler_info()["workers"])
        assert [r["worker"] for r in survey["workers"]] == addresses
        assert survey["consistent"] is True and survey["differences"] == []
        for surveyed in survey["workers"]:
            check_row(surveyed, "jax")
        assert client.run(loaded_heavy) == {address: [] for address in addresses}  # the survey imported none
        for answer in on_workers(client, addresses, real_backend).values():
            assert (answer["heavy_before"], answer["backend"]) == ([], "jax")

        # Real Keras locked both workers to jax; restarted workers come from
        # the nannies, which inherited KERAS_BACKEND when the cluster started.
        client.restart(timeout=TIMEOUT)
        client.wait_for_workers(2, timeout=TIMEOUT)
        addresses = sorted(client.scheduler_info()["workers"])
        survey = kbackend.backend_survey(client)
        assert [(r["backend"], r["locked"]) for r in survey["workers"]] == [("jax", False)] * 2

        assert kbackend.use_keras_backend_on(client, "torch", device="cpu") == {address: "jax" for address in addresses}
        survey = kbackend.backend_survey(client)
        assert survey["consistent"] is True
        for surveyed in survey["workers"]:
            check_row(surveyed, "torch")
            assert surveyed["device"] == "cpu"
        # device="cpu": the torch device variable the installed Keras reads, in every worker
        assert set(client.run(environment_variable, "KERAS_TORCH_DEVICE").values()) == {"cpu"}
        locked, other = addresses
        assert on_workers(client, [locked], real_backend)[locked]["backend"] == "torch"

        with pytest.raises(kbackend.BackendLockedError) as caught:
            kbackend.use_keras_backend_on(client, "jax")
        assert list(caught.value.workers) == [locked]
        assert locked in str(caught.value) and other not in str(caught.value)
        assert "nothing was changed" in str(caught.value)
        assert client.run(keras_backend_variable) == {locked: "torch", other: "torch"}
        survey = kbackend.backend_survey(client)
        assert survey["consistent"] is True and survey["differences"] == ["source", "locked"]
        assert [(r["worker"], r["source"], r["locked"]) for r in survey["workers"]] == \
            [(locked, "imported", True), (other, "environment", False)]


def test_dask_worker_started_with_another_backend_is_caught(keras_sandbox):
    kbackend.use_keras_backend("jax")
    nanny = distributed.Nanny
    specification = {
        "inherits": {"cls": nanny, "options": {"nthreads": 1}},
        "deviant": {"cls": nanny, "options": {"nthreads": 1, "env": {"KERAS_BACKEND": "torch"}}},
    }
    scheduler = {"cls": distributed.Scheduler, "options": {"dashboard_address": None, "port": 0, "host": "127.0.0.1"}}
    with distributed.SpecCluster(workers=specification, scheduler=scheduler) as cluster, \
            distributed.Client(cluster) as client:
        client.wait_for_workers(2, timeout=TIMEOUT)
        names = {address: info["name"] for address, info in client.scheduler_info()["workers"].items()}
        survey = kbackend.backend_survey(client)
        assert survey["consistent"] is False
        assert survey["differences"] == ["backend"]
        by_name = {names[r["worker"]]: r for r in survey["workers"]}
        check_row(by_name["inherits"], "jax")
        check_row(by_name["deviant"], "torch")
        real = on_workers(client, names, real_backend)
        assert {names[address]: answer["backend"] for address, answer in real.items()} == \
            {"inherits": "jax", "deviant": "torch"}

