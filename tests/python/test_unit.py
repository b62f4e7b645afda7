"""Unit tests of the resolver on fake installations (stdlib unittest).

These run on every CPython from 3.6 to 3.13 with ``python -m unittest`` (no
third-party packages), and under pytest in the main environment.  Real Keras
is held against the predictions in test_differential.py; here each rule and
each piece of plumbing is pinned down in isolation.
"""

import contextlib
import io
import json
import os
import stat
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "python"))
sys.path.insert(0, HERE)

import kbackend  # noqa: E402
from kbackend import cli, custom, deps, discovery, importpath, interfaces, keras_json, live, persist, report, rules, setting, tf_keras  # noqa: E402
from fakes import Sandbox, environ, isolated_path, make_site  # noqa: E402

KERAS3 = {"keras": "3.15.1", "tensorflow": "2.21.0", "jax": "0.10.2", "jaxlib": "0.10.2", "numpy": "2.4.0"}
HEAVY = ("keras", "tensorflow", "jax", "torch", "theano", "cntk", "openvino", "tf_keras", "flax")


@contextlib.contextmanager
def installed(libraries, keras_layout="keras3", **env):
    """A sandbox with ``libraries`` installed, HOME in it, and ``env`` set."""
    with Sandbox() as box:
        make_site(box.site, libraries, keras_layout)
        with isolated_path(box.site), environ(HOME=box.home, **env):
            yield box


class VersionParsing(unittest.TestCase):
    def test_version_tuple(self):
        self.assertEqual(discovery.version_tuple("2.3.1"), (2, 3, 1))
        self.assertEqual(discovery.version_tuple("3.0.0rc1"), (3, 0, 0))
        self.assertEqual(discovery.version_tuple("2.16.0.dev20240101"), (2, 16, 0))
        self.assertEqual(discovery.version_tuple(None), ())
        self.assertEqual(discovery.version_tuple("unknown"), ())

    def test_dist_names_normalised(self):
        self.assertEqual(discovery.normalize_dist_name("tensorflow-cpu"), "tensorflow_cpu")
        self.assertEqual(discovery.normalize_dist_name("Theano"), "theano")
        self.assertEqual(discovery.normalize_dist_name("tf.keras..x"), "tf_keras_x")


class Discovery(unittest.TestCase):
    def test_versions_come_from_metadata_and_first_path_wins(self):
        with Sandbox() as box:
            first = make_site(os.path.join(box.root, "a"), {"jax": "0.4.1"})
            second = make_site(os.path.join(box.root, "b"), {"jax": "0.9.9", "torch": "2.13.0"})
            found = discovery.scan_distributions([first, second], wanted=["jax", "torch"])
            self.assertEqual(found["jax"][0], "0.4.1")
            self.assertEqual(found["torch"][0], "2.13.0")

    def test_egg_info_without_version_in_name_reads_pkg_info(self):
        with Sandbox() as box:
            egg = os.path.join(box.site, "Theano.egg-info")
            os.makedirs(egg)
            with open(os.path.join(egg, "PKG-INFO"), "w") as handle:
                handle.write("Metadata-Version: 1.1\nName: Theano\nVersion: 1.0.5\n")
            self.assertEqual(discovery.scan_distributions([box.site])["theano"][0], "1.0.5")

    def test_installed_libraries_without_importing(self):
        with installed({"keras": "3.15.1", "tensorflow": "2.21.0"}):
            libs = discovery.installed_libraries()
            self.assertEqual(libs["keras"]["version"], "3.15.1")
            self.assertEqual(libs["tensorflow"]["version"], "2.21.0")
            self.assertIsNone(libs["torch"]["version"])
            self.assertNotIn("tensorflow", sys.modules)

    def test_module_without_metadata_is_unknown_version(self):
        with Sandbox() as box:
            os.makedirs(os.path.join(box.site, "jax"))
            open(os.path.join(box.site, "jax", "__init__.py"), "w").close()
            with isolated_path(box.site):
                self.assertEqual(discovery.installed_libraries()["jax"]["version"], "unknown")

    def test_dotted_name_found_without_importing_parent(self):
        with Sandbox() as box:
            package = os.path.join(box.site, "sentinelpkg")
            os.makedirs(package)
            mark = os.path.join(box.root, "imported")
            with open(os.path.join(package, "__init__.py"), "w") as handle:
                handle.write("open({!r}, 'w').close()\n".format(mark))
            open(os.path.join(package, "sub.py"), "w").close()
            with isolated_path(box.site):
                spec = discovery.find_spec_without_import("sentinelpkg.sub")
                self.assertIsNotNone(spec)
                self.assertIsNone(discovery.find_spec_without_import("sentinelpkg.nope"))
            self.assertFalse(os.path.exists(mark))
            self.assertNotIn("sentinelpkg", sys.modules)

    def test_odd_names_are_not_found(self):
        for name in ["", ".rel", " jax", "a..b", 5, None, "a/b"]:
            self.assertIsNone(discovery.find_spec_without_import(name), name)


def write(path, text="x = 1\n"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)
    return path


