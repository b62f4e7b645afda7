"""The record's shape (python/kbackend/record.py) against what
backend_info() returns and what README.md's field table lists.

Stdlib unittest, every CPython 3.6-3.13: the TypedDicts are plain dict
subclasses at run time, but their annotations name the fields.
"""

import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, HERE)

import kbackend  # noqa: E402
from kbackend import record  # noqa: E402
from fakes import Sandbox, environ, isolated_path, make_site  # noqa: E402


def readme_fields():
    """The fields README.md's record table names, in order (not R's `r`)."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        text = handle.read()
    table = text.split("| field | meaning |\n|---|---|\n", 1)[1].split("\n\n", 1)[0]
    fields = []
    for row in table.splitlines():
        first = row.split("|")[1]
        if "(R only)" not in first:
            fields += re.findall(r"`([a-z_]+)`", first)
    return fields


class Shape(unittest.TestCase):
    def test_the_readme_lists_the_record_s_fields(self):
        self.assertEqual(readme_fields(), list(record.Record.__annotations__))

    def test_a_real_record_has_exactly_these_fields(self):
        with Sandbox() as box:
            make_site(box.site, {"keras": "3.15.1", "jax": "0.10.2", "jaxlib": "0.10.2", "numpy": "2.4.0"})
            with isolated_path(box.site), environ(HOME=box.home, KERAS_BACKEND="jax"):
                answer = kbackend.backend_info()
        self.assertEqual(list(answer), list(record.Record.__annotations__))
        for name, part in (("config_file", record.ConfigFile), ("keras", record.Keras),
                           ("python", record.PythonInfo)):
            self.assertEqual(list(answer[name]), list(part.__annotations__), name)
        self.assertLessEqual(set(record.TfKeras.__annotations__), set(answer["tf_keras"]))


if __name__ == "__main__":
    unittest.main()
