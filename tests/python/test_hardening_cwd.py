"""A hostile working directory, in every real environment: a report, never a crash.

The working directory comes first on ``sys.path`` for ``python -m`` and
``python -c``.  Here it holds a file named like every standard module
kbackend, argparse or json could reach for, and like Keras and its backends;
each leaves a mark when executed.  kbackend must answer (exit 0, 1 or 3, valid
JSON) and run none of them.  Files the interpreter itself imports before any
code of ours runs (a control run finds them: ``runpy`` needs ``contextlib``)
break Python, not kbackend, and are taken away first.  The user's
``keras.py`` is then reported as the shadow it is.
"""

import json
import os
import subprocess

import pytest

from conftest import ENVIRONMENTS, PYTHON_DIR, env_python

#: Standard modules a user might name a script after, that kbackend, its CLI
#: (argparse, json) or its lazy paths could import.
STDLIB = ("json", "re", "ast", "argparse", "gettext", "zipfile", "hashlib", "inspect", "traceback", "tempfile",
          "contextlib", "stat", "socket", "selectors", "subprocess", "signal", "shutil", "typing", "tokenize",
          "linecache", "textwrap", "enum", "functools", "keyword", "operator", "copy", "fnmatch", "glob", "struct",
          "base64", "random", "string", "dataclasses", "locale", "platform", "threading", "queue", "pathlib",
          "datetime", "decimal", "numbers", "email", "importlib_metadata", "pkgutil", "runpy")
#: What kbackend reports on and must never import, shadowed or not.
HEAVY = ("keras", "tensorflow", "jax", "jaxlib", "torch", "numpy", "scipy", "tf_keras", "theano", "cntk")
MARK = "open({path!r}, 'w').close()\n"
#: In process, with the lazily loaded parts too (setting, on first use).
PROBE = ("import sys\nimport kbackend\nrecord = kbackend.backend_info_json()\n"
         "try:\n    kbackend.check_keras_backend('tensorflow')\nexcept kbackend.KBackendError:\n    pass\n"
         "sys.stdout.write(record)\n")


def _hostile(root):
    """The working directory, and the folder the marks go to."""
    work, marks = os.path.join(root, "work"), os.path.join(root, "marks")
    os.makedirs(work)
    os.makedirs(marks)
    for name in STDLIB + HEAVY:
        with open(os.path.join(work, name + ".py"), "w") as handle:
            handle.write(MARK.format(path=os.path.join(marks, name)))
    return work, marks


def _run(python, argv, work, home, extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KERAS_", "PYTHON", "TF_USE_LEGACY"))}
    env.update(HOME=home, PYTHONPATH=PYTHON_DIR)
    env.update(extra or {})
    return subprocess.run([python] + argv, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120)


def _marks(marks):
    ran = sorted(os.listdir(marks))
    for name in ran:
        os.unlink(os.path.join(marks, name))
    return ran


@pytest.mark.parametrize("environment", sorted(ENVIRONMENTS))
def test_hostile_working_directory_runs_nothing(environment, tmp_path):
    python = env_python(environment)
    work, marks = _hostile(str(tmp_path))
    home = str(tmp_path / "home")
    os.makedirs(home)
    # control: what the interpreter itself imports from here before any
    # code of ours (a module that does nothing, started the same two ways)
    control_dir = str(tmp_path / "control")
    os.makedirs(control_dir)
    with open(os.path.join(control_dir, "kbackend_control.py"), "w") as handle:
        handle.write("")
    # Those break Python itself before any code runs (runpy needs contextlib,
    # which needs others once it is the user's): not kbackend's to guard
    # against. A failing start stops at the first, so repeat until clean.
    own = set()
    for _attempt in range(len(STDLIB)):
        ran = set()
        for argv in (["-m", "kbackend_control"], ["-c", "import kbackend_control"]):
            done = _run(python, argv, work, home, {"PYTHONPATH": control_dir})
            ran |= set(_marks(marks))
        for name in ran:
            os.unlink(os.path.join(work, name + ".py"))
        own |= ran
        if not ran:
            break
    assert done.returncode == 0 and not own & set(HEAVY), (own, done.stderr)
    assert len(os.listdir(work)) >= len(HEAVY) + 30, sorted(os.listdir(work))

    persisted = None
    runs = {
        "json": ["-m", "kbackend", "--json"],
        "report": ["-m", "kbackend"],
        "use-check": ["-m", "kbackend", "use", "jax", "--check", "--json"],
        "use-persist": ["-m", "kbackend", "use", "tensorflow", "--persist", "--json"],
        "in-process": ["-c", PROBE],
    }
    for label, argv in runs.items():
        done = _run(python, argv, work, home)
        ran = set(_marks(marks))
        assert not ran, "{} ran the user's {} in {}: {}".format(label, sorted(ran), environment, done.stderr[-2000:])
        assert done.returncode in (0, 1, 3), "{}: exit {}\n{}".format(label, done.returncode, done.stderr[-2000:])
        if label in ("json", "in-process"):
            record = json.loads(done.stdout)
            # `import keras` from here would load the user's keras.py
            if record["keras"]["installed"]:
                assert record["status"] == "error", record
                assert any("keras.py" in problem["message"] for problem in record["problems"]), record["problems"]
        elif label != "report":
            json.loads(done.stdout)
        if label == "use-persist":
            persisted = done.returncode == 0
    # the one change asked for was made, where the backend is installed
    assert persisted == os.path.exists(os.path.join(home, ".keras", "keras.json"))
