"""Unit tests of the backend matrix on fake installations (stdlib unittest).

Run on every CPython from 3.6 to 3.13 with ``python -m unittest
test_unit_matrix``.  Real Keras is held against the matrix in
test_matrix.py; here: a matrix verdict is use_keras_backend()'s own, the
table says why, and the CLI forms.
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
from kbackend import cli, matrix, setting  # noqa: E402
from fakes import Sandbox, environ, isolated_path, make_site  # noqa: E402

KERAS3 = {"keras": "3.15.1", "tensorflow": "2.21.0", "jax": "0.10.2", "jaxlib": "0.10.2", "numpy": "2.4.0"}


@contextlib.contextmanager
def installed(libraries, keras_layout="keras3", **env):
    with Sandbox() as box:
        make_site(box.site, libraries, keras_layout)
        with isolated_path(box.site), environ(HOME=box.home, **env):
            yield box


def run_cli(*argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.main(list(argv))
    return status, out.getvalue()


class Matrix(unittest.TestCase):
    def test_each_verdict_is_check_keras_backends(self):
        with installed(KERAS3, KERAS_BACKEND="torch"):
            answer = kbackend.usable_keras_backends()
            self.assertEqual(answer["keras"]["version"], "3.15.1")
            self.assertEqual(answer["current"], "torch")
            names = [c["backend"] for c in answer["candidates"]]
            self.assertEqual(names, ["tensorflow", "jax", "torch", "numpy", "openvino"])
            for candidate in answer["candidates"]:
                try:
                    setting.check_keras_backend(candidate["backend"])
                    refusal = None
                except kbackend.KBackendError as exc:
                    refusal = exc
                self.assertEqual(candidate["usable"], refusal is None, candidate)
                self.assertEqual(candidate["reason"], None if refusal is None else str(refusal))
                self.assertEqual(candidate["code"], None if refusal is None else refusal.code)
            self.assertIn("tensorflow", answer["backend"])
            self.assertNotIn("torch", answer["backend"])  # not installed, though KERAS_BACKEND names it
            self.assertEqual(os.environ["KERAS_BACKEND"], "torch")  # nothing changed

    def test_no_keras_means_no_backend(self):
        with installed({"jax": "0.10.2", "jaxlib": "0.10.2", "numpy": "2.4.0"}):
            answer = matrix.usable_keras_backends()
            self.assertEqual(answer["backend"], [])
            for candidate in answer["candidates"]:
                self.assertFalse(candidate["usable"])
                self.assertIn("Keras is not installed", candidate["reason"])
                self.assertEqual(candidate["code"], "kbackend_error_not_installed")

    def test_keras2_multibackend_names(self):
        with installed({"keras": "2.3.1", "theano": "1.0.5"}, keras_layout="keras2"):
            answer = matrix.usable_keras_backends()
            self.assertEqual([c["backend"] for c in answer["candidates"]], ["cntk", "tensorflow", "theano"])

    def test_names_this_keras_does_not_list(self):
        with installed({"keras": "2.15.0", "tensorflow": "2.15.0"}, keras_layout="keras2"):
            answer = matrix.usable_keras_backends(["jax", "tensorflow"])
            self.assertEqual(answer["keras"]["flavour"], "keras2-tensorflow")
            self.assertEqual(answer["backend"], ["tensorflow"])
            jax = answer["candidates"][0]
            self.assertEqual(jax["code"], "kbackend_error_invalid_backend")
            self.assertIn("ignores KERAS_BACKEND='jax'", jax["reason"])
        with installed(KERAS3):
            answer = matrix.usable_keras_backends(["JAX", "jax"])
            self.assertEqual(answer["backend"], ["jax"])
            self.assertIn("Did you mean 'jax'?", answer["candidates"][0]["reason"])
            status, text = run_cli("matrix", "jax", "theano")
            self.assertEqual(json.loads(text), {"backend": ["jax"]})

    def test_cli_forms(self):
        with installed(KERAS3):
            expected = matrix.usable_keras_backends()
            status, text = run_cli("matrix")
            self.assertEqual(status, 0)
            self.assertEqual(json.loads(text), {"backend": expected["backend"]})
            self.assertEqual(text.count("\n"), 1)
            status, text = run_cli("matrix", "--details")
            self.assertEqual(json.loads(text), expected)
            status, text = run_cli("matrix", "--table")
            self.assertEqual(status, 0)
            self.assertIn("Keras 3.15.1 (keras3)", text)
            self.assertIn("would import: " + ", ".join(expected["backend"]), text)
            for candidate in expected["candidates"]:
                line = [row for row in text.splitlines() if row.startswith(candidate["backend"] + " ")][0]
                self.assertIn("yes" if candidate["usable"] else "no", line)
                if not candidate["usable"]:
                    self.assertIn(candidate["reason"], line)

    def test_empty_matrix_still_exits_zero(self):
        with installed({"numpy": "2.4.0"}):
            status, text = run_cli("matrix")
            self.assertEqual((status, json.loads(text)), (0, {"backend": []}))
            status, text = run_cli("matrix", "--table")
            self.assertIn("would import: none", text)


if __name__ == "__main__":
    unittest.main()
