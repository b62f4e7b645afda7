"""Keras placed where no table put it, and interpreter flags, against real Keras.

Each case builds an environment from the project's real installations
(symbolic-link farms as in test_broken_installs.py, zips and eggs made from
the installed files; nothing downloaded), then runs kbackend and a real
``import keras`` with the same interpreter, the same flags and the same
environment, and requires the same answer (``assert_agrees``).

Placements: Keras without metadata in a zip, in an egg (zipped or a
folder), in a folder a ``.pth`` file adds, in the user site
(``PYTHONUSERBASE`` in the sandbox), in a plain ``PYTHONPATH`` folder.
Flags: a stub ``keras`` that a plain start would import, made irrelevant by
``-E``, ``-I``, ``-s``, ``-P``, ``PYTHONSAFEPATH=1`` or
``PYTHONNOUSERSITE=1`` -- each beside its control, the same environment
without the flag, where the stub does win.
"""

import json
import os
import sys
import zipfile

import pytest

from conftest import ORACLE, PYTHON_DIR, ROOT, THEANO_DIR, env_python, run
import farms
from test_differential import _predicted, assert_agrees

MAIN = os.path.join(ROOT, ".venv")
KERAS2 = os.path.join(ROOT, ".venv-keras2")
PY37 = os.path.join(ROOT, ".venv-py37")
PY36 = os.path.join(ROOT, ".venv-py36")
ENV_NAMES = {MAIN: "keras3", KERAS2: "keras2-tf", PY37: "keras2-theano", PY36: "keras2-cntk"}

#: kbackend answering for an interpreter started with the flags it runs
#: under: its folder goes last on sys.path, never ahead of the user's.
BOOTSTRAP = "import sys; sys.path.append({!r}); from kbackend.cli import main; sys.exit(main(['--json']))".format(
    PYTHON_DIR)


def _keras_dist(site):
    return [e for e in os.listdir(site) if e.lower().startswith("keras-") and e.endswith(".dist-info")][0]


def _metadata(site):
    with open(os.path.join(site, _keras_dist(site), "METADATA"), encoding="utf-8") as handle:
        return handle.read()


def _zip_tree(archive, site, tops, extra=None):
    """Zip the installed files of ``tops`` (no bytecode) as they sit in ``site``."""
    with zipfile.ZipFile(archive, "w") as bundle:
        for top in tops:
            for folder, dirs, files in os.walk(os.path.join(site, top)):
                dirs[:] = [d for d in dirs if d != "__pycache__"]
                for name in files:
                    if not name.endswith(".pyc"):
                        path = os.path.join(folder, name)
                        bundle.write(path, os.path.relpath(path, site))
        for name, text in (extra or {}).items():
            bundle.writestr(name, text)
    return archive


def _user_site(python, userbase):
    """The user site folder ``python`` uses with this PYTHONUSERBASE (created)."""
    os.makedirs(userbase, exist_ok=True)
    version = run(python, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                  {"set": {}, "unset": [], "cwd": userbase}).stdout.strip()
    path = os.path.join(userbase, "lib", "python" + version, "site-packages")
    os.makedirs(path, exist_ok=True)
    return path


class Env:
    """One sandboxed environment: the interpreter, its flags, variables, cwd."""

    def __init__(self, root, venv, base=True):
        self.root, self.venv = root, venv
        self.site = farms.site_packages(venv)
        self.python = farms.base_python(venv) if base else os.path.join(venv, "bin", "python")
        self.home, self.work = os.path.join(root, "home"), os.path.join(root, "work")
        os.makedirs(self.home)
        os.makedirs(self.work)
        self.pythonpath = []
        self.values = {"HOME": self.home, "THEANO_FLAGS": "base_compiledir=" + THEANO_DIR}
        self.flags = []

    def farm_without_keras(self):
        return farms.make_farm(os.path.join(self.root, "farm"), [self.site], ["keras"])

    def userbase(self):
        base = os.path.join(self.root, "userbase")
        self.values["PYTHONUSERBASE"] = base
        return _user_site(self.python, base)

    def overlay(self, flags=None, values=None):
        env = dict(self.values, **(values or {}))
        if self.pythonpath:
            env["PYTHONPATH"] = os.pathsep.join(self.pythonpath)
        unset = [name for name in os.environ if name.startswith(("KERAS_", "PYTHON", "TF_USE_LEGACY"))
                 and name not in env]
        return {"set": env, "unset": unset, "cwd": self.work}

    def compare(self, flags=(), values=None, compare="message", mode="keras"):
        """kbackend and real Keras (``mode``: what the oracle imports), both
        started with ``flags``; returns both answers."""
        overlay = self.overlay(values=values)
        done = run(self.python, list(flags) + ["-c", BOOTSTRAP], overlay, 120)
        assert done is not None and done.returncode in (0, 1), done and done.stderr[-2000:]
        record = json.loads(done.stdout)
        with open(ORACLE) as handle:
            oracle = run(self.python, list(flags) + ["-c", handle.read(), mode], overlay, 300)
        lines = [line for line in oracle.stdout.splitlines() if line.startswith("KBACKEND-ORACLE:")]
        assert lines, oracle.stderr[-2000:]
        actual = json.loads(lines[-1][len("KBACKEND-ORACLE:"):])
        context = "flags {} variables {}\nKeras stderr: {}".format(list(flags), values, oracle.stderr[-800:])
        assert_agrees(_predicted(record, mode), actual, context, compare)
        return record, actual


