"""The module-level statements of one module, run as the model runs them (see :mod:`kbackend.modgraph`).

:class:`Frame` follows a module's top level in order: each ``import`` and
``from ... import`` goes to the modelled import system
(:class:`kbackend.modgraph_loader.Walk`); a ``try`` runs its body and, on a
failure, the handler that catches its class (when that can be told);
an ``if`` runs the branch its condition decides, or, undecidable, only
defines the names either branch may bind; a top-level ``raise`` fails the
import with its class and message.  Loops and everything else whose running
cannot be told define names and import nothing.  What expressions read and
evaluate is :class:`kbackend.modgraph_expressions.Expressions`.
"""

import ast
import builtins

from .modgraph_expressions import Expressions
from .modgraph_model import NO_VALUE, Failure, Module

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional

    from .modgraph_loader import Walk


def _builtin_exception(name: str) -> "Optional[type]":
    value = getattr(builtins, name, None)
    return value if isinstance(value, type) and issubclass(value, BaseException) else None


def _caught(cls: str, handler: "Any", frame: "Frame") -> "Optional[bool]":
    """Whether an ``except`` clause catches ``cls``: True, False, or None (cannot tell).

    Built-in classes are compared by their real hierarchy; a class of the
    library's own (raised or caught) derives from Exception as far as can
    be told, so only ``Exception``/``BaseException`` certainly catch it."""
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    raised = _builtin_exception(cls)
    answer: "Optional[bool]" = False
    for node in names:
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
        caught = _builtin_exception(name) if name else None
        if caught is None:
            answer = None  # a class of the library's own: cannot tell what it derives from
        elif raised is not None and issubclass(raised, caught):
            return True
        elif raised is None and caught in (Exception, BaseException):
            return True
    return answer


