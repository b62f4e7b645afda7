"""Unit tests of the custom backend judge (stdlib unittest).

These run on every CPython from 3.6 to 3.13 with ``python -m unittest`` (no
third-party packages), and under pytest in the main environment.

The expected answers come from the interpreter running the tests, not from
kbackend: each case writes a module and a small Keras-shaped package whose
loader has the same logic as Keras 2.3.1's ``load_backend.py`` (import the
module, turn an ImportError into "Unable to import backend", check required
entries in order, copy the entries, then ``keras.backend`` imports names
from the loader), imports it in a fresh subprocess, and compares the
exception it prints with kbackend's reading of the same files.  Every module
leaves a mark when run; kbackend must never leave one.
"""

import os
import subprocess
import sys
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "python"))
sys.path.insert(0, HERE)

from kbackend import custom, info, rules  # noqa: E402
from fakes import Sandbox  # noqa: E402

LOADER = """\
import importlib
import os

_BACKEND = os.environ['KERAS_BACKEND']
try:
    backend_module = importlib.import_module(_BACKEND)
    entries = backend_module.__dict__
    required_entries = {required!r}
    for e in required_entries:
        if e not in entries:
            raise ValueError('Invalid backend. Missing required entry : ' + e)
    namespace = globals()
    for k, v in entries.items():
        if k not in namespace:
            namespace[k] = v
except ImportError:
    raise ValueError('Unable to import backend : ' + str(_BACKEND))


def backend():
    return _BACKEND
"""
API = ["placeholder", "variable", "function", "is_variable", "backend", "gather"]
ORACLE = """\
import sys
try:
    import keras
    print("OK")
except BaseException as exc:
    message = str(exc)
    print("{}: {}".format(type(exc).__name__, message) if message else type(exc).__name__)
"""
MARK = ('__import__("os").close(__import__("os").open(__file__ + ".ran", '
        '__import__("os").O_CREAT | __import__("os").O_WRONLY))\n')
COUNTER = [0]


def fake_keras(root, required=("placeholder", "variable", "function"), imports=API, in_package=False):
    """A Keras-shaped package: the loader in load_backend.py (2.3) or in the
    package's __init__.py itself (2.2.0-2.2.4)."""
    backend = os.path.join(root, "keras", "backend")
    os.makedirs(backend)
    with open(os.path.join(root, "keras", "__init__.py"), "w") as handle:
        handle.write("from . import backend\n")
    loader = LOADER.format(required=list(required))
    if in_package:
        with open(os.path.join(backend, "__init__.py"), "w") as handle:
            handle.write(loader)
        return
    with open(os.path.join(backend, "load_backend.py"), "w") as handle:
        handle.write(loader)
    with open(os.path.join(backend, "__init__.py"), "w") as handle:
        handle.write("".join("from .load_backend import {}\n".format(name) for name in imports))
        handle.write("if backend() == 'theano':\n    from .load_backend import pattern_broadcast\n")


def write_files(root, files):
    for relative, text in files.items():
        path = os.path.join(root, relative)
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        with open(path, "wb" if isinstance(text, bytes) else "w") as handle:
            handle.write(text)


def marks(root):
    return sorted(os.path.join(d, f) for d, _, names in os.walk(root) for f in names if f.endswith(".ran"))