# -- Keras found where no table put it -------------------------------------


def _zip_keras3(env):
    archive = _zip_tree(os.path.join(env.root, "keras.zip"), env.site, ["keras"])
    env.pythonpath = [archive, env.farm_without_keras()]


def _zip_keras2(env):
    _zip_keras3(env)


def _egg_zip(env):
    version = _metadata(env.site).split("\nVersion:", 1)[1].split()[0]
    egg = os.path.join(env.root, "keras-{}-py{}.{}.egg".format(version, *sys.version_info[:2]))
    _zip_tree(egg, env.site, ["keras"], {"EGG-INFO/PKG-INFO": _metadata(env.site)})
    env.pythonpath = [egg, env.farm_without_keras()]


def _egg_folder(env):
    egg = os.path.join(env.root, "keras.egg")  # no version in the name: EGG-INFO says it
    os.makedirs(os.path.join(egg, "EGG-INFO"))
    os.symlink(os.path.join(env.site, "keras"), os.path.join(egg, "keras"))
    with open(os.path.join(egg, "EGG-INFO", "PKG-INFO"), "w", encoding="utf-8") as handle:
        handle.write(_metadata(env.site))
    env.pythonpath = [egg, env.farm_without_keras()]


def _pth_folder(env):
    folder = os.path.join(env.root, "added")
    os.makedirs(folder)
    os.symlink(os.path.join(env.site, "keras"), os.path.join(folder, "keras"))  # no metadata
    with open(os.path.join(env.userbase(), "added.pth"), "w") as handle:
        handle.write(folder + "\n")
    env.pythonpath = [env.farm_without_keras()]


def _user_site_keras(env):
    user = env.userbase()
    for entry in ("keras", _keras_dist(env.site)):
        os.symlink(os.path.join(env.site, entry), os.path.join(user, entry))
    env.pythonpath = [env.farm_without_keras()]


def _pythonpath_folder(env):
    folder = os.path.join(env.root, "checkout")
    os.makedirs(folder)
    os.symlink(os.path.join(env.site, "keras"), os.path.join(folder, "keras"))  # no metadata
    env.pythonpath = [folder, env.farm_without_keras()]


#: id -> (installation, placement, variables)
PLACEMENTS = {
    "keras3-zip": (MAIN, _zip_keras3, {"KERAS_BACKEND": "jax"}),
    "keras3-egg-zip": (MAIN, _egg_zip, {"KERAS_BACKEND": "torch"}),
    "keras3-egg-folder": (MAIN, _egg_folder, {"KERAS_BACKEND": "jax"}),
    "keras3-pth-folder": (MAIN, _pth_folder, {"KERAS_BACKEND": "jax"}),
    "keras3-user-site": (MAIN, _user_site_keras, {"KERAS_BACKEND": "torch"}),
    "keras3-pythonpath-folder": (MAIN, _pythonpath_folder, {"KERAS_BACKEND": "jax"}),
    # Keras 2.15 ignores KERAS_BACKEND: read as Keras 3 it would say jax
    "keras2.15-zip": (KERAS2, _zip_keras2, {"KERAS_BACKEND": "jax"}),
    "keras2.15-pth-folder": (KERAS2, _pth_folder, {"KERAS_BACKEND": "jax"}),
    # Keras 2.3.1 obeys it: read as TensorFlow-only Keras it would say tensorflow
    "keras2.3-zip": (PY37, _zip_keras2, {"KERAS_BACKEND": "theano"}),
    "keras2.3-egg-folder": (PY37, _egg_folder, {"KERAS_BACKEND": "theano"}),
    "keras2.3-cntk-egg-zip": (PY36, _egg_zip, {"KERAS_BACKEND": "cntk"}),
}


@pytest.mark.parametrize("case", sorted(PLACEMENTS))
def test_keras_placed_without_a_table_row(case, tmp_path):
    venv, place, values = PLACEMENTS[case]
    env_python(ENV_NAMES[venv])
    env = Env(str(tmp_path), venv)
    place(env)
    record, actual = env.compare(values=values)
    assert actual["status"] == "ok", actual  # each placement is a working install
    assert record["keras"]["version"] == actual["version"], record["keras"]
    assert record["problems"] == [] or all(p["code"] != "kbackend-bug" for p in record["problems"])


