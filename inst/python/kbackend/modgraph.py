"""Walk the modules ``import keras`` loads, statically, and find the first failure.

Where every package on the search path is a whole installation from one
environment, the import works whenever its top-level names are found.  A
stub, a partial copy, a user's file of the same name as a module, or two
environments' site folders on one path break it further down: an import of
``jax.experimental`` that the winning ``jax`` does not contain, a ``from
random import Random`` met by the user's ``random.py``, a library that
refuses the version of another it finds beside it.  This module follows the
import statements of each module that runs (parsed with :mod:`ast`, never
executed) in the order Python meets them, resolving every name through the
packages that win on the modelled search path, and reports the first
exception the import system (or a module's own top-level ``raise``) gives,
worded as the interpreter words it.

What runs is modelled, not guessed: module-level statements in order;
``try`` bodies with the handlers that catch each exception class;
``if`` statements only where the condition can be evaluated here (the
interpreter's version and platform, the Keras backend already predicted, a
library's ``__version__`` read from its files); function bodies never.
Anything that cannot be told (an import inside an undecidable ``if``, a
module that builds its namespace dynamically, a compiled extension) is
assumed to work: a failure is reported only when it is certain.
"""

import ast
import builtins
import importlib.machinery
import os
import re
import sys
import tokenize  # noqa: F401 - loaders' get_source imports it: loaded now, from the standard library

from . import discovery

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional, Set, Tuple

#: Source that makes a module's namespace or its submodules dynamic: its
#: attributes (or submodules) cannot be listed from its statements.
_DYNAMIC = re.compile(r"\b__getattr__\b|\bglobals\(\)|\bsys\.modules\b|\bexec\(|\b__path__\b|\bsetattr\(|"
                      r"\bmeta_path\b|\bvars\(\)|\b__dict__\b|\bimport_module\b|\b__import__\b|\b_convert_?\b")
#: Source that adds submodules beyond the package's folder, or import hooks.
_DYNAMIC_PATHS = re.compile(r"\b__path__\b|\bsys\.modules\b|\bextend_path\b")
_FINDERS = re.compile(r"\bmeta_path\s*(\.\s*(insert|append)|\+?=)|\bpath_hooks\b")
_NO_VALUE = object()
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


def _parsed(source: str, filename: str) -> "Any":
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