class ImportPath(unittest.TestCase):
    """The model of the import system: what ``import NAME`` loads, never running it."""

    def test_first_entry_wins_and_namespace_portions_give_way(self):
        with Sandbox() as box:
            first, second = os.path.join(box.root, "a"), os.path.join(box.root, "b")
            write(os.path.join(first, "alpha.py"))
            write(os.path.join(second, "alpha", "__init__.py"))
            write(os.path.join(first, "beta", "notes.txt"))  # a bare folder: a namespace portion
            write(os.path.join(second, "beta", "__init__.py"))
            write(os.path.join(first, "gamma", "notes.txt"))
            path = [first, second]
            alpha = importpath.resolve("alpha", path)
            self.assertEqual((alpha["kind"], alpha["index"]), ("module", 0))
            beta = importpath.resolve("beta", path)
            self.assertEqual((beta["kind"], beta["index"], beta["entry"]), ("package", 1, second))
            self.assertEqual(importpath.resolve("gamma", path)["kind"], "namespace")
            self.assertIsNone(importpath.resolve("delta", path))
            self.assertEqual(importpath.resolve("sys", path)["kind"], "builtin")

    def test_search_path_leaves_out_the_bridge_folder(self):
        own = os.path.dirname(os.path.dirname(os.path.abspath(kbackend.__file__)))
        saved = list(sys.path)
        try:
            sys.path.insert(0, own)
            with environ():
                self.assertNotIn(own, importpath.search_path())
            with environ(PYTHONPATH=own):
                self.assertIn(own, importpath.search_path())
        finally:
            sys.path[:] = saved

    def test_standard_modules_replaced_ahead_of_the_stdlib(self):
        saved = importpath.FRESH_PROCESS, importpath.LOADED_AT_START
        # as in a fresh interpreter: the test runner has loaded random itself
        importpath.FRESH_PROCESS, importpath.LOADED_AT_START = True, frozenset()
        self.addCleanup(lambda: setattr(importpath, "FRESH_PROCESS", saved[0]))
        self.addCleanup(lambda: setattr(importpath, "LOADED_AT_START", saved[1]))
        with Sandbox() as box:
            write(os.path.join(box.root, "random.py"))
            write(os.path.join(box.root, "csv.py"))
            write(os.path.join(box.root, "sys.py"))  # builtin: never replaced
            hits = importpath.shadowed_stdlib([box.root] + sys.path, names=["random", "csv", "sys", "json"])
            self.assertEqual([hit["name"] for hit in hits], ["csv", "random"])
            self.assertEqual(hits[1]["origin"], os.path.join(box.root, "random.py"))

    def test_the_standard_library_is_known_by_its_content(self):
        with Sandbox() as box:
            fake = os.path.join(box.root, "lib", "python3.99")
            write(os.path.join(fake, "os.py"))
            write(os.path.join(fake, "importlib", "__init__.py"))
            self.assertTrue(importpath.is_stdlib_entry(fake))
            self.assertTrue(importpath.is_stdlib_entry(os.path.join(box.root, "lib", "python399.zip")))
            self.assertFalse(importpath.is_stdlib_entry(box.root))
            # a standard library that is not where os.__file__ says (R's embedded Python)
            write(os.path.join(fake, "copy.py"))
            saved = importpath.FRESH_PROCESS, importpath.LOADED_AT_START
            importpath.FRESH_PROCESS, importpath.LOADED_AT_START = True, frozenset()
            try:
                self.assertEqual(importpath.shadowed_stdlib([fake] + sys.path, names=["copy"]), [])
            finally:
                importpath.FRESH_PROCESS, importpath.LOADED_AT_START = saved

    def test_metadata_comes_from_where_the_module_is_found(self):
        with Sandbox() as box:
            stale = make_site(os.path.join(box.root, "stale"), {"keras": "2.3.1"})
            shutil_rmtree(os.path.join(stale, "keras"))  # metadata left behind, no package
            site = make_site(box.site, {"keras": "3.15.1"})
            with isolated_path(stale, site):
                found = discovery.installed_libraries()["keras"]
            self.assertEqual(found["version"], "3.15.1")
            self.assertTrue(found["path"].startswith(site))

    def test_stale_metadata_beside_the_package_is_told_apart_by_record(self):
        with Sandbox() as box:
            site = make_site(box.site, {"keras": "3.15.1"})
            init = os.path.join(site, "keras", "__init__.py")
            old = os.path.join(site, "keras-3.0.0.dist-info")
            os.makedirs(old)
            write(os.path.join(old, "METADATA"), "Metadata-Version: 2.1\nName: keras\nVersion: 3.0.0\n\n")
            write(os.path.join(old, "RECORD"), "keras/__init__.py,sha256=stale,10\n")
            with open(init, "rb") as handle:
                import base64
                import hashlib
                digest = base64.urlsafe_b64encode(hashlib.sha256(handle.read()).digest()).rstrip(b"=").decode()
            write(os.path.join(site, "keras-3.15.1.dist-info", "RECORD"),
                  "keras/__init__.py,sha256={},10\n".format(digest))
            with isolated_path(site):
                self.assertEqual(discovery.installed_libraries()["keras"]["version"], "3.15.1")

    def test_keras_inside_a_zip(self):
        import zipfile

        with Sandbox() as box:
            archive = os.path.join(box.root, "bundle.zip")
            with zipfile.ZipFile(archive, "w") as bundle:
                bundle.writestr("keras/__init__.py", "")
                bundle.writestr("keras/src/backend/config.py", "")
                bundle.writestr("keras-3.9.0.dist-info/METADATA", "Name: keras\nVersion: 3.9.0\n")
            with isolated_path(archive):
                found = discovery.installed_libraries()["keras"]
            self.assertEqual(found["version"], "3.9.0")

    def test_a_checkout_laid_out_like_keras_is_not_a_shadow(self):
        with Sandbox() as box:
            checkout = os.path.join(box.root, "checkout")
            write(os.path.join(checkout, "keras", "__init__.py"))
            write(os.path.join(checkout, "keras", "src", "backend", "config.py"))
            site = make_site(box.site, {"keras": "3.15.1"})
            with isolated_path(checkout, site):
                found = discovery.installed_libraries()["keras"]
            self.assertIsNone(found["shadow"])
            self.assertEqual((found["version"], found["path"]),
                             ("unknown", os.path.join(checkout, "keras", "__init__.py")))

    def test_a_users_keras_py_is_a_shadow_and_the_import_fails(self):
        with installed(KERAS3) as box:
            work = os.path.join(box.root, "work")
            write(os.path.join(work, "keras.py"))
            saved = list(sys.path)
            sys.path.insert(0, work)
            try:
                record = kbackend.backend_info()
            finally:
                sys.path[:] = saved
        self.assertEqual(record["status"], "error")
        self.assertTrue(record["error"].startswith("AttributeError: module 'keras' has no attribute 'backend'"))
        self.assertEqual(record["problems"][0]["code"], "module-shadowed")
        self.assertIn(os.path.join(work, "keras.py"), record["problems"][0]["message"])
        self.assertEqual(record["keras"]["version"], "3.15.1")


def shutil_rmtree(path):
    import shutil

    shutil.rmtree(path)


class KerasDirectory(unittest.TestCase):
    def test_keras_home_present_wins_even_empty(self):
        self.assertEqual(keras_json.keras_dir({"KERAS_HOME": ""})["dir"], "")
        self.assertEqual(keras_json.keras_dir({"KERAS_HOME": "/x"}), {"dir": "/x", "source": "KERAS_HOME"})

    def test_tilde_expanded_for_reading_only(self):
        with environ(HOME="/h"):
            self.assertEqual(keras_json.config_path("~/kh"), "/h/kh/keras.json")
            self.assertEqual(keras_json.config_path(""), "keras.json")

    def test_unwritable_home_falls_back_to_tmp(self):
        with environ(HOME="/no/such/home"):
            self.assertEqual(keras_json.keras_dir({})["dir"], "/tmp/.keras")
            self.assertEqual(keras_json.keras_dir({}, tmp_fallback=False)["dir"], "/no/such/home/.keras")


