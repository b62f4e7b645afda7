"""Benchmark ``kbackend.backend_survey()`` across worker processes.

Times one survey of every worker of each kind kbackend reaches, with 2 and
with 8 workers each: a Dask ``LocalCluster``, a
``concurrent.futures.ProcessPoolExecutor``, ``multiprocessing`` pools (fork
and spawn), a loky executor, a thread pool and a local Ray cluster (one
node per worker: Ray is surveyed one task per node).  Start-up is excluded:
the cluster (or pool) is started and surveyed once, unmeasured, before the
timed runs -- some pools start their workers on demand, so that first
survey is what starts them.  Prints the
median of the timed runs, in total and per worker, next to one in-process
``backend_info()`` call.  Workers get a throwaway HOME and KERAS_HOME, and
``KERAS_BACKEND=jax`` from this process.

    .venv/bin/python benchmarks/bench_survey.py [--runs N] [--sizes 2 8] [--only ray loky ...]
"""

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time

from bench import in_process_median  # the same in-process figure bench.py reports

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed_surveys(target, runs, workers, rows=None):
    """Median seconds of ``backend_survey(target)`` over ``runs``, after one
    unmeasured warm-up; checks every run reached all ``workers``."""
    import kbackend

    samples = []
    for index in range(runs + 1):
        start = time.perf_counter()
        survey = kbackend.backend_survey(target)
        elapsed = time.perf_counter() - start
        if len(survey["workers"]) != (workers if rows is None else rows) or not survey["consistent"]:
            raise SystemExit("survey reached {} of {} workers (consistent: {})".format(
                len(survey["workers"]), workers, survey["consistent"]))
        if index:
            samples.append(elapsed)
    return statistics.median(samples)


def dask_median(workers, runs):
    import distributed

    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                  scheduler_port=0, host="127.0.0.1", silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as client:
        client.wait_for_workers(workers, timeout=300)
        return timed_surveys(client, runs, workers)


def pool_median(workers, runs):
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers) as pool:
        return timed_surveys(pool, runs, workers)


def multiprocessing_median(method):
    def median(workers, runs):
        import multiprocessing

        with multiprocessing.get_context(method).Pool(workers) as pool:
            return timed_surveys(pool, runs, workers)
    return median


def loky_median(workers, runs):
    from joblib.externals import loky

    pool = loky.get_reusable_executor(max_workers=workers, reuse=False, timeout=600)
    try:
        return timed_surveys(pool, runs, workers)
    finally:
        pool.shutdown(wait=True, kill_workers=True)


def threads_median(workers, runs):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        return timed_surveys(pool, runs, workers, rows=1)  # the threads are this process: one row


def ray_median(workers, runs):
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        for _ in range(workers - 1):
            cluster.add_node(num_cpus=1)
        context = ray.init(address=cluster.address, log_to_driver=False, logging_level=logging.ERROR)
        return timed_surveys(context, runs, workers)
    finally:
        ray.shutdown()
        cluster.shutdown()


#: (label, function(workers, runs) -> median seconds), in the order printed.
KINDS = [
    ("Dask LocalCluster (processes)", dask_median),
    ("ProcessPoolExecutor", pool_median),
    ("multiprocessing Pool (fork)", multiprocessing_median("fork")),
    ("multiprocessing Pool (spawn)", multiprocessing_median("spawn")),
    ("loky get_reusable_executor", loky_median),
    ("ThreadPoolExecutor", threads_median),
    ("Ray local cluster (nodes)", ray_median),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed surveys per setting (default 20)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 8], help="worker counts (default 2 8)")
    parser.add_argument("--only", nargs="+", help="only the kinds whose label has one of these words")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="kbackend-bench-")
    for name in [name for name in os.environ if name.startswith(("KERAS_", "TF_USE_LEGACY"))]:
        del os.environ[name]
    os.environ.update(HOME=home, KERAS_HOME=os.path.join(home, "keras"))
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import kbackend

    kbackend.use_keras_backend("jax")  # before any worker starts: they all inherit it
    rows = []
    for label, median in KINDS:
        if args.only and not any(word.lower() in label.lower() for word in args.only):
            continue
        for workers in args.sizes:
            rows.append((label, workers, median(workers, args.runs)))
    single = in_process_median(200)

    print("backend_survey() benchmark -- Python {} ({}), {} CPUs, median of {} runs after 1 warm-up".format(
        sys.version.split()[0], sys.executable, os.cpu_count(), args.runs))
    print("{:<32} {:>8} {:>10} {:>14}".format("surveyed", "workers", "total ms", "ms per worker"))
    print("(a thread pool is surveyed once: its threads are this process)")
    for label, workers, seconds in rows:
        print("{:<32} {:>8} {:>10.1f} {:>14.2f}".format(label, workers, seconds * 1000, seconds * 1000 / workers))
    print("{:<32} {:>8} {:>10.2f} {:>14}".format("backend_info() in this process", 1, single * 1000, "-"))


if __name__ == "__main__":
    main()
