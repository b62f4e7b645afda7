"""Once Keras is imported, kbackend reports the live backend and refuses changes.

Each test imports real Keras in a subprocess, then changes KERAS_BACKEND
"too late" (keras-team/keras#19423) and asks kbackend in the same process.
"""

import json

import pytest

from conftest import PYTHON_DIR, env_python, run

PROBE = """
import json, os, sys
import keras
live = keras.backend.backend()
os.environ["KERAS_BACKEND"] = {late!r}
import kbackend
record = kbackend.backend_info()
try:
    kbackend.use_keras_backend({late!r})
    refused = None
except kbackend.BackendLockedError as exc:
    refused = str(exc)
print(json.dumps({{"live": live, "record": record, "refused": refused}}))
"""

CASES = [("keras3", "jax", "torch"), ("keras3", None, "jax"), ("keras2-theano", "theano", "tensorflow"),
         ("keras2-tf", None, "tensorflow")]


@pytest.mark.parametrize("environment,first,late", CASES)
def test_locked_backend_is_the_live_one(environment, first, late, tmp_path):
    python = env_python(environment)
    env = {"HOME": str(tmp_path), "PYTHONPATH": PYTHON_DIR, "THEANO_FLAGS": "base_compiledir=" + str(tmp_path / "th")}
    if first:
        env["KERAS_BACKEND"] = first
    done = run(python, ["-c", PROBE.format(late=late)], {"set": env, "unset": ["KERAS_BACKEND"], "cwd": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    record = answer["record"]
    assert record["locked"] is True
    assert record["source"] == "imported"
    assert record["backend"] == answer["live"]
    assert "keras" in record["locked_by"]
    if late != answer["live"]:
        assert "set-too-late" in [p["code"] for p in record["problems"]]
        assert answer["refused"] and "Restart Python" in answer["refused"]
    else:
        assert answer["refused"] is None
