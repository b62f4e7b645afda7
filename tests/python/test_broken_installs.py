"""Real machines, not only clean environments: prediction == Keras.

Each case builds a broken or mixed installation in seconds from the
project's own environments (tests/python/farms.py: symbolic links, nothing
downloaded), puts it on PYTHONPATH of the bare interpreter the environment
was made from, and compares ``python -m kbackend --json`` with a real
``import keras`` there, as test_differential.py does for the scenario table.
"""

import json
import os
import shutil
import zipfile

import pytest

from conftest import ORACLE, PYTHON_DIR, ROOT, THEANO_DIR, env_python, run
import farms
from test_differential import _predicted, assert_agrees

MAIN = os.path.join(ROOT, ".venv")
PY37 = os.path.join(ROOT, ".venv-py37")
KERAS2 = os.path.join(ROOT, ".venv-keras2")


def _stale_metadata(farm, site):
    """An upgrade that left the old keras-*.dist-info behind, beside the new one."""
    old = os.path.join(farm, "keras-3.0.0.dist-info")
    os.makedirs(old)
    with open(os.path.join(old, "METADATA"), "w") as handle:
        handle.write("Metadata-Version: 2.1\nName: keras\nVersion: 3.0.0\n\n")
    with open(os.path.join(old, "RECORD"), "w") as handle:
        handle.write("keras/__init__.py,sha256=stale,1\n")


def _zipped_keras(farm, site):
    """Keras imported from a zip archive on the search path, not from a folder."""
    os.unlink(os.path.join(farm, "keras"))
    dist = [e for e in os.listdir(site) if e.startswith("keras-") and e.endswith(".dist-info")][0]
    os.unlink(os.path.join(farm, dist))
    archive = os.path.join(os.path.dirname(farm), "keras.zip")
    with zipfile.ZipFile(archive, "w") as bundle:
        for top in ("keras", dist):
            for folder, _, files in os.walk(os.path.join(site, top)):
                for name in files:
                    if not name.endswith(".pyc"):
                        path = os.path.join(folder, name)
                        bundle.write(path, os.path.relpath(path, site))
    return archive


def _keras2_over_new_tensorflow(farm, site):
    """Keras 2.15 from .venv-keras2 in place of Keras 3, beside TensorFlow 2.21."""
    keras2_site = farms.site_packages(KERAS2)
    for entry in os.listdir(keras2_site):
        if entry == "keras" or (entry.startswith("keras-") and entry.endswith(".dist-info")):
            os.symlink(os.path.join(keras2_site, entry), os.path.join(farm, entry))
    return None


#: id -> (environment, sites in order, distributions left out, environment
#: variables, PYTHONPATH entries ahead of the farm, what to compare, fixer)
CASES = {
    "jax-without-jaxlib": (MAIN, [MAIN], ["jaxlib"], {"KERAS_BACKEND": "jax"}, [], "message", None),
    "jax-without-jaxlib-unused": (MAIN, [MAIN], ["jaxlib"], {}, [], "message", None),
    "numpy-backend-without-jaxlib": (MAIN, [MAIN], ["jaxlib"], {"KERAS_BACKEND": "numpy"}, [], "message", None),
    "keras3-without-absl": (MAIN, [MAIN], ["absl-py"], {"KERAS_BACKEND": "torch"}, [], "message", None),
    "keras3-without-rich": (MAIN, [MAIN], ["rich"], {}, [], "message", None),
    "keras3-without-ml-dtypes-rich": (MAIN, [MAIN], ["rich", "ml-dtypes"], {"KERAS_BACKEND": "torch"}, [],
                                      "message", None),
    "keras3-without-namex": (MAIN, [MAIN], ["namex"], {"KERAS_BACKEND": "torch"}, [], "message", None),
    "keras2-without-six": (PY37, [PY37], ["six"], {}, [], "message", None),
    "keras2-without-applications": (PY37, [PY37], ["Keras-Applications", "Keras-Preprocessing"], {}, [],
                                    "message", None),
    "keras2-without-scipy": (PY37, [PY37], ["scipy"], {}, [], "message", None),
    "another-pythons-site-first": (MAIN, [MAIN], [], {}, [os.path.join(PY37, "lib", "python3.7", "site-packages")],
                                   "class", None),
    # Keras 2.15's site first: its TensorFlow 2.15 imports (optionally) the
    # JAX of the other site, which refuses the old ml_dtypes beside it with
    # a ValueError that TensorFlow's `except ImportError` does not catch
    "second-keras-on-pythonpath": (MAIN, [MAIN], [], {}, [os.path.join(KERAS2, "lib", "python3.11", "site-packages")],
                                   "message", None),
    "stale-keras-metadata": (MAIN, [MAIN], [], {}, [], "message", _stale_metadata),
    "keras-in-a-zip": (MAIN, [MAIN], [], {}, [], "message", _zipped_keras),
    # tf.keras without tf_keras: the attribute fails, the module falls
    # through to Keras 3; without any Keras the module is not found at all
    "legacy-without-tf-keras-attribute": (MAIN, [MAIN], ["tf_keras"], {"TF_USE_LEGACY_KERAS": "1"}, [],
                                          "message", None),
    "legacy-without-tf-keras-module": (MAIN, [MAIN], ["tf_keras"], {"TF_USE_LEGACY_KERAS": "1",
                                                                     "KERAS_BACKEND": "jax"}, [], "message", None),
    "tensorflow-without-keras-module": (MAIN, [MAIN], ["keras", "tf_keras"], {}, [], "message", None),
    "tensorflow-without-keras-attribute": (MAIN, [MAIN], ["keras", "tf_keras"], {}, [], "message", None),
    # Keras 2 declares no requirement on TensorFlow: an upgrade of one alone
    "keras2-with-newer-tensorflow": (MAIN, [MAIN], ["keras"], {}, [], "message", _keras2_over_new_tensorflow),
}
#: What the oracle imports, where it is not ``keras``: the attribute
#: ``tf.keras`` or the module ``tensorflow.keras``.
MODES = {
    "legacy-without-tf-keras-attribute": "tf.keras",
    "legacy-without-tf-keras-module": "tensorflow.keras",
    "tensorflow-without-keras-module": "tensorflow.keras",
    "tensorflow-without-keras-attribute": "tf.keras",
}


