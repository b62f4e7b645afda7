"""Answers read from the text of source files, where walking the module is not needed or not possible.

Installed code named as a backend (numpy, say) is answered from text: the
first required entry is missing when no file the module star-imports from
spells it (:func:`surely_unbound`), which spares parsing most of a large
library.  Where a module may bind names dynamically, is compiled, or cannot
be read, whether its source or its package's files mention a name decides
(:func:`mentioned`, :func:`occurs_anywhere`).
"""

import os

from .custom_judge import MAX_DEPTH, MAX_MODULES, bindings
from .custom_source import const, lazy_ast, parse, read_source, read_tree
from .custom_walker import Walker

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Iterable, List

    from .custom_judge import Judge

_DYNAMIC_MARKS = (b"globals(", b"vars(", b"locals(", b"exec(", b"setattr(", b"__dict__", b"modules[")
#: The shapes of a dynamic binding in text (a superset: parsed to be sure).
_DYNAMIC_USE = (
    rb"(globals|vars|locals)\(\)\s*(\[|\.\s*(update|setdefault|__setitem__))|[(,]\s*(globals|vars|locals)\(\)"
    rb"|=\s*(globals|vars|locals)\(\)|\bexec\s*\(|\bsetattr\s*\(|__dict__\s*(\[|\.\s*update)"
    rb"|modules\s*\[[^\]\n]*\]\s*=[^=]")


def _module_level_nodes(tree: "Any") -> "Iterable[Any]":
    """Every node that runs when the module is imported: not the bodies
    of functions, lambdas or classes (a function's ``globals()`` runs only
    when called)."""
    ast = lazy_ast()
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            stack.extend(node.decorator_list if not isinstance(node, ast.Lambda) else [])
            continue
        if isinstance(node, ast.ClassDef):
            stack.extend(node.decorator_list + node.bases)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _binds_dynamically(tree: "Any") -> bool:
    """Whether source may bind module names other than by statements:
    ``exec``, ``setattr``, a namespace dictionary (``globals()``, ``vars()``,
    ``__dict__``) stored into, updated, kept or handed to a call.  Reading
    one (``globals().keys()``, ``'x' in globals()``) binds nothing."""
    ast = lazy_ast()
    if tree is None:
        return True

    def namespace(node: "Any") -> bool:
        return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in ("globals", "vars", "locals")) or \
            (isinstance(node, ast.Attribute) and node.attr == "__dict__")

    for node in _module_level_nodes(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("exec", "setattr"):
                return True
            if isinstance(func, ast.Attribute) and func.attr in ("update", "setdefault", "__setitem__") and \
                    namespace(func.value):
                return True
            if any(namespace(arg) for arg in node.args) or any(namespace(k.value) for k in node.keywords):
                return True
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and namespace(node.value):
            return True
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and namespace(node.value):
            return True
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and \
                isinstance(node.value, ast.Attribute) and node.value.attr == "modules":
            return True
    return False


def surely_unbound(module: str, origin: str, name: str, judge_: "Judge", doubts: "List[str]") -> bool:
    """Installed code, read as text: ``name`` is not bound when no file the
    module star-imports from (transitively) spells it as a word.  A file that
    binds names dynamically (``globals()[key] = ...``) could still bind it
    from data: that file goes to ``doubts``, and the answer is the likeliest
    one.  The common case, a library such as numpy named as a backend, is
    answered without parsing most of its files."""
    import re

    needle = name.encode()
    word = re.compile(rb"\b" + re.escape(needle) + rb"\b")
    star = re.compile(rb"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]*\*", re.M)
    todo, seen = [(module, origin)], set()
    while todo:
        current, path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        if len(seen) > MAX_MODULES:
            return False
        data = read_source(path) if os.path.isfile(path) else None
        if data is None or (needle in data and (not path.endswith(".py") or word.search(data))):
            return False
        if not path.endswith(".py"):
            continue  # compiled: its names are strings in it, and this one is not
        if any(mark in data for mark in _DYNAMIC_MARKS) and re.search(_DYNAMIC_USE, data) and \
                _binds_dynamically(parse(data, path)):
            doubts.append(path)
        is_package = os.path.basename(path) == "__init__.py"
        for match in star.finditer(data):
            target = match.group(1).decode("ascii", "replace")
            level = len(target) - len(target.lstrip("."))
            resolved = Walker(judge_, current, path, is_package, False, 0).absolute(target[level:] or None, level)
            found = judge_.find(resolved)[0] if resolved else None
            if resolved is None or found is None:
                return False
            todo.append((resolved, found))
    return True


def mentioned(origin: str, name: str) -> bool:
    """Whether the module's own source spells ``name`` as a string: what
    ``globals()[n] = ...`` over a list of names, or ``exec`` of a string
    built here, most likely binds."""
    ast = lazy_ast()
    tree = read_tree(origin)
    if tree is None:
        return False
    for node in ast.walk(tree):
        ok, value = const(node)
        if ok and isinstance(value, str) and (value == name or name in value.replace("(", " ").split()):
            return True
    return False


def occurs_anywhere(origin: str, name: str) -> bool:
    """Whether ``name`` could be bound by any file of the module's package:
    as a module-level binding in a .py file or as a string in compiled code."""
    root = os.path.dirname(origin) if os.path.basename(origin) == "__init__.py" else None
    files = [origin] if root is None else [
        os.path.join(directory, f) for directory, _, names in os.walk(root) for f in names]
    needle = name.encode()
    for path in files:
        data = read_source(path)
        if data is None or needle not in data:
            continue
        if not path.endswith(".py"):
            return True
        tree = parse(data, path)
        if tree is None:
            return True
        names, _ = bindings("", path, lambda _name: None, depth=MAX_DEPTH)
        if name in names:
            return True
    return False
