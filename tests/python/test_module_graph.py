"""The whole import-time module graph, not only top-level names: prediction == Keras.

Each case puts something on the search path that provides a module only in
part (a copy of ``jax`` without ``jax.experimental``, a ``tensorflow/``
package with nothing but ``__init__.py``), a user's file named like a
module (``jax.py``, ``numpy.py``, a ``random.py`` that imports itself, a
stub that raises), or two environments' packages on one path, built from
the project's real environments (symbolic links, nothing downloaded), and
compares ``python -m kbackend --json`` with a real ``import keras`` there:
status, backend, exception class and message.
"""

import os

import pytest

from conftest import ROOT, THEANO_DIR, env_python, kbackend_json, oracle
import farms
from test_differential import _predicted, assert_agrees

MAIN = os.path.join(ROOT, ".venv")
KERAS2 = os.path.join(ROOT, ".venv-keras2")
#: environment name (conftest.ENVIRONMENTS) -> its folder
FOLDERS = {"keras3": MAIN, "keras3-bare": os.path.join(ROOT, ".venv-bare"), "keras2-tf": KERAS2,
           "keras2-theano": os.path.join(ROOT, ".venv-py37"), "keras2-cntk": os.path.join(ROOT, ".venv-py36")}


def _partial(name, leave_out):
    """A folder holding a copy of package ``name`` (links to each of its
    entries) without the entries in ``leave_out``, and no metadata."""
    def build(root, venv):
        site = farms.site_packages(venv)
        folder = os.path.join(root, "partial")
        package = os.path.join(folder, name)
        os.makedirs(package)
        for entry in os.listdir(os.path.join(site, name)):
            if entry not in leave_out and entry != "__pycache__":
                os.symlink(os.path.join(site, name, entry), os.path.join(package, entry))
        return folder
    return build


def _stub(files):
    """A folder of the given files (relative path -> text), put first on PYTHONPATH."""
    def build(root, venv):
        folder = os.path.join(root, "stub")
        for relative, text in files.items():
            path = os.path.join(folder, relative)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as handle:
                handle.write(text)
        return folder
    return build


def _metadata_of(venv_from):
    """A folder with only the distribution metadata of another environment."""
    def build(root, venv):
        site = farms.site_packages(venv_from)
        folder = os.path.join(root, "metadata")
        os.makedirs(folder)
        for entry in os.listdir(site):
            if entry.endswith(".dist-info"):
                os.symlink(os.path.join(site, entry), os.path.join(folder, entry))
        return folder
    return build


SELF_IMPORTING_RANDOM = "import random\n\nprint(random.randint(1, 6))\n"
RAISING = "raise RuntimeError('this is not the real library')\n"
ALL = sorted(FOLDERS)
KERAS3 = ["keras3", "keras3-bare"]
WITH_TENSORFLOW = ["keras3", "keras2-tf", "keras2-theano"]

#: id -> (environments, variables, PYTHONPATH folders to build ahead of the
#: environment's own site, files in the working directory)
CASES = {
    "partial-jax-jax-backend": (["keras3"], {"KERAS_BACKEND": "jax"}, [_partial("jax", ("experimental",))], {}),
    "partial-jax-default-backend": (["keras3"], {}, [_partial("jax", ("experimental",))], {}),
    "stub-tensorflow-package": (WITH_TENSORFLOW, {}, [_stub({"tensorflow/__init__.py": ""})], {}),
    "stub-jax-package": (["keras3"], {"KERAS_BACKEND": "jax"}, [_stub({"jax/__init__.py": ""})], {}),
    "cwd-jax-py-jax-backend": (KERAS3, {"KERAS_BACKEND": "jax"}, [], {"jax.py": "x = 1\n"}),
    "cwd-jax-py-default": (KERAS3, {}, [], {"jax.py": "x = 1\n"}),
    "cwd-tensorflow-py": (WITH_TENSORFLOW, {}, [], {"tensorflow.py": "x = 1\n"}),
    "cwd-torch-py": (KERAS3, {"KERAS_BACKEND": "torch"}, [], {"torch.py": "x = 1\n"}),
    "cwd-numpy-py": (ALL, {}, [], {"numpy.py": "x = 1\n"}),
    "cwd-random-imports-itself": (ALL, {}, [], {"random.py": SELF_IMPORTING_RANDOM}),
    "cwd-raising-jax": (KERAS3, {"KERAS_BACKEND": "jax"}, [], {"jax.py": RAISING}),
    "cwd-raising-tensorflow": (WITH_TENSORFLOW, {}, [], {"tensorflow.py": RAISING}),
    "cwd-raising-numpy": (ALL, {}, [], {"numpy.py": RAISING}),
    "metadata-of-another-site": (["keras3"], {}, [_metadata_of(KERAS2)], {}),
}
PARAMS = [(case, environment) for case in sorted(CASES) for environment in CASES[case][0]]


def _overlay(root, case, environment):
    environments, variables, ahead, files = CASES[case]
    home, work = os.path.join(root, "home"), os.path.join(root, "work")
    os.makedirs(home)
    os.makedirs(work)
    for name, text in files.items():
        with open(os.path.join(work, name), "w") as handle:
            handle.write(text)
    path = [build(root, FOLDERS[environment]) for build in ahead]
    values = dict(variables, HOME=home, THEANO_FLAGS="base_compiledir=" + THEANO_DIR)
    if path:
        values["PYTHONPATH"] = os.pathsep.join(path)
    unset = [name for name in os.environ if name.startswith(("KERAS_", "PYTHON", "TF_USE_LEGACY"))
             and name not in values]
    return {"set": values, "unset": unset, "cwd": work}


#: Known misses: (case, environment) -> why.
MISSES = {
    ("cwd-numpy-py", "keras2-cntk"): "h5py 2.x's compiled h5py._errors reads numpy.dtype when it initialises; "
                                     "an extension's source is not Python, so the first failure is the later "
                                     "numpy.__version__ read in h5py.version (same class, other message)",
}
PARAMS = [pytest.param(case, environment, marks=pytest.mark.xfail(strict=True, reason=MISSES[(case, environment)]))
          if (case, environment) in MISSES else (case, environment) for case, environment in PARAMS]
IDS = ["{}-{}".format(case, environment) for case in sorted(CASES) for environment in CASES[case][0]]


@pytest.mark.parametrize("case,environment", PARAMS, ids=IDS)
def test_module_graph_prediction_matches_real_keras(case, environment, tmp_path):
    python = env_python(environment)
    overlay = _overlay(str(tmp_path), case, environment)
    record = kbackend_json(python, overlay, timeout=600)
    actual = oracle(python, overlay)
    context = "{} in {}; problems: {}; Keras stderr tail:\n{}".format(
        case, environment, [p["code"] for p in record["problems"]], actual.get("stderr", "")[-800:])
    assert_agrees(_predicted(record, "keras"), actual, context, "message")
