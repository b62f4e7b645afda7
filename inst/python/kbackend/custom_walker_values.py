"""Module-level conditions the custom-backend walker can decide, and the values they read.

Constants, ``__name__``, ``TYPE_CHECKING``, ``sys.version_info``,
``sys.platform``, ``os.name``, ``os.environ.get(...)`` and comparisons of
them are decided with this interpreter's values (it is the one Keras will
run on) and the environment Keras will run with; any other condition is
undecided, and the walker then follows every branch.  A mixin of
:class:`kbackend.custom_walker.Walker`.
"""

import os
import sys

from .custom_source import const

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Optional, Tuple

    from .custom_state import State


class Values:
    """Conditions and values of :class:`~kbackend.custom_walker.Walker`."""

    if MYPY:  # set by Walker.__init__
        ast: "Any"
        name: str

    def truth(self, node: "Any", st: "State") -> "Optional[bool]":
        """The value of a module-level condition, when it can be decided."""
        ast = self.ast
        ok, value = const(node)
        if ok:
            return bool(value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.truth(node.operand, st)
            return None if inner is None else not inner
        if isinstance(node, ast.BoolOp):
            values = [self.truth(v, st) for v in node.values]
            if isinstance(node.op, ast.And):
                return False if False in values else (True if all(v is True for v in values) else None)
            return True if True in values else (False if all(v is False for v in values) else None)
        if isinstance(node, ast.Name) and node.id == "TYPE_CHECKING":
            return False
        if isinstance(node, ast.Attribute) and node.attr == "TYPE_CHECKING":
            return False
        if isinstance(node, (ast.Call, ast.Attribute, ast.Subscript, ast.Name)):
            known, value = self.value(node, st)
            if known:
                try:
                    return bool(value)
                except Exception:  # noqa: BLE001 - a value without truth: cannot decide
                    return None
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right = self.value(node.left, st), self.value(node.comparators[0], st)
            if left[0] and right[0]:
                try:
                    return bool(_compare(node.ops[0], left[1], right[1]))
                except Exception:  # noqa: BLE001 - incomparable values: cannot decide
                    return None
        return None

    def value(self, node: "Any", st: "State") -> "Tuple[bool, Any]":
        """Constants, ``__name__``, and a few values of ``sys`` that are this
        interpreter's (it is the one Keras will run on)."""
        ast = self.ast
        ok, value = const(node)
        if ok:
            return True, value
        if isinstance(node, ast.Name) and node.id == "__name__":
            return True, self.name
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = st.aliases.get(node.value.id)
            if module == "sys" and node.attr in ("version_info", "platform", "byteorder", "maxsize"):
                return True, tuple(sys.version_info) if node.attr == "version_info" else getattr(sys, node.attr)
            if module == "os" and node.attr == "name":
                return True, os.name
            if module == "os" and node.attr == "environ":  # the environment Keras will run with
                return True, dict(os.environ)
            base = self.value(node.value, st)
            if base[0] and node.attr in ("major", "minor", "micro"):
                return False, None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.keywords and \
                node.func.attr in ("get", "getenv") and 1 <= len(node.args) <= 2:
            owner = self.value(node.func.value, st) if node.func.attr == "get" else (
                (True, dict(os.environ)) if isinstance(node.func.value, ast.Name)
                and st.aliases.get(node.func.value.id) == "os" else (False, None))
            args = [self.value(arg, st) for arg in node.args]
            if owner[0] and isinstance(owner[1], dict) and all(ok for ok, _ in args):
                return True, owner[1].get(*[value for _, value in args])
        if isinstance(node, ast.Attribute) and node.attr in ("major", "minor", "micro"):
            base = self.value(node.value, st)
            if base[0] and isinstance(base[1], tuple):
                return True, base[1][("major", "minor", "micro").index(node.attr)]
        if isinstance(node, ast.Subscript):
            base = self.value(node.value, st)
            key = node.slice
            key = getattr(key, "value", key) if type(key).__name__ == "Index" else key
            index = self.value(key, st) if not isinstance(key, ast.Slice) else (False, None)
            if base[0] and index[0] and isinstance(base[1], tuple):
                try:
                    item: "Any" = index[1]
                    return True, base[1][item]
                except Exception:  # noqa: BLE001
                    return False, None
            if base[0] and isinstance(key, ast.Slice) and isinstance(base[1], tuple):
                lower, upper = self.value(key.lower, st) if key.lower else (True, None), \
                    self.value(key.upper, st) if key.upper else (True, None)
                if lower[0] and upper[0] and key.step is None:
                    return True, base[1][lower[1]:upper[1]]
        return False, None


def _compare(op: "Any", left: "Any", right: "Any") -> "Any":
    import operator

    table = {"Eq": operator.eq, "NotEq": operator.ne, "Lt": operator.lt, "LtE": operator.le, "Gt": operator.gt,
             "GtE": operator.ge, "In": lambda a, b: a in b, "NotIn": lambda a, b: a not in b,
             "Is": operator.is_, "IsNot": operator.is_not}
    return table[type(op).__name__](left, right)
