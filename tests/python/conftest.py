"""Shared fixtures: the real Keras environments and sandboxed subprocess runs.

Every subprocess gets a throwaway HOME (and the scenario's KERAS_HOME), so
neither Keras nor kbackend can touch the developer's real ~/.keras.

Two modes, one suite.  Outside the lab a test that needs what this machine
lacks (a Keras environment, a module in the running Python, root, a tool)
skips, with a reason that names what is missing and how to build it.  With
KBACKEND_STRICT_TESTS=true, which tools/run-tests.sh sets (so ``make test``
and CI), every skip is a failure instead: CI must not pass green on a machine
that could not run the comparison.  Tests say what they need with
``env_python(name)``, ``require(...)`` or the markers ``needs_env``,
``needs_module`` and ``needs_root`` (registered below).
"""

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "python"))

import scenario as scenario_table  # noqa: E402

#: Run by tools/run-tests.sh's unit phase instead, with unittest, once per
#: CPython 3.6-3.13, each in a process of its own.  A pytest-xdist worker has
#: threads of its own, and forking pool workers from a threaded process can
#: leave multiprocessing's locks waiting for good: once, Pool.terminate() in
#: that test waited ten minutes on its task handler.
collect_ignore = ["test_unit_pools.py"]

PYTHON_DIR = os.path.join(ROOT, "python")
ORACLE = os.path.join(ROOT, "tests", "python", "oracle.py")

#: Strict mode: any skip fails the run (tools/run-tests.sh turns it on).
STRICT = os.environ.get("KBACKEND_STRICT_TESTS", "").strip().lower() in ("1", "true", "yes", "on")
#: Where the lab's environments (.venv, .venv-py37, ...) live: the checkout,
#: unless KBACKEND_LAB_ROOT points elsewhere (test_suite_modes.py points it
#: at an empty directory to see every environment missing).
LAB_ROOT = os.environ.get("KBACKEND_LAB_ROOT") or ROOT

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
#: The name tools/setup-python.sh builds each environment by.
SETUP_NAMES = {"keras3": "main", "keras3-bare": "bare", "keras2-tf": "keras2", "keras2-theano": "py37",
               "keras2-cntk": "py36"}
#: Theano compiles C modules under base_compiledir; share one so a throwaway
#: HOME does not mean recompiling for every scenario.
THEANO_DIR = os.path.join(tempfile.gettempdir(), "kbackend-test-theano")


def require(present, what, how):
    """Skip (strict mode: fail) the running test unless ``present``.

    ``what`` names the missing thing, ``how`` says how to get it: together
    they are the skip reason a developer outside the lab reads.
    """
    if not present:
        pytest.skip("needs {}; {}".format(what, how))


def _env_path(name):
    return os.path.join(LAB_ROOT, ENVIRONMENTS[name], "bin", "python")


def _env_missing(name):
    """The skip reason for a missing environment ``name``, or None."""
    path = _env_path(name)
    if os.path.exists(path):
        return None
    return "needs the {} environment ({} is missing); build it with `make setup` or " \
           "`tools/setup-python.sh {}`".format(name, path, SETUP_NAMES[name])


def env_python(name):
    """The interpreter of environment ``name``; skips (strict: fails) if absent."""
    reason = _env_missing(name)
    if reason:
        pytest.skip(reason)
    return _env_path(name)


def _module_missing(name):
    """The skip reason for a module the running Python cannot import, or None."""
    try:
        if importlib.util.find_spec(name) is not None:
            return None
    except (ImportError, ValueError):
        pass
    return "needs the module {} in this Python ({}); run pytest with .venv/bin/python, built by " \
           "`make setup` or `tools/setup-python.sh main`".format(name, sys.executable)


def require_modules(*names):
    """Skip (strict: fail) the running test unless the running Python can
    import every module in ``names``."""
    reasons = [reason for reason in map(_module_missing, names) if reason]
    if reasons:
        pytest.skip("; ".join(reasons))


