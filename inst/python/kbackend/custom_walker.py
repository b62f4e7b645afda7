"""Run a module's statements in the abstract: the walker of the custom-backend judge.

:class:`Walker` goes through a module's statements in the order Python runs
them, updating a :class:`~kbackend.custom_state.State`: which names get bound,
and which exception, if any, the import raises.  It is one class, too big for
one file, split by concern into mixins: this module has the statements
(definitions, ``if``, loops, ``with``, ``try``, ``match``, ``raise``),
:mod:`kbackend.custom_walker_imports` the import statements,
:mod:`kbackend.custom_walker_bindings` assignments and the bindings that
expressions make (``exec``, ``setattr``, ``globals()[...]``), and
:mod:`kbackend.custom_walker_values` the conditions that can be decided here.
"""

from .custom_source import const, lazy_ast
from .custom_state import Failure, assign_state, merge, without_failure
from .custom_walker_bindings import Bindings, target_names
from .custom_walker_imports import Imports
from .custom_walker_values import Values

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, List, Optional, Set, Tuple

    from .custom_judge import Judge
    from .custom_state import State


def _builtin_class(name: "Optional[str]") -> "Any":
    import builtins

    value = getattr(builtins, name, None) if name else None
    return value if isinstance(value, type) and issubclass(value, BaseException) else None


