"""Judge a Keras 2 custom backend module from its source, never running it.

Multi-backend Keras 2.2+ imports any unknown ``KERAS_BACKEND`` as a module and
requires ``placeholder``, ``variable`` and ``function`` in its namespace.  A
user who types ``numpy`` or ``jax`` gets "Missing required entry :
placeholder"; kbackend predicts that by reading, not importing: module-level
bindings are collected from the syntax tree, following ``from x import *``
into modules it can locate.  Where code is too dynamic to follow (compiled
modules, ``exec``, ``globals()``), it falls back to asking whether the name
occurs as a binding anywhere in the package's sources or as a string in its
compiled files: a name that occurs nowhere cannot be defined.
"""

import os

from . import _stdlib

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Callable, Iterable, Optional, Set, Tuple

    Locate = Callable[[str], Optional[str]]
    Source = Callable[[], Tuple[Set[str], bool]]

REQUIRED = ("placeholder", "variable", "function")

# Modules still running their own import when Keras imports the custom
# backend: Python hands back the half-built module, which holds none of the
# backend API yet, however complete its source looks.
_MID_IMPORT = frozenset(("keras", "keras.backend", "keras.backend.load_backend"))
_DYNAMIC_CALLS = {"exec", "globals", "vars", "setattr", "__import__"}
_MAX_DEPTH = 6


def _read_tree(path: str) -> "Any":
    with _stdlib.first():  # only this rare path needs it; keeps start-up lean
        import ast

    try:
        with open(path, "rb") as handle:
            return ast.parse(handle.read(), path)
    except (SyntaxError, ValueError, OSError, RecursionError, MemoryError):
        return None


def _module_statements(body: list) -> list:
    """Statements run at import: the body, and inside if/try/with/loops."""
    with _stdlib.first():
        import ast

    found = []
    for node in body:
        found.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            found.extend(_module_statements(getattr(node, field, None) or []))
        for handler in getattr(node, "handlers", None) or []:
            found.extend(_module_statements(handler.body))
    return found


def _resolve_relative(module: str, is_package: bool, level: int, target: "Optional[str]") -> "Optional[str]":
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    if level - 1 > len(base):
        return None
    base = base[: len(base) - (level - 1)]
    name = ".".join(base + ([target] if target else []))
    return name or None


def bindings(module: str, origin: str, locate: "Locate", depth: int = 0,
             seen: "Optional[Set[str]]" = None) -> "Tuple[Set[str], bool]":
    """Names a module binds at import time, and whether that set is certain."""
    with _stdlib.first():
        import ast

    seen = set() if seen is None else seen
    if origin in seen:
        return set(), True
    seen.add(origin)
    if depth > _MAX_DEPTH or not origin.endswith(".py"):
        return set(), False
    tree = _read_tree(origin)
    if tree is None:
        return set(), False
    is_package = os.path.basename(origin) == "__init__.py"
    bound, certain = set(), True
    for node in _module_statements(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.Import):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name != "*":
                    bound.add(alias.asname or alias.name)
                    continue
                target = node.module if not node.level else _resolve_relative(
                    module, is_package, node.level, node.module)
                target_origin = locate(target) if target else None
                if target is None or target_origin is None:
                    certain = False
                    continue
                names, sure = bindings(target, target_origin, locate, depth + 1, seen)
                bound |= names
                certain = certain and sure
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
            targets = getattr(node, "targets", None) or [getattr(node, "target", None)]
            targets += [item.optional_vars for item in getattr(node, "items", []) if item.optional_vars]
            for target in targets:
                if target is not None:
                    bound.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        if isinstance(node, (ast.Expr, ast.Assign)):
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in _DYNAMIC_CALLS:
                    certain = False
    return bound, certain