class Walk:
    """One modelled ``import``: the modules loaded so far, as in ``sys.modules``."""

    def __init__(self, path: "List[str]", loaded: "Any" = (), facts: "Optional[Dict[str, Any]]" = None,
                 version: "Optional[Tuple[int, ...]]" = None, environ: "Optional[Dict[str, str]]" = None) -> None:
        self.path = path
        self.environ = dict(os.environ if environ is None else environ)
        self.loaded = frozenset(loaded)
        self.facts = dict(facts or {})
        self.version = tuple(version or sys.version_info[:3])
        self.modules: "Dict[str, Module]" = {}
        self.order: "List[str]" = []
        self.optional: "List[Dict[str, Any]]" = []
        self.uncertain: "List[str]" = []
        self.stack: "List[str]" = []
        self.dynamic_roots: "Set[str]" = set()
        self.trust: "Dict[str, bool]" = {}
        self.maybe: "Optional[Failure]" = None  # the first failure in code that may not run

    # -- the import system ---------------------------------------------------------------------

    def import_module(self, name: str) -> "Module":
        """``import name`` (every parent first); raises :class:`Failure`."""
        known = self.modules.get(name)
        if known is not None:
            return known
        top = name.split(".")[0]
        if name in self.loaded or top in self.loaded:
            return self._opaque(name, None)
        if "." in name:
            parent_name, _, child = name.rpartition(".")
            parent = self.import_module(parent_name)
            known = self.modules.get(name)  # the parent may have imported it
            if known is not None:
                return known
            if parent.locations is None:
                if parent.dynamic or parent.source is None:
                    return self._opaque(name, None)
                raise Failure("ModuleNotFoundError", "No module named {!r}; {!r} is not a package".format(
                    name, parent_name), name)
            try:
                spec = importlib.machinery.PathFinder.find_spec(name, list(parent.locations))
            except Exception:  # noqa: BLE001 - a path hook may raise anything
                return self._opaque(name, None)
            if spec is None:
                if parent.dynamic_paths or (parent.source is None and parent.dynamic) or top in self.dynamic_roots:
                    self.uncertain.append(name)
                    return self._opaque(name, None)
                raise Failure("ModuleNotFoundError", "No module named {!r}".format(name), name)
            module = self._load(name, spec)
            if not parent.dynamic:
                parent.defined.add(child)
            return module
        if name in sys.builtin_module_names:
            return self._opaque(name, "built-in")
        try:
            if importlib.machinery.FrozenImporter.find_spec(name) is not None:
                return self._opaque(name, "frozen")
        except Exception:  # noqa: BLE001
            pass
        spec = None
        portion = None
        portions: "List[str]" = []
        for entry in self.path:
            try:
                spec = importlib.machinery.PathFinder.find_spec(name, [entry])
            except Exception:  # noqa: BLE001 - third-party path hooks may raise anything
                spec = None
            if spec is None:
                continue
            if spec.loader is None:  # a namespace portion; a regular package later still wins
                portion = portion or spec
                portions.extend(spec.submodule_search_locations or [])
                spec = None
                continue
            break
        if spec is None and portion is not None:
            module = Module(name, None, portions)
            module.state = "done"
            self.modules[name] = module
            self.order.append(name)
            return module
        if spec is None:
            raise Failure("ModuleNotFoundError", "No module named {!r}".format(name), name)
        return self._load(name, spec)

    def _opaque(self, name: str, origin: "Optional[str]") -> "Module":
        module = Module(name, origin, None)
        module.dynamic = True
        module.state = "done"
        self.modules[name] = module
        return module

    def _load(self, name: str, spec: "Any") -> "Module":
        locations = list(spec.submodule_search_locations) if spec.submodule_search_locations is not None else None
        module = Module(name, spec.origin if spec.loader is not None else None, locations)
        if spec.loader is None:  # a namespace package: nothing runs
            module.state = "done"
            self.modules[name] = module
            self.order.append(name)
            return module
        source = None
        try:
            if isinstance(spec.loader, importlib.machinery.SourceFileLoader) or hasattr(spec.loader, "archive"):
                source = spec.loader.get_source(name)
        except Exception:  # noqa: BLE001 - unreadable: nothing can be told
            source = None
        self.modules[name] = module
        self.order.append(name)
        if source is None:  # an extension, bytecode only: runs, and can define anything
            module.dynamic = True
            module.state = "done"
            return module
        module.source = source
        try:
            tree = _parsed(source, spec.origin or name)
        except SyntaxError as exc:
            del self.modules[name]
            raise Failure("SyntaxError", "{} ({}, line {})".format(
                exc.msg, os.path.basename(exc.filename or spec.origin or ""), exc.lineno), name) from None
        except (ValueError, TypeError, MemoryError, RecursionError):
            module.dynamic = True
            module.state = "done"
            return module
        if self.trusted(name, spec.origin):
            # a whole installation or the standard library: its namespaces are
            # built in ways statements do not show; only its imports are followed
            module.dynamic = True
        if _DYNAMIC.search(source):
            module.dynamic = True
            module.dynamic_paths = bool(_DYNAMIC_PATHS.search(source))
            if _FINDERS.search(source):
                self.dynamic_roots.add(name.split(".")[0])
        self.stack.append(name)
        try:
            Frame(self, module).run(tree.body)
        except Failure as failure:
            self.modules.pop(name, None)  # a failed import leaves nothing in sys.modules
            if failure.chain is None:
                failure.chain = list(self.stack)
            raise
        finally:
            self.stack.pop()
        module.state = "done"
        return module

    def trusted(self, name: str, origin: "Optional[str]") -> bool:
        """Whether a module comes from a folder of installed distributions
        (one with ``*.dist-info``/``*.egg-info``) or the standard library,
        judged once per top-level name from where that was found."""
        top = name.split(".")[0]
        if top not in self.trust:
            folder = os.path.dirname(origin or "")
            for _ in range(name.count(".") + (1 if os.path.basename(origin or "").startswith("__init__.") else 0)):
                folder = os.path.dirname(folder)
            try:
                entries = os.listdir(folder or os.curdir)
            except OSError:
                entries = []
            self.trust[top] = any(entry.endswith((".dist-info", ".egg-info")) for entry in entries) or (
                "os.py" in entries and "importlib" in entries) or os.path.basename(folder) == "lib-dynload" \
                or "EGG-INFO" in entries or self._laid_out_like_the_real_one(top, folder)
        return self.trust[top]

    @staticmethod
    def _laid_out_like_the_real_one(top: str, folder: str) -> bool:
        """A known library without metadata beside it (in a zip, an egg, a
        checkout) whose package has the parts every real copy has: its
        namespace is built like the real one's, so only its imports are
        followed, as for an installed distribution."""
        parts = discovery.SIGNATURES.get(top, ())
        return any(discovery.location_exists(os.path.join(folder, top, part)) for part in parts)

    def version_of(self, module: "Module") -> "Optional[str]":
        """A package's ``__version__``: its own literal, else its distribution's metadata."""
        value = module.values.get("__version__", _NO_VALUE)
        if isinstance(value, str):
            return value
        if module.file is None:
            return None
        folder = os.path.dirname(module.file)
        if module.locations is not None:
            folder = os.path.dirname(folder)
        wanted = module.name.split(".")[0].lower()
        try:
            entries = os.listdir(folder)
        except OSError:
            return None
        for entry in entries:
            stem, _, suffix = entry.rpartition(".")
            dist, _, version = stem.partition("-")
            if suffix in ("dist-info", "egg-info") and re.sub(r"[-_.]+", "_", dist).lower() == wanted and version:
                return version.split("-")[0]
        return None

    # -- messages, as this interpreter words them ------------------------------------------------

    def shadowing(self, module: "Module") -> "Tuple[bool, bool]":
        """Python 3.13+: whether a module may shadow another (its file sits in
        the first search-path folder, the script's), and whether that is a
        standard module's name; the messages then suggest renaming it."""
        if self.version < (3, 13) or not module.file or not self.path or getattr(sys.flags, "safe_path", False):
            return False, False
        try:
            first = os.path.abspath(self.path[0] or os.curdir)
        except OSError:
            return False, False
        if os.path.dirname(os.path.abspath(module.file)) != first:
            return False, False
        names = getattr(sys, "stdlib_module_names", ())
        return True, module.name in names

    def cannot_import(self, name: str, module: "Module") -> "Failure":
        if self.version < (3, 7):
            return Failure("ImportError", "cannot import name {!r}".format(name), module.name)
        where = module.file or "unknown location"
        if module.state == "running" and self.version >= (3, 8):
            text = "cannot import name {!r} from partially initialized module {!r} (most likely due to a circular " \
                   "import) ({})".format(name, module.name, where)
        else:
            text = "cannot import name {!r} from {!r} ({})".format(name, module.name, where)
        return Failure("ImportError", text, module.name)

    def no_attribute(self, name: str, module: "Module") -> "Failure":
        shadow, stdlib = self.shadowing(module)
        if stdlib:
            text = "module {!r} has no attribute {!r} (consider renaming '{}' since it has the same name as the " \
                   "standard library module named {!r} and the import system gives it precedence)".format(
                       module.name, name, module.file, module.name)
        elif module.state == "running" and shadow:
            text = "module {!r} has no attribute {!r} (consider renaming '{}' if it has the same name as a " \
                   "third-party module you intended to import)".format(module.name, name, module.file)
        elif module.state == "running" and self.version >= (3, 8):
            text = "partially initialized module {!r} has no attribute {!r} (most likely due to a circular " \
                   "import)".format(module.name, name)
        else:
            text = "module {!r} has no attribute {!r}".format(module.name, name)
        return Failure("AttributeError", text, module.name)


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


