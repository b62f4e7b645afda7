"""R's environment against the running Python's (kbackend.r_session): which
variables differ, and the problem and fix the R bridge shows for each.  The
end-to-end case (R's Sys.setenv() after reticulate started Python) is in
tests/testthat/test-backend-info.R."""

import json
import unittest

import unit_support  # noqa: F401 - puts kbackend on sys.path

from kbackend import r_session


class EnvironmentMismatch(unittest.TestCase):
    R = {"KERAS_BACKEND": "jax", "TF_USE_LEGACY_KERAS": "1", "PATH": "/r/bin"}
    PYTHON = {"KERAS_HOME": "/kh", "PATH": "/py/bin"}

    def test_only_the_synced_variables_that_differ(self):
        found = r_session.environment_mismatch(self.R, locked=False, environ=self.PYTHON)
        self.assertEqual(found["mismatch"], [
            {"variable": "KERAS_BACKEND", "r": "jax", "python": None},
            {"variable": "KERAS_HOME", "r": None, "python": "/kh"},
            {"variable": "TF_USE_LEGACY_KERAS", "r": "1", "python": None}])
        same = r_session.environment_mismatch({"KERAS_HOME": "/kh"}, locked=False, environ=self.PYTHON)
        self.assertEqual(same, {"mismatch": [], "problems": []})

    def test_the_fix_depends_on_the_variable_and_on_keras_being_loaded(self):
        free = r_session.environment_mismatch(self.R, locked=False, environ=self.PYTHON)["problems"]
        self.assertEqual([p["code"] for p in free], ["r-env-mismatch"] * 3)
        self.assertEqual(free[0]["fix"], 'call kbackend::use_keras_backend("jax"), which sets R and Python alike')
        self.assertEqual(free[1]["fix"], 'unset it in Python too: reticulate::import("os")$environ$pop("KERAS_HOME", NULL)')
        self.assertEqual(free[2]["fix"], 'set it in Python too: reticulate::import("os")$environ$update('
                                         'list(TF_USE_LEGACY_KERAS = "1"))')
        self.assertEqual(free[1]["message"], 'R has KERAS_HOME unset but the running Python sees "/kh": reticulate '
                                             'does not copy Sys.setenv() into a Python that has already started.')
        locked = r_session.environment_mismatch(self.R, locked=True, environ=self.PYTHON)["problems"]
        self.assertIn("restart R", locked[0]["fix"])
        self.assertIn("restart R", locked[1]["fix"])
        self.assertEqual(locked[2]["fix"], free[2]["fix"])

    def test_the_bridge_gets_json(self):
        answer = json.loads(r_session.environment_mismatch_json({"KERAS_BACKEND": "jax"}, 0))
        self.assertEqual(sorted(answer), ["mismatch", "problems"])


if __name__ == "__main__":
    unittest.main()
