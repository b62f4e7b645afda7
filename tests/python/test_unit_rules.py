"""Unit tests of Keras's own rules for choosing the backend (Keras 3 and Keras 2), and of the record built from them.

Stdlib unittest: runs on every CPython from 3.6 to 3.13 with ``python -m
unittest`` (no third-party packages), and under pytest in the main
environment, on fake installations (unit_support.py).  Real Keras is held
against the predictions in test_differential.py.
"""

import json
import os
import sys
import unittest

import unit_support  # noqa: F401 - puts the package and the test helpers on sys.path
import kbackend  # noqa: E402
from kbackend import custom, live, report, rules  # noqa: E402
from fakes import Sandbox  # noqa: E402
from unit_support import (  # noqa: E402
    HEAVY, KERAS3, config_source, installed)


class Keras3Rules(unittest.TestCase):
    has = staticmethod(lambda name: name in ("tensorflow", "jax", "numpy"))

    def resolve(self, env, document=None, raises=None, version=(3, 15, 1)):
        return rules.resolve_keras3(version, env, config_source(document, raises), self.has)

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
        return rules.resolve_keras2_multi(version, env, config_source(document), lambda n: n in ("theano", "tensorflow"),
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
        outcome = rules.resolve_keras2_multi((2, 3, 1), {"KERAS_BACKEND": "sys"}, config_source(None),
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


if __name__ == "__main__":
    unittest.main()
