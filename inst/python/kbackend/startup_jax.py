"""JAX's start-up checks: the ``JAX_*`` flags it validates while ``import jax`` runs.

JAX defines its configuration options at import, each reading its variable
(``bool_env``, ``enum_state`` and the like in ``jax/_src/config.py`` and
the other modules of ``jax/_src``), and a value it cannot take raises there:
``JAX_ENABLE_X64=enabled`` fails ``import keras`` with JAX's ``ValueError``.
The definitions are read from the installed source, only those that name a
variable that is set, in the order JAX runs them.  ``JAX_PLATFORMS`` is
checked only at the first computation: a problem, never the import's error.
Run by :func:`kbackend.startup.check`.
"""

import os
import re

from . import _stdlib
from .problems import problem
from .startup_common import PREFIXES, argument, call_name, constant, outcome, parse, read, startup_failure

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    import ast
    import bisect
    from typing import Any, Dict, List, Optional, Tuple

    from .startup_common import Found

#: The values JAX reads as true and as false (lower-cased first).
_TRUE = ("y", "yes", "t", "true", "on", "1")
_FALSE = ("n", "no", "f", "false", "off", "0")


def load_parsers() -> None:
    """ast and bisect cost milliseconds to import: only on this path."""
    global ast, bisect
    with _stdlib.first():
        import ast
        import bisect


def _calls_in_order(node: "ast.AST") -> "List[ast.Call]":
    """Calls in evaluation order: arguments before the call that takes them."""
    out = []  # type: List[ast.Call]
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.ClassDef, ast.Lambda)) or \
                type(child).__name__ == "AsyncFunctionDef":
            continue
        out.extend(_calls_in_order(child))
    if isinstance(node, ast.Call):
        out.append(node)
    return out


def _enum_values(body: "List[Any]") -> "Dict[str, List[str]]":
    """The string values of each ``enum`` class defined among these statements."""
    values = {}  # type: Dict[str, List[str]]
    for node in body:
        if isinstance(node, ast.ClassDef):
            found = [constant(item.value) for item in node.body if isinstance(item, ast.Assign)]
            values[node.name] = [v for v in found if isinstance(v, str)]
    return values


def _jax_value_error(kind: str, call: "ast.Call", environ: "Dict[str, str]",
                     enums: "Dict[str, List[str]]") -> "Optional[Tuple[str, str, str]]":
    """(variable, error, words) when this definition rejects its variable."""
    if kind in ("bool_env", "int_env"):
        variable = constant(argument(call, 0, "varname"))
        if not isinstance(variable, str) or variable not in environ:
            return None
        value = environ[variable]
        if kind == "bool_env":
            if value.lower() in _TRUE + _FALSE:
                return None
            return variable, "ValueError: invalid truth value {!r} for environment {!r}".format(
                value.lower(), variable), "{}={!r} is not a truth value".format(variable, value)
        try:
            int(value)
        except ValueError as exc:
            return variable, "ValueError: {}".format(exc), "{}={!r} is not an integer".format(variable, value)
        return None
    name = constant(argument(call, 0, "name"))
    if not isinstance(name, str):
        return None
    variable = name.upper()
    if variable not in environ:
        return None
    value = environ[variable]
    invalid = "ValueError: Invalid value \"{}\" for JAX flag {}".format(value, name.lower())
    if kind == "bool_state":
        if value.lower() in _TRUE + _FALSE:
            return None
        return variable, "ValueError: invalid truth value {!r} for environment {!r}".format(
            value.lower(), variable), "{}={!r} is not a truth value".format(variable, value)
    if kind in ("enum_state", "optional_enum_state"):
        allowed = constant(argument(call, 1, "enum_values"))
        if not isinstance(allowed, (list, tuple)) or value in allowed:
            return None
        return variable, invalid, "{}={!r} is not one of {}".format(variable, value, ", ".join(map(str, allowed)))
    if kind == "enum_class_state":
        holder = argument(call, 1, "enum_class")
        allowed = enums.get(holder.id) if isinstance(holder, ast.Name) else None
        if not allowed or value in allowed:
            return None
        return variable, invalid, "{}={!r} is not one of {}".format(variable, value, ", ".join(allowed))
    if kind in ("int_state", "float_state"):
        try:
            (int if kind == "int_state" else float)(value)
        except ValueError:
            return variable, invalid, "{}={!r} is not {}".format(
                variable, value, "an integer" if kind == "int_state" else "a number")
    return None