class Frame(Expressions):
    """Module-level execution of one module's statements."""

    def __init__(self, walk: "Walk", module: "Module") -> None:
        self.walk = walk
        self.module = module
        self.bindings: "Dict[str, Any]" = {}  # name -> Module or qualified name (str) or None
        self.package = module.name if module.locations is not None else module.name.rpartition(".")[0]

    def bind(self, name: str, value: "Any") -> None:
        self.module.defined.add(name)
        self.bindings[name] = value
        self.module.values.pop(name, None)
        if isinstance(value, str):
            self.module.aliases[name] = value
        else:
            self.module.aliases.pop(name, None)

    def run(self, body: "List[Any]") -> None:
        for statement in body:
            self.statement(statement)

    def statement(self, node: "Any") -> None:
        kind = type(node).__name__
        if kind == "Import":
            for alias in node.names:
                module = self.walk.import_module(alias.name)
                if alias.asname:
                    self.bind(alias.asname, module)
                else:
                    top = alias.name.split(".")[0]
                    self.bind(top, self.walk.modules.get(top, module))
        elif kind == "ImportFrom":
            self.import_from(node)
        elif kind == "Try" or kind == "TryStar":
            self.try_statement(node)
        elif kind == "If":
            self.check(node.test)  # the condition runs, whatever it decides
            test = self.evaluate(node.test)
            if test is NO_VALUE:
                self.define_only(node.body + node.orelse)
            else:
                self.run(node.body if test else node.orelse)
        elif kind in ("FunctionDef", "AsyncFunctionDef", "ClassDef"):
            for expression in list(node.decorator_list) + list(getattr(node, "bases", [])):
                self.check(expression)
            self.bind(node.name, None)
        elif kind in ("Assign", "AnnAssign", "AugAssign"):
            value = getattr(node, "value", None)
            if value is not None:
                self.check(value)
            targets = node.targets if kind == "Assign" else [node.target]
            result = self.evaluate(value) if kind == "Assign" and value is not None else NO_VALUE
            for target in targets:
                for name in _target_names(target):
                    self.bind(name, None)
                if isinstance(target, ast.Name) and result is not NO_VALUE:
                    self.module.values[target.id] = result
        elif kind == "Expr":
            self.check(node.value)
        elif kind == "Raise":
            self.raise_statement(node)
        elif kind in ("With", "AsyncWith"):
            for item in node.items:
                self.check(item.context_expr)
                if item.optional_vars is not None:
                    for name in _target_names(item.optional_vars):
                        self.bind(name, None)
            self.run(node.body)
        elif kind == "Delete":
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.module.defined.discard(target.id)
                    self.bindings.pop(target.id, None)
        else:  # loops and the rest: whether (and how often) they run cannot be told
            self.define_only([node])

    def define_only(self, body: "List[Any]") -> None:
        """Statements that may or may not run: their names may exist, nothing is imported."""
        for node in body:
            self.check(node, runs=False)
            child: "Any"
            for child in ast.walk(node):
                kind = type(child).__name__
                if kind in ("FunctionDef", "AsyncFunctionDef", "ClassDef"):
                    self.bind(child.name, None)
                elif kind == "Name" and isinstance(child.ctx, ast.Store):
                    self.bind(child.id, None)
                elif kind in ("Import", "ImportFrom"):
                    for alias in child.names:
                        if alias.name == "*":
                            self.module.dynamic = True
                        else:
                            self.bind(alias.asname or alias.name.split(".")[0], None)
            if isinstance(node, (ast.Import, ast.ImportFrom)) or any(
                    isinstance(child, (ast.Import, ast.ImportFrom)) for child in ast.walk(node)):
                self.walk.uncertain.append("{}:{}".format(self.module.name, getattr(node, "lineno", "?")))

    def absolute(self, node: "Any") -> str:
        if not node.level:
            return node.module
        parts = self.package.split(".") if self.package else []
        if node.level > len(parts):
            raise Failure("ValueError" if self.walk.version < (3, 9) else "ImportError",
                          "attempted relative import beyond top-level package", self.module.name)
        base = ".".join(parts[:len(parts) - node.level + 1]) if node.level > 1 else self.package
        return base + ("." + node.module if node.module else "")

    def import_from(self, node: "Any") -> None:
        name = self.absolute(node)
        module = self.walk.import_module(name)
        for alias in node.names:
            if alias.name == "*":
                self.module.dynamic = True
                continue
            value = self.from_name(module, alias.name)
            self.bind(alias.asname or alias.name, value)
            if not isinstance(value, Module) and isinstance(module.values.get(alias.name, NO_VALUE), str):
                self.module.values[alias.asname or alias.name] = module.values[alias.name]

    def from_name(self, module: "Module", name: str) -> "Any":
        """``from module import name``: an attribute, else a submodule (``_handle_fromlist``)."""
        full = module.name + "." + name
        if name in module.defined:
            return self.walk.modules.get(full) or module.aliases.get(name, full)
        if module.locations is not None:
            try:
                return self.walk.import_module(full)
            except Failure as failure:
                if not (failure.cls == "ModuleNotFoundError" and failure.module == full):
                    raise
        if module.dynamic:
            return full
        raise self.walk.cannot_import(name, module)

    def try_statement(self, node: "Any") -> None:
        try:
            self.run(node.body)
        except Failure as failure:
            handled = None
            for handler in node.handlers:
                caught = _caught(failure.cls, handler, self)
                if caught is None:
                    self.walk.uncertain.append("{}: {} in a try".format(self.module.name, failure.text()))
                    handled = handler
                    break
                if caught:
                    handled = handler
                    break
            if handled is None:
                self.run(node.finalbody)
                raise
            self.walk.optional.append({"importer": self.module.name, "error": failure.text(),
                                       "module": failure.module})
            if handled.name:
                self.bind(handled.name if isinstance(handled.name, str) else handled.name.id, None)
            self.run(handled.body)
        else:
            self.run(node.orelse)
        self.run(node.finalbody)

    def raise_statement(self, node: "Any") -> None:
        exc = node.exc
        if exc is None:
            return  # a bare raise re-raises what a handler caught: the model never gets here with one
        call = exc if isinstance(exc, ast.Call) else None
        target = call.func if call is not None else exc
        cls = target.id if isinstance(target, ast.Name) else (target.attr if isinstance(target, ast.Attribute) else None)
        if cls is None or not cls[:1].isupper():
            raise Failure("Exception", None, self.module.name)
        message: "Optional[str]" = ""
        if call is not None:
            if len(call.args) == 1 and not call.keywords:
                value = self.evaluate(call.args[0])
                message = value if isinstance(value, str) else None
            elif call.args or call.keywords:
                message = None
        raise Failure(cls, message, self.module.name)


def _target_names(target: "Any") -> "List[str]":
    return [node.id for node in ast.walk(target) if isinstance(node, ast.Name)]

