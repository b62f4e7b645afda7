"""Unit tests of the import-path model (stdlib unittest).

These run on every CPython from 3.6 to 3.13 with ``python -m unittest`` (no
third-party packages), and under pytest in the main environment.  Two
mechanisms are pinned down here: where a library's version and layout come
from when no metadata stands beside it (a folder, a zip, an egg), and which
search path the interpreter's own flags give (``-E``, ``-I``, ``-s``, ``-S``,
``-P``, ``PYTHONSAFEPATH``, ``PYTHONNOUSERSITE``).  The expected answers of
the second come from the real import system: the same interpreter, started
with the same flags, imports each module and says where it came from.
"""

import json
import os
import subprocess
import sys
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.join(os.path.dirname(os.path.dirname(HERE)), "python")
sys.path.insert(0, PYTHON_DIR)
sys.path.insert(0, HERE)

from kbackend import discovery, importpath, info, verify  # noqa: E402
from fakes import Sandbox, isolated_path, make_site  # noqa: E402

#: Version files as the real packages ship them (copied from the lab's
#: installations: Keras 3.15.1, Keras 2.15.0, Keras 2.3.1, jax 0.10.2,
#: torch 2.13.0, NumPy 2.4 and 1.18, Theano 1.0.5, CNTK 2.7, TensorFlow 2.15.1).
KERAS3_VERSION_PY = '# Unique source of truth for the version number.\n__version__ = "3.15.1"\n\n\n' \
                    '@keras_export("keras.version")\ndef version():\n    return __version__\n'
KERAS2_INIT = 'from keras import models\n\n__version__ = "2.15.0"\n'
KERAS231_INIT = "from . import utils\n\n__version__ = '2.3.1'\n"
JAX_VERSION_PY = ('import os\n\n_version = "0.10.2"\n# overwritten by build scripts\n'
                  "_release_version: str = '0.10.2'\n\ndef _get_version_string() -> str:\n"
                  "  if _release_version is not None:\n    return _release_version\n"
                  "__version__ = _get_version_string()\n")
JAX_DEV_VERSION_PY = '_version = "0.10.3"\n_release_version: str | None = None\n'
TORCH_VERSION_PY = "from typing import Optional\n\n__all__ = ['__version__']\n__version__ = '2.13.0+cpu'\n" \
                   "debug = False\ncuda: Optional[str] = None\n"
NUMPY2_VERSION_PY = '"""\nModule to expose version info\n"""\nversion: str = "2.4.6"\n__version__: str = version\n' \
                    'full_version: str = version\nshort_version: str = version.split("+")[0]\n'
NUMPY1_VERSION_PY = "short_version = '1.18.5'\nversion = '1.18.5'\nfull_version = '1.18.5'\n" \
                    "if not release:\n    version = full_version\n"
THEANO_VERSION_PY = "import json\n\nversion_json = '''\n{\n \"dirty\": false,\n \"error\": null,\n" \
                    " \"version\": \"1.0.5\"\n}\n'''  # END VERSION_JSON\n"
TF_VERSION_H = '#define TF_MAJOR_VERSION 2\n#define TF_MINOR_VERSION 15\n#define TF_PATCH_VERSION 1\n\n' \
               '// non-empty for pre-releases\n#define TF_VERSION_SUFFIX ""\n'


def write(path, text=""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)
    return path


def keras3_files(version="3.15.1"):
    """The files of a Keras 3 package that matter to discovery, without metadata."""
    return {"keras/__init__.py": "from keras.src.version import __version__ as __version__\n",
            "keras/src/__init__.py": "", "keras/src/backend/__init__.py": "",
            "keras/src/backend/config.py": "", "keras/src/version.py": KERAS3_VERSION_PY.replace("3.15.1", version)}


def keras231_files():
    return {"keras/__init__.py": KERAS231_INIT, "keras/backend/__init__.py": "",
            "keras/backend/load_backend.py": ""}


def zip_files(archive, files, prefix=""):
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, text in sorted(files.items()):
            bundle.writestr(prefix + name, text)
    return archive


def tree_files(root, files):
    for name, text in files.items():
        write(os.path.join(root, *name.split("/")), text)
    return root