@pytest.mark.parametrize("mode", ["tf.keras", "tensorflow.keras"])
def test_tf_keras_through_a_zipped_keras(mode, tmp_path):
    """TensorFlow 2.21 reaches Keras 3 in the zip for both the attribute and
    the module (its package path gets ``keras.zip/keras/_tf_keras``)."""
    env_python("keras3")
    env = Env(str(tmp_path), MAIN)
    _zip_keras3(env)
    record, actual = env.compare(values={"KERAS_BACKEND": "jax"}, mode=mode)
    assert actual["status"] == "ok", actual


# -- interpreter flags decide the search path ------------------------------


def _stub_package(folder):
    os.makedirs(os.path.join(folder, "keras"))
    open(os.path.join(folder, "keras", "__init__.py"), "w").close()
    return folder


def _stub_on_pythonpath(env, single_file=False):
    stubs = os.path.join(env.root, "stubs")
    if single_file:
        os.makedirs(stubs)
        open(os.path.join(stubs, "keras.py"), "w").close()
    else:
        _stub_package(stubs)
    env.pythonpath = [stubs]


def _stub_in_cwd(env):
    open(os.path.join(env.work, "keras.py"), "w").close()


def _stub_everywhere(env):
    _stub_on_pythonpath(env)
    _stub_in_cwd(env)


def _stub_from_user_site(env):
    """A user-site ``.pth`` that puts a folder first on sys.path (the
    easy-install trick), holding a stub ``keras``."""
    stubs = _stub_package(os.path.join(env.root, "stubs"))
    with open(os.path.join(env.userbase(), "front.pth"), "w") as handle:
        handle.write("import sys; sys.path.insert(0, {!r})\n".format(stubs))
    env.pythonpath = [env.farm_without_keras()]
    os.symlink(os.path.join(env.site, "keras"), os.path.join(env.root, "farm", "keras"))
    os.symlink(os.path.join(env.site, _keras_dist(env.site)), os.path.join(env.root, "farm", _keras_dist(env.site)))


#: id -> (installation, base interpreter (True) or the venv's, stub
#: placement, flags, variables that stand in for a flag).  The control run
#: has neither.
FLAG_CASES = {
    "E-stub-package-on-pythonpath": (MAIN, False, _stub_on_pythonpath, ["-E"], {}),
    "E-stub-module-on-pythonpath": (MAIN, False, lambda env: _stub_on_pythonpath(env, single_file=True), ["-E"], {}),
    "I-stubs-on-pythonpath-and-cwd": (MAIN, False, _stub_everywhere, ["-I"], {}),
    "P-stub-in-cwd": (MAIN, False, _stub_in_cwd, ["-P"], {}),
    "PYTHONSAFEPATH-stub-in-cwd": (MAIN, False, _stub_in_cwd, [], {"PYTHONSAFEPATH": "1"}),
    "s-stub-from-user-site": (MAIN, True, _stub_from_user_site, ["-s"], {}),
    "PYTHONNOUSERSITE-stub-from-user-site": (MAIN, True, _stub_from_user_site, [], {"PYTHONNOUSERSITE": "1"}),
    "keras2.15-s-stub-from-user-site": (KERAS2, True, _stub_from_user_site, ["-s"], {}),
    "keras2.3-E-stub-package-on-pythonpath": (PY37, False, _stub_on_pythonpath, ["-E"], {}),
    "keras2.3-I-stubs-on-pythonpath-and-cwd": (PY37, False, _stub_everywhere, ["-I"], {}),
}
#: The backend each installation is asked for (Keras 2.15 takes none).
BACKENDS = {MAIN: {"KERAS_BACKEND": "jax"}, KERAS2: {}, PY37: {"KERAS_BACKEND": "theano"}}


@pytest.mark.parametrize("case", sorted(FLAG_CASES))
def test_interpreter_flags_decide_the_search_path(case, tmp_path):
    venv, base, place, flags, values = FLAG_CASES[case]
    env_python(ENV_NAMES[venv])
    env = Env(str(tmp_path), venv, base=base)
    place(env)
    # control: the stub wins without the flag
    record, actual = env.compare(values=BACKENDS[venv], compare="class")
    assert actual["status"] == "error" and actual["error"].startswith("AttributeError"), actual
    # with the flag the stub is out of reach and Keras imports
    record, actual = env.compare(flags, dict(values, **BACKENDS[venv]))
    assert actual["status"] == "ok", actual
    assert not any(p["code"] == "module-shadowed" for p in record["problems"]), record["problems"]
