"""Unit tests of setting the backend: validation, os.environ, keras.json written atomically.

Stdlib unittest: runs on every CPython from 3.6 to 3.13 with ``python -m
unittest`` (no third-party packages), and under pytest in the main
environment, on fake installations (unit_support.py).  Real Keras is held
against the predictions in test_differential.py.
"""

import json
import os
import stat
import sys
import unittest

import unit_support  # noqa: F401 - puts the package and the test helpers on sys.path
import kbackend  # noqa: E402
from kbackend import persist  # noqa: E402
from fakes import Sandbox, environ  # noqa: E402
from unit_support import (  # noqa: E402
    KERAS3, importlib_reset, installed, write_config)


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


if __name__ == "__main__":
    unittest.main()