class ReadingKerasJson(unittest.TestCase):
    def read(self, text):
        with Sandbox() as box:
            return keras_json.read_config(box.keras_json(text))

    def test_valid(self):
        result = self.read('{"backend": "jax"}')
        self.assertTrue(result["parses"])
        self.assertEqual(result["value"], {"backend": "jax"})

    def test_bad_json_is_swallowed_as_empty(self):
        for text in ["", "{", "\ufeff{}"]:
            result = self.read(text)
            self.assertIs(result["parses"], False, text)
            self.assertEqual(result["value"], {})
            self.assertIsNone(result["raises"])

    def test_directory_raises_like_keras(self):
        with Sandbox() as box:
            path = os.path.join(box.home, "keras.json")
            os.makedirs(path)
            result = keras_json.read_config(path)
            self.assertTrue(result["raises"].startswith("IsADirectoryError: [Errno 21]"))

    def test_fifo_is_never_opened(self):
        with Sandbox() as box:
            path = os.path.join(box.root, "keras.json")
            os.mkfifo(path)
            result = keras_json.read_config(path)
            self.assertEqual(result["type"], "fifo")
            self.assertTrue(result["raises"].startswith("Hang"))

    def test_deep_nesting_is_reported_not_raised(self):
        result = self.read("[" * 100000 + "]" * 100000)
        self.assertTrue(result["raises"].startswith("RecursionError"))

    def test_missing(self):
        result = keras_json.read_config("/no/such/keras.json")
        self.assertFalse(result["exists"])
        self.assertEqual(result["type"], "missing")


class FieldChecks(unittest.TestCase):
    def test_messages_match_keras(self):
        check = rules.check_config_fields
        self.assertIsNone(check({}, True))
        self.assertEqual(check([], True), "AttributeError: 'list' object has no attribute 'get'")
        self.assertEqual(check(None, False), "AttributeError: 'NoneType' object has no attribute 'get'")
        self.assertEqual(check({"floatx": ["a"]}, True), "TypeError: unhashable type: 'list'")
        self.assertEqual(check({"floatx": "bfloat16"}, False), "AssertionError")
        self.assertIn("Received: floatx=bfloat16", check({"floatx": "bfloat16"}, True))
        self.assertIn("Received: epsilon=1", check({"epsilon": 1}, True))
        self.assertIn("image_data_format=NCHW", check({"image_data_format": "NCHW"}, True))


def _config(document=None, raises=None):
    return {"exists": document is not None or raises is not None, "value": document, "raises": raises}


class Keras3Rules(unittest.TestCase):
    has = staticmethod(lambda name: name in ("tensorflow", "jax", "numpy"))

    def resolve(self, env, document=None, raises=None, version=(3, 15, 1)):
        return rules.resolve_keras3(version, env, _config(document, raises), self.has)

    def test_precedence(self):
        self.assertEqual(self.resolve({})["source"], "default")
        self.assertEqual(self.resolve({}, {"backend": "jax"})["backend"], "jax")
        outcome = self.resolve({"KERAS_BACKEND": "numpy"}, {"backend": "jax"})
        self.assertEqual((outcome["backend"], outcome["source"]), ("numpy", "environment"))
        self.assertEqual(self.resolve({"KERAS_BACKEND": ""}, {"backend": "jax"})["source"], "config")

    def test_no_normalisation(self):
        self.assertEqual(self.resolve({"KERAS_BACKEND": "JAX"})["error"], "ValueError: Unable to import backend : JAX")
        self.assertEqual(self.resolve({}, {"backend": 5})["error"], "ValueError: Unable to import backend : 5")

    def test_missing_library(self):
        self.assertEqual(self.resolve({"KERAS_BACKEND": "torch"})["error"], "ModuleNotFoundError: No module named 'torch'")

    def test_openvino_only_from_3_8(self):
        self.assertIn("Unable to import", self.resolve({"KERAS_BACKEND": "openvino"}, version=(3, 7))["error"])
        self.assertIn("No module named 'openvino'", self.resolve({"KERAS_BACKEND": "openvino"})["error"])

    def test_config_errors_beat_the_environment(self):
        outcome = self.resolve({"KERAS_BACKEND": "jax"}, raises="IsADirectoryError: x")
        self.assertEqual((outcome["status"], outcome["cause"]), ("error", "config-unreadable"))
        self.assertEqual(self.resolve({"KERAS_BACKEND": "jax"}, [])["cause"], "config-invalid-field")

    def test_env_integers_and_nnx(self):
        self.assertEqual(self.resolve({"KERAS_MAX_EPOCHS": "abc"})["cause"], "env-not-integer")
        self.assertEqual(self.resolve({"KERAS_MAX_EPOCHS": "abc"}, version=(3, 9))["status"], "ok")
        self.assertEqual(self.resolve({"KERAS_NNX_ENABLED": "True"})["cause"], "nnx-without-flax")
        self.assertEqual(self.resolve({"KERAS_NNX_ENABLED": "no"}, {"nnx_enabled": True})["status"], "ok")
        self.assertEqual(self.resolve({}, {"nnx_enabled": "false"})["cause"], "nnx-without-flax")