def keras_found(*path):
    with isolated_path(*path):
        libs = discovery.installed_libraries()
        keras = libs["keras"]
        return keras, info.keras_flavour(keras["version"], keras["path"])


class VersionFiles(unittest.TestCase):
    """Each library's own statement of its version, as it ships it."""

    def test_each_format(self):
        cases = [
            (KERAS3_VERSION_PY, "src/version.py", "3.15.1"),
            (KERAS2_INIT, "__init__.py", "2.15.0"),
            (KERAS231_INIT, "__init__.py", "2.3.1"),
            (JAX_VERSION_PY, "version.py", "0.10.2"),
            (JAX_DEV_VERSION_PY, "version.py", "0.10.3"),
            (TORCH_VERSION_PY, "version.py", "2.13.0+cpu"),
            (NUMPY2_VERSION_PY, "version.py", "2.4.6"),
            (NUMPY1_VERSION_PY, "version.py", "1.18.5"),
            (THEANO_VERSION_PY, "_version.py", "1.0.5"),
            (TF_VERSION_H, "include/tensorflow/core/public/version.h", "2.15.1"),
            ("2.7", "VERSION", "2.7"),
            ("_VERSION = '2.21.0'\nREQUIRED_PACKAGES = []\n", "tools/pip_package/setup.py", "2.21.0"),
        ]
        for text, filename, expected in cases:
            self.assertEqual(discovery.version_in_text(text, filename), expected, filename)

    def test_no_version_stated(self):
        for text, filename in [("import os\n", "__init__.py"), ("__version__ = get()\n", "version.py"),
                               ("  __version__ = '1.0'\n", "__init__.py"), ("not a version\n", "VERSION"),
                               ('#define TF_MAJOR_VERSION 2\n', "version.h")]:
            self.assertIsNone(discovery.version_in_text(text, filename), text)

    def test_every_known_module_has_a_place_to_look(self):
        self.assertEqual(set(discovery.VERSION_FILES), set(discovery.KNOWN_MODULES))


