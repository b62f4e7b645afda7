"""Unit tests of package discovery: versions and installed distributions, found without importing.

Stdlib unittest: runs on every CPython from 3.6 to 3.13 with ``python -m
unittest`` (no third-party packages), and under pytest in the main
environment, on fake installations (unit_support.py).  Real Keras is held
against the predictions in test_differential.py.
"""

import os
import sys
import unittest

import unit_support  # noqa: F401 - puts the package and the test helpers on sys.path
from kbackend import discovery  # noqa: E402
from fakes import Sandbox, isolated_path, make_site  # noqa: E402
from unit_support import (  # noqa: E402
    installed)


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


if __name__ == "__main__":
    unittest.main()