class Keras2Rules(unittest.TestCase):
    def resolve(self, env, document=None, version=(2, 3, 1), origin=None):
        return rules.resolve_keras2_multi(version, env, _config(document), lambda n: n in ("theano", "tensorflow"),
                                          lambda name: origin)

    def test_builtins(self):
        self.assertEqual(self.resolve({"KERAS_BACKEND": "theano"})["backend"], "theano")
        self.assertEqual(self.resolve({"KERAS_BACKEND": "cntk"})["error"], "ModuleNotFoundError: No module named 'cntk'")

    def test_custom_names(self):
        self.assertEqual(self.resolve({"KERAS_BACKEND": "Theano"})["error"], "ValueError: Unable to import backend : Theano")
        self.assertEqual(self.resolve({}, {"backend": 5})["error"], "AttributeError: 'int' object has no attribute 'startswith'")
        self.assertEqual(self.resolve({}, {"backend": ""})["error"], "ValueError: Empty module name")

    def test_empty_env_taken_literally_in_2_2_0(self):
        self.assertEqual(self.resolve({"KERAS_BACKEND": ""}, version=(2, 2, 0))["error"], "ValueError: Empty module name")
        self.assertEqual(self.resolve({"KERAS_BACKEND": ""})["backend"], "tensorflow")

    def test_custom_module_checked_statically(self):
        with Sandbox() as box:
            path = os.path.join(box.root, "mine.py")
            with open(path, "w") as handle:
                handle.write("import os\ndef placeholder(): pass\nif os:\n    variable = 1\n")
            self.assertEqual(custom.first_missing_entry("mine", path, {"os": os.__file__}.get), "function")
            outcome = self.resolve({"KERAS_BACKEND": "mine"}, origin=path)
            self.assertEqual(outcome["error"], "ValueError: Invalid backend. Missing required entry : function")

    def test_loaded_and_builtin_modules_are_judged_without_running(self):
        self.assertEqual(custom.first_missing_entry("sys", "built-in", lambda name: None), "placeholder")
        self.assertEqual(custom.first_missing_entry("_no_such_builtin", "built-in", lambda name: None),
                         "placeholder")
        outcome = rules.resolve_keras2_multi((2, 3, 1), {"KERAS_BACKEND": "sys"}, _config(None),
                                             lambda n: True, lambda name: "built-in")
        self.assertEqual(outcome["error"], "ValueError: Invalid backend. Missing required entry : placeholder")

    def test_modules_keras_is_still_importing_have_no_backend_api(self):
        # keras.backend's source binds placeholder and friends, but while
        # Keras imports the custom backend that module is only half built.
        with Sandbox() as box:
            source = os.path.join(box.root, "complete.py")
            with open(source, "w") as handle:
                handle.write("def placeholder(): pass\ndef variable(): pass\nfunction = None\n")
            for name in ("keras", "keras.backend", "keras.backend.load_backend"):
                self.assertEqual(custom.first_missing_entry(name, source, lambda _: None), "placeholder")
            self.assertEqual(custom.first_missing_entry("keras.backend.tensorflow_backend", source, lambda _: None), None)

    def test_star_imports_are_followed(self):
        with Sandbox() as box:
            base = os.path.join(box.root, "base.py")
            mine = os.path.join(box.root, "mine.py")
            with open(base, "w") as handle:
                handle.write("def placeholder(): pass\ndef variable(): pass\nfunction = None\n")
            with open(mine, "w") as handle:
                handle.write("from base import *\n")
            locate = {"base": base}.get
            self.assertEqual(custom.first_missing_entry("mine", mine, locate), None)
            # base cannot be found: the import fails, which Keras reports as such
            self.assertEqual(custom.import_error("mine", mine, lambda name: None),
                             "ValueError: Unable to import backend : mine")

    def test_dynamic_code_falls_back_to_package_sources(self):
        with Sandbox() as box:
            package = os.path.join(box.root, "dyn")
            os.makedirs(os.path.join(package, "sub"))
            init = os.path.join(package, "__init__.py")
            with open(init, "w") as handle:
                handle.write("exec(open(__file__[:-11] + 'sub/impl.py').read())\n")
            impl = os.path.join(package, "sub", "impl.py")
            with open(impl, "w") as handle:
                handle.write("def placeholder(): pass\nvariable = 1\n")
            self.assertEqual(custom.first_missing_entry("dyn", init, lambda name: None), "function")
            with open(impl, "a") as handle:
                handle.write("def function(): pass\n")
            self.assertIsNone(custom.first_missing_entry("dyn", init, lambda name: None))


class LiveState(unittest.TestCase):
    def test_reads_backend_from_loaded_modules(self):
        class Config:
            _BACKEND = "jax"

        state = live.live_keras({"keras.src.backend.config": Config(), "keras_hub": object()})
        self.assertEqual((state["locked"], state["backend"]), (True, "jax"))
        self.assertEqual(state["locked_by"], ["keras_hub"])
        self.assertFalse(live.live_keras({})["locked"])


class Record(unittest.TestCase):
    KEYS = {"kbackend_version", "backend", "status", "error", "source", "reason", "locked", "locked_by", "keras_home",
            "keras_home_source", "config_path", "config_file", "config", "keras", "installed", "tf_keras",
            "variables", "python", "interface", "problems", "verify", "device", "devices"}

    def test_complete_json_and_imports_nothing(self):
        with installed(KERAS3, KERAS_BACKEND="jax", XLA_FLAGS="--x", TF_USE_LEGACY_KERAS="TRUE"):
            before = set(sys.modules)
            record = kbackend.backend_info()
            new = set(sys.modules) - before
        self.assertEqual(set(record), self.KEYS)
        self.assertEqual(json.loads(json.dumps(record)), record)
        self.assertEqual((record["backend"], record["source"], record["status"]), ("jax", "environment", "ok"))
        self.assertEqual(record["variables"]["XLA_FLAGS"], "--x")
        self.assertEqual(record["tf_keras"]["routes_to"], "keras")
        self.assertIn("legacy-value-ignored", [p["code"] for p in record["problems"]])
        self.assertFalse([m for m in new if m.split(".")[0] in HEAVY], new)

    def test_keras_not_installed(self):
        with installed({"numpy": "2.0"}):
            record = kbackend.backend_info()
        self.assertEqual(record["error"], "ModuleNotFoundError: No module named 'keras'")
        self.assertEqual(record["problems"][0]["code"], "keras-not-installed")

    def test_invalid_name_suggests_fix(self):
        with installed(KERAS3, KERAS_BACKEND=" JAX"):
            record = kbackend.backend_info()
        self.assertEqual(record["status"], "error")
        self.assertIn("'jax'", record["problems"][0]["fix"])

    def test_keras2_tensorflow_only_ignores_env(self):
        with installed({"keras": "2.15.0", "tensorflow": "2.15.1"}, keras_layout="keras2", KERAS_BACKEND="jax"):
            record = kbackend.backend_info()
        self.assertEqual((record["backend"], record["status"]), ("tensorflow", "ok"))
        self.assertIn("backend-ignored", [p["code"] for p in record["problems"]])

    def test_tf_keras_routing(self):
        libs = dict(KERAS3, tf_keras="2.21.0")
        with installed(libs, TF_USE_LEGACY_KERAS="1", KERAS_BACKEND="jax"):
            route = kbackend.backend_info()["tf_keras"]
        self.assertEqual((route["routes_to"], route["backend"]), ("tf_keras", "tensorflow"))
        with installed(KERAS3, TF_USE_LEGACY_KERAS="1"):
            record = kbackend.backend_info()
        self.assertEqual(record["tf_keras"]["error"], "ImportError: Keras cannot be imported. Check that it is installed.")
        self.assertIn("tf-keras-missing", [p["code"] for p in record["problems"]])

    def test_report_renders(self):
        with installed(KERAS3, KERAS_BACKEND="torch"):
            text = report.format_report(kbackend.backend_info())
        self.assertIn("import keras would FAIL", text)
        self.assertIn("backend-not-installed", text)
        text.encode("ascii")


KERAS2_TF1 = {"keras": "2.3.1", "theano": "1.0.5", "tensorflow": "1.15.5", "numpy": "1.19.5"}


def keras3_facts(version="1.5.1", **r_environ):
    return {"name": "keras3", "version": version, "r_environ": r_environ, "cache_dir": "/r-cache/keras3",
            "home_keras_exists": False}


def legacy_facts(version="2.15.0", **r_environ):
    return {"name": "keras", "version": version, "r_environ": r_environ}