class Case(object):
    """Files under a sandbox, judged by kbackend then imported for real."""

    def __init__(self, test, files, backend=None, **keras):
        self.test, self.files, self.keras = test, files, keras
        self.backend = backend

    def run(self):
        COUNTER[0] += 1
        with Sandbox() as box:
            root = os.path.join(box.root, "work")
            os.makedirs(root)
            fake_keras(root, **self.keras)
            # unique module names: sys.modules and caches never see one twice
            suffix = "_kb{}".format(COUNTER[0])
            files = {k.replace("mybk", "mybk" + suffix).replace("helper", "helper" + suffix):
                     v.replace("mybk", "mybk" + suffix).replace("helper", "helper" + suffix)
                     if isinstance(v, str) else v for k, v in self.files.items()}
            name = (self.backend or "mybk").replace("mybk", "mybk" + suffix)
            write_files(root, files)
            sys.path.insert(0, root)
            try:
                predicted = custom.judge(name, info._custom_origin(name), info._custom_origin)
            finally:
                sys.path.remove(root)
            self.test.assertEqual(marks(root), [], "kbackend ran the module")
            env = dict(os.environ, KERAS_BACKEND=name, PYTHONPATH=root)
            env.pop("PYTHONSTARTUP", None)
            done = subprocess.run([sys.executable, "-c", ORACLE], cwd=root, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
            actual = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
            expected = None if actual == "OK" else actual
            return predicted, expected, root


def defs(*names):
    return "".join("def {}(*a):\n    pass\n".format(name) for name in names)


REQ = ("placeholder", "variable", "function")


class Agreement(unittest.TestCase):
    def agree(self, files, backend=None, runs=True, **keras):
        predicted, expected, root = Case(self, files, backend, **keras).run()
        self.assertEqual(predicted["error"], expected, "notes: {}".format(predicted["notes"]))
        return predicted

    def test_each_required_entry_missing_in_turn(self):
        for missing in REQ:
            self.agree({"mybk.py": MARK + defs(*[n for n in REQ if n != missing])})

    def test_order_and_entries_come_from_the_loader(self):
        self.agree({"mybk.py": MARK + defs("placeholder")}, required=("function", "gather", "placeholder"))
        self.agree({"mybk.py": MARK + defs("function")}, required=("function", "gather"))

    def test_loader_in_the_package_itself(self):
        self.agree({"mybk.py": MARK + defs("placeholder", "function")}, in_package=True)
        self.agree({"mybk.py": MARK + defs(*REQ)}, in_package=True)

    def test_names_imported_after_the_check(self):
        self.agree({"mybk.py": MARK + defs(*REQ)})
        self.agree({"mybk.py": MARK + defs(*(REQ + ("is_variable",)))})
        self.agree({"mybk.py": MARK + defs(*(REQ + ("is_variable", "gather")))})

    def test_imports_that_fail(self):
        self.agree({"mybk.py": MARK + "import no_such_module_kb\n" + defs(*REQ)})
        self.agree({"mybk.py": MARK + "import helper\n" + defs(*REQ), "helper.py": "import no_such_module_kb\n"})
        self.agree({"mybk.py": MARK + "from helper import x\n" + defs(*REQ), "helper.py": "y = 1\n"})
        self.agree({"mybk.py": MARK + "from os import no_such_name_kb\n" + defs(*REQ)})
        self.agree({"mybk.py": MARK + "from . import sibling\n" + defs(*REQ)})
        self.agree({"mybk.py": MARK + "try:\n    import no_such_module_kb\nexcept ImportError:\n"
                    "    placeholder = 1\n" + defs("variable", "function", "is_variable", "gather")})
        self.agree({"mybk.py": MARK + "try:\n    import no_such_module_kb\nexcept (KeyError, OSError):\n"
                    "    pass\n" + defs(*REQ)})

    def test_syntax_errors_as_python_prints_them(self):
        for source in ("def (:\n", MARK + "x = = 1\n", MARK + defs(*REQ) + "x = (1,\n", MARK + "if 1:\nx = 1\n",
                       MARK + "  x = 1\n", MARK + "return 1\n", MARK + "f(x for x in y, 1)\n",
                       MARK + "nonlocal x\n", MARK + "x = 1\n\ty = 2\n"):
            self.agree({"mybk.py": source})
        self.agree({"mybk.py": b"x = 1\x00\n"})
        self.agree({"mybk.py": MARK + defs(*REQ) + "import helper\n", "helper.py": "class :\n"})

    def test_packages(self):
        self.agree({"mybk/__init__.py": MARK + "from .impl import placeholder, variable\n",
                    "mybk/impl.py": defs(*REQ)})
        self.agree({"mybk/__init__.py": MARK + "from .impl import *\n",
                    "mybk/impl.py": "__all__ = ['placeholder', 'function']\n" + defs(*REQ)})
        self.agree({"mybk/__init__.py": MARK + "from . import placeholder, variable\n" + defs("function"),
                    "mybk/placeholder.py": "", "mybk/variable.py": ""})
        self.agree({"mybk/__init__.py": "import no_such_module_kb\n", "mybk/sub.py": MARK + defs(*REQ)},
                   backend="mybk.sub")
        self.agree({"mybk/__init__.py": "x = )\n", "mybk/sub.py": MARK + defs(*REQ)}, backend="mybk.sub")
        self.agree({"mybk/__init__.py": "", "mybk/sub.py": MARK + defs("placeholder")}, backend="mybk.sub")
        self.agree({"mybk/other.py": MARK})

    def test_star_imports(self):
        self.agree({"mybk.py": MARK + "from helper import *\n",
                    "helper.py": "_placeholder = 1\n" + defs("variable", "function")})
        self.agree({"mybk.py": MARK + "from helper import *\n",
                    "helper.py": "__all__ = ('placeholder', '_v')\n__all__ += ['variable']\n"
                                 "__all__.extend(['function'])\n_v = 1\n" + defs(*API)})

    def test_conditions_decided_as_python_decides_them(self):
        self.agree({"mybk.py": MARK + "import sys\nif sys.version_info >= (3, 6):\n    placeholder = 1\n"
                    + defs("variable", "function")})
        self.agree({"mybk.py": MARK + "import sys as _s\nif _s.version_info[0] < 3:\n    placeholder = 1\n"
                    + defs("variable", "function")})
        self.agree({"mybk.py": MARK + "if False:\n    placeholder = 1\nelif 0:\n    variable = 1\nelse:\n"
                    "    function = 1\n"})
        self.agree({"mybk.py": MARK + "import os\nif os.environ.get('KB_UNSET_KB'):\n    variable = 1\n"
                    + defs("placeholder", "function")})
        self.agree({"mybk.py": MARK + "if __name__ == '__main__':\n    variable = 1\n"
                    + defs("placeholder", "function")})
        self.agree({"mybk.py": MARK + "import sys\nif sys.platform.startswith('x') or True:\n    variable = 1\n"
                    + defs("placeholder", "function")})

    def test_other_statements(self):
        self.agree({"mybk.py": MARK + defs(*REQ) + "del variable\n"})
        self.agree({"mybk.py": MARK + "del nothing_here\n" + defs(*REQ)})
        self.agree({"mybk.py": MARK + "placeholder: int\n" + defs("variable", "function")})
        self.agree({"mybk.py": MARK + "for placeholder in ():\n    pass\n" + defs("variable", "function")})
        self.agree({"mybk.py": MARK + "for placeholder in (1,):\n    pass\n" + defs("variable", "function")})
        self.agree({"mybk.py": MARK + "class placeholder:\n    variable = 1\n" + defs("function")})
        self.agree({"mybk.py": MARK + "placeholder, (variable, *function) = 1, (2, 3)\n"})
        self.agree({"mybk.py": MARK + defs(*REQ) + "raise RuntimeError('boom')\n"})
        self.agree({"mybk.py": MARK + defs(*REQ) + "raise ImportError('no GPU')\n"})
        self.agree({"mybk.py": MARK + defs(*REQ) + "raise KeyError\n"})
        self.agree({"mybk.py": MARK + "try:\n    raise ValueError('x')\nexcept ValueError:\n    placeholder = 1\n"
                    + defs("variable", "function")})

    def test_dynamic_bindings_are_flagged_and_likely(self):
        judged = self.agree({"mybk.py": MARK + "globals()['variable'] = 1\n" + defs("placeholder", "function")})
        self.assertTrue(judged["notes"])
        judged = self.agree({"mybk.py": MARK + "for _n in ['placeholder', 'variable', 'function']:\n"
                             "    globals()[_n] = None\n"})
        self.assertTrue(judged["notes"])
        self.agree({"mybk.py": MARK + "exec('def function(): pass')\n" + defs("placeholder", "variable")})
        judged = self.agree({"mybk.py": MARK + "import sys\nsetattr(sys.modules[__name__], 'function', 1)\n"
                             + defs("placeholder", "variable")})
        self.assertTrue(judged["notes"])


class Plumbing(unittest.TestCase):
    def test_unfound_module_and_bad_names(self):
        outcome = rules.resolve_keras2_multi((2, 3, 1), {"KERAS_BACKEND": "no_such_module_kb"},
                                             {"exists": False, "raises": None, "value": None},
                                             lambda n: True, lambda name: None)
        self.assertEqual(outcome["error"], "ValueError: Unable to import backend : no_such_module_kb")

    def test_uncertainty_becomes_a_problem(self):
        with Sandbox() as box:
            path = os.path.join(box.root, "dynbk_kb.py")
            with open(path, "w") as handle:
                handle.write("globals()['placeholder'] = 1\nvariable = function = 1\n")
            outcome = rules.resolve_keras2_multi((2, 3, 1), {"KERAS_BACKEND": "dynbk_kb"},
                                                 {"exists": False, "raises": None, "value": None},
                                                 lambda n: True, {"dynbk_kb": path}.get)
            self.assertEqual([p["code"] for p in outcome["problems"]], ["custom-backend-uncertain"])

    def test_keras_checks_are_cached_per_file(self):
        with Sandbox() as box:
            fake_keras(box.root, required=("variable", "placeholder"))
            backend = os.path.join(box.root, "keras", "backend")
            where = {"keras.backend": os.path.join(backend, "__init__.py"),
                     "keras.backend.load_backend": os.path.join(backend, "load_backend.py")}
            checks = custom.keras_checks(where.get)
            self.assertEqual(checks["required"], ["variable", "placeholder"])
            self.assertEqual(checks["imports"], API)
            self.assertIs(custom.keras_checks(where.get), checks)
            self.assertIn("backend", checks["own"])

    def test_compile_error_matches_python(self):
        source = textwrap.dedent("""\
            x = 1
            def f(:
            """).encode()
        try:
            compile(source, "/tmp/x_kb.py", "exec", dont_inherit=True)
        except SyntaxError as exc:
            self.assertEqual(custom.compile_error(source, "/tmp/x_kb.py"), "SyntaxError: " + str(exc))
        self.assertIsNone(custom.compile_error(b"x = 1\n", "/tmp/x_kb.py"))


if __name__ == "__main__":
    unittest.main()