_JAX_KINDS = ("bool_env", "int_env", "bool_state", "enum_state", "optional_enum_state", "enum_class_state",
              "int_state", "float_state")


def _jax_sources(package: str) -> "List[str]":
    """jax/_src/config.py first (the first module ``import jax`` runs), then
    the other modules of jax/_src that define flags (not the test helpers)."""
    source = os.path.join(package, "_src")
    try:
        others = sorted(n for n in os.listdir(source) if n.endswith(".py") and n != "config.py"
                        and not n.startswith("test_"))
    except OSError:
        return []
    return [os.path.join(source, "config.py")] + [os.path.join(source, n) for n in others]


def _statements(text: str, pattern: str) -> "Optional[List[Any]]":
    """The top-level statements of ``text`` that contain ``pattern``, parsed
    on their own (a whole module is slow to parse); None when a piece does
    not parse alone (a string spanning column 0), to fall back on the file."""
    starts = [m.start() for m in re.finditer(r"^[A-Za-z_@]", text, re.M)] + [len(text)]
    out = []  # type: List[Any]
    done = -1
    for hit in re.finditer(pattern, text):
        index = bisect.bisect_right(starts, hit.start()) - 1
        if index < 0 or index <= done or index >= len(starts) - 1:
            continue
        done = index
        try:
            out.extend(ast.parse(text[starts[index]:starts[index + 1]]).body)
        except (SyntaxError, ValueError):
            return None
    return out


def check(package: str, environ: "Dict[str, str]", warnoptions: "Tuple[str, ...]", home: str) -> "Found":
    problems = []  # type: List[Dict[str, str]]
    platforms = environ.get("JAX_PLATFORMS", "")
    if any(p.strip() not in ("", "cpu") for p in platforms.split(",")):
        problems.append(problem(
            "backend-first-use", "JAX_PLATFORMS={!r} is not checked when jax is imported: import keras works, and the "
            "first computation fails if a listed platform cannot start.".format(platforms),
            "Install the plug-in of each listed platform (e.g. jax[cuda12]), or set JAX_PLATFORMS=cpu."))
    names = [n for n in environ if n.startswith(PREFIXES)]
    if not names:
        return outcome(problems=problems)
    wanted = sorted(set(names) | {n.lower() for n in names})
    pattern = "[\'\"]({})[\'\"]".format("|".join(re.escape(w) for w in wanted))
    for path in _jax_sources(package):
        text = read(path)
        if text is None or not any(w in text for w in wanted):
            continue
        statements = _statements(text, pattern)
        if statements is None:
            tree = parse(path)
            statements = tree.body if tree is not None else []
        enums = {}  # type: Dict[str, List[str]]
        if "enum_class_state" in text:
            classes = _statements(text, r"(?m)^class \w+")
            if classes is None:
                tree = parse(path)
                classes = tree.body if tree is not None else []
            enums = _enum_values(classes)
        for statement in statements:
            for call in _calls_in_order(statement):
                kind = call_name(call)
                if kind not in _JAX_KINDS:
                    continue
                bad = _jax_value_error(kind, call, environ, enums)
                if bad is not None:
                    variable, error, words = bad
                    failure = startup_failure("jax", variable, error, words,
                                              "Fix or unset {} (see the JAX configuration options).".format(variable))
                    failure["problems"][:0] = problems
                    return failure
    return outcome(problems=problems)