def write_config(home, document):
    os.makedirs(os.path.join(home, ".keras"), exist_ok=True)
    with open(os.path.join(home, ".keras", "keras.json"), "w") as handle:
        json.dump(document, handle)


def codes(record):
    return [problem["code"] for problem in record["problems"]]


class Interfaces(unittest.TestCase):
    """The R interfaces' load steps (python/kbackend/interfaces.py)."""

    def test_keras3_default_backend_beats_keras_json(self):
        with installed(KERAS3) as box:
            write_config(box.home, {"backend": "jax"})
            plain = kbackend.backend_info()
            record = kbackend.backend_info(interface=dict(keras3_facts(), home_keras_exists=True))
        self.assertEqual(plain["backend"], "jax")
        self.assertEqual((record["backend"], record["source"]), ("tensorflow", "interface"))
        self.assertIn("keras3-ignores-config-backend", codes(record))
        self.assertEqual(record["interface"]["module"], "keras")
        self.assertIsNone(plain["interface"])

    def test_keras3_strips_cpu_and_gpu_suffixes(self):
        for given in ("jax-cpu", "jax-gpu"):
            with installed(KERAS3, KERAS_BACKEND=given):
                record = kbackend.backend_info(interface=keras3_facts(KERAS_BACKEND=given))
            self.assertEqual((record["backend"], record["source"], record["status"]), ("jax", "environment", "ok"))
            self.assertIn(given, record["reason"])
        self.assertEqual(interfaces.strip_suffix("-cpu"), "")
        self.assertEqual(interfaces.strip_suffix("jax-cpu-gpu"), "jax-cpu")

    def test_keras3_moves_keras_home_when_home_has_no_keras_folder(self):
        with installed(KERAS3):
            moved = kbackend.backend_info(interface=keras3_facts())
            kept = kbackend.backend_info(interface=dict(keras3_facts(), home_keras_exists=True))
        self.assertEqual(moved["config_path"], os.path.join("/r-cache/keras3", "keras.json"))
        self.assertEqual(moved["variables"]["TF_CPP_MIN_LOG_LEVEL"], "2")
        self.assertIn("keras3-keras-home", codes(moved))
        self.assertEqual(kept["keras_home_source"], "home")
        self.assertNotIn("keras3-keras-home", codes(kept))

    def test_keras3_versions_have_their_own_steps(self):
        with installed(KERAS3) as box:
            write_config(box.home, {"backend": "jax"})
            old = kbackend.backend_info(interface=keras3_facts("1.2.0"))
            middle = kbackend.backend_info(interface=keras3_facts("1.3.0"))
        self.assertEqual((old["backend"], old["source"]), ("jax", "config"))
        self.assertEqual(middle["backend"], "tensorflow")
        self.assertEqual(middle["keras_home_source"], "home")

    def test_a_running_python_sees_only_the_backend_keras3_sets(self):
        running = dict(keras3_facts(KERAS_BACKEND="jax"), python_started=True, tensorflow_loaded=True)
        with installed(KERAS3, KERAS_BACKEND="torch"):
            record = kbackend.backend_info(interface=running)
            # R tensorflow not loaded yet: loading it imports TensorFlow 2.21,
            # which imports Keras before keras3 sets KERAS_BACKEND
            first = kbackend.backend_info(interface=dict(running, tensorflow_loaded=False))
        self.assertEqual(record["backend"], "jax")
        self.assertEqual(record["keras_home_source"], "home")
        self.assertNotIn("TF_CPP_MIN_LOG_LEVEL", record["variables"])
        self.assertEqual((first["backend"], first["source"]), ("torch", "environment"))

    def test_a_loaded_interface_has_made_its_changes(self):
        with installed(KERAS3) as box:
            write_config(box.home, {"backend": "jax"})
            record = kbackend.backend_info(interface=dict(keras3_facts(), loaded=True))
        self.assertEqual((record["backend"], record["source"]), ("jax", "config"))
        self.assertEqual(record["interface"]["steps"], [])

    def test_legacy_keras_imports_tf_keras_by_default(self):
        with installed(KERAS2_TF1, keras_layout="keras2", KERAS_BACKEND="theano"):
            record = kbackend.backend_info(interface=legacy_facts())
            chosen = kbackend.backend_info(interface=legacy_facts(KERAS_IMPLEMENTATION="Keras"))
        self.assertEqual((record["backend"], record["source"], record["status"]), ("tensorflow", "interface", "ok"))
        self.assertEqual(record["interface"]["module"], "tensorflow.keras")
        self.assertIn("keras-implementation-tensorflow", codes(record))
        self.assertEqual((chosen["backend"], chosen["interface"]["module"]), ("theano", "keras"))
        self.assertEqual(interfaces.module(interfaces.parse(legacy_facts("2.2.5"))), "tensorflow.python.keras")

    def test_legacy_keras_with_keras3_is_flagged(self):
        with installed(KERAS3, KERAS_BACKEND="jax"):
            record = kbackend.backend_info(interface=legacy_facts())
        self.assertEqual((record["backend"], record["tf_keras"]["routes_to"]), ("jax", "keras"))
        self.assertIn("keras-legacy-with-keras3", codes(record))

    def test_tensorflow_keras_module_falls_through_to_keras3_without_tf_keras(self):
        # the attribute fails, the module (what legacy R keras imports) is Keras 3's
        with installed(KERAS3, TF_USE_LEGACY_KERAS="1", KERAS_BACKEND="jax"):
            record = kbackend.backend_info()
            legacy = kbackend.backend_info(interface=legacy_facts())
        route = record["tf_keras"]
        self.assertEqual((route["status"], route["error"]), ("error", tf_keras.KERAS_CANNOT_BE_IMPORTED))
        self.assertEqual((route["module"]["routes_to"], route["module"]["backend"]), ("keras", "jax"))
        self.assertEqual((legacy["status"], legacy["backend"]), ("ok", "jax"))

    def test_tensorflow_keras_module_prefers_tf_keras_when_asked(self):
        with installed(dict(KERAS3, tf_keras="2.21.0"), TF_USE_LEGACY_KERAS="true"):
            module = kbackend.backend_info()["tf_keras"]["module"]
        with installed(dict(KERAS3, tf_keras="2.21.0"), TF_USE_LEGACY_KERAS="TRUE"):
            unrecognised = kbackend.backend_info()["tf_keras"]["module"]
        self.assertEqual((module["routes_to"], module["backend"]), ("tf_keras", "tensorflow"))
        self.assertEqual(unrecognised["routes_to"], "keras")

    def test_tensorflow_keras_module_without_any_keras_is_not_found(self):
        with installed({"tensorflow": "2.21.0", "numpy": "2.4.0"}):
            route = kbackend.backend_info()["tf_keras"]
        self.assertEqual(route["module"]["error"], "ModuleNotFoundError: No module named 'tensorflow.keras'")
        self.assertEqual(route["error"], tf_keras.KERAS_CANNOT_BE_IMPORTED)

    def test_keras2_beside_another_tensorflow(self):
        # Keras 2 declares no requirement on TensorFlow; the minor versions must match
        with installed({"keras": "2.15.0", "tensorflow": "2.21.0", "numpy": "2.4.0"}, keras_layout="keras2"):
            newer = kbackend.backend_info()
        with installed({"keras": "2.15.0", "tensorflow": "2.14.1", "numpy": "1.26.0"}, keras_layout="keras2"):
            older = kbackend.backend_info()
        with installed({"keras": "2.15.0", "tensorflow": "2.15.1", "numpy": "1.26.0"}, keras_layout="keras2"):
            paired = kbackend.backend_info()
        self.assertEqual((newer["status"], newer["error"]), ("error", deps.KERAS2_ON_NEWER_TENSORFLOW))
        self.assertIn("keras-tensorflow-mismatch", codes(newer))
        self.assertEqual(older["status"], "ok")
        self.assertIn("keras-tensorflow-mismatch", codes(older))
        self.assertNotIn("keras-tensorflow-mismatch", codes(paired))

    def test_legacy_keras_implementation_naming_a_missing_module(self):
        with installed(KERAS2_TF1, keras_layout="keras2"):
            record = kbackend.backend_info(interface=legacy_facts(KERAS_IMPLEMENTATION="nokeras"))
        self.assertEqual(record["error"], "ModuleNotFoundError: No module named 'nokeras'")
        self.assertIn("keras-implementation-missing", codes(record))

    def test_lock_is_judged_for_the_module_the_interface_imports(self):
        tf_internal = {"tensorflow.python.keras": object()}
        for_legacy = live.live_keras(tf_internal, target="tensorflow.python.keras")
        self.assertEqual((for_legacy["locked"], for_legacy["backend"]), (True, "tensorflow"))
        self.assertIn("tensorflow.python.keras", for_legacy["locked_by"])
        self.assertFalse(live.live_keras(tf_internal)["locked"])
        self.assertTrue(live.live_keras({"tf_keras": object()}, target="tf_keras")["locked"])
        self.assertFalse(live.live_keras({"tf_keras": object()})["locked"])

    def test_use_reads_suffixes_only_under_keras3(self):
        with installed(KERAS3) as box:
            facts = dict(keras3_facts(), home_keras_exists=True)
            self.assertIsNone(kbackend.use_keras_backend("jax-cpu", persist=True, interface=facts))
            self.assertEqual(os.environ["KERAS_BACKEND"], "jax-cpu")
            with open(os.path.join(box.home, ".keras", "keras.json")) as handle:
                self.assertEqual(json.load(handle)["backend"], "jax")
            loaded = dict(keras3_facts(), loaded=True)
            kbackend.use_keras_backend("jax-gpu", interface=loaded)
            self.assertEqual(os.environ["KERAS_BACKEND"], "jax")
            with self.assertRaises(kbackend.InvalidBackendError):
                kbackend.use_keras_backend("jax-cpu")

    def test_malformed_facts_are_refused(self):
        for facts in ({"name": "tensorflow"}, ["keras3"], {"name": "keras3", "r_environ": "x"}):
            with self.assertRaises(ValueError):
                interfaces.parse(facts)
        self.assertIsNone(interfaces.parse(None))


