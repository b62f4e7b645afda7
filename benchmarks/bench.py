"""Benchmark kbackend against the alternatives it replaces.

Prints, in one run: wall time and peak memory of ``python -m kbackend --json``
against ``python -c pass`` (a bare interpreter start) and against importing
Keras to ask it (``import keras; print(keras.backend.backend())``, TensorFlow
backend), plus the median of in-process ``backend_info()`` calls.  Each
command runs in a fresh wrapper so its peak RSS is measured alone, with a
throwaway HOME so Keras cannot write into the real one.

The ``.venv`` interpreter holds kbackend as an editable install, whose
finder, run from a ``.pth`` file at every start, imports much of the
standard library that kbackend uses too (``re``, ``pathlib``, ...).  That
makes its bare start slow and the CLI's share small.  So the CLI is also
measured with a lean interpreter, as a user's environment has it: the
``.venv-bare`` one (Keras installed the usual way, nothing run at start-up),
kbackend found on ``PYTHONPATH``.

    .venv/bin/python benchmarks/bench.py [--runs N] [--keras-runs N] [--lean PYTHON]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_WRAPPER = (
    "import resource, subprocess, sys, time, json\n"
    "t = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "wall = time.perf_counter() - t\n"
    "print(json.dumps({'wall': wall, 'rss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
    " 'code': done.returncode}))\n"
)


def _sample(command, env):
    """Wall seconds and peak RSS (MiB) of one run of ``command``."""
    out = subprocess.run([sys.executable, "-c", _WRAPPER] + command, env=env,
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    sample = json.loads(out)
    if sample["code"] not in (0, 1):
        raise SystemExit("{} exited {}".format(command, sample["code"]))
    return sample["wall"], sample["rss_kb"] / 1024.0


def measure(commands, runs, env):
    """Median wall seconds and median peak RSS (MiB) of each command over ``runs``.

    The commands take turns, round by round, so that a slower or faster
    stretch of the host falls on all of them alike and their ratio keeps
    only what the commands themselves cost.  One unmeasured warm-up round
    first, so every command starts with its bytecode cached, as an
    installed package does.
    """
    samples = [[] for _ in commands]
    for index in range(runs + 1):
        for slot, command in enumerate(commands):
            sample = _sample(command, env)
            if index:
                samples[slot].append(sample)
    return [(statistics.median(wall for wall, _ in taken), statistics.median(rss for _, rss in taken))
            for taken in samples]


def in_process_median(calls):
    """Median seconds of one ``backend_info()`` call in a warm process."""
    import kbackend

    kbackend.backend_info()
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        kbackend.backend_info()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="runs of the fast commands (default 20)")
    parser.add_argument("--keras-runs", type=int, default=5, help="runs of import keras (default 5)")
    parser.add_argument("--calls", type=int, default=1000, help="in-process calls (default 1000)")
    parser.add_argument("--lean", default=os.path.join(ROOT, ".venv-bare", "bin", "python"),
                        help="a lean interpreter for the second CLI measure (default .venv-bare's)")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="kbackend-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KERAS_", "TF_USE_LEGACY"))}
    env.update(HOME=home, PYTHONPATH=os.path.join(ROOT, "python"))
    # Installed packages run from cached bytecode; let every command do so.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.update(HOME=home)
    sys.path.insert(0, os.path.join(ROOT, "python"))
    py = sys.executable
    bare, cli = measure([[py, "-c", "pass"], [py, "-m", "kbackend", "--json"]], args.runs, env)
    keras, = measure([[py, "-c", "import keras; print(keras.backend.backend())"]], args.keras_runs, env)
    lean = None
    if os.path.exists(args.lean):
        lean = measure([[args.lean, "-c", "pass"], [args.lean, "-m", "kbackend", "--json"]], args.runs, env)
    call = in_process_median(args.calls)

    print("kbackend benchmark -- Python {} ({}), {} CPUs".format(
        sys.version.split()[0], py, os.cpu_count()))
    print("{:<44} {:>10} {:>12}".format("command (median)", "wall ms", "peak MiB"))
    for label, (wall, rss) in [("python -c pass", bare), ("python -m kbackend --json", cli),
                               ("python -c 'import keras' (tensorflow)", keras)]:
        print("{:<44} {:>10.1f} {:>12.1f}".format(label, wall * 1000, rss))
    print()
    print("kbackend CLI / bare interpreter start : {:.2f}x time, {:.2f}x memory".format(
        cli[0] / bare[0], cli[1] / bare[1]))
    print("import keras / kbackend CLI           : {:.0f}x time, {:.0f}x memory".format(
        keras[0] / cli[0], keras[1] / cli[1]))
    print("in-process backend_info() median      : {:.3f} ms ({} calls)".format(call * 1000, args.calls))
    print()
    if lean is None:
        print("lean interpreter: {} not found (tools/setup-python.sh bare builds it)".format(args.lean))
        return
    (lean_bare, _), (lean_cli, _) = lean
    print("lean interpreter ({}):".format(args.lean))
    print("  python -c pass {:.1f} ms, python -m kbackend --json {:.1f} ms: {:.2f}x time, {:.1f} ms more".format(
        lean_bare * 1000, lean_cli * 1000, lean_cli / lean_bare, (lean_cli - lean_bare) * 1000))


if __name__ == "__main__":
    main()
