"""kerasR's 22 submodules, predicted from the Keras files, against real imports.

kerasR 0.8.0 imports keras, then 22 submodules in order; the first that
fails fails ``library(kerasR)``.  kbackend reads which exist from the
installed Keras without importing it (kbackend/kerasr.py).  Here a fresh
interpreter of each lab environment really imports them, in kerasR's order,
and the first failure (or none) must be the one kbackend predicted.
"""

import json
import os
import subprocess
import sys

import pytest

from conftest import PYTHON_DIR, env_python

sys.path.insert(0, PYTHON_DIR)
from kbackend import kerasr  # noqa: E402

#: Import keras and each submodule as kerasR does; print the first failure.
TRUTH = """
import importlib, json, sys
importlib.import_module("keras")
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception as exc:
        print(json.dumps([name, "{}: {}".format(type(exc).__name__, exc)]))
        break
else:
    print(json.dumps(None))
"""


def _run(python, args, home):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "PYTHONPATH": PYTHON_DIR,
           "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    done = subprocess.run([python] + args, env=env, cwd=home, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=300)
    return done


@pytest.mark.parametrize("name", ["keras3", "keras2-tf", "keras2-theano"])
def test_first_missing_submodule_matches_real_imports(name, tmp_path):
    python = env_python(name)
    home = str(tmp_path)
    truth = _run(python, ["-c", TRUTH] + list(kerasr.SUBMODULES), home)
    assert truth.returncode == 0, truth.stderr[-2000:]
    actual = json.loads(truth.stdout.strip().splitlines()[-1])
    # reticulate 1.46 reads NumPy 2, so only the Keras files decide
    facts = json.dumps({"name": "kerasR", "version": "0.8.0", "reticulate_version": "1.46.0"})
    done = _run(python, ["-m", "kbackend", "--json", "--interface-json", facts], home)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    load = json.loads(done.stdout)["interface"]["load"]
    if actual is None:
        assert load["outcome"] == "connects", load
    else:
        assert load["outcome"] == "fails", load
        assert [load["module"], load["error"]] == actual


@pytest.mark.parametrize("name", ["keras3", "keras2-tf", "keras2-theano"])
def test_verify_imports_what_kerasr_imports(name, tmp_path):
    """``--verify`` under kerasR imports the 22 submodules after Keras, as
    kerasR's load does, so a load that fails on them is no false kbackend bug."""
    python = env_python(name)
    facts = json.dumps({"name": "kerasR", "version": "0.8.0", "reticulate_version": "1.46.0"})
    done = _run(python, ["-m", "kbackend", "--json", "--verify", "--interface-json", facts], str(tmp_path))
    assert done.returncode in (0, 1), done.stderr[-2000:]
    record = json.loads(done.stdout)
    assert record["verify"]["status"] in ("ok", "error"), record["verify"]
    assert record["verify"]["agrees"] is True, (record["status"], record["error"], record["verify"])
    assert record["verify"]["error"] == record["error"]