class Walker(Bindings, Imports, Values):
    """Runs a module's statements in the abstract: which names get bound,
    and which exception, if any, the import raises."""

    def __init__(self, judge: "Judge", name: str, path: str, is_package: bool, user: bool, depth: int) -> None:
        self.judge, self.name, self.path, self.is_package = judge, name, path, is_package
        self.user, self.depth = user, depth
        self.ast = lazy_ast()
        self.has_globals = True  # whether any function may declare a global (cheap test on the source)

    def walk(self, body: "List[Any]", st: "State") -> None:
        for node in body:
            if st.failure is not None and st.failure.certain:
                return
            self.statement(node, st)

    # -- statements ----------------------------------------------------------------------------------
    def statement(self, node: "Any", st: "State") -> None:
        ast = self.ast
        where = "{} line {}".format(self.path, getattr(node, "lineno", "?"))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            st.bind(node.name)
            names = _declared_globals(node) if self.has_globals else set()
            if names:
                st.functions[node.name] = names
            else:
                st.functions.pop(node.name, None)
        elif isinstance(node, ast.ClassDef):
            self.effects(node.bases + [k.value for k in node.keywords] + node.decorator_list, st, where)
            st.bind(node.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if not self.import_module(alias.name, st, where):
                    return
                if alias.asname:
                    st.bind(alias.asname, _split(alias.name))
                    st.aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    st.bind(top, ("", top))
                    st.aliases[top] = top
                self.own_submodule(alias.name, st)
        elif isinstance(node, ast.ImportFrom):
            self.import_from(node, st, where)
        elif isinstance(node, (ast.Assign, ast.AugAssign, getattr(ast, "AnnAssign", ast.Assign))):
            self.assign(node, st, where)
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                for name in target_names(target):
                    if st.has(name) is False and not self._builtin(name):
                        st.failure = Failure("NameError", "name {!r} is not defined".format(name), True, where)
                        return
                    st.unbind(name)
        elif isinstance(node, ast.If):
            truth = self.truth(node.test, st)
            self.effects([node.test], st, where)
            if truth is True:
                self.walk(node.body, st)
            elif truth is False:
                self.walk(node.orelse, st)
            else:
                self.branches([node.body, node.orelse], st)
        elif isinstance(node, (ast.For, getattr(ast, "AsyncFor", ast.For))):
            self.effects([node.iter], st, where)
            ok, value = const(node.iter)
            literal = isinstance(node.iter, (ast.List, ast.Tuple, ast.Set))
            runs = (ok and bool(value)) or (literal and bool(node.iter.elts))
            if (ok and not value) or (literal and not node.iter.elts):  # nothing to loop over
                self.walk(node.orelse, st)
                return
            loop = st.copy()
            for name in target_names(node.target):
                loop.bind(name)
            self.walk(node.body, loop)
            paths = [loop] if runs else [st.copy(), loop]
            merged = merge(paths)
            self.walk(node.orelse, merged)
            assign_state(st, merged)
        elif isinstance(node, ast.While):
            truth = self.truth(node.test, st)
            if truth is False:
                self.walk(node.orelse, st)
            else:
                loop = st.copy()
                self.walk(node.body, loop)
                assign_state(st, loop if truth is True else merge([st.copy(), loop]))
        elif isinstance(node, (ast.With, getattr(ast, "AsyncWith", ast.With))):
            self.effects([item.context_expr for item in node.items], st, where)
            for item in node.items:
                if item.optional_vars is not None:
                    for name in target_names(item.optional_vars):
                        st.bind(name)
            self.walk(node.body, st)
        elif isinstance(node, getattr(ast, "Try", ())) or type(node).__name__ in ("TryStar", "TryExcept",
                                                                               "TryFinally"):
            self.try_(node, st)
        elif type(node).__name__ == "Match":
            self.effects([node.subject], st, where)
            self.branches([case.body for case in node.cases] + [[]], st)
        elif isinstance(node, ast.Raise):
            st.failure = self.raised(node, where)
        elif isinstance(node, ast.Expr):
            self.effects([node.value], st, where)
        elif isinstance(node, ast.Global):
            pass

    def branches(self, bodies: "List[List[Any]]", st: "State") -> None:
        paths = []
        for body in bodies:
            path = st.copy()
            self.walk(body, path)
            paths.append(path)
        assign_state(st, merge(paths))

    def try_(self, node: "Any", st: "State") -> None:
        before = st.copy()
        self.walk(node.body, st)
        failure = st.failure
        handlers = getattr(node, "handlers", [])
        if failure is not None:
            caught = None
            for handler in handlers:
                verdict = _catches(handler.type, failure.cls)
                if verdict is not False:
                    caught = (handler, verdict)
                    break
            if caught is not None:
                handler, verdict = caught
                rescued = st.copy()
                rescued.failure = None
                if handler.name:
                    rescued.bind(handler.name)
                self.walk(handler.body, rescued)
                if handler.name:
                    rescued.unbind(handler.name)
                if failure.certain and verdict:
                    assign_state(st, rescued)
                else:  # perhaps it fails, perhaps it is caught: both are possible
                    ran = before.copy()
                    self.walk(node.body, ran)
                    ran.failure = failure if verdict is None else None
                    if ran.failure is None:
                        self.walk(getattr(node, "orelse", []), ran)
                    assign_state(st, merge([rescued, ran]) if failure.certain else merge([rescued, without_failure(ran)]))
        else:
            self.walk(getattr(node, "orelse", []), st)
        pending = st.failure
        st.failure = None
        self.walk(getattr(node, "finalbody", []), st)
        if st.failure is None:
            st.failure = pending

    def raised(self, node: "Any", where: str) -> "Failure":
        ast = self.ast
        exc = node.exc
        if exc is None:
            return Failure("RuntimeError", "No active exception to reraise", True, where)
        call = exc if isinstance(exc, ast.Call) else None
        name = (call.func if call else exc)
        cls = name.id if isinstance(name, ast.Name) else None
        message = None
        if cls and _builtin_class(cls) is not None:
            if call is None:
                message = ""
            elif len(call.args) == 1 and not call.keywords:
                ok, value = const(call.args[0])
                if ok and isinstance(value, str):
                    message = value
            elif not call.args and not call.keywords:
                message = ""
        return Failure(cls or "Exception", message, cls is not None and _builtin_class(cls) is not None, where)


def _split(name: str) -> "Tuple[str, str]":
    module, _, part = name.rpartition(".")
    return module, part


def _catches(handler_type: "Any", cls: str) -> "Optional[bool]":
    """Whether ``except handler_type`` catches exception class ``cls``."""
    ast = lazy_ast()
    if handler_type is None:
        return True
    raised = _builtin_class(cls)
    names = handler_type.elts if isinstance(handler_type, ast.Tuple) else [handler_type]
    verdict: "Optional[bool]" = False
    for node in names:
        name = node.id if isinstance(node, ast.Name) else (node.attr if isinstance(node, ast.Attribute) else None)
        handled = _builtin_class(name)
        if handled is None or raised is None:
            verdict = None
            continue
        if issubclass(raised, handled):
            return True
    return verdict


def _declared_globals(function: "Any") -> "Set[str]":
    ast = lazy_ast()
    declared: "Set[str]" = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Global):
            declared.update(node.names)
    return declared
