"""What the backend libraries' start-up checks share (see :mod:`kbackend.startup`).

The variables that make a library check something at import; a library's
installed source read as text or parsed with :mod:`ast` (never executed),
and the few questions every check asks of a call in it (its name, a
literal argument); and the result a check returns: the start-up failure,
worded as the library raises it, with the problem and its fix.  Each
library's checks are a module of their own (``startup_jax`` and so on);
this is what they have in common.
"""

import re

from . import _stdlib
from .problems import problem

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    import ast
    from typing import Any, Dict, List, Optional

    Found = Dict[str, Any]

#: The variables that make a library check something at import.
NAMES = ("TORCH_LOGS", "THEANO_FLAGS", "THEANORC", "PYTHONWARNINGS", "TF_PLUGGABLE_DEVICE_LIBRARY_PATH",
         "TF_USE_MODULAR_FILESYSTEM")
PREFIXES = ("JAX_", "JAX2TF_")


def load_parsers() -> None:
    """ast costs milliseconds to import: only on this path."""
    global ast
    with _stdlib.first():
        import ast


# -- a library's source ----------------------------------------------------

def read(path: str) -> "Optional[str]":
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except (OSError, ValueError):
        return None


def source_has(path: str, pattern: str) -> bool:
    text = read(path)
    return text is not None and re.search(pattern, text, re.M) is not None


def parse(path: str) -> "Optional[ast.Module]":
    text = read(path)
    if text is None:
        return None
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


# -- what a check returns --------------------------------------------------

def outcome(error: "Optional[str]" = None, why: "Optional[str]" = None,
            problems: "Optional[List[Dict[str, str]]]" = None) -> "Found":
    return {"error": error, "why": why, "problems": problems or []}


def startup_failure(library: str, variable: str, error: str, words: str, fix: str) -> "Found":
    why = "{}'s own start-up fails: {}".format(library, words)
    return outcome(error, why, [problem("backend-startup", "import keras imports {}, which fails while it loads: {} "
                                        "({}).".format(library, words, error), fix)])


# -- calls in a parsed source ----------------------------------------------

def call_name(node: "ast.AST") -> str:
    func = getattr(node, "func", None)
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def constant(node: "Optional[ast.AST]") -> "Any":
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def argument(call: "ast.Call", index: int, keyword: str) -> "Optional[ast.AST]":
    for item in call.keywords:
        if item.arg == keyword:
            return item.value
    args = [a for a in call.args if not isinstance(a, getattr(ast, "Starred", ()))]
    return args[index] if index < len(args) else None
