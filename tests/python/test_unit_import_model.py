"""Unit tests of the import-system model: what ``import NAME`` would load, never running it.

Stdlib unittest: runs on every CPython from 3.6 to 3.13 with ``python -m
unittest`` (no third-party packages), and under pytest in the main
environment, on fake installations (unit_support.py).  Real Keras is held
against the predictions in test_differential.py.
"""

import os
import sys
import unittest

import unit_support  # noqa: F401 - puts the package and the test helpers on sys.path
import kbackend  # noqa: E402
from kbackend import discovery, importpath  # noqa: E402
from fakes import Sandbox, environ, isolated_path, make_site  # noqa: E402
from unit_support import (  # noqa: E402
    KERAS3, installed, shutil_rmtree, write)


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


if __name__ == "__main__":
    unittest.main()