class Setting(unittest.TestCase):
    def test_sets_and_returns_previous(self):
        with installed(KERAS3, KERAS_BACKEND="numpy"):
            self.assertEqual(kbackend.use_keras_backend("jax"), "numpy")
            self.assertEqual(os.environ["KERAS_BACKEND"], "jax")

    def test_refusals_change_nothing(self):
        cases = [("JAX", kbackend.InvalidBackendError), ("", kbackend.InvalidBackendError),
                 (None, kbackend.InvalidBackendError), (["jax"], kbackend.InvalidBackendError),
                 ("theano", kbackend.InvalidBackendError), ("torch", kbackend.BackendNotInstalledError),
                 ("jax; rm -rf /", kbackend.InvalidBackendError)]
        for name, error in cases:
            with installed(KERAS3, KERAS_BACKEND="numpy") as box:
                with self.assertRaises(error, msg=repr(name)):
                    kbackend.use_keras_backend(name, persist=True)
                self.assertEqual(os.environ["KERAS_BACKEND"], "numpy")
                self.assertFalse(os.path.exists(os.path.join(box.home, ".keras")))

    def test_locked_refuses_other_backends(self):
        class Config:
            _BACKEND = "tensorflow"

        with installed(KERAS3):
            sys.modules["keras.src.backend.config"] = Config()
            try:
                with self.assertRaises(kbackend.BackendLockedError) as caught:
                    kbackend.use_keras_backend("jax")
                self.assertIn("Restart Python", str(caught.exception))
                self.assertNotIn("KERAS_BACKEND", os.environ)
                self.assertIsNone(kbackend.use_keras_backend("tensorflow"))
            finally:
                del sys.modules["keras.src.backend.config"]

    def test_context_manager_restores(self):
        with installed(KERAS3):
            with kbackend.with_keras_backend("jax") as previous:
                self.assertIsNone(previous)
                self.assertEqual(os.environ["KERAS_BACKEND"], "jax")
            self.assertNotIn("KERAS_BACKEND", os.environ)

    def test_check_is_the_prediction(self):
        """Refused exactly when backend_info() with KERAS_BACKEND=name predicts a failure."""
        with installed(KERAS3) as box:
            with self.assertRaises(kbackend.BackendNotInstalledError) as caught:
                kbackend.check_keras_backend("numpy")  # Keras 3.10+'s numpy backend imports scipy first
            self.assertIn("ModuleNotFoundError: No module named 'scipy'", str(caught.exception))
            with environ(HOME=box.home, KERAS_NNX_ENABLED="true"):
                with self.assertRaises(kbackend.BackendNotInstalledError) as caught:
                    kbackend.check_keras_backend("jax")
            self.assertIn("flax", str(caught.exception))
            for name in ("jax", "tensorflow", "numpy", "torch", "theano"):
                with environ(HOME=box.home, KERAS_BACKEND=name):
                    predicted = kbackend.backend_info()["status"]
                try:
                    kbackend.check_keras_backend(name)
                    refused = False
                except kbackend.KBackendError:
                    refused = True
                self.assertEqual(refused, predicted == "error", name)
            write_config(box.home, {"floatx": "bfloat16"})
            with self.assertRaises(kbackend.ConfigFileError):
                kbackend.check_keras_backend("jax")

    def test_without_keras_the_name_and_its_library_are_judged(self):
        with installed({"numpy": "2.4.0", "jax": "0.10.2", "jaxlib": "0.10.2"}):
            self.assertEqual(kbackend.check_keras_backend("jax")["status"], "error")  # no Keras: the record says so
            with self.assertRaises(kbackend.BackendNotInstalledError):
                kbackend.check_keras_backend("torch")
            with self.assertRaises(kbackend.InvalidBackendError):
                kbackend.check_keras_backend("JAX")

    def test_keras2_custom_module_accepted_only_if_found(self):
        with installed({"keras": "2.3.1", "theano": "1.0.5"}, keras_layout="keras2") as box:
            with open(os.path.join(box.site, "mybackend.py"), "w") as handle:
                handle.write("placeholder = variable = function = None\n__import__('os')._exit(3)\n")
            with open(os.path.join(box.site, "halfbackend.py"), "w") as handle:
                handle.write("placeholder = None\n__import__('os')._exit(3)\n")
            importlib_reset()
            self.assertIsNone(kbackend.use_keras_backend("mybackend"))
            # the prediction judges the module, never running it: Keras would stop at `variable`
            with self.assertRaises(kbackend.InvalidBackendError) as caught:
                kbackend.use_keras_backend("halfbackend")
            self.assertIn("Missing required entry : variable", str(caught.exception))
            with self.assertRaises(kbackend.InvalidBackendError):
                kbackend.use_keras_backend("Theano")
            with self.assertRaises(kbackend.BackendNotInstalledError):
                kbackend.use_keras_backend("cntk")