class KerasWhereNoMetadataIs(unittest.TestCase):
    """Keras found where no distribution metadata stands beside it: the
    version and the flavour come from what that location holds."""

    def test_folder(self):
        with Sandbox() as box:
            keras, flavour = keras_found(tree_files(box.site, keras3_files()))
        self.assertEqual((keras["version"], flavour, keras["shadow"]), ("3.15.1", "keras3", None))

    def test_zip(self):
        with Sandbox() as box:
            archive = zip_files(os.path.join(box.root, "keras.zip"), keras3_files("3.9.2"))
            keras, flavour = keras_found(archive)
        self.assertEqual((keras["version"], flavour, keras["shadow"]), ("3.9.2", "keras3", None))
        self.assertEqual(keras["path"], os.path.join(archive, "keras", "__init__.py"))

    def test_folder_inside_a_zip(self):
        with Sandbox() as box:
            archive = zip_files(os.path.join(box.root, "bundle.zip"), keras3_files(), prefix="lib/")
            keras, flavour = keras_found(os.path.join(archive, "lib"))
        self.assertEqual((keras["version"], flavour), ("3.15.1", "keras3"))

    def test_metadata_inside_a_zip_folder_comes_first(self):
        with Sandbox() as box:
            files = dict(keras3_files(), **{"keras-3.15.0.dist-info/METADATA": "Name: keras\nVersion: 3.15.0\n"})
            archive = zip_files(os.path.join(box.root, "bundle.zip"), files, prefix="lib/")
            keras, _ = keras_found(os.path.join(archive, "lib"))
        self.assertEqual(keras["version"], "3.15.0")
        self.assertEqual(keras["dist"], os.path.join(archive, "lib", "keras-3.15.0.dist-info"))

    def test_keras2_multibackend_in_a_zip(self):
        with Sandbox() as box:
            keras, flavour = keras_found(zip_files(os.path.join(box.root, "k.zip"), keras231_files()))
        self.assertEqual((keras["version"], flavour), ("2.3.1", "keras2-multibackend"))

    def test_layout_decides_when_no_version_is_stated(self):
        with Sandbox() as box:
            files = dict(keras3_files(), **{"keras/src/version.py": "__version__ = read()\n"})
            keras, flavour = keras_found(zip_files(os.path.join(box.root, "k.zip"), files))
            self.assertEqual((keras["version"], flavour), ("unknown", "keras3"))
            files = dict(keras231_files(), **{"keras/__init__.py": ""})
            keras, flavour = keras_found(zip_files(os.path.join(box.root, "k2.zip"), files))
            self.assertEqual((keras["version"], flavour), ("unknown", "keras2-multibackend"))

    def test_egg_folder_and_zipped_egg(self):
        with Sandbox() as box:
            pkg_info = {"EGG-INFO/PKG-INFO": "Metadata-Version: 1.1\nName: keras\nVersion: 3.15.1\n"}
            folder = tree_files(os.path.join(box.root, "keras-3.15.1-py3.11.egg"), dict(keras3_files(), **pkg_info))
            keras, flavour = keras_found(folder)
            self.assertEqual((keras["version"], flavour), ("3.15.1", "keras3"))
            self.assertEqual(keras["dist"], os.path.join(folder, "EGG-INFO"))
            egg = zip_files(os.path.join(box.root, "keras-3.14.0-py3.11.egg"),
                            dict(keras3_files("3.14.0"), **pkg_info))
            keras, flavour = keras_found(egg)
            self.assertEqual((keras["version"], flavour), ("3.14.0", "keras3"))
            # no version in the egg's name: its PKG-INFO says it
            bare = zip_files(os.path.join(box.root, "bundle.egg"), dict(keras3_files("3.1.0"), **pkg_info))
            keras, _ = keras_found(bare)
            self.assertEqual(keras["version"], "3.15.1")
            # an egg without EGG-INFO: the package's own file
            bare = zip_files(os.path.join(box.root, "stripped.egg"), keras3_files("3.2.0"))
            keras, _ = keras_found(bare)
            self.assertEqual(keras["version"], "3.2.0")

    def test_a_stub_is_still_a_shadow(self):
        with Sandbox() as box:
            stub = zip_files(os.path.join(box.root, "stub.zip"), {"keras/__init__.py": "__version__ = '3.15.1'\n"})
            site = make_site(box.site, {"keras": "3.15.1"})
            keras, _ = keras_found(stub, site)
        self.assertIsNotNone(keras["shadow"])
        self.assertEqual(keras["shadow"]["entry"], stub)
        self.assertTrue(keras["path"].startswith(site))

    def test_other_libraries_in_a_zip(self):
        with Sandbox() as box:
            files = {"jax/__init__.py": "", "jax/_src/__init__.py": "", "jax/version.py": JAX_VERSION_PY,
                     "torch/__init__.py": "", "torch/nn/__init__.py": "", "torch/version.py": TORCH_VERSION_PY,
                     "numpy/__init__.py": "", "numpy/_core/__init__.py": "", "numpy/version.py": NUMPY2_VERSION_PY}
            archive = zip_files(os.path.join(box.root, "libs.zip"), files)
            with isolated_path(archive):
                libs = discovery.installed_libraries()
        self.assertEqual((libs["jax"]["version"], libs["torch"]["version"], libs["numpy"]["version"]),
                         ("0.10.2", "2.13.0+cpu", "2.4.6"))

    def test_tensorflow_1_forwarding_package(self):
        with Sandbox() as box:
            tree_files(box.site, {"tensorflow/__init__.py": "", "tensorflow_core/__init__.py": "",
                                  "tensorflow_core/python/__init__.py": "",
                                  "tensorflow_core/include/tensorflow/core/public/version.h":
                                      TF_VERSION_H.replace("2\n#define TF_MINOR_VERSION 15\n#define TF_PATCH_VERSION 1",
                                                           "1\n#define TF_MINOR_VERSION 15\n#define TF_PATCH_VERSION 5")})
            with isolated_path(box.site):
                self.assertEqual(discovery.installed_libraries()["tensorflow"]["version"], "1.15.5")

    def test_locations_inside_archives(self):
        with Sandbox() as box:
            archive = zip_files(os.path.join(box.root, "a.zip"), {"x/y/z.py": "v = 1\n"})
            self.assertEqual(discovery.split_archive(os.path.join(archive, "x", "y", "z.py")), (archive, "x/y/z.py"))
            self.assertEqual(discovery.split_archive(archive), (archive, ""))
            self.assertEqual(discovery.split_archive(box.root), (None, box.root))
            self.assertTrue(discovery.location_exists(os.path.join(archive, "x", "y")))
            self.assertFalse(discovery.location_exists(os.path.join(archive, "x", "q")))
            self.assertEqual(discovery.read_location(os.path.join(archive, "x", "y", "z.py")), "v = 1\n")
            self.assertIsNone(discovery.read_location(os.path.join(archive, "nope.py")))
            text = write(os.path.join(box.root, "plain.txt"), "hi")
            self.assertEqual(discovery.split_archive(os.path.join(text, "inner")), (None, os.path.join(text, "inner")))


