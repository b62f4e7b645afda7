"""Read a module's source without running it: its bytes, its syntax tree, its literals.

Every part of the custom-backend judge (:mod:`kbackend.custom`) reads source
through these helpers and never runs it.  ``ast`` and ``warnings`` load on
first use, from the standard library (:class:`kbackend._stdlib.first`): only
a Keras 2 custom backend needs them, and start-up stays lean.
:func:`trusted` draws the line between installed code, whose bindings alone
are read, and the user's own code, which is judged statement by statement.
"""

import os
import sys

from . import _stdlib

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, List, Optional, Tuple


def lazy_ast() -> "Any":
    with _stdlib.first():  # only this rare path needs it; keeps start-up lean
        import ast
    return ast


def read_source(path: str) -> "Optional[bytes]":
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def read_tree(path: str) -> "Any":
    data = read_source(path)
    if data is None:
        return None
    return parse(data, path)


def parse(data: "Any", path: str) -> "Any":
    ast = lazy_ast()
    with _stdlib.first():
        import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(data, path)
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
        return None


def compile_error(data: bytes, path: str) -> "Optional[str]":
    """The exception importing this source raises before running a line,
    as ``"Class: message"`` (Python's own ``compile``, which runs nothing)."""
    with _stdlib.first():
        import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, TypeError) as exc:
        message = str(exc)
        return "{}: {}".format(type(exc).__name__, message) if message else type(exc).__name__
    except (RecursionError, MemoryError):
        return None
    return None


def const(node: "Any") -> "Tuple[bool, Any]":
    """(True, value) for a literal constant node on every Python 3.6+."""
    ast = lazy_ast()
    if isinstance(node, getattr(ast, "Constant", ())):
        constant: "Any" = node
        return True, constant.value
    if sys.version_info < (3, 8):  # older parsers make these; 3.8+ makes Constant only (and deprecates them)
        for kind, field in (("Num", "n"), ("Str", "s"), ("Bytes", "s"), ("NameConstant", "value")):
            cls = getattr(ast, kind, None)
            if cls is not None and isinstance(node, cls):
                return True, getattr(node, field)
    if isinstance(node, (ast.Tuple, ast.List)):
        values = [const(item) for item in node.elts]
        if all(ok for ok, _ in values):
            return True, tuple(value for _, value in values)
    return False, None


def strings(node: "Any") -> "Optional[List[str]]":
    """A list/tuple of string constants, else None."""
    ok, value = const(node)
    if ok and isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def trusted(path: "Optional[str]") -> bool:
    """Installed code (site-packages, the standard library): assumed to import
    cleanly; only its bindings are read.  Anything else is the user's code,
    which is judged statement by statement, imports included."""
    if not path:
        return True
    parts = os.path.normcase(os.path.abspath(path)).split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return True
    stdlib = os.path.normcase(os.path.dirname(os.__file__))
    return os.path.normcase(os.path.abspath(path)).startswith(stdlib + os.sep)
