"""What :mod:`kbackend.modgraph` can tell of an expression at import, without running it.

A module's ``if`` may decide on the interpreter's version or platform, a
library's ``__version__``, an environment variable or a file; its statements
read attributes of modules it imported, and a missing one is an
``AttributeError`` at import.  :class:`Expressions` is the part of a
:class:`kbackend.modgraph_statements.Frame` that evaluates the simple
expressions such checks are made of (constants, names the module bound,
comparisons, a few pure built-ins, read-only ``os`` calls) and checks those
attribute reads.  Anything else cannot be told here: an ``if`` on it then
only defines the names its branches bind.  Kept apart from the statements:
this is the one place that decides what the model may evaluate.
"""

import ast
import os
import sys

from .modgraph_model import NO_VALUE, Module

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, Optional

    from .modgraph_loader import Walk

_ENVIRON = object()


class _OsPath:
    """``os.path`` as a condition may read it (see ``_OS_READS``)."""


#: What import-time code may read of ``os`` and ``os.path`` here: the
#: environment (the one the import will see) and the file system, never
#: anything that writes.
_OS_READS: "Dict[str, Any]" = {"environ": _ENVIRON, "name": os.name, "sep": os.sep, "W_OK": os.W_OK, "R_OK": os.R_OK,
             "X_OK": os.X_OK, "F_OK": os.F_OK, "access": os.access, "exists": os.path.exists,
             "isfile": os.path.isfile, "isdir": os.path.isdir, "join": os.path.join, "expanduser": os.path.expanduser,
             "dirname": os.path.dirname, "basename": os.path.basename}
#: Attributes every module has, whatever its source.
_MODULE_ATTRIBUTES = frozenset(("__name__", "__file__", "__doc__", "__path__", "__spec__", "__loader__",
                                "__package__", "__builtins__", "__cached__", "__dict__", "__class__"))
#: Built-in functions an import-time version check may call on plain values.
_SAFE = {"tuple": tuple, "map": map, "int": int, "str": str, "len": len, "list": list}


