"""Verify mode: real Keras in a child process, compared with the prediction.

Checks agreement in every real environment, that a wrong prediction is
reported as a kbackend bug, that a hanging or crashing import is stopped and
reported without stray processes, and that the user's Keras directory is left
byte-for-byte as it was (Keras writes keras.json on import when missing).
"""

import hashlib
import json
import os
import subprocess
import sys

import pytest

from conftest import ENVIRONMENTS, PYTHON_DIR, env_python, run

import kbackend
from kbackend import verify as verifying


def _tree_digest(root):
    """Every path under root with its type and content hash."""
    entries = []
    for directory, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = os.path.join(directory, name)
            digest = "dir"
            if os.path.isfile(path):
                with open(path, "rb") as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
            entries.append((os.path.relpath(path, root), digest))
    return sorted(entries)


#: Each environment's own backend; keras3-bare has none that works, so there
#: verify must agree with the predicted failure instead.
NATIVE = {"keras3": "jax", "keras3-bare": "tensorflow", "keras2-tf": "tensorflow", "keras2-theano": "theano",
          "keras2-cntk": "cntk"}


@pytest.mark.parametrize("environment", sorted(ENVIRONMENTS))
@pytest.mark.parametrize("keras_json", [None, {"floatx": "float64", "mine": 1}])
def test_verify_agrees_and_leaves_home_untouched(environment, keras_json, tmp_path):
    python = env_python(environment)
    home = tmp_path / "home"
    home.mkdir()
    if keras_json is not None:
        (home / ".keras").mkdir()
        (home / ".keras" / "keras.json").write_text(json.dumps(dict(keras_json, backend=NATIVE[environment])))
    before = _tree_digest(str(home))
    env = {"HOME": str(home), "PYTHONPATH": PYTHON_DIR, "THEANO_FLAGS": "base_compiledir=" + str(tmp_path / "th")}
    if keras_json is None:
        env["KERAS_BACKEND"] = NATIVE[environment]
    done = run(python, ["-m", "kbackend", "--verify", "--json"], {"set": env, "unset": [], "cwd": str(tmp_path)})
    record = json.loads(done.stdout)
    result = record["verify"]
    assert result["agrees"] is True, json.dumps(record, indent=1)
    if environment == "keras3-bare":
        assert done.returncode == 1
        assert (record["status"], result["status"]) == ("error", "error")
    else:
        assert done.returncode == 0, done.stderr[-3000:]
        assert (result["status"], result["backend"]) == ("ok", NATIVE[environment])
        assert result["devices"], result
    assert result["import_seconds"] > 0 and result["peak_memory_mb"] > 10
    assert _tree_digest(str(home)) == before


@pytest.mark.needs_module("keras", "jax")
def test_wrong_prediction_is_reported_as_a_bug(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    record = kbackend.backend_info()
    assert record["backend"] == "jax"
    wrong = dict(record, backend="torch")  # the injected, deliberately wrong prediction
    result = verifying.verify(wrong, timeout=120)
    assert (result["status"], result["backend"], result["agrees"]) == ("ok", "jax", False)
    problem = verifying.mismatch_problem(wrong, result)
    assert problem["code"] == "kbackend-bug"
    assert '"backend": "torch"' in problem["message"] and '"backend": "jax"' in problem["message"]


def _fake_keras(root, body):
    package = root / "fakekeras" / "keras"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(body)
    return str(root / "fakekeras")


def _processes_with(marker):
    out = subprocess.run(["ps", "-eo", "args"], stdout=subprocess.PIPE, universal_newlines=True).stdout
    return [line for line in out.splitlines() if marker in line and "ps -eo" not in line]


def test_hanging_import_is_stopped_without_strays(tmp_path, monkeypatch):
    marker = "kbackend-hang-" + tmp_path.name
    body = ("import subprocess, sys, time\n"
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', {!r}])\n"
            "time.sleep(600)\n").format(marker)
    monkeypatch.syspath_prepend(_fake_keras(tmp_path, body))
    record = kbackend.backend_info()
    result = verifying.verify(record, timeout=3)
    assert result["status"] == "timeout"
    assert result["agrees"] is None  # inconclusive: nothing contradicts the prediction
    assert 3 <= result["wall_seconds"] < 30
    assert _processes_with(marker) == []


def test_crashing_import_is_reported(tmp_path, monkeypatch):
    body = "import os, sys\nsys.stderr.write('about to crash\\n')\nsys.stderr.flush()\nos.abort()\n"
    monkeypatch.syspath_prepend(_fake_keras(tmp_path, body))
    result = verifying.verify(kbackend.backend_info(), timeout=60)
    assert (result["status"], result["signal"]) == ("crashed", "SIGABRT")
    assert "about to crash" in result["stderr_tail"]
    assert result["agrees"] is None


def test_locked_process_is_not_verified():
    record = dict(kbackend.backend_info(), locked=True)
    assert verifying.verify(record)["status"] == "not-run"


def test_cli_exit_status_on_mismatch(tmp_path):
    """--verify exits 4 when Keras contradicts the prediction: a fake keras
    module on PYTHONPATH answers 'numpy' whatever the environment says."""
    fake = _fake_keras(tmp_path, "class backend:\n    @staticmethod\n    def backend():\n        return 'numpy'\n")
    env = {"HOME": str(tmp_path), "PYTHONPATH": os.pathsep.join([PYTHON_DIR, fake]), "KERAS_BACKEND": "jax"}
    done = run(sys.executable, ["-m", "kbackend", "--verify"], {"set": env, "unset": [], "cwd": str(tmp_path)})
    assert done.returncode == 4, done.stdout
    assert "DISAGREES" in done.stdout and "kbackend-bug" in done.stdout