def importlib_reset():
    import importlib

    importlib.invalidate_caches()


class Persisting(unittest.TestCase):
    def test_keeps_other_keys_order_and_mode(self):
        with installed(KERAS3) as box:
            path = box.keras_json(json.dumps({"floatx": "float64", "backend": "tensorflow", "custom": [1, 2]}))
            os.chmod(path, 0o640)
            kbackend.use_keras_backend("jax", persist=True)
            with open(path) as handle:
                text = handle.read()
            self.assertEqual(json.loads(text), {"floatx": "float64", "backend": "jax", "custom": [1, 2]})
            self.assertEqual(list(json.loads(text)), ["floatx", "backend", "custom"])
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o640)
            self.assertEqual([f for f in os.listdir(os.path.dirname(path)) if f != "keras.json"], [])

    def test_creates_a_keras_style_file(self):
        with installed(dict(KERAS3, scipy="1.17.1")) as box:
            kbackend.use_keras_backend("numpy", persist=True)
            with open(os.path.join(box.home, ".keras", "keras.json")) as handle:
                document = json.load(handle)
        self.assertEqual(document, {"floatx": "float32", "epsilon": 1e-07, "backend": "numpy",
                                    "image_data_format": "channels_last"})

    def test_symlink_kept_and_target_updated(self):
        with installed(KERAS3) as box:
            target = os.path.join(box.root, "real.json")
            with open(target, "w") as handle:
                handle.write('{"backend": "tensorflow", "x": 1}')
            os.makedirs(os.path.join(box.home, ".keras"))
            link = os.path.join(box.home, ".keras", "keras.json")
            os.symlink(target, link)
            kbackend.use_keras_backend("jax", persist=True)
            self.assertTrue(os.path.islink(link))
            with open(target) as handle:
                self.assertEqual(json.load(handle), {"backend": "jax", "x": 1})

    def test_refuses_to_clobber(self):
        for text in ["{broken", "[1]", "null"]:
            with installed(KERAS3, KERAS_BACKEND="numpy") as box:
                path = box.keras_json(text)
                with self.assertRaises(kbackend.ConfigFileError):
                    kbackend.use_keras_backend("jax", persist=True)
                with open(path) as handle:
                    self.assertEqual(handle.read(), text)
                self.assertEqual(os.environ["KERAS_BACKEND"], "numpy")

    def test_directory_refused(self):
        with installed(KERAS3) as box:
            os.makedirs(os.path.join(box.home, ".keras", "keras.json"))
            with self.assertRaises(kbackend.ConfigFileError):
                persist.persist_backend(os.path.join(box.home, ".keras", "keras.json"), "jax")

    def test_stale_temporaries_removed(self):
        with Sandbox() as box:
            stale = os.path.join(box.root, ".keras.json.999999999.abc.tmp")
            mine = os.path.join(box.root, ".keras.json.{}.abc.tmp".format(os.getpid()))
            for path in (stale, mine):
                open(path, "w").close()
            self.assertEqual(persist.remove_stale_temporaries(box.root), 1)
            self.assertFalse(os.path.exists(stale))
            self.assertTrue(os.path.exists(mine))


