"""kbackend never imports Keras, a backend, or any module named by input.

Runs ``backend_info()`` inside each real environment with a sentinel module
on ``sys.path`` named by ``KERAS_BACKEND`` (and another by keras.json): the
sentinels would leave a mark file if executed.  Afterwards ``sys.modules``
must hold none of the heavy libraries nor the named modules, and no mark.
"""

import json
import os

import pytest

from conftest import ENVIRONMENTS, FLAVOURS, PYTHON_DIR, env_python, run

HEAVY = ["keras", "tensorflow", "jax", "torch", "theano", "cntk", "openvino", "tf_keras", "flax", "numpy"]
PROBE = """
import json, sys
before = set(sys.modules)
import kbackend
record = kbackend.backend_info()
kbackend.backend_info_json()
new = sorted(set(sys.modules) - before)
print(json.dumps({"new": new, "record": record}))
"""
SENTINEL = "import os\nopen(os.path.join({mark!r}), 'w').close()\ndef placeholder(): pass\n"


@pytest.mark.parametrize("environment", sorted(ENVIRONMENTS))
def test_backend_info_imports_nothing_it_reports_on(environment, tmp_path):
    python = env_python(environment)
    work = tmp_path / "work"
    home = tmp_path / "home"
    (home / ".keras").mkdir(parents=True)
    work.mkdir()
    marks = []
    for name in ("envsentinel", "filesentinel"):
        mark = str(tmp_path / (name + ".ran"))
        marks.append(mark)
        (work / (name + ".py")).write_text(SENTINEL.format(mark=mark))
    (home / ".keras" / "keras.json").write_text(json.dumps({"backend": "filesentinel"}))
    overlay = {"set": {"HOME": str(home), "KERAS_BACKEND": "envsentinel", "PYTHONPATH": PYTHON_DIR},
               "unset": [], "cwd": str(work)}
    done = run(python, ["-c", PROBE], overlay)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    new_top = {name.split(".")[0] for name in answer["new"]}
    assert not new_top & set(HEAVY + ["envsentinel", "filesentinel"]), answer["new"]
    assert not [m for m in marks if os.path.exists(m)]
    expected = "tensorflow" if FLAVOURS[environment] == "keras2-tensorflow" else "envsentinel"
    assert answer["record"]["backend"] == expected
    assert not os.path.exists(str(home / ".keras" / "keras.json.tmp"))