def _build(root, case):
    venv, venvs, without, env, ahead, compare, fixer = case
    site = farms.site_packages(venvs[0])
    farm = farms.make_farm(os.path.join(root, "farm"), [farms.site_packages(v) for v in venvs], without)
    extra = fixer(farm, site) if fixer else None
    home, work = os.path.join(root, "home"), os.path.join(root, "work")
    os.makedirs(home)
    os.makedirs(work)
    path = os.pathsep.join(list(ahead) + ([extra] if extra else []) + [farm])
    values = dict(env, HOME=home, PYTHONPATH=path, THEANO_FLAGS="base_compiledir=" + THEANO_DIR)
    unset = [name for name in os.environ if name.startswith(("KERAS_", "PYTHON", "TF_USE_LEGACY"))
             and name not in values]
    return farms.base_python(venv), {"set": values, "unset": unset, "cwd": work}, path


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_install_prediction_matches_real_keras(case, tmp_path):
    env_python({MAIN: "keras3", PY37: "keras2-theano", KERAS2: "keras2-tf"}[CASES[case][0]])  # fails if absent
    python, overlay, path = _build(str(tmp_path), CASES[case])
    done = run(python, ["-m", "kbackend", "--json"], overlay, 120,
               {"PYTHONPATH": os.pathsep.join([PYTHON_DIR, path])})
    assert done is not None and done.returncode in (0, 1), done and done.stderr[-2000:]
    record = json.loads(done.stdout)
    with open(ORACLE) as handle:
        oracle = run(python, ["-c", handle.read(), MODES.get(case, "keras")], overlay, 300)
    lines = [line for line in oracle.stdout.splitlines() if line.startswith("KBACKEND-ORACLE:")]
    assert lines, oracle.stderr[-2000:]
    actual = json.loads(lines[-1][len("KBACKEND-ORACLE:"):])
    predicted = _predicted(record, MODES.get(case, "keras"))
    if case == "second-keras-on-pythonpath":
        # the unmet requirement and the two environments are named as well
        assert any(p["code"] == "dependency-mismatch" and "ml_dtypes" in p["message"] for p in record["problems"]), \
            record["problems"]
        assert any(p["code"] == "environments-mixed" and KERAS2 in p["message"] for p in record["problems"]), \
            record["problems"]
    assert_agrees(predicted, actual, "broken install {}: {}".format(case, oracle.stderr[-800:]), CASES[case][5])
    if (record["status"] == "error" and case not in MODES) or case.startswith(("keras3-without-namex", "jax-without-jaxlib-unused")):
        # what is wrong is said, with a fix, even when the import still works
        assert record["problems"], record
    shutil.rmtree(str(tmp_path), ignore_errors=True)