class CommandLine(unittest.TestCase):
    def run_cli(self, argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(argv)
        return code, out.getvalue(), err.getvalue()

    def test_json_and_exit_status(self):
        with installed(KERAS3, KERAS_BACKEND="jax"):
            code, out, _ = self.run_cli(["--json"])
            self.assertEqual((code, json.loads(out)["backend"]), (0, "jax"))
        with installed(KERAS3, KERAS_BACKEND="torch"):
            self.assertEqual(self.run_cli([])[0], cli.EXIT_PREDICTS_FAILURE)

    def test_use_answers_in_json(self):
        with installed(KERAS3):
            code, out, _ = self.run_cli(["use", "JAX", "--json"])
            self.assertEqual(code, cli.EXIT_REFUSED)
            self.assertEqual(json.loads(out)["error_class"], "InvalidBackendError")
            code, out, _ = self.run_cli(["use", "jax", "--check", "--json"])
            self.assertEqual((code, json.loads(out)["ok"]), (0, True))

    def test_internal_failure_is_exit_5_with_an_error_object(self):
        with installed(KERAS3):
            code, out, err = self.run_cli(["--json", "--interface-json", '{"name": "x"}'])
        self.assertEqual(code, cli.EXIT_INTERNAL)
        answer = json.loads(out)
        self.assertTrue(answer["internal_error"])
        self.assertTrue(answer["error"].startswith("ValueError: interface must be"))
        self.assertIn("Traceback", err)

    def test_hostile_working_directory(self):
        """Files named like the standard modules kbackend uses, and a deleted
        working directory: a report, never a crash."""
        import subprocess
        import tempfile

        python_dir = os.path.join(os.path.dirname(os.path.dirname(HERE)), "python")
        bootstrap = "import sys; sys.path.insert(0, sys.argv.pop(1)); from kbackend.cli import main; sys.exit(main(sys.argv[1:]))"
        env = dict(os.environ, PYTHONPATH=python_dir)
        with Sandbox() as box:
            # not contextlib, re or linecache: `python -m` (3.6-3.9) and `-c`
            # (3.13) may import those before any code of kbackend's runs
            for module in ("json", "math", "argparse", "traceback", "ast", "tokenize"):
                with open(os.path.join(box.root, module + ".py"), "w") as handle:
                    handle.write("raise SystemExit('shadowed {}')\n".format(module))
            for argv in ([sys.executable, "-m", "kbackend", "--json"], [sys.executable, "-m", "kbackend"],
                         [sys.executable, "-c", bootstrap, python_dir, "--json"],
                         [sys.executable, "-m", "kbackend", "--json", "--interface-json", "[]"]):
                done = subprocess.run(argv, cwd=box.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                self.assertNotIn(b"shadowed", done.stderr, argv)
                self.assertIn(done.returncode, (0, 1, 5), argv)
                if "--json" in argv:
                    json.loads(done.stdout.decode())
        gone = tempfile.mkdtemp()
        done = subprocess.run([sys.executable, "-c", "import os, subprocess, sys; os.chdir({0!r}); os.rmdir({0!r}); "
                               "sys.exit(subprocess.call([sys.executable, '-m', 'kbackend', '--json'], "
                               "stdout=subprocess.DEVNULL))".format(gone)], env=env)
        self.assertIn(done.returncode, (0, 1))

    def test_usage_errors(self):
        self.assertEqual(self.run_cli(["--no-such-flag"])[0], cli.EXIT_USAGE)
        code, out, _ = self.run_cli(["--help"])
        self.assertEqual(code, 0)
        self.assertIn("exit status", out)


class VerifyPortability(unittest.TestCase):
    """The verify child's platform branches: memory units, process groups,
    killing, exit codes.  Windows and macOS cannot run here, so their
    branches are chosen by the platform argument and checked for what they
    would do; the POSIX branch also runs for real."""

    def setUp(self):
        from kbackend import verify
        self.verify = verify

    def test_peak_memory_units_per_platform(self):
        peak = self.verify._peak_memory_mb
        self.assertEqual(peak(204800, "linux"), 200.0)  # KiB
        self.assertEqual(peak(204800, "freebsd13"), 200.0)
        self.assertEqual(peak(200 * 1024 * 1024, "darwin"), 200.0)  # bytes
        self.assertIsNone(peak(None, "win32"))  # no resource module there

    def test_child_gets_a_group_of_its_own(self):
        self.assertEqual(self.verify._own_group("posix"), {"start_new_session": True})
        flags = self.verify._own_group("nt")["creationflags"]
        self.assertEqual(flags, getattr(self.verify.subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200))

    def _child(self, running, calls):
        class Child(object):
            pid = 4242

            def poll(self):
                return None if running else -9

            def kill(self):
                calls.append("kill")
        return Child()

    @contextlib.contextmanager
    def _patched(self, module, name, replacement):
        saved = getattr(module, name, None)
        setattr(module, name, replacement)
        try:
            yield
        finally:
            if saved is None:
                delattr(module, name)
            else:
                setattr(module, name, saved)

    def test_windows_kills_the_process_tree(self):
        calls = []
        with self._patched(self.verify.subprocess, "run", lambda args, **kwargs: calls.append(args)):
            self.verify._kill_group(self._child(True, calls), "nt")
            self.assertEqual(calls, [["taskkill", "/F", "/T", "/PID", "4242"], "kill"])
            del calls[:]
            self.verify._kill_group(self._child(False, calls), "nt")  # already ended: no tree to find
            self.assertEqual(calls, [])

    def test_windows_without_taskkill_still_kills_the_child(self):
        calls = []

        def missing(args, **kwargs):
            raise FileNotFoundError(args[0])
        with self._patched(self.verify.subprocess, "run", missing):
            self.verify._kill_group(self._child(True, calls), "nt")
        self.assertEqual(calls, ["kill"])

    def test_posix_kills_the_session_even_after_the_child_ended(self):
        calls = []

        def killpg(pid, sig):
            calls.append((pid, sig))
            raise ProcessLookupError(pid)
        with self._patched(self.verify.os, "killpg", killpg):
            self.verify._kill_group(self._child(False, calls), "posix")
            self.assertEqual(calls, [(4242, self.verify.signal.SIGKILL)])
            del calls[:]
            self.verify._kill_group(self._child(True, calls), "posix")
            self.assertEqual(calls, [(4242, self.verify.signal.SIGKILL), "kill"])

    def test_how_a_child_died_in_words(self):
        death = self.verify._death
        self.assertEqual(death(-9, "posix"), "SIGKILL")
        self.assertEqual(death(3, "posix"), "exit status 3")
        self.assertEqual(death(0xC0000005, "nt"), "exit status 0xC0000005")
        self.assertEqual(death(3, "nt"), "exit status 3")
        self.assertIsNone(self.verify._signal_name(0xC0000005))

    @unittest.skipUnless(os.name == "posix", "runs the POSIX branch for real")
    def test_posix_group_is_real_and_killed(self):
        import subprocess
        code = "import sys; sys.stdout.write('up\\n'); sys.stdout.flush(); sys.stdin.read()"
        child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 **self.verify._own_group())
        try:
            self.assertEqual(child.stdout.readline(), b"up\n")
            self.assertEqual(os.getsid(child.pid), child.pid)  # a session, so a group, of its own
            self.verify._kill_group(child)
            self.assertEqual(child.wait(timeout=30), -self.verify.signal.SIGKILL)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            child.stdin.close()
            child.stdout.close()

    def test_verify_reports_memory_in_mib_and_no_raw_field(self):
        """A real child importing a stand-in keras: the raw ru_maxrss the
        child sends becomes peak_memory_mb (None where unknown)."""
        with Sandbox() as box:
            package = os.path.join(box.root, "standin", "keras")
            os.makedirs(package)
            with open(os.path.join(package, "__init__.py"), "w") as handle:
                handle.write("class backend:\n    @staticmethod\n    def backend():\n        return 'numpy'\n")
            record = {"locked": False, "config_path": os.path.join(box.root, "absent.json"), "status": "ok",
                      "backend": "numpy", "error": None}
            with isolated_path(os.path.join(box.root, "standin")), environ(HOME=box.home):
                result = self.verify.verify(record, timeout=60)
        self.assertEqual((result["status"], result["backend"], result["agrees"]), ("ok", "numpy", True))
        self.assertNotIn("ru_maxrss", result)
        if os.name == "posix":
            self.assertGreater(result["peak_memory_mb"], 1)
            self.assertLess(result["peak_memory_mb"], 4096)
        else:
            self.assertIsNone(result["peak_memory_mb"])


if __name__ == "__main__":
    unittest.main()