#: Runs in the interpreter under test: kbackend's answer (resolved from its
#: model of the search path), or the real import's (each module imported).
KBACKEND_SIDE = r"""
import json, sys
sys.path.append(sys.argv[1])
from kbackend import discovery, importpath
answer = {}
for name in json.loads(sys.argv[2]):
    hit = importpath.resolve(name)
    answer[name] = hit["origin"] if hit else None
found = discovery.locate_distribution("placedist")
answer["placedist"] = found[0] if found else None
answer["own_dir_kept"] = sys.argv[1] in importpath.search_path()
print(json.dumps(answer))
"""
ORACLE_SIDE = r"""
import importlib, json, sys
answer = {}
for name in json.loads(sys.argv[2]):
    try:
        answer[name] = importlib.import_module(name).__file__
    except ImportError:
        answer[name] = None
try:
    from importlib import metadata
except ImportError:
    answer["placedist"] = "n/a"
else:
    try:
        answer["placedist"] = metadata.version("placedist")
    except metadata.PackageNotFoundError:
        answer["placedist"] = None
print(json.dumps(answer))
"""


def _interpreter():
    """The interpreter running the tests, outside any virtual environment
    (a venv turns the user site off)."""
    if sys.prefix != getattr(sys, "base_prefix", sys.prefix):
        base = getattr(sys, "_base_executable", None)
        if base and os.path.exists(base) and os.path.realpath(base) != os.path.realpath(sys.executable):
            return base
        home = os.path.join(sys.base_prefix, "bin", "python{}.{}".format(*sys.version_info[:2]))
        if os.path.exists(home):
            return home
    return sys.executable


