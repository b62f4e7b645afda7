"""Unit tests of the static import-graph walker (stdlib unittest).

These run on every CPython from 3.6 to 3.13 with ``python -m unittest`` (no
third-party packages), and under pytest in the main environment.  Each case
writes a small tree of packages to a temporary folder and holds the
walker's answer against the interpreter running the tests: a fresh
``python -c "import top"`` with that folder first on its path prints the
exception it really raises.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "python"))
sys.path.insert(0, HERE)

from kbackend import modgraph, modgraph_model  # noqa: E402

#: What the real interpreter raises for ``import <top>`` then reading each
#: attribute given, printed as "Class: message" (or "ok").
PROBE = r"""
import sys, json
top = sys.argv[1]
try:
    module = __import__(top)
    for name in sys.argv[2:]:
        getattr(module, name)
    answer = "ok"
except BaseException as exc:
    answer = "{}: {}".format(type(exc).__name__, exc) if str(exc) else type(exc).__name__
sys.stdout.write("PROBE:" + json.dumps(answer) + "\n")
"""


class Tree(object):
    """A temporary folder of source files."""

    def __init__(self, files):
        self.root = tempfile.mkdtemp(prefix="kbackend-modgraph-")
        for relative, text in files.items():
            path = os.path.join(self.root, *relative.split("/"))
            if not os.path.isdir(os.path.dirname(path)):
                os.makedirs(os.path.dirname(path))
            with open(path, "w") as handle:
                handle.write(text)

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)


def real(root, top, then=()):
    """The exception a fresh interpreter raises, with ``root`` first on its path."""
    environment = dict(os.environ, PYTHONPATH=root, PYTHONDONTWRITEBYTECODE="1")
    environment.pop("PYTHONSTARTUP", None)
    done = subprocess.run([sys.executable, "-c", PROBE, top] + list(then), cwd=root, env=environment,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    line = [text for text in done.stdout.splitlines() if text.startswith("PROBE:")][-1]
    return json.loads(line[len("PROBE:"):])


def predicted(root, top, then=(), facts=None):
    loaded = frozenset(sys.builtin_module_names) | {"sys", "os", "builtins"}
    answer = modgraph.walk(top, [root] + [p for p in sys.path if p and os.path.isdir(p) and p != HERE
                                          and not p.endswith("python")], loaded, facts, tuple(then))
    return answer["error"] or "ok"


class AgainstTheInterpreter(unittest.TestCase):
    """Each tree: the walker's exception is the interpreter's, to the letter."""

    def check(self, files, top="top", then=(), expect_ok=None):
        tree = Tree(files)
        try:
            truth = real(tree.root, top, then)
            guess = predicted(tree.root, top, then)
            self.assertEqual(guess, truth, files)
            if expect_ok is not None:
                self.assertEqual(truth == "ok", expect_ok, truth)
        finally:
            tree.close()

    def test_missing_submodule(self):
        self.check({"top/__init__.py": "import top.missing\n"}, expect_ok=False)

    def test_submodule_of_a_plain_module(self):
        self.check({"top/__init__.py": "import dep.sub\n", "dep.py": "x = 1\n"}, expect_ok=False)

    def test_from_import_of_a_missing_name(self):
        self.check({"top/__init__.py": "from dep import absent\n", "dep/__init__.py": "present = 1\n"},
                   expect_ok=False)

    def test_from_import_of_a_submodule(self):
        self.check({"top/__init__.py": "from dep import sub\nsub.value\n", "dep/__init__.py": "",
                    "dep/sub.py": "value = 1\n"}, expect_ok=True)

    def test_relative_imports(self):
        self.check({"top/__init__.py": "from . import a\nfrom .b import c\n", "top/a.py": "from .. import top\n",
                    "top/b.py": "c = 1\nfrom .a import nothing_here\n"}, expect_ok=False)

    def test_optional_import_is_caught(self):
        self.check({"top/__init__.py": "try:\n    import not_installed_anywhere\nexcept ImportError:\n    pass\n"},
                   expect_ok=True)

    def test_value_error_is_not_caught_by_except_import_error(self):
        self.check({"top/__init__.py": "try:\n    import dep\nexcept ImportError:\n    dep = None\n",
                    "dep.py": "raise ValueError('dep refuses to load')\n"}, expect_ok=False)

    def test_module_not_found_caught_by_its_own_class(self):
        self.check({"top/__init__.py": "try:\n    import nowhere_at_all\nexcept ModuleNotFoundError:\n"
                                       "    import dep.sub\n", "dep.py": ""}, expect_ok=False)

    def test_top_level_raise(self):
        self.check({"top.py": "x = 1\nraise RuntimeError('not the real one')\n"}, expect_ok=False)

    def test_raise_without_message(self):
        self.check({"top.py": "raise NotImplementedError\n"}, expect_ok=False)

    def test_circular_import_of_a_partially_initialized_module(self):
        self.check({"top/__init__.py": "from top import a\nlate = 1\n", "top/a.py": "from top import late\n"},
                   expect_ok=False)

    def test_self_importing_module_reads_a_missing_attribute(self):
        self.check({"top/__init__.py": "import dep\n", "dep.py": "import dep\ndep.randint(1, 2)\n"},
                   expect_ok=False)

    def test_attribute_defined_before_the_circular_use(self):
        self.check({"top/__init__.py": "import dep\n", "dep.py": "def randint(a, b):\n    return a\n"
                                                                 "import dep\ndep.randint(1, 2)\n"},
                   expect_ok=True)

    def test_attribute_read_after_import(self):
        self.check({"top.py": "import dep\n", "dep.py": "x = 1\n"}, then=("backend",), expect_ok=False)

    def test_conditional_import_on_the_interpreter_version(self):
        self.check({"top/__init__.py": "import sys\nif sys.version_info >= (3, 0):\n    import top.absent\n"},
                   expect_ok=False)

    def test_undecidable_condition_is_not_a_failure(self):
        tree = Tree({"top/__init__.py": "import os\nif os.environ.get('NEVER_SET_X'):\n    import top.absent\n"})
        try:
            self.assertEqual(real(tree.root, "top"), "ok")
            self.assertEqual(predicted(tree.root, "top"), "ok")
        finally:
            tree.close()

    def test_version_gate_on_another_package(self):
        self.check({"top/__init__.py": "import dep\ntry:\n    v = tuple(map(int, dep.__version__.split('.')[:3]))\n"
                                       "except:\n    pass\nelse:\n    if v < (0, 5):\n"
                                       "        raise ValueError('top needs dep 0.5 or newer; installed version '\n"
                                       "                         'is {}.'.format(dep.__version__))\n",
                    "dep/__init__.py": "__version__ = '0.3.2'\n"}, expect_ok=False)

    def test_function_bodies_do_not_run(self):
        self.check({"top/__init__.py": "def later():\n    import top.absent\n\nclass Later:\n    def m(self):\n"
                                       "        from nowhere import x\n"}, expect_ok=True)

    def test_namespace_package_missing_name(self):
        self.check({"top/__init__.py": "from nspkg import thing\n", "nspkg/other.py": ""}, expect_ok=False)

    def test_syntax_error(self):
        self.check({"top.py": "x = = 1\n"}, expect_ok=False)

    def test_stdlib_name_imported_by_itself(self):
        self.check({"top.py": "import random\n", "random.py": "import random\nrandom.randint(1, 6)\n"},
                   expect_ok=False)

    def test_stdlib_name_asked_for_a_name_it_lacks(self):
        self.check({"top.py": "from random import Random\n", "random.py": "x = 1\n"}, expect_ok=False)

    def test_import_of_a_plain_module_as_a_package(self):
        self.check({"top.py": "import jaxish.numpy\n", "jaxish.py": "x = 1\n"}, expect_ok=False)

    def test_handler_of_another_builtin_class_does_not_catch(self):
        self.check({"top.py": "import dep\ntry:\n    dep.dumps({})\nexcept IOError:\n    pass\n", "dep.py": "x = 1\n"},
                   expect_ok=False)

    def test_condition_on_the_environment_and_the_file_system(self):
        self.check({"top.py": "import os\nimport dep\nif not os.path.exists(os.path.join(os.path.expanduser('~'), "
                              "'surely-absent-kbackend-file')):\n    dep.write()\n", "dep.py": "x = 1\n"},
                   expect_ok=False)

    def test_from_package_import_a_missing_submodule(self):
        self.check({"top/__init__.py": "from top.sub import name\n", "top/sub/__init__.py": "from .inner import x\n"},
                   expect_ok=False)


class Cutting(unittest.TestCase):
    def test_bodies_are_cut_but_headers_kept(self):
        source = "import a\n\n@deco(1,\n      2)\ndef f(x,\n      y):\n    import b\n    return x\n\nclass C(Base):\n" \
                 "    z = 1\n    def g(self): pass\n\nimport c\n"
        cut = modgraph_model._without_bodies(source)
        self.assertIn("import a", cut)
        self.assertIn("import c", cut)
        self.assertNotIn("import b", cut)
        self.assertNotIn("z = 1", cut)
        compile(cut, "cut", "exec")


if __name__ == "__main__":
    unittest.main()
