"""Unit tests of the Keras directory and keras.json: where Keras looks, what it reads.

Stdlib unittest: runs on every CPython from 3.6 to 3.13 with ``python -m
unittest`` (no third-party packages), and under pytest in the main
environment, on fake installations (unit_support.py).  Real Keras is held
against the predictions in test_differential.py.
"""

import os
import unittest

import unit_support  # noqa: F401 - puts the package and the test helpers on sys.path
from kbackend import keras_json, rules  # noqa: E402
from fakes import Sandbox, environ  # noqa: E402


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


if __name__ == "__main__":
    unittest.main()
