"""The pieces :mod:`kbackend.modgraph` builds its model of ``import keras`` from.

A :class:`Module` is one module as the model loads it (the names its
statements define, the values it can tell, whether its namespace is beyond
listing); a :class:`Failure` is an exception the modelled import raises.
Both are shared by the loader (:mod:`kbackend.modgraph_loader`) and the
statement walker (:mod:`kbackend.modgraph_statements`), so they live apart
from either.  :func:`parsed` reads a module's source as far as importing it
runs: its top level, without the bodies of functions and classes.
"""

import ast
import re

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional, Set

#: A value that cannot be told here (None is a value a module may hold).
NO_VALUE = object()


class Failure(Exception):
    """An exception the modelled import raises: ``cls`` and ``message``
    (None when only the class is certain)."""

    def __init__(self, cls: str, message: "Optional[str]", module: str = "") -> None:
        Exception.__init__(self, cls, message)
        self.cls = cls
        self.message = message
        self.module = module
        self.chain: "Optional[List[str]]" = None  # the modules being imported when it was raised

    def text(self) -> str:
        if self.message is None:
            return self.cls
        return "{}: {}".format(self.cls, self.message) if self.message else self.cls


class Module:
    """One module as the model loads it."""

    __slots__ = (
        "aliases",
        "defined",
        "dynamic",
        "dynamic_paths",
        "file",
        "locations",
        "name",
        "origin",
        "source",
        "state",
        "values",
        "version",
    )

    def __init__(self, name: str, origin: "Optional[str]", locations: "Optional[List[str]]") -> None:
        self.name = name
        self.origin = origin
        self.locations = locations
        self.defined: "Set[str]" = set()
        self.dynamic = False  # namespace not listable from the statements
        self.dynamic_paths = False  # submodules not listable from its folder (``__path__``, ``sys.modules``)
        self.aliases: "Dict[str, str]" = {}  # names imported from elsewhere -> their qualified names
        self.state = "running"
        self.source: "Optional[str]" = None
        self.values: "Dict[str, Any]" = {}
        self.file = origin if origin and origin not in ("built-in", "frozen", "namespace") else None
        self.version: "Optional[str]" = None


def parsed(source: str, filename: str) -> "Any":
    """The module's AST without function and class bodies, which do not run
    at import (parsing them is most of the cost); the whole text when the
    cut does not parse."""
    try:
        return ast.parse(_without_bodies(source), filename)
    except SyntaxError:
        return ast.parse(source, filename)


_BLOCK = re.compile(r"^([ \t]*)(?:async[ \t]+def|def|class)[ \t]")


def _without_bodies(source: str) -> str:
    """``source`` with each ``def``/``class`` body replaced by ``pass``.

    Textual, by indentation: a body is every following line that is blank
    or indented deeper than its header.  A multi-line string that breaks
    the rule makes the result fail to parse, and the caller falls back.
    """
    lines = source.splitlines(True)
    out: "List[str]" = []
    index, count = 0, len(lines)
    while index < count:
        match = _BLOCK.match(lines[index])
        if not match:
            out.append(lines[index])
            index += 1
            continue
        indent = len(match.group(1).expandtabs())
        depth = 0
        while index < count:  # the header, up to its colon with brackets closed
            text = lines[index]
            out.append(text)
            index += 1
            code = text.split("#", 1)[0].rstrip()
            depth += sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")
            if depth <= 0 and code.endswith(":"):
                break
        start = index
        while index < count:
            text = lines[index]
            if text.strip() and len(text[:len(text) - len(text.lstrip())].expandtabs()) <= indent:
                break
            index += 1
        if index > start:
            out.append(" " * (indent + 1) + "pass\n")
    return "".join(out)