class FlagsDecideTheSearchPath(unittest.TestCase):
    """The same modules placed in the working directory, on PYTHONPATH, in
    the user site and in a folder a user-site ``.pth`` adds: under each set
    of interpreter flags, kbackend (run with those flags) finds each where
    a real import with those flags finds it."""

    NAMES = ["m_all", "m_pp", "m_user", "m_pth", "m_zip"]

    @classmethod
    def setUpClass(cls):
        cls.box = Sandbox().__enter__()
        root = cls.box.root
        cls.python = _interpreter()
        cls.work = os.path.join(root, "work")
        cls.pp = os.path.join(root, "pp")
        cls.userbase = os.path.join(root, "userbase")
        env = dict(os.environ, PYTHONUSERBASE=cls.userbase)
        env.pop("PYTHONNOUSERSITE", None)
        user_site = subprocess.check_output([cls.python, "-c", "import site; print(site.getusersitepackages())"],
                                            env=env, universal_newlines=True).strip()
        pth_dir = os.path.join(root, "pth")
        write(os.path.join(cls.work, "m_all.py"), "WHERE = 'cwd'\n")
        for name in ("m_all", "m_pp"):
            write(os.path.join(cls.pp, name, "__init__.py"))
        write(os.path.join(cls.pp, "placedist-1.0.dist-info", "METADATA"), "Name: placedist\nVersion: 1.0\n\n")
        for name in ("m_all", "m_pp", "m_user"):
            write(os.path.join(user_site, name + ".py"))
        write(os.path.join(user_site, "placedist-2.0.dist-info", "METADATA"), "Name: placedist\nVersion: 2.0\n\n")
        write(os.path.join(user_site, "extra.pth"), pth_dir + "\n")
        for name in ("m_all", "m_pp", "m_user", "m_pth"):
            write(os.path.join(pth_dir, name, "__init__.py"))
        cls.zipped = zip_files(os.path.join(root, "mods.zip"), {"m_zip/__init__.py": ""})

    @classmethod
    def tearDownClass(cls):
        cls.box.__exit__(None, None, None)

    def _run(self, code, flags, env):
        full = {key: value for key, value in os.environ.items()
                if not key.startswith("PYTHON") and not key.startswith("KERAS")}
        full.update(HOME=self.box.home, PYTHONUSERBASE=self.userbase, PYTHONDONTWRITEBYTECODE="1",
                    PYTHONPATH=os.pathsep.join([self.pp, self.zipped]))
        full.update(env)
        done = subprocess.run([self.python] + flags + ["-c", code, PYTHON_DIR, json.dumps(self.NAMES)],
                              cwd=self.work, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True)
        self.assertEqual(done.returncode, 0, done.stderr)
        return json.loads(done.stdout)

    def _compare(self, flags, env=None):
        env = env or {}
        ours = self._run(KBACKEND_SIDE, flags, env)
        real = self._run(ORACLE_SIDE, flags, env)
        for name in self.NAMES:
            expected = real[name] and os.path.realpath(real[name])
            got = ours[name] and os.path.realpath(ours[name])
            self.assertEqual(got, expected, "{} under {} {}".format(name, flags, env))
        if real["placedist"] != "n/a":
            self.assertEqual(ours["placedist"], real["placedist"], "metadata under {} {}".format(flags, env))
        # the bootstrap's own folder is never the user's
        self.assertFalse(ours["own_dir_kept"], "{} {}".format(flags, env))
        return real

    def test_plain(self):
        real = self._compare([])
        self.assertTrue(real["m_all"].endswith("m_all.py"))  # the working directory wins

    def test_ignore_environment(self):
        real = self._compare(["-E"])
        self.assertIsNone(real["m_zip"])  # PYTHONPATH does not apply

    def test_isolated(self):
        real = self._compare(["-I"])
        self.assertIsNone(real["m_user"])

    def test_no_user_site(self):
        self._compare(["-s"])
        self._compare([], {"PYTHONNOUSERSITE": "1"})
        self._compare(["-E"], {"PYTHONNOUSERSITE": "1"})  # -E ignores that variable

    def test_no_site(self):
        self._compare(["-S"])

    def test_safe_path(self):
        if sys.version_info >= (3, 11):  # -P and PYTHONSAFEPATH are new in Python 3.11
            real = self._compare(["-P"])
            self.assertFalse(real["m_all"].endswith("m_all.py"))
            self._compare(["-E"], {"PYTHONSAFEPATH": "1"})  # -E ignores that variable too
        real = self._compare([], {"PYTHONSAFEPATH": "1"})
        # before 3.11 the variable means nothing: the working directory still wins
        self.assertEqual(real["m_all"].endswith("m_all.py"), sys.version_info < (3, 11))

    def test_pythonpath_names_the_own_folder(self):
        """The user's own PYTHONPATH may name kbackend's folder: then it stays,
        unless the interpreter ignores PYTHONPATH."""
        code = KBACKEND_SIDE.replace("sys.path.append(sys.argv[1])", "sys.path.insert(0, sys.argv[1])")
        plain = self._run(code, [], {"PYTHONPATH": PYTHON_DIR})
        ignored = self._run(code, ["-E"], {"PYTHONPATH": PYTHON_DIR})
        self.assertEqual((plain["own_dir_kept"], ignored["own_dir_kept"]), (True, False))


class VerifyChildFlags(unittest.TestCase):
    def test_the_child_gets_this_interpreters_flags(self):
        for flags in (["-E"], ["-s"], ["-I"], ["-S"]):
            done = subprocess.run(
                [_interpreter()] + flags + ["-c", "import sys; sys.path.append(sys.argv[1]); "
                                            "from kbackend import verify; print(verify.interpreter_flags())",
                                            PYTHON_DIR],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertIn(flags[0], done.stdout, flags)
        self.assertIsInstance(verify.interpreter_flags(), list)


if __name__ == "__main__":
    unittest.main()
