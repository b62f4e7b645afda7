"""Shared fixtures: the real Keras environments and sandboxed subprocess runs.

Every subprocess gets a throwaway HOME (and the scenario's KERAS_HOME), so
neither Keras nor kbackend can touch the developer's real ~/.keras.  A
missing environment is a failure, never a skip: CI must not pass green on a
machine that could not run the comparison.
"""

import json
import os
import subprocess
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "python"))

import scenario as scenario_table  # noqa: E402

PYTHON_DIR = os.path.join(ROOT, "python")
ORACLE = os.path.join(ROOT, "tests", "python", "oracle.py")

#: The real Keras installations the predictions are held against.
ENVIRONMENTS = {
    "keras3": ".venv",
    "keras3-bare": ".venv-bare",
    "keras2-tf": ".venv-keras2",
    "keras2-theano": ".venv-py37",
    "keras2-cntk": ".venv-py36",
}
#: The Keras line each environment must hold; checked on every comparison so
#: that a broken environment cannot make both sides agree on "no keras".
FLAVOURS = {
    "keras3": "keras3",
    "keras3-bare": "keras3",
    "keras2-tf": "keras2-tensorflow",
    "keras2-theano": "keras2-multibackend",
    "keras2-cntk": "keras2-multibackend",
}
#: Theano compiles C modules under base_compiledir; share one so a throwaway
#: HOME does not mean recompiling for every scenario.
THEANO_DIR = os.path.join(tempfile.gettempdir(), "kbackend-test-theano")


def env_python(name):
    """The interpreter of environment ``name``; fails loudly if absent."""
    path = os.path.join(ROOT, ENVIRONMENTS[name], "bin", "python")
    if not os.path.exists(path):
        pytest.fail("environment {} is missing ({}); run `make setup`".format(name, path))
    return path


def run(python, args, overlay, timeout=300, extra_env=None):
    """Run ``python args`` in a scenario's environment; return CompletedProcess or None on timeout."""
    env = scenario_table.environment(overlay)
    env.update(extra_env or {})
    try:
        return subprocess.run([python] + args, cwd=overlay["cwd"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def kbackend_json(python, overlay, timeout=60):
    """``python -m kbackend --json`` with the bundled package on PYTHONPATH."""
    # the scenario's own PYTHONPATH stays, after kbackend's folder
    pythonpath = os.pathsep.join(p for p in (PYTHON_DIR, overlay["set"].get("PYTHONPATH")) if p)
    done = run(python, ["-m", "kbackend", "--json"], overlay, timeout, {"PYTHONPATH": pythonpath})
    assert done is not None, "kbackend timed out"
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def oracle(python, overlay, mode="keras", timeout=300):
    """What real Keras says, or {"status": "hang"} when it does not finish."""
    # -c, like `python -c "import keras"`: the working directory is on
    # sys.path, so custom backend modules there are importable.
    with open(ORACLE) as handle:
        code = handle.read()
    done = run(python, ["-c", code, mode], overlay, timeout)
    if done is None:
        return {"status": "hang", "backend": None, "error": None, "stderr": ""}
    lines = [line for line in done.stdout.splitlines() if line.startswith("KBACKEND-ORACLE:")]
    assert lines, "oracle printed no answer (exit {}):\n{}".format(done.returncode, done.stderr[-3000:])
    answer = json.loads(lines[-1][len("KBACKEND-ORACLE:"):])
    answer["stderr"] = done.stderr[-2000:]
    return answer


@pytest.fixture
def sandbox(tmp_path):
    """A fresh root for one scenario (HOME, work dir, files)."""
    return str(tmp_path)


@pytest.fixture(autouse=True)
def _no_real_home(monkeypatch, tmp_path_factory):
    """In-process tests also get a throwaway HOME and no inherited Keras variables."""
    home = str(tmp_path_factory.mktemp("home"))
    monkeypatch.setenv("HOME", home)
    for name in list(os.environ):
        if scenario_table._SCRUB.match(name) and name != "HOME":
            monkeypatch.delenv(name, raising=False)


def pytest_sessionfinish(session, exitstatus):
    """A skipped test is a defect here: turn any skip into a failed run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped") and session.exitstatus == 0:
        reporter.write_line("kbackend: skipped tests are not allowed; failing the run", red=True)
        session.exitstatus = 1
