"""Unit tests of the setter's decision (python/kbackend/setting.py): what
setting a backend changes, decided once for Python and for R, as data.

Stdlib unittest on every CPython 3.6-3.13, on fake installations.  That R
applies these plans as Python does is held by tests/testthat
(test-use-keras-backend.R, test-interface.R, test-workers.R) against real
R sessions.
"""

import contextlib
import io
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "python"))
sys.path.insert(0, HERE)

import kbackend  # noqa: E402
from kbackend import cli, setting  # noqa: E402
from fakes import Sandbox, environ, isolated_path, make_site  # noqa: E402

KERAS3 = {"keras": "3.15.1", "tensorflow": "2.21.0", "jax": "0.10.2", "jaxlib": "0.10.2", "numpy": "2.4.0"}


@contextlib.contextmanager
def installed(libraries=KERAS3, **env):
    with Sandbox() as box:
        make_site(box.site, libraries)
        with isolated_path(box.site), environ(HOME=box.home, **env):
            yield box


def legacy_facts():
    return {"name": "keras", "version": "2.15.0", "r_environ": {}}


def keras3_facts():
    return {"name": "keras3", "version": "1.5.1", "r_environ": {}, "cache_dir": "/r-cache/keras3",
            "home_keras_exists": False}


class Plan(unittest.TestCase):
    def test_a_plan_changes_nothing(self):
        with installed(KERAS_BACKEND="tensorflow") as box:
            plan = setting.plan_keras_backend("jax", persist=True, device="cpu")
            self.assertEqual(os.environ["KERAS_BACKEND"], "tensorflow")
            self.assertNotIn("JAX_PLATFORMS", os.environ)
            self.assertFalse(os.path.exists(os.path.join(box.home, ".keras", "keras.json")))
        self.assertEqual(plan["set"], {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"})
        self.assertEqual((plan["unset"], plan["r_set"], plan["notes"]), ([], {}, []))
        self.assertTrue(plan["persist_to"].endswith(os.path.join(".keras", "keras.json")))

    def test_legacy_keras_sets_its_implementation_in_r_alone(self):
        with installed():
            plan = setting.plan_keras_backend("jax", interface=legacy_facts())
            tensorflow = setting.plan_keras_backend("tensorflow", interface=legacy_facts())
        self.assertEqual(plan["r_set"], {"KERAS_IMPLEMENTATION": "keras"})
        self.assertNotIn("KERAS_IMPLEMENTATION", plan["set"])
        self.assertEqual([n["level"] for n in plan["notes"]], ["inform"])
        self.assertIn("KERAS_IMPLEMENTATION", plan["notes"][0]["message"])
        self.assertEqual((tensorflow["r_set"], tensorflow["notes"]), ({}, []))

    def test_keras3_persist_warns_with_its_class(self):
        with installed():
            plan = setting.plan_keras_backend("jax-cpu", persist=True, interface=keras3_facts())
            done = setting.apply_keras_backend(plan, {})
            with open(done["persisted_to"]) as handle:
                written = json.load(handle)["backend"]
        self.assertEqual(plan["backend"], "jax-cpu")  # what keras3 reads from KERAS_BACKEND
        self.assertEqual(written, "jax")  # what Keras reads from keras.json
        self.assertEqual([n["condition_class"] for n in plan["notes"]], ["kbackend_warning_keras3_overrides"])
        self.assertEqual([n["level"] for n in done["notes"]], ["success", "warning"])
        self.assertIn(done["persisted_to"], done["notes"][0]["message"])

    def test_apply_records_what_it_replaced(self):
        target = {"KERAS_BACKEND": "torch", "CUDA_VISIBLE_DEVICES": ""}
        plan = setting.Change(backend="jax", set={"KERAS_BACKEND": "jax"}, unset=["CUDA_VISIBLE_DEVICES"], r_set={},
                              persist_to=None, persist_backend="jax", notes=[], previous={}, persisted_to=None)
        done = setting.apply_keras_backend(plan, target)
        self.assertEqual(target, {"KERAS_BACKEND": "jax"})
        self.assertEqual(done["previous"], {"KERAS_BACKEND": "torch", "CUDA_VISIBLE_DEVICES": ""})
        self.assertEqual(plan["previous"], {})  # the plan itself is left as it was

    def test_the_r_bridge_gets_the_plan_and_keeps_the_environment(self):
        with installed(KERAS_BACKEND="tensorflow"):
            answer = json.loads(kbackend.change_keras_backend_json("jax", device="cpu"))
            self.assertEqual(os.environ["KERAS_BACKEND"], "tensorflow")  # R sets it, with R's own
        self.assertTrue(answer["ok"])
        self.assertEqual(answer["set"], {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"})
        self.assertEqual(answer["previous"], {})

    def test_refusals_are_classed(self):
        with installed(dict(KERAS3, scipy="1.17.1")):
            with self.assertRaises(kbackend.DeviceError):
                setting.plan_keras_backend("jax", device="tpu")
            with self.assertRaises(kbackend.DeviceError):
                setting.plan_keras_backend("numpy", device="gpu")
            with self.assertRaises(kbackend.InvalidBackendError):
                setting.plan_keras_backend("JAX", device="cpu")
            self.assertNotIn("KERAS_BACKEND", os.environ)


class UseCommand(unittest.TestCase):
    def run_cli(self, argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(argv)
        return code, out.getvalue(), err.getvalue()

    def test_device_as_json(self):
        with installed():
            code, out, _ = self.run_cli(["use", "jax", "--device", "cpu", "--json"])
        self.assertEqual(code, cli.EXIT_OK)
        self.assertEqual(json.loads(out)["set"], {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"})

    def test_an_impossible_device_is_refused_with_its_code(self):
        with installed():
            code, out, _ = self.run_cli(["use", "jax", "--device", "gpu", "--json"])
        self.assertEqual(code, cli.EXIT_REFUSED)
        self.assertEqual(json.loads(out)["code"], "kbackend_error_device")

    def test_text_names_what_to_export(self):
        with installed():
            code, out, _ = self.run_cli(["use", "jax", "--device", "cpu"])
        self.assertEqual(code, cli.EXIT_OK)
        self.assertIn("env KERAS_BACKEND=jax JAX_PLATFORMS=cpu", out)

    def test_persist_check_writes_nothing(self):
        with installed() as box:
            code, out, _ = self.run_cli(["use", "jax", "--persist", "--check", "--json"])
            self.assertFalse(os.path.exists(os.path.join(box.home, ".keras", "keras.json")))
        self.assertEqual((code, json.loads(out)["persisted_to"]), (cli.EXIT_OK, None))


if __name__ == "__main__":
    unittest.main()
