"""Bindings made by assignments and by expressions, as the custom-backend walker runs them.

Besides plain assignments (and ``__all__``, kept as a list of names so that
``from x import *`` can be answered), a module can bind names dynamically:
``exec`` of a string, ``setattr`` on itself, stores into or updates of its
namespace dictionary (``globals()``, ``vars()``,
``sys.modules[__name__].__dict__``), calls of its own functions that declare
names ``global``.  A name spelled as a constant is bound on some paths, with a
note; a computed one means any name might be bound, and the answer becomes
the likeliest one.  A mixin of :class:`kbackend.custom_walker.Walker`.
"""

from .custom_source import const, lazy_ast, parse, strings
from .custom_state import Failure

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Iterable, List, Optional

    from .custom_state import State


class Bindings:
    """Assignments and dynamic bindings of :class:`~kbackend.custom_walker.Walker`."""

    if MYPY:  # set by Walker.__init__; walk is Walker's own
        ast: "Any"
        path: str

        def walk(self, body: "List[Any]", st: "State") -> None: ...

    def assign(self, node: "Any", st: "State", where: str) -> None:
        ast = self.ast
        value = getattr(node, "value", None)
        if value is None:  # `x: int` annotates, binds nothing
            return
        self.effects([value], st, where)
        targets = getattr(node, "targets", None) or [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and target.id == "__all__":
                self.set_all(node, st)
            if isinstance(target, ast.Subscript):
                self.store_item(target, st, where)
            for name in target_names(target):
                if isinstance(node, ast.AugAssign):
                    if st.has(name) is False and not self._builtin(name):
                        st.failure = Failure("NameError", "name {!r} is not defined".format(name), True, where)
                        return
                    if name in st.sure:
                        continue
                st.bind(name)
                if isinstance(value, ast.Name) and value.id in st.aliases:
                    st.aliases[name] = st.aliases[value.id]
                elif self._this_module(value, st):
                    st.aliases[name] = "<this module>"
                elif self._namespace(value, st):
                    st.anything.append("{}: the module's namespace dictionary is kept as {!r}".format(where, name))

    def set_all(self, node: "Any", st: "State") -> None:
        ast = self.ast
        names = strings(node.value)
        if isinstance(node, ast.AugAssign):
            if st.all_tuple and isinstance(node.value, ast.List) and isinstance(node.op, ast.Add):
                st.failure = Failure("TypeError", 'can only concatenate tuple (not "list") to tuple', True,
                                      "{} line {}".format(self.path, node.lineno))
                return
            if names is not None and st.all is not None:
                st.all = st.all + names
            else:
                st.all_known = False
        elif names is not None:
            st.all, st.all_known = names, True
            st.all_tuple = isinstance(node.value, ast.Tuple)
        else:
            st.all, st.all_known = [], False

    def store_item(self, target: "Any", st: "State", where: str) -> None:
        """``globals()['x'] = ...`` binds x; a computed key could bind anything."""
        if self._namespace(target.value, st):
            key = target.slice
            key = getattr(key, "value", key) if type(key).__name__ == "Index" else key
            ok, name = const(key)
            if ok and isinstance(name, str):
                if name not in st.sure:
                    st.maybe.add(name)
                st.notes.append("{}: {!r} is bound through the module's namespace dictionary".format(where, name))
            else:
                st.anything.append("{}: names are bound through the module's namespace dictionary".format(where))

    def _namespace(self, node: "Any", st: "State") -> bool:
        """``globals()``, ``vars()``, ``locals()`` or ``sys.modules[__name__].__dict__``."""
        ast = self.ast
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
                "globals", "vars", "locals") and not node.args:
            return True
        if isinstance(node, ast.Attribute) and node.attr == "__dict__":
            return self._this_module(node.value, st)
        return False

    def _this_module(self, node: "Any", st: "State") -> bool:
        ast = self.ast
        if isinstance(node, ast.Name):
            return st.aliases.get(node.id) == "<this module>"
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "modules":
            key = node.slice
            key = getattr(key, "value", key) if type(key).__name__ == "Index" else key
            return isinstance(key, ast.Name) and key.id == "__name__"
        return False

    def effects(self, nodes: "Iterable[Any]", st: "State", where: str) -> None:
        """Bindings made by expressions: walrus targets, ``exec``, ``setattr``
        on the module, its namespace dictionary handed to a call, and calls
        of module-level functions that declare names ``global``."""
        ast = self.ast
        for root in nodes:
            if root is None:
                continue
            for node in _walk_expression(root):
                if type(node).__name__ == "NamedExpr":
                    st.bind(node.target.id)
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                if isinstance(func, ast.Name) and func.id == "exec":
                    self.exec_(node, st, where)
                elif isinstance(func, ast.Name) and func.id == "setattr" and len(node.args) >= 2 and \
                        self._this_module(node.args[0], st):
                    ok, name = const(node.args[1])
                    if ok and isinstance(name, str):
                        if name not in st.sure:
                            st.maybe.add(name)
                        st.notes.append("{}: {!r} is set on the module with setattr".format(where, name))
                    else:
                        st.anything.append("{}: setattr on the module with a computed name".format(where))
                elif isinstance(func, ast.Attribute) and func.attr in ("update", "setdefault", "__setitem__") \
                        and self._namespace(func.value, st):
                    keys = _dict_keys(node)
                    if keys is None:
                        st.anything.append("{}: the module's namespace dictionary is updated".format(where))
                    else:
                        st.maybe.update(k for k in keys if k not in st.sure)
                        st.notes.append("{}: {} bound through the namespace dictionary".format(where, sorted(keys)))
                elif isinstance(func, ast.Name) and func.id in st.functions:
                    declared = st.functions[func.id]
                    st.maybe.update(n for n in declared if n not in st.sure)
                    st.notes.append("{}: {}() binds {} as globals".format(where, func.id, sorted(declared)))
                elif any(self._namespace(arg, st) for arg in node.args):
                    named = [v for ok, v in (const(a) for a in node.args) if ok and isinstance(v, str)
                             and v.isidentifier()]
                    if named:
                        st.maybe.update(n for n in named[:1] if n not in st.sure)
                        st.notes.append("{}: the namespace dictionary is handed to a call, which may bind {!r}"
                                        .format(where, named[0]))
                    else:
                        st.anything.append("{}: the module's namespace dictionary is handed to a call".format(where))
                if isinstance(func, ast.Attribute) and func.attr in ("append", "extend") and \
                        isinstance(func.value, ast.Name) and func.value.id == "__all__" and st.all_tuple:
                    st.failure = Failure("AttributeError", "'tuple' object has no attribute {!r}".format(func.attr),
                                          True, where)
                    return
                if isinstance(func, ast.Attribute) and func.attr in ("append", "extend") and \
                        isinstance(func.value, ast.Name) and func.value.id == "__all__":
                    names = strings(node.args[0]) if node.args else None
                    if func.attr == "append":
                        ok, value = const(node.args[0]) if node.args else (False, None)
                        names = [value] if ok and isinstance(value, str) else None
                    if names is not None and st.all is not None:
                        st.all = st.all + names
                    else:
                        st.all_known = False

    def exec_(self, node: "Any", st: "State", where: str) -> None:
        ok, code = const(node.args[0]) if node.args else (False, None)
        if len(node.args) == 1 and ok and isinstance(code, str):
            tree = parse(code, "<string>")
            if tree is not None:
                self.walk(tree.body, st)
                return
        st.anything.append("{}: exec() runs code that cannot be read here".format(where))

    @staticmethod
    def _builtin(name: str) -> bool:
        import builtins

        return hasattr(builtins, name) or name in ("__name__", "__file__", "__doc__", "__spec__", "__loader__",
                                                   "__package__", "__builtins__", "__path__", "__cached__")


def target_names(target: "Any") -> "List[str]":
    ast = lazy_ast()
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for item in target.elts for n in target_names(item)]
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return []


def _walk_expression(root: "Any") -> "Iterable[Any]":
    """Nodes of an expression evaluated now (not inside lambdas)."""
    ast = lazy_ast()
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(node))


def _dict_keys(call: "Any") -> "Optional[List[str]]":
    ast = lazy_ast()
    keys: "List[str]" = [k.arg for k in call.keywords if k.arg]
    if any(k.arg is None for k in call.keywords):
        return None
    for arg in call.args:
        if isinstance(arg, ast.Dict):
            for key in arg.keys:
                ok, value = const(key) if key is not None else (False, None)
                if not (ok and isinstance(value, str)):
                    return None
                keys.append(value)
        else:
            ok, value = const(arg)
            if call.func.attr == "setdefault" and ok and isinstance(value, str):
                keys.append(value)
                break
            return None
    return keys