def import_or_skip(name):
    """Import ``name`` for a test module, or skip the whole module (strict:
    fail) with the reason; pytest.importorskip's own reason says less."""
    reason = _module_missing(name)
    if reason:
        pytest.skip(reason, allow_module_level=True)
    return importlib.import_module(name)


def pytest_configure(config):
    config.addinivalue_line("markers", "needs_env(*names): needs these lab Keras environments (see ENVIRONMENTS)")
    config.addinivalue_line("markers", "needs_module(*names): needs these modules importable in the running Python")
    config.addinivalue_line("markers", "needs_root: needs to run as root (chattr +i, dropping to nobody)")


def pytest_runtest_setup(item):
    """Skip (strict: fail) a test whose needs_* markers this machine does not meet."""
    reasons = []
    for mark in item.iter_markers("needs_env"):
        reasons += [_env_missing(name) for name in mark.args]
    for mark in item.iter_markers("needs_module"):
        reasons += [_module_missing(name) for name in mark.args]
    if any(True for _ in item.iter_markers("needs_root")) and (not hasattr(os, "geteuid") or os.geteuid() != 0):
        reasons.append("needs root (chattr +i, and dropping to the nobody user); run the tests as root, as CI does")
    reasons = [reason for reason in reasons if reason]
    if reasons:
        pytest.skip("; ".join(reasons))


def _strict_failure(report):
    """Turn a skipped report into a failed one, keeping the reason."""
    if not STRICT or not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = "KBACKEND_STRICT_TESTS is on, so this skip is a failure: {}".format(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _strict_failure(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """A whole module skipped at import (pytest.importorskip) counts too."""
    outcome = yield
    _strict_failure(outcome.get_result())


def blocked_on_a_fifo(pid):
    """Is process ``pid`` waiting in open() for a FIFO's other end?  Linux
    names that wait ``wait_for_partner``; nothing else ever ends it here, so
    the process hangs for good (False where /proc cannot tell)."""
    try:
        with open("/proc/{}/wchan".format(pid)) as handle:
            return handle.read().strip() == "wait_for_partner"
    except OSError:
        return False


def run(python, args, overlay, timeout=300, extra_env=None):
    """Run ``python args`` in a scenario's environment; return CompletedProcess,
    or None when it hangs: when it has not finished within ``timeout``, or
    as soon as it is seen blocked opening a FIFO (real Keras reading a
    keras.json that is one), rather than waiting out the timeout."""
    env = scenario_table.environment(overlay)
    env.update(extra_env or {})
    command = [python] + args
    with subprocess.Popen(command, cwd=overlay["cwd"], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True) as process:
        deadline = time.monotonic() + timeout
        seen_blocked = 0
        while True:
            try:
                out, err = process.communicate(timeout=0.25)
                return subprocess.CompletedProcess(command, process.returncode, out, err)
            except subprocess.TimeoutExpired:
                # twice in a row: not a FIFO opened on the way to its writer
                seen_blocked = seen_blocked + 1 if blocked_on_a_fifo(process.pid) else 0
                if seen_blocked >= 2 or time.monotonic() > deadline:
                    process.kill()
                    process.communicate()
                    return None


def kbackend_json(python, overlay, timeout=300):
    """``python -m kbackend --json`` with the bundled package on PYTHONPATH.

    The limit is generous: on the unusual path (a shadowing file, a stub,
    two environments mixed) kbackend follows the import through the
    backend's modules, which for TensorFlow takes seconds of CPU, and far
    more wall time while two workers share two cores."""
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
    """Strict mode's backstop: a skip that reached the tally still fails the run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if STRICT and reporter is not None and reporter.stats.get("skipped") and session.exitstatus == 0:
        reporter.write_line("kbackend: KBACKEND_STRICT_TESTS is on and tests were skipped; failing the run", red=True)
        session.exitstatus = 1