class Expressions:
    """The expressions of one module's statements: read, checked and, when
    they can be told here, evaluated.  A mixin of
    :class:`kbackend.modgraph_statements.Frame`, which sets these."""

    walk: "Walk"
    module: "Module"
    bindings: "Dict[str, Any]"  # name -> Module or qualified name (str) or None

    def qualified(self, node: "Any") -> "Optional[str]":
        """The qualified name an expression refers to (``backend.backend`` ->
        ``keras.src.backend.config.backend``), when imports tell."""
        if isinstance(node, ast.Name):
            bound = self.bindings.get(node.id)
            return bound if isinstance(bound, str) else (self.module.name + "." + node.id
                                                         if node.id not in self.bindings else None)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            base = self.bindings.get(node.value.id)
            if isinstance(base, Module):
                return base.aliases.get(node.attr, base.name + "." + node.attr)
            if isinstance(base, str):
                return base + "." + node.attr
        return None

    def check(self, node: "Any", runs: bool = True) -> None:
        """Attribute reads of modules in an expression, in evaluation order
        (not in lambdas).  One that fails raises when the expression ``runs``;
        in one that may not run, the first is remembered as a possible failure."""
        stack = [node]
        while stack:
            item = stack.pop()
            kind = type(item).__name__
            if kind == "Lambda":
                stack.extend(reversed(item.args.defaults))
                continue
            if kind == "Attribute" and isinstance(item.value, ast.Name) and isinstance(item.ctx, ast.Load):
                bound = self.bindings.get(item.value.id)
                if isinstance(bound, Module) and not bound.dynamic and bound.source is not None \
                        and item.attr not in bound.defined and item.attr not in _MODULE_ATTRIBUTES:
                    full = bound.name + "." + item.attr
                    if full not in self.walk.modules:
                        failure = self.walk.no_attribute(item.attr, bound)
                        if runs:
                            raise failure
                        if self.walk.maybe is None:
                            self.walk.maybe = failure
            stack.extend(reversed(list(ast.iter_child_nodes(item))))

    def evaluate(self, node: "Any") -> "Any":
        """The value of a simple expression, or ``NO_VALUE`` when it cannot be told here."""
        try:
            return self._value(node)
        except Exception:  # noqa: BLE001 - anything unusual is "cannot tell"
            return NO_VALUE

    def _value(self, node: "Any") -> "Any":
        kind = type(node).__name__
        if kind == "Constant" or kind in ("Str", "Num", "NameConstant", "Bytes"):
            return getattr(node, "value", getattr(node, "s", getattr(node, "n", None)))
        if kind == "Name":
            if node.id == "TYPE_CHECKING":
                return False
            own = self.module.name + "." + node.id
            if own in self.walk.facts:
                return self.walk.facts[own]
            if node.id in self.module.values:
                return self.module.values[node.id]
            if node.id in _SAFE and node.id not in self.module.defined:
                return _SAFE[node.id]
            raise ValueError(node.id)
        if kind == "Attribute":
            base = self.bindings.get(node.value.id) if isinstance(node.value, ast.Name) else None
            if isinstance(base, Module):
                return self.module_attribute(base, node.attr)
            if isinstance(base, str) and base.endswith(".TYPE_CHECKING"):
                return False
            qualified = self.qualified(node)
            if qualified is not None and qualified in self.walk.facts:
                return self.walk.facts[qualified]
            if isinstance(node.value, ast.Name) and node.value.id == "typing" and node.attr == "TYPE_CHECKING":
                return False
            owner = self._value(node.value)
            if isinstance(owner, (str, tuple)) and node.attr in ("split", "startswith", "endswith", "lower",
                                                                 "format", "strip", "partition"):
                return getattr(owner, node.attr)
            if owner is self.walk.environ and node.attr == "get":
                return owner.get
            if owner is _OsPath and node.attr in _OS_READS:
                return _OS_READS[node.attr]
            raise ValueError(node.attr)
        if kind == "Call":
            function = node.func
            qualified = self.qualified(function)
            if qualified is not None and qualified in self.walk.facts and not node.args:
                return self.walk.facts[qualified]
            callee: "Any" = self._value(function)
            if not (any(callee is safe for safe in _SAFE.values()) or any(callee is read for read in _OS_READS.values())
                    or (callable(callee) and isinstance(getattr(callee, "__self__", None), (str, tuple, dict)))):
                raise ValueError("call")
            if node.keywords:
                raise ValueError("keywords")
            return callee(*[self._value(argument) for argument in node.args])
        if kind == "Subscript":
            owner = self._value(node.value)
            index = node.slice
            if type(index).__name__ == "Index":
                index = index.value
            if type(index).__name__ == "Slice":
                key = slice(*(self._value(part) if part is not None else None
                              for part in (index.lower, index.upper, index.step)))  # type: Any
            else:
                key = self._value(index)
            return owner[key]
        if kind == "Tuple":
            return tuple(self._value(item) for item in node.elts)
        if kind == "Compare":
            left = self._value(node.left)
            for operator, right_node in zip(node.ops, node.comparators):
                right = self._value(right_node)
                if not _compare(type(operator).__name__, left, right):
                    return False
                left = right
            return True
        if kind == "BoolOp":
            values = [self._value(item) for item in node.values]
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if kind == "UnaryOp" and isinstance(node.op, ast.Not):
            return not self._value(node.operand)
        if kind == "JoinedStr":
            return "".join(str(self._value(part)) for part in node.values)
        if kind == "FormattedValue":
            if node.conversion not in (-1, None) or node.format_spec is not None:
                raise ValueError("format")
            return self._value(node.value)
        raise ValueError(kind)

    def module_attribute(self, module: "Module", name: str) -> "Any":
        if module.name == "sys" and name in ("version_info", "platform", "byteorder", "maxsize"):
            return self.walk.version if name == "version_info" else getattr(sys, name)
        if module.name in ("os", "os.path", "posixpath", "ntpath") and name in _OS_READS:
            value = _OS_READS[name]
            return self.walk.environ if value is _ENVIRON else value
        if module.name == "os" and name == "path":
            return _OsPath
        if name == "__version__":
            version = self.walk.version_of(module)
            if version is not None:
                return version
        if name in module.values:
            return module.values[name]
        raise ValueError(name)


def _compare(operator: str, left: "Any", right: "Any") -> bool:
    if operator == "Eq":
        return left == right
    if operator == "NotEq":
        return left != right
    if operator == "Lt":
        return left < right
    if operator == "LtE":
        return left <= right
    if operator == "Gt":
        return left > right
    if operator == "GtE":
        return left >= right
    if operator == "In":
        return left in right
    if operator == "NotIn":
        return left not in right
    if operator == "Is":
        return left is right
    if operator == "IsNot":
        return left is not right
    raise ValueError(operator)