class Frame:
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
            if test is _NO_VALUE:
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
            result = self.evaluate(value) if kind == "Assign" and value is not None else _NO_VALUE
            for target in targets:
                for name in _target_names(target):
                    self.bind(name, None)
                if isinstance(target, ast.Name) and result is not _NO_VALUE:
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
            if not isinstance(value, Module) and isinstance(module.values.get(alias.name, _NO_VALUE), str):
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

    # -- expressions -------------------------------------------------------------------------------

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
        """The value of a simple expression, or ``_NO_VALUE`` when it cannot be told here."""
        try:
            return self._value(node)
        except Exception:  # noqa: BLE001 - anything unusual is "cannot tell"
            return _NO_VALUE

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


def _target_names(target: "Any") -> "List[str]":
    return [node.id for node in ast.walk(target) if isinstance(node, ast.Name)]


def walk(name: str, path: "List[str]", loaded: "Any" = (), facts: "Optional[Dict[str, Any]]" = None,
         then: "Tuple[str, ...]" = (), environ: "Optional[Dict[str, str]]" = None) -> "Dict[str, Any]":
    """Model ``import name`` (then reading each attribute in ``then`` from it).

    Returns ``{"error": "Class: message" or None, "module": the module whose
    import failed, "modules": every module loaded in order, "optional":
    failures caught by a ``try``, "uncertain": what could not be told}``.
    ``error`` is None unless the failure is certain; a message of None
    means only the exception class is certain (the error is the class alone).
    """
    model = Walk(path, loaded, facts, environ=environ)
    error: "Optional[Failure]" = None
    internal: "Optional[str]" = None
    try:
        module = model.import_module(name)
        for attribute in then:
            if attribute not in module.defined and not module.dynamic and module.source is not None \
                    and name + "." + attribute not in model.modules:
                raise model.no_attribute(attribute, module)
    except Failure as failure:
        # code that may have run before it (an undecidable condition) fails
        # first where it runs: the likelier answer, the class the same or not
        error = model.maybe or failure
    except RecursionError:  # an import chain deeper than this interpreter can follow: cannot tell
        model.uncertain.append("recursion")
    except Exception as exc:  # noqa: BLE001 - a gap in the model must never break the report
        internal = "{}: {}".format(type(exc).__name__, exc)
    tops: "Dict[str, str]" = {}
    for loaded_name in model.order:
        found = model.modules.get(loaded_name)
        if "." in loaded_name or found is None or not found.file:
            continue
        folder = os.path.dirname(found.file)
        tops[loaded_name] = os.path.dirname(folder) if found.locations is not None else folder
    return {"error": error.text() if error else None, "class": error.cls if error else None, "tops": tops,
            "module": error.module if error else None, "modules": list(model.order),
            "optional": model.optional, "uncertain": model.uncertain[:50], "internal": internal,
            "chain": (error.chain or []) if error else []}