def _occurs_anywhere(origin: str, name: str) -> bool:
    """Whether ``name`` could be bound by any file of the module's package:
    as a module-level binding in a .py file or as a string in compiled code."""
    root = os.path.dirname(origin) if os.path.basename(origin) == "__init__.py" else None
    files = [origin] if root is None else [
        os.path.join(directory, f) for directory, _, names in os.walk(root) for f in names]
    needle = name.encode()
    for path in files:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        if needle not in data:
            continue
        if not path.endswith(".py"):
            return True
        tree = _read_tree(path)
        if tree is None:
            return True
        names, _ = bindings("", path, lambda _name: None, depth=_MAX_DEPTH)
        if name in names:
            return True
    return False


def import_error(module: str, origin: str, locate: "Locate") -> "Optional[str]":
    """The exception ``import keras`` raises with ``module`` as its custom
    backend, as ``"Class: message"``, when that is certain; else None.

    The module's source is read once, for both checks Keras makes.
    """
    read: "list" = []

    def source() -> "Tuple[Set[str], bool]":
        if not read:
            read.append(bindings(module, origin, locate))
        return read[0]

    missing = first_missing_entry(module, origin, locate, source)
    if missing:
        return "ValueError: Invalid backend. Missing required entry : " + missing
    return unimportable_api(module, origin, locate, source)


def first_missing_entry(module: str, origin: str, locate: "Locate",
                        source: "Optional[Source]" = None) -> "Optional[str]":
    """The required entry Keras will report missing (it checks them in order
    and stops at the first), or None for "looks like a backend" or "cannot
    tell": only failures that are certain are predicted.  ``source`` gives
    the module's bindings (default: read them now).
    """
    import sys

    if module in _MID_IMPORT:
        return REQUIRED[0]
    loaded = sys.modules.get(module)
    if loaded is not None:
        # Already imported here (sys, os.path, ...): Keras would get this very
        # module object, so its namespace is the answer, and nothing runs.
        return _first(name for name in REQUIRED if name not in vars(loaded))
    if origin in ("built-in", "frozen"):
        return REQUIRED[0]
    if not origin.endswith(".py"):
        return _first(name for name in REQUIRED if not _occurs_anywhere(origin, name))
    bound, certain = source() if source else bindings(module, origin, locate)
    missing = (name for name in REQUIRED if name not in bound)
    if certain:
        return _first(missing)
    # Lazily: each look through the package's sources costs tens of
    # milliseconds on a large package (numpy), and one answer is enough.
    return _first(name for name in missing if not _occurs_anywhere(origin, name))


def _first(names: "Iterable[str]") -> "Optional[str]":
    return next(iter(names), None)


def unimportable_api(module: str, origin: str, locate: "Locate",
                     source: "Optional[Source]" = None) -> "Optional[str]":
    """The ImportError ``import keras`` raises after accepting a custom backend
    that lacks part of the backend API, when that is certain; else None.

    ``keras/backend/__init__.py`` (2.2-2.3) imports a fixed list of names
    ``from .load_backend``, whose namespace is its own definitions plus the
    custom module's, so a module with only ``placeholder``, ``variable`` and
    ``function`` gets "cannot import name 'reset_uids' ...".  ``source`` is
    as for :func:`first_missing_entry`.
    """
    with _stdlib.first():
        import ast
    import sys

    package = locate("keras.backend")
    loader = locate("keras.backend.load_backend")
    if not (package and loader and package.endswith(".py") and loader.endswith(".py")):
        return None
    provided, certain = source() if source else bindings(module, origin, locate)
    if not certain:
        return None
    own, _ = bindings("keras.backend.load_backend", loader, lambda _name: None)  # star imports: built-ins only
    tree = _read_tree(package)
    if tree is None:
        return None
    for node in tree.body:  # unconditional imports only: the trailing if-chain names built-in backends
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module == "load_backend":
            for alias in node.names:
                if alias.name != "*" and alias.name not in own and alias.name not in provided:
                    if sys.version_info < (3, 7):
                        return "ImportError: cannot import name {!r}".format(alias.name)
                    return "ImportError: cannot import name {!r} from 'keras.backend.load_backend' ({})".format(
                        alias.name, loader)
    return None
