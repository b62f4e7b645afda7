"""Unit tests of the R interfaces' load steps (keras3, legacy keras) as the Python module applies them.

Stdlib unittest: runs on every CPython from 3.6 to 3.13 with ``python -m
unittest`` (no third-party packages), and under pytest in the main
environment, on fake installations (unit_support.py).  Real Keras is held
against the predictions in test_differential.py.
"""

import json
import os
import unittest

import unit_support  # noqa: F401 - puts the package and the test helpers on sys.path
import kbackend  # noqa: E402
from kbackend import deps, interfaces, live, tf_keras  # noqa: E402
from unit_support import (  # noqa: E402
    KERAS2_TF1, KERAS3, codes, installed, keras3_facts, legacy_facts,
    write_config)


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


if __name__ == "__main__":
    unittest.main()


class LoadingTheInterface(unittest.TestCase):
    """What loading keras3 or legacy keras does before Keras: R's facts in,
    the problems (and their words) out."""

    def loading(self, **facts):
        from kbackend import interface_problems

        return interface_problems._loading(interfaces.parse(dict(keras3_facts("1.5.1"), **facts)))

    def test_an_old_reticulate_fails_library(self):
        (found,) = self.loading(reticulate_version="1.28", reticulate_requirement=">= 1.36.0")
        self.assertEqual(found["code"], "reticulate-too-old")
        self.assertEqual(found["message"], "keras3 1.5.1 needs reticulate >= 1.36.0, but reticulate 1.28 is "
                                           "installed: library(keras3) will fail.")
        for installed, requirement in (("1.36.0", ">= 1.36.0"), ("1.41.0.1", ">= 1.36.0"), ("1.28", "> 1.27-3")):
            self.assertEqual(self.loading(reticulate_version=installed, reticulate_requirement=requirement), [])
        strictly = self.loading(reticulate_version="1.28", reticulate_requirement="> 1.28")
        self.assertEqual([problem["code"] for problem in strictly], ["reticulate-too-old"])
        self.assertEqual(self.loading(loaded=True, reticulate_version="1.28", reticulate_requirement=">= 1.36"), [])

    def test_a_copied_python_is_named_with_what_it_replaces(self):
        copy = {"from": "KERAS_PYTHON", "python": "/k/bin/python", "reticulate_python": None}
        (found,) = self.loading(python_copy=copy)
        self.assertEqual((found["code"], found["fix"]), (
            "keras-python-overrides", "Unset KERAS_PYTHON, or set it to the Python you mean to use."))
        self.assertIn("reticulate will use /k/bin/python, not its own choice.", found["message"])
        (found,) = self.loading(python_copy=dict(copy, reticulate_python="/r/bin/python"))
        self.assertIn("not RETICULATE_PYTHON=/r/bin/python.", found["message"])
        self.assertEqual(self.loading(python_copy=dict(copy, reticulate_python="/k/bin/python")), [])
        with self.assertRaises(ValueError):
            interfaces.parse(dict(keras3_facts(), python_copy={"python": 1}))
