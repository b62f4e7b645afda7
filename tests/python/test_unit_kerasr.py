"""Unit tests of the kerasR interface (stdlib unittest): its load, predicted
from the Keras files on disk (python/kbackend/kerasr.py).

These run on every CPython from 3.6 to 3.13 with ``python -m unittest`` (no
third-party packages), and under pytest in the main environment.  What real
kerasR does with real Keras is held against the predictions in
tests/testthat/test-interface-kerasr.R; here each step is pinned down on
fake installations whose every module raises if it is ever imported.
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
from kbackend import cli, interfaces, kerasr  # noqa: E402
from fakes import TRAP, Sandbox, environ, isolated_path, make_site  # noqa: E402

KERAS2_TF1 = {"keras": "2.3.1", "tensorflow": "1.15.5", "numpy": "1.18.5"}
KERAS3 = {"keras": "3.15.1", "tensorflow": "2.21.0", "numpy": "1.26.4"}
#: Some of what Keras 3's API package has: keras.layers, but no keras.layers.core.
KERAS3_API = ("keras.models", "keras.layers.activations", "keras.optimizers")
NEVER = TRAP.format("this")


def add_modules(site, names):
    """Add each dotted module to the fake keras under ``site``, as a file
    (its parents as packages)."""
    for name in names:
        parts = name.split(".")
        for depth in range(1, len(parts)):
            folder = os.path.join(site, *parts[:depth])
            os.makedirs(folder, exist_ok=True)
            init = os.path.join(folder, "__init__.py")
            if not os.path.exists(init):
                with open(init, "w") as handle:
                    handle.write(NEVER)
        with open(os.path.join(site, *parts) + ".py", "w") as handle:
            handle.write(NEVER)


@contextlib.contextmanager
def installed(libraries, modules=kerasr.SUBMODULES, keras_layout="keras2", **env):
    """A sandbox with ``libraries`` and the given keras submodules installed."""
    with Sandbox() as box:
        make_site(box.site, libraries, keras_layout)
        if "keras" in libraries:
            add_modules(box.site, modules)
        with isolated_path(box.site), environ(HOME=box.home, **env):
            yield box


def kerasr_facts(**more):
    facts = {"name": "kerasR", "version": "0.8.0", "reticulate_version": "1.46.0"}
    facts.update(more)
    return facts


def codes(record):
    return [p["code"] for p in record["problems"]]


class Submodules(unittest.TestCase):
    def test_the_22_modules_in_kerasr_order(self):
        self.assertEqual(len(kerasr.SUBMODULES), 22)
        self.assertEqual(kerasr.SUBMODULES[:2], ("keras.models", "keras.layers.core"))
        self.assertEqual(kerasr.SUBMODULES[-1], "keras.preprocessing.image")

    def test_a_keras_2_layout_has_them_all(self):
        with installed(KERAS2_TF1) as box:
            self.assertIsNone(kerasr.missing_submodule(os.path.join(box.site, "keras")))

    def test_the_first_missing_one_in_kerasr_order(self):
        modules = [m for m in kerasr.SUBMODULES if m not in ("keras.layers.local", "keras.utils")]
        with installed(KERAS2_TF1, modules=modules) as box:
            self.assertEqual(kerasr.missing_submodule(os.path.join(box.site, "keras")),
                             ("keras.layers.local", "ModuleNotFoundError: No module named 'keras.layers.local'"))

    def test_a_missing_parent_package_is_named(self):
        modules = [m for m in kerasr.SUBMODULES if not m.startswith("keras.preprocessing")]
        with installed(KERAS2_TF1, modules=modules) as box:
            self.assertEqual(kerasr.missing_submodule(os.path.join(box.site, "keras"))[1],
                             "ModuleNotFoundError: No module named 'keras.preprocessing'")

    def test_a_module_where_a_package_is_needed(self):
        modules = [m for m in kerasr.SUBMODULES if not m.startswith("keras.preprocessing")]
        with installed(KERAS2_TF1, modules=modules) as box:
            with open(os.path.join(box.site, "keras", "preprocessing.py"), "w") as handle:
                handle.write(NEVER)
            self.assertEqual(
                kerasr.missing_submodule(os.path.join(box.site, "keras")),
                ("keras.preprocessing.text", "ModuleNotFoundError: No module named 'keras.preprocessing.text'; "
                 "'keras.preprocessing' is not a package"))

    def test_packages_count_as_modules(self):
        # Keras 2.6+ turned some layer modules into packages: what is on disk counts
        with installed(KERAS2_TF1, modules=[m for m in kerasr.SUBMODULES if m != "keras.layers.core"]) as box:
            core = os.path.join(box.site, "keras", "layers", "core")
            os.makedirs(core)
            with open(os.path.join(core, "__init__.py"), "w") as handle:
                handle.write(NEVER)
            self.assertIsNone(kerasr.missing_submodule(os.path.join(box.site, "keras")))

    def test_no_package_no_answer(self):
        self.assertIsNone(kerasr.missing_submodule(None))
        self.assertIsNone(kerasr.keras_package(None))


class BeforeLoad(unittest.TestCase):
    def test_keras_2_3_connects_and_fixes_the_backend(self):
        with installed(KERAS2_TF1):
            record = kbackend.backend_info(interface=kerasr_facts())
        self.assertEqual(record["status"], "ok")
        self.assertEqual(record["interface"]["load"]["outcome"], "connects")
        self.assertIsNone(record["interface"]["connected"])
        self.assertEqual(codes(record), ["kerasr-imports-keras"])
        self.assertIn("before library(kerasR)", record["problems"][0]["fix"])

    def test_keras_3_fails_on_keras_layers_core(self):
        with installed(KERAS3, modules=KERAS3_API, keras_layout="keras3"):
            record = kbackend.backend_info(interface=kerasr_facts())
        error = "ModuleNotFoundError: No module named 'keras.layers.core'"
        self.assertEqual((record["status"], record["error"]), ("error", error))
        self.assertEqual(record["backend"], "tensorflow")  # keras itself imports
        load = record["interface"]["load"]
        self.assertEqual((load["outcome"], load["module"], load["error"]), ("fails", "keras.layers.core", error))
        self.assertEqual(codes(record)[0], "kerasr-keras-layout")
        self.assertIn("Keras 3.15.1 does not have", record["problems"][0]["message"])
        self.assertIn("keras3", record["problems"][0]["fix"])
        self.assertIn("kerasr-imports-keras", codes(record))

    def test_a_patched_keras_3_is_judged_by_its_files(self):
        with installed(KERAS3, keras_layout="keras3"):
            record = kbackend.backend_info(interface=kerasr_facts())
        self.assertEqual(record["interface"]["load"]["outcome"], "connects")

    def test_numpy_2_with_reticulate_before_1_38_loads_unconnected(self):
        libraries = dict(KERAS3, numpy="2.4.6")
        with installed(libraries, modules=KERAS3_API, keras_layout="keras3"):
            old = kbackend.backend_info(interface=kerasr_facts(reticulate_version="1.28"))
            new = kbackend.backend_info(interface=kerasr_facts(reticulate_version="1.38.0"))
        load = old["interface"]["load"]
        self.assertEqual(load["outcome"], "unconnected")
        self.assertIn("NumPy 2 needs reticulate 1.38", load["reason"])
        self.assertEqual(load["module"], "keras.layers.core")  # what keras_init() would meet next
        # no exception is raised, and keras is imported all the same
        self.assertEqual(old["status"], "ok")
        self.assertIn("kerasr-imports-keras", codes(old))
        self.assertIn("Update reticulate", old["problems"][-1]["fix"])
        self.assertEqual(codes(old)[-1], "kerasr-unconnected")
        self.assertEqual(new["interface"]["load"]["outcome"], "fails")

    def test_no_keras_loads_unconnected(self):
        with installed({"numpy": "1.26.4"}):
            record = kbackend.backend_info(interface=kerasr_facts())
        self.assertEqual(record["error"], "ModuleNotFoundError: No module named 'keras'")
        self.assertEqual(record["interface"]["load"]["outcome"], "unconnected")
        self.assertEqual(codes(record)[0], "keras-not-installed")  # the setter relies on it
        self.assertEqual(codes(record)[-1], "kerasr-unconnected")
        self.assertNotIn("kerasr-imports-keras", codes(record))

    def test_no_numpy_loads_unconnected(self):
        with installed({"keras": "2.3.1", "tensorflow": "1.15.5"}):
            record = kbackend.backend_info(interface=kerasr_facts())
        self.assertEqual(record["interface"]["load"]["outcome"], "unconnected")
        self.assertIn("numpy is not installed", record["interface"]["load"]["reason"])
        self.assertIn("Install numpy", record["problems"][-1]["fix"])

    def test_kerasr_changes_no_variable(self):
        with installed(KERAS2_TF1, KERAS_BACKEND="theano"):
            applied = interfaces.apply(interfaces.parse(kerasr_facts()), dict(os.environ))
        self.assertEqual(applied["steps"], [])
        self.assertEqual(applied["module"], "keras")
        self.assertEqual(applied["environ"]["KERAS_BACKEND"], "theano")


class AfterLoad(unittest.TestCase):
    def test_connected(self):
        with installed(KERAS2_TF1):
            record = kbackend.backend_info(interface=kerasr_facts(loaded=True, connected=True))
        self.assertTrue(record["interface"]["connected"])
        self.assertEqual(record["interface"]["load"]["outcome"], "connected")
        self.assertEqual([c for c in codes(record) if c.startswith("kerasr")], [])

    def test_not_connected_says_what_failed_and_that_keras_init_retries(self):
        with installed({"numpy": "1.26.4"}):
            record = kbackend.backend_info(interface=kerasr_facts(loaded=True, connected=False))
        self.assertFalse(record["interface"]["connected"])
        self.assertEqual(record["interface"]["load"]["outcome"], "not-connected")
        first = record["problems"][0]
        self.assertEqual(first["code"], "kerasr-not-connected")
        self.assertIn("No module named 'keras'", first["message"])
        self.assertIn("kerasR::keras_init()", first["fix"])

    def test_not_connected_and_keras_init_would_fail_on_the_layout(self):
        with installed(KERAS3, modules=KERAS3_API, keras_layout="keras3"):
            record = kbackend.backend_info(interface=kerasr_facts(loaded=True, connected=False))
        self.assertEqual(record["error"], "ModuleNotFoundError: No module named 'keras.layers.core'")
        self.assertEqual(record["interface"]["load"]["module"], "keras.layers.core")
        self.assertIn("kerasR::keras_init() fails", record["problems"][0]["message"])

    def test_not_connected_for_numpy_needs_a_new_session(self):
        with installed(dict(KERAS3, numpy="2.4.6"), modules=KERAS3_API, keras_layout="keras3"):
            record = kbackend.backend_info(interface=kerasr_facts(loaded=True, connected=False,
                                                                  reticulate_version="1.28"))
        self.assertIn("NumPy 2 needs reticulate 1.38", record["problems"][0]["message"])
        self.assertIn("restart R", record["problems"][0]["fix"])

    def test_not_connected_but_fixed_since(self):
        with installed(KERAS2_TF1):
            record = kbackend.backend_info(interface=kerasr_facts(loaded=True, connected=False))
        self.assertIn("would now work", record["problems"][0]["message"])
        self.assertEqual(record["status"], "ok")


class Plumbing(unittest.TestCase):
    def test_parse_accepts_kerasr_and_its_facts(self):
        facts = interfaces.parse(kerasr_facts(loaded=True, connected=False))
        self.assertEqual((facts["name"], facts["connected"], facts["reticulate_version"]),
                         ("kerasR", False, "1.46.0"))
        self.assertIsNone(interfaces.parse(kerasr_facts())["connected"])
        self.assertEqual(interfaces.label(facts), "kerasR 0.8.0")
        with self.assertRaises(ValueError):
            interfaces.parse({"name": "kerasr"})

    def test_the_cli_takes_the_same_facts(self):
        with installed(KERAS3, modules=KERAS3_API, keras_layout="keras3"):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                status = cli.main(["--json", "--interface-json", json.dumps(kerasr_facts())])
            direct = kbackend.backend_info(interface=kerasr_facts())
        record = json.loads(out.getvalue())
        self.assertEqual(status, 1)
        self.assertEqual(record["interface"], direct["interface"])
        self.assertEqual(record["error"], direct["error"])
        self.assertEqual(codes(record), codes(direct))


if __name__ == "__main__":
    unittest.main()
