"""Judge a Keras 2 custom backend module from its source, never running it.

Multi-backend Keras 2.2+ imports any unknown ``KERAS_BACKEND`` as a module
(``importlib.import_module``), turns an ``ImportError`` raised while doing so
into ``ValueError: Unable to import backend : NAME`` (any other exception,
such as a ``SyntaxError``, passes through), requires some entries in the
module's ``__dict__`` in a fixed order, and 2.3 then imports a list of names
from the loader module whose namespace the custom module's entries joined.
The entries, their order, the messages and the imported names are read from
the installed Keras's own source (``keras/backend/load_backend.py`` and
``keras/backend/__init__.py``, or the package's ``__init__.py`` in Keras
2.2.0-2.2.4, which checks in place).

The module is never run.  Its source is compiled (which executes nothing) for
the ``SyntaxError`` Python would raise, and its module-level statements are
walked in order as Python would run them, binding names the way Python binds
them: assignments, definitions, imports (``from x import *`` honours
``__all__`` or the public names of ``x``), ``del``, branches on conditions
that can be decided here (``sys.version_info``, ``sys.platform``,
``TYPE_CHECKING``, constants), ``try``/``except`` around imports that cannot
be found.  The user's own modules (outside site-packages and the standard
library) that it imports are judged the same way, because they run too.
Names bound only dynamically (``globals()[...]``, ``exec``, ``setattr`` on the
module) make the answer uncertain: the likeliest answer is given and the
doubt is returned as a note, which becomes a ``problems`` entry.
"""

import os
import sys

from . import _stdlib

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

    Locate = Callable[[str], Optional[str]]

#: Used only when the installed Keras's source cannot be read.
REQUIRED = ("placeholder", "variable", "function")
MISSING_ENTRY = "Invalid backend. Missing required entry : "
UNABLE = "Unable to import backend : "

# Modules still running their own import when Keras imports the custom
# backend: Python hands back the half-built module, which holds none of the
# backend API yet, however complete its source looks.
_MID_IMPORT = frozenset(("keras", "keras.backend", "keras.backend.load_backend"))
_MAX_DEPTH = 8
_MAX_MODULES = 400
_IMPORT_FAILURES = ("ImportError", "ModuleNotFoundError")


def _ast() -> "Any":
    with _stdlib.first():  # only this rare path needs it; keeps start-up lean
        import ast
    return ast


def _read(path: str) -> "Optional[bytes]":
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _read_tree(path: str) -> "Any":
    data = _read(path)
    if data is None:
        return None
    return _parse(data, path)


def _parse(data: "Any", path: str) -> "Any":
    ast = _ast()
    with _stdlib.first():
        import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(data, path)
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
        return None


def compile_error(data: bytes, path: str) -> "Optional[str]":
    """The exception importing this source raises before running a line,
    as ``"Class: message"`` (Python's own ``compile``, which runs nothing)."""
    with _stdlib.first():
        import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, TypeError) as exc:
        message = str(exc)
        return "{}: {}".format(type(exc).__name__, message) if message else type(exc).__name__
    except (RecursionError, MemoryError):
        return None
    return None


def _const(node: "Any") -> "Tuple[bool, Any]":
    """(True, value) for a literal constant node on every Python 3.6+."""
    ast = _ast()
    if isinstance(node, getattr(ast, "Constant", ())):
        constant: "Any" = node
        return True, constant.value
    if sys.version_info < (3, 8):  # older parsers make these; 3.8+ makes Constant only (and deprecates them)
        for kind, field in (("Num", "n"), ("Str", "s"), ("Bytes", "s"), ("NameConstant", "value")):
            cls = getattr(ast, kind, None)
            if cls is not None and isinstance(node, cls):
                return True, getattr(node, field)
    if isinstance(node, (ast.Tuple, ast.List)):
        values = [_const(item) for item in node.elts]
        if all(ok for ok, _ in values):
            return True, tuple(value for _, value in values)
    return False, None


def _strings(node: "Any") -> "Optional[List[str]]":
    """A list/tuple of string constants, else None."""
    ok, value = _const(node)
    if ok and isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def trusted(path: "Optional[str]") -> bool:
    """Installed code (site-packages, the standard library): assumed to import
    cleanly; only its bindings are read.  Anything else is the user's code,
    which is judged statement by statement, imports included."""
    if not path:
        return True
    parts = os.path.normcase(os.path.abspath(path)).split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return True
    stdlib = os.path.normcase(os.path.dirname(os.__file__))
    return os.path.normcase(os.path.abspath(path)).startswith(stdlib + os.sep)


class _Failure:
    """An exception the module's import raises: class, message (None when
    only the class is known), whether it certainly happens, and where."""

    __slots__ = ("certain", "cls", "message", "where")

    def __init__(self, cls: str, message: "Optional[str]", certain: bool, where: str) -> None:
        self.cls, self.message, self.certain, self.where = cls, message, certain, where

    def text(self) -> "Optional[str]":
        if self.message is None:
            return None
        return "{}: {}".format(self.cls, self.message) if self.message else self.cls


class _State:
    __slots__ = (
        "aliases",
        "all",
        "all_known",
        "all_tuple",
        "anything",
        "failure",
        "functions",
        "maybe",
        "notes",
        "origins",
        "sure",
    )

    def __init__(self) -> None:
        self.sure: "Set[str]" = set()
        self.maybe: "Set[str]" = set()
        self.anything: "List[str]" = []  # why any name might be bound
        self.failure: "Optional[_Failure]" = None
        self.notes: "List[str]" = []
        self.aliases: "Dict[str, str]" = {}  # local name -> module it names
        self.origins: "Dict[str, Tuple[str, str]]" = {}  # name -> (module, attribute) it came from
        self.all: "Optional[List[str]]" = None
        self.all_known = True
        self.functions: "Dict[str, Set[str]]" = {}  # function -> names it declares global and binds
        self.all_tuple = False  # __all__ is a tuple (a list cannot be added to it)

    def copy(self) -> "_State":
        other = _State()
        other.sure, other.maybe = set(self.sure), set(self.maybe)
        other.anything, other.failure, other.notes = list(self.anything), self.failure, list(self.notes)
        other.aliases, other.origins = dict(self.aliases), dict(self.origins)
        other.all_tuple = self.all_tuple
        other.all, other.all_known, other.functions = (list(self.all) if self.all is not None else None,
                                                       self.all_known, dict(self.functions))
        return other

    def bind(self, name: str, origin: "Optional[Tuple[str, str]]" = None) -> None:
        self.sure.add(name)
        self.maybe.discard(name)
        if origin is not None:
            self.origins[name] = origin
        else:
            self.origins.pop(name, None)
        self.aliases.pop(name, None)

    def unbind(self, name: str) -> None:
        self.sure.discard(name)
        self.maybe.discard(name)
        self.origins.pop(name, None)
        self.aliases.pop(name, None)

    def has(self, name: str) -> "Optional[bool]":
        """True: bound; False: certainly not; None: cannot tell."""
        if name in self.sure:
            return True
        if name in self.maybe or self.anything:
            return None
        return False


def _merge(paths: "List[_State]") -> "_State":
    """The state after one of several possible paths ran."""
    live = [p for p in paths if p.failure is None or not p.failure.certain]
    failed = [p for p in paths if p.failure is not None and p.failure.certain]
    if not live:
        result = failed[0].copy()
        texts = {p.failure.text() for p in failed if p.failure is not None}
        if len(texts) > 1 and result.failure is not None:
            result.failure = _Failure(result.failure.cls, None, True, result.failure.where)
        return result
    result = live[0].copy()
    for other in live[1:]:
        union = (result.sure | result.maybe | other.sure | other.maybe)
        result.sure &= other.sure
        result.maybe = union - result.sure
        result.anything += [a for a in other.anything if a not in result.anything]
        result.notes += [n for n in other.notes if n not in result.notes]
        result.origins.update(other.origins)
        result.aliases.update(other.aliases)
        if result.all != other.all:
            result.all_known = False
        result.functions.update(other.functions)
        if result.failure is None:
            result.failure = other.failure
    for path in failed:
        if path.failure is not None and result.failure is None:
            result.failure = _Failure(path.failure.cls, path.failure.message, False, path.failure.where)
    return result


class Summary:
    """What running one module leaves behind, as far as can be told."""

    __slots__ = ("dynamic", "name", "path", "state")

    def __init__(self, name: str, path: str, state: "_State", dynamic: bool) -> None:
        self.name, self.path, self.state, self.dynamic = name, path, state, dynamic

    def exports(self) -> "Tuple[Set[str], Set[str], List[str]]":
        """(sure, maybe, anything) that ``from this import *`` binds."""
        st = self.state
        if st.all is not None and st.all_known:
            names = set(st.all)
            return names, set(), []
        sure = {n for n in st.sure if not n.startswith("_")}
        maybe = {n for n in st.maybe if not n.startswith("_")}
        if st.all is not None:  # an __all__ whose contents cannot be read: public names, maybe
            return set(), sure | maybe, list(st.anything)
        return sure, maybe, list(st.anything)


class Judge:
    """Reads modules once each and answers for the one Keras imports."""

    def __init__(self, locate: "Locate") -> None:
        self.locate = locate
        self.cache: "Dict[str, Optional[Summary]]" = {}
        self.running: "Set[str]" = set()
        self.read = 0
        self.files: "List[str]" = []  # the user's files read: the answer holds while they are unchanged

    # -- finding modules -------------------------------------------------------------------------------
    def find(self, name: str, depth: int = 0) -> "Tuple[Optional[str], bool]":
        """(origin, certain): where ``import name`` lands, following packages
        that forward their submodules at run time when the plain search fails."""
        try:
            origin = self.locate(name)
        except Exception:  # noqa: BLE001 - a finder is not supposed to raise
            origin = None
        if origin is not None or "." not in name or depth > _MAX_DEPTH:
            return origin, True
        parent_name, _, part = name.rpartition(".")
        parent, sure = self.find(parent_name, depth + 1)
        if parent is None or not parent.endswith("__init__.py"):
            return None, sure
        if not sure:  # the package itself was found through a forwarding: search its folder
            located = _in_folder(name, os.path.dirname(parent))
            if located is not None:
                return located, False
        summary = self.summary(parent_name, parent, depth + 1)
        if summary is None or not summary.dynamic:
            return None, sure
        # The package changes its own __path__ or sys.modules when it runs:
        # its binding of ``part`` names the module that import finds.
        via = summary.state.origins.get(part)
        if via is None:
            return None, False
        target = via[0] + "." + via[1] if via[0] else via[1]
        found, _ = self.find(target, depth + 1)
        if found is None:
            found = self._forwarded(target, summary, depth)
        return found, False

    def _forwarded(self, target: str, summary: "Summary", depth: int) -> "Optional[str]":
        """``target`` under the folder of the package that bound it: a package
        that forwards another top-level name's submodules to its own tree."""
        holder = summary.state.origins.get("__holder__")
        roots = [os.path.dirname(summary.path)]
        if holder and holder[0] not in roots:
            roots.insert(0, holder[0])
        tail = target.split(".")[1:]
        for root in roots:
            base = os.path.join(root, *tail) if tail else root
            for candidate in (os.path.join(base, "__init__.py"), base + ".py"):
                if os.path.isfile(candidate):
                    return candidate
        return None

    # -- reading modules ---------------------------------------------------------------------------------
    def summary(self, name: str, path: str, depth: int = 0) -> "Optional[Summary]":
        key = name + "\0" + path
        if key in self.cache:
            return self.cache[key]
        if depth > _MAX_DEPTH or self.read >= _MAX_MODULES or not path.endswith(".py"):
            return None
        self.read += 1
        if not trusted(path):
            self.files.append(path)
        data = _read(path)
        if data is None:
            self.cache[key] = None
            return None
        user = not trusted(path)
        state = _State()
        if user:
            error = compile_error(data, path)
            if error is not None:
                cls, _, message = error.partition(": ")
                state.failure = _Failure(cls, message, True, path)
                summary = Summary(name, path, state, False)
                self.cache[key] = summary
                return summary
        tree = _parse(data, path)
        if tree is None:
            self.cache[key] = None
            return None
        dynamic = (b"__path__" in data or b"modules" in data) and _is_dynamic(tree)
        self.running.add(key)
        try:
            walker = _Walker(self, name, path, os.path.basename(path) == "__init__.py", user, depth)
            walker.has_globals = b"global" in data
            walker.walk(tree.body, state)
        finally:
            self.running.discard(key)
        if dynamic:
            # submodules this package forwards live under its own folder
            state.origins.setdefault("__holder__", (os.path.dirname(path), ""))
        summary = Summary(name, path, state, dynamic)
        self.cache[key] = summary
        return summary


def _in_folder(name: str, folder: str) -> "Optional[str]":
    import importlib.machinery

    try:
        spec = importlib.machinery.PathFinder.find_spec(name, [folder])
    except Exception:  # noqa: BLE001 - third-party path hooks may raise anything
        return None
    if spec is None:
        return None
    if spec.origin and spec.origin not in ("namespace", "built-in", "frozen"):
        return spec.origin
    locations = list(spec.submodule_search_locations or [])
    return locations[0] if locations else None


def _is_dynamic(tree: "Any") -> bool:
    """Whether a package rearranges the import system when it runs: stores
    into ``__path__`` or into ``sys.modules``."""
    ast = _ast()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "__path__" and isinstance(node.ctx, ast.Store):
            return True
        if isinstance(node, ast.Attribute) and node.attr == "__path__" and isinstance(node.ctx, ast.Store):
            return True
        if isinstance(node, ast.Attribute) and node.attr == "modules" and isinstance(node.value, ast.Name) \
                and node.value.id.lstrip("_") == "sys":
            return True
    return False


def _builtin_class(name: "Optional[str]") -> "Any":
    import builtins

    value = getattr(builtins, name, None) if name else None
    return value if isinstance(value, type) and issubclass(value, BaseException) else None


class _Walker:
    """Runs a module's statements in the abstract: which names get bound,
    and which exception, if any, the import raises."""

    def __init__(self, judge: "Judge", name: str, path: str, is_package: bool, user: bool, depth: int) -> None:
        self.judge, self.name, self.path, self.is_package = judge, name, path, is_package
        self.user, self.depth = user, depth
        self.ast = _ast()
        self.has_globals = True  # whether any function may declare a global (cheap test on the source)

    def walk(self, body: "List[Any]", st: "_State") -> None:
        for node in body:
            if st.failure is not None and st.failure.certain:
                return
            self.statement(node, st)

    # -- statements ----------------------------------------------------------------------------------
    def statement(self, node: "Any", st: "_State") -> None:
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
                for name in _target_names(target):
                    if st.has(name) is False and not self._builtin(name):
                        st.failure = _Failure("NameError", "name {!r} is not defined".format(name), True, where)
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
            ok, value = _const(node.iter)
            literal = isinstance(node.iter, (ast.List, ast.Tuple, ast.Set))
            runs = (ok and bool(value)) or (literal and bool(node.iter.elts))
            if (ok and not value) or (literal and not node.iter.elts):  # nothing to loop over
                self.walk(node.orelse, st)
                return
            loop = st.copy()
            for name in _target_names(node.target):
                loop.bind(name)
            self.walk(node.body, loop)
            paths = [loop] if runs else [st.copy(), loop]
            merged = _merge(paths)
            self.walk(node.orelse, merged)
            _assign_state(st, merged)
        elif isinstance(node, ast.While):
            truth = self.truth(node.test, st)
            if truth is False:
                self.walk(node.orelse, st)
            else:
                loop = st.copy()
                self.walk(node.body, loop)
                _assign_state(st, loop if truth is True else _merge([st.copy(), loop]))
        elif isinstance(node, (ast.With, getattr(ast, "AsyncWith", ast.With))):
            self.effects([item.context_expr for item in node.items], st, where)
            for item in node.items:
                if item.optional_vars is not None:
                    for name in _target_names(item.optional_vars):
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

    def branches(self, bodies: "List[List[Any]]", st: "_State") -> None:
        paths = []
        for body in bodies:
            path = st.copy()
            self.walk(body, path)
            paths.append(path)
        _assign_state(st, _merge(paths))

    def try_(self, node: "Any", st: "_State") -> None:
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
                    _assign_state(st, rescued)
                else:  # perhaps it fails, perhaps it is caught: both are possible
                    ran = before.copy()
                    self.walk(node.body, ran)
                    ran.failure = failure if verdict is None else None
                    if ran.failure is None:
                        self.walk(getattr(node, "orelse", []), ran)
                    _assign_state(st, _merge([rescued, ran]) if failure.certain else _merge([rescued, _ok(ran)]))
        else:
            self.walk(getattr(node, "orelse", []), st)
        pending = st.failure
        st.failure = None
        self.walk(getattr(node, "finalbody", []), st)
        if st.failure is None:
            st.failure = pending

    def raised(self, node: "Any", where: str) -> "_Failure":
        ast = self.ast
        exc = node.exc
        if exc is None:
            return _Failure("RuntimeError", "No active exception to reraise", True, where)
        call = exc if isinstance(exc, ast.Call) else None
        name = (call.func if call else exc)
        cls = name.id if isinstance(name, ast.Name) else None
        message = None
        if cls and _builtin_class(cls) is not None:
            if call is None:
                message = ""
            elif len(call.args) == 1 and not call.keywords:
                ok, value = _const(call.args[0])
                if ok and isinstance(value, str):
                    message = value
            elif not call.args and not call.keywords:
                message = ""
        return _Failure(cls or "Exception", message, cls is not None and _builtin_class(cls) is not None, where)

    # -- imports ------------------------------------------------------------------------------------------
    def absolute(self, module: "Optional[str]", level: int) -> "Optional[str]":
        if not level:
            return module
        parts = self.name.split(".")
        base = parts if self.is_package else parts[:-1]
        if level - 1 > len(base) or (level - 1 == len(base) and not module):
            return None
        base = base[: len(base) - (level - 1)]
        joined = ".".join(base + ([module] if module else []))
        return joined or None

    def import_module(self, name: str, st: "_State", where: str) -> bool:
        """Judge ``import name`` (its packages first); False when it fails."""
        if not self.user:
            return True
        parts = name.split(".")
        for index in range(1, len(parts) + 1):
            current = ".".join(parts[:index])
            origin, certain = self.judge.find(current)
            if origin is None:
                if certain:
                    st.failure = _Failure("ModuleNotFoundError", "No module named {!r}".format(current), True, where)
                    return False
                st.notes.append("{}: cannot tell where {!r} is found".format(where, current))
                return True
            if origin.endswith(".py") and not trusted(origin) and current != self.name:
                key = current + "\0" + origin
                if key in self.judge.running:
                    continue  # a circular import: Python hands back the half-run module
                summary = self.judge.summary(current, origin, self.depth + 1)
                if summary is not None and summary.state.failure is not None:
                    failure = summary.state.failure
                    st.failure = _Failure(failure.cls, failure.message, failure.certain, failure.where)
                    if failure.certain:
                        return False
        return True

    def own_submodule(self, module: "Optional[str]", st: "_State") -> None:
        """Importing ``pkg.sub`` from inside ``pkg`` binds ``sub`` in ``pkg``."""
        if self.is_package and module and module.startswith(self.name + "."):
            part = module[len(self.name) + 1:].split(".")[0]
            st.bind(part, (self.name, part))

    def import_from(self, node: "Any", st: "_State", where: str) -> None:
        module = self.absolute(node.module, node.level or 0)
        if module is None:
            if self.user:
                st.failure = _Failure("ImportError", "attempted relative import beyond top-level package", True, where)
            return
        if not self.import_module(module, st, where):
            return
        self.own_submodule(module, st)
        for alias in node.names:
            if alias.name == "*":
                self.star(module, st, where)
                continue
            if self.user and not self.provides(module, alias.name, st, where):
                return
            bound = alias.asname or alias.name
            st.bind(bound, (module, alias.name))
            self.own_submodule(module + "." + alias.name, st)

    def provides(self, module: str, name: str, st: "_State", where: str) -> bool:
        """``from module import name`` in the user's code: fails when the
        (user's, certainly read) module binds no such name and has no such
        submodule."""
        origin, _ = self.judge.find(module)
        loaded = sys.modules.get(module)
        if origin is not None and loaded is not None and (trusted(origin) or origin in ("built-in", "frozen")):
            if name in vars(loaded) or self.judge.find(module + "." + name)[0] is not None:
                return True  # an installed module loaded here: its namespace is the answer
        elif origin is None or trusted(origin) or not origin.endswith(".py"):
            return True
        else:
            summary = self.judge.summary(module, origin, self.depth + 1)
            if summary is None or summary.state.has(name) is not False:
                return True
        if origin.endswith("__init__.py"):
            sub, _ = self.judge.find(module + "." + name)
            if sub is not None:
                return True
        if sys.version_info >= (3, 7):
            message = "cannot import name {!r} from {!r} ({})".format(name, module, origin)
        else:
            message = "cannot import name {!r}".format(name)
        st.failure = _Failure("ImportError", message, True, where)
        return False

    def star(self, module: str, st: "_State", where: str) -> None:
        origin, _ = self.judge.find(module)
        summary = None
        if origin is not None and origin.endswith(".py"):
            key = module + "\0" + origin
            if key not in self.judge.running:
                summary = self.judge.summary(module, origin, self.depth + 1)
        if summary is None:
            if origin in ("built-in", "frozen") or (origin is not None and module in sys.modules):
                loaded = sys.modules.get(module)
                if loaded is not None:
                    names = getattr(loaded, "__all__", None) or [n for n in vars(loaded) if not n.startswith("_")]
                    for name in names:
                        st.bind(name, (module, name))
                    return
            st.anything.append("{}: names from 'from {} import *' cannot be read".format(where, module))
            return
        sure, maybe, anything = summary.exports()
        for name in sure:
            st.bind(name, summary.state.origins.get(name, (module, name)))
        for name in maybe - st.sure:
            st.maybe.add(name)
            st.origins.setdefault(name, summary.state.origins.get(name, (module, name)))
        st.anything += [a for a in anything if a not in st.anything]
        holder = summary.state.origins.get("__holder__")
        if holder is not None:
            st.origins["__holder__"] = holder

    # -- assignments and dynamic bindings -----------------------------------------------------------
    def assign(self, node: "Any", st: "_State", where: str) -> None:
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
            for name in _target_names(target):
                if isinstance(node, ast.AugAssign):
                    if st.has(name) is False and not self._builtin(name):
                        st.failure = _Failure("NameError", "name {!r} is not defined".format(name), True, where)
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

    def set_all(self, node: "Any", st: "_State") -> None:
        ast = self.ast
        names = _strings(node.value)
        if isinstance(node, ast.AugAssign):
            if st.all_tuple and isinstance(node.value, ast.List) and isinstance(node.op, ast.Add):
                st.failure = _Failure("TypeError", 'can only concatenate tuple (not "list") to tuple', True,
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

    def store_item(self, target: "Any", st: "_State", where: str) -> None:
        """``globals()['x'] = ...`` binds x; a computed key could bind anything."""
        if self._namespace(target.value, st):
            key = target.slice
            key = getattr(key, "value", key) if type(key).__name__ == "Index" else key
            ok, name = _const(key)
            if ok and isinstance(name, str):
                if name not in st.sure:
                    st.maybe.add(name)
                st.notes.append("{}: {!r} is bound through the module's namespace dictionary".format(where, name))
            else:
                st.anything.append("{}: names are bound through the module's namespace dictionary".format(where))

    def _namespace(self, node: "Any", st: "_State") -> bool:
        """``globals()``, ``vars()``, ``locals()`` or ``sys.modules[__name__].__dict__``."""
        ast = self.ast
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
                "globals", "vars", "locals") and not node.args:
            return True
        if isinstance(node, ast.Attribute) and node.attr == "__dict__":
            return self._this_module(node.value, st)
        return False

    def _this_module(self, node: "Any", st: "_State") -> bool:
        ast = self.ast
        if isinstance(node, ast.Name):
            return st.aliases.get(node.id) == "<this module>"
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "modules":
            key = node.slice
            key = getattr(key, "value", key) if type(key).__name__ == "Index" else key
            return isinstance(key, ast.Name) and key.id == "__name__"
        return False

    def effects(self, nodes: "Iterable[Any]", st: "_State", where: str) -> None:
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
                    ok, name = _const(node.args[1])
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
                    named = [v for ok, v in (_const(a) for a in node.args) if ok and isinstance(v, str)
                             and v.isidentifier()]
                    if named:
                        st.maybe.update(n for n in named[:1] if n not in st.sure)
                        st.notes.append("{}: the namespace dictionary is handed to a call, which may bind {!r}"
                                        .format(where, named[0]))
                    else:
                        st.anything.append("{}: the module's namespace dictionary is handed to a call".format(where))
                if isinstance(func, ast.Attribute) and func.attr in ("append", "extend") and \
                        isinstance(func.value, ast.Name) and func.value.id == "__all__" and st.all_tuple:
                    st.failure = _Failure("AttributeError", "'tuple' object has no attribute {!r}".format(func.attr),
                                          True, where)
                    return
                if isinstance(func, ast.Attribute) and func.attr in ("append", "extend") and \
                        isinstance(func.value, ast.Name) and func.value.id == "__all__":
                    names = _strings(node.args[0]) if node.args else None
                    if func.attr == "append":
                        ok, value = _const(node.args[0]) if node.args else (False, None)
                        names = [value] if ok and isinstance(value, str) else None
                    if names is not None and st.all is not None:
                        st.all = st.all + names
                    else:
                        st.all_known = False

    def exec_(self, node: "Any", st: "_State", where: str) -> None:
        ok, code = _const(node.args[0]) if node.args else (False, None)
        if len(node.args) == 1 and ok and isinstance(code, str):
            tree = _parse(code, "<string>")
            if tree is not None:
                self.walk(tree.body, st)
                return
        st.anything.append("{}: exec() runs code that cannot be read here".format(where))

    def truth(self, node: "Any", st: "_State") -> "Optional[bool]":
        """The value of a module-level condition, when it can be decided."""
        ast = self.ast
        ok, value = _const(node)
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

    def value(self, node: "Any", st: "_State") -> "Tuple[bool, Any]":
        """Constants, ``__name__``, and a few values of ``sys`` that are this
        interpreter's (it is the one Keras will run on)."""
        ast = self.ast
        ok, value = _const(node)
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

    @staticmethod
    def _builtin(name: str) -> bool:
        import builtins

        return hasattr(builtins, name) or name in ("__name__", "__file__", "__doc__", "__spec__", "__loader__",
                                                   "__package__", "__builtins__", "__path__", "__cached__")


def _ok(state: "_State") -> "_State":
    state.failure = None
    return state


def _assign_state(target: "_State", source: "_State") -> None:
    for slot in _State.__slots__:
        setattr(target, slot, getattr(source, slot))


def _split(name: str) -> "Tuple[str, str]":
    module, _, part = name.rpartition(".")
    return module, part


def _compare(op: "Any", left: "Any", right: "Any") -> "Any":
    import operator

    table = {"Eq": operator.eq, "NotEq": operator.ne, "Lt": operator.lt, "LtE": operator.le, "Gt": operator.gt,
             "GtE": operator.ge, "In": lambda a, b: a in b, "NotIn": lambda a, b: a not in b,
             "Is": operator.is_, "IsNot": operator.is_not}
    return table[type(op).__name__](left, right)


def _catches(handler_type: "Any", cls: str) -> "Optional[bool]":
    """Whether ``except handler_type`` catches exception class ``cls``."""
    ast = _ast()
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


def _target_names(target: "Any") -> "List[str]":
    ast = _ast()
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for item in target.elts for n in _target_names(item)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _walk_expression(root: "Any") -> "Iterable[Any]":
    """Nodes of an expression evaluated now (not inside lambdas)."""
    ast = _ast()
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(node))


def _declared_globals(function: "Any") -> "Set[str]":
    ast = _ast()
    declared: "Set[str]" = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Global):
            declared.update(node.names)
    return declared


def _dict_keys(call: "Any") -> "Optional[List[str]]":
    ast = _ast()
    keys: "List[str]" = [k.arg for k in call.keywords if k.arg]
    if any(k.arg is None for k in call.keywords):
        return None
    for arg in call.args:
        if isinstance(arg, ast.Dict):
            for key in arg.keys:
                ok, value = _const(key) if key is not None else (False, None)
                if not (ok and isinstance(value, str)):
                    return None
                keys.append(value)
        else:
            ok, value = _const(arg)
            if call.func.attr == "setdefault" and ok and isinstance(value, str):
                keys.append(value)
                break
            return None
    return keys


# -- what Keras asks of the module --------------------------------------------------------------------------
def keras_checks(locate: "Locate") -> "Dict[str, Any]":
    """Read from the installed Keras: the entries it requires in order, its
    messages, and the names ``keras.backend`` then imports from the module
    that took in the custom backend's entries (with that module's own names).
    Cached per Keras file."""
    package = locate("keras.backend")
    loader = locate("keras.backend.load_backend") or package
    key = (package, loader)

    def compute() -> "Dict[str, Any]":
        return _keras_checks(package, loader)

    try:
        from . import discovery

        return discovery.memo("custom.keras_checks", key, compute)
    except Exception:  # noqa: BLE001 - memo is an optimisation
        return compute()


def _keras_checks(package: "Optional[str]", loader: "Optional[str]") -> "Dict[str, Any]":
    ast = _ast()
    checks: "Dict[str, Any]" = {"required": list(REQUIRED), "missing": MISSING_ENTRY, "unable": UNABLE,
                                "imports": [], "own": set(), "loader": loader, "read": False}
    tree = _read_tree(loader) if loader and loader.endswith(".py") else None
    if tree is None:
        return checks
    lists: "Dict[str, List[str]]" = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            names = _strings(node.value)
            if names is not None:
                lists[node.targets[0].id] = names
    for node in ast.walk(tree):
        if isinstance(node, ast.For):
            raised = [n for n in ast.walk(node) if isinstance(n, ast.Raise)]
            text = [_const(n)[1] for r in raised for n in ast.walk(r) if _const(n)[0] and isinstance(_const(n)[1], str)]
            if raised and any("required" in t.lower() for t in text):
                names = lists.get(node.iter.id) if isinstance(node.iter, ast.Name) else _strings(node.iter)
                if names:
                    checks["required"] = names
                    checks["missing"] = next(t for t in text if "required" in t.lower())
                    checks["read"] = True
        if isinstance(node, ast.ExceptHandler):
            text = [_const(n)[1] for n in ast.walk(node) if _const(n)[0] and isinstance(_const(n)[1], str)]
            unable = [t for t in text if "import backend" in t]
            if unable:
                checks["unable"] = unable[0]
    if package and loader != package and package.endswith(".py"):
        init = _read_tree(package)
        if init is not None:
            stem = os.path.splitext(os.path.basename(loader or ""))[0]
            for node in init.body:  # unconditional imports: the trailing if-chain names built-in backends
                if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module == stem:
                    checks["imports"] += [alias.name for alias in node.names if alias.name != "*"]
        judge = Judge(lambda _name: None)
        state = _State()
        _Walker(judge, "keras.backend." + (os.path.splitext(os.path.basename(loader or ""))[0]), loader or "",
                False, False, _MAX_DEPTH).walk(tree.body, state)
        checks["own"] = state.sure | state.maybe
    return checks


_ANSWERS: "Dict[Any, Tuple[Any, Dict[str, Any]]]" = {}


def _stamps(paths: "Iterable[str]") -> "Tuple[Any, ...]":
    stamps: "List[Any]" = []
    for path in paths:
        try:
            info = os.stat(path)
            stamps.append((info.st_mtime_ns, info.st_size))
        except OSError:
            stamps.append(None)
    return tuple(stamps)


def judged(module: str, origin: "Optional[str]", locate: "Locate") -> "Dict[str, Any]":
    """:func:`judge`, remembered while the search path, the environment
    and every file of the user's it read are unchanged (``backend_info()``
    is called often in a session; the reading is the slow part)."""
    key = (module, origin, tuple(sys.path), tuple(sorted(os.environ.items())))
    found = _ANSWERS.get(key)
    if found is not None and _stamps(found[1]["files"]) == found[0]:
        return found[1]
    answer = judge(module, origin, locate)
    if len(_ANSWERS) > 64:
        _ANSWERS.clear()
    _ANSWERS[key] = (_stamps(answer["files"]), answer)
    return answer


# -- the answer --------------------------------------------------------------------------------------------
def judge(module: str, origin: "Optional[str]", locate: "Locate") -> "Dict[str, Any]":
    """What ``import keras`` does with ``module`` as its custom backend.

    Returns ``{"error", "notes", "origin", "files"}``: ``error`` is the exception as
    ``"Class: message"`` or None for "imports"; ``notes`` say where the
    answer is uncertain (then it is the likeliest one); ``origin`` is where
    the module was found (None: not found, and ``error`` says so)."""
    judge_ = Judge(locate)
    answer = _judge(module, origin, judge_)
    files = list(judge_.files)
    if answer["origin"] and os.path.isfile(answer["origin"]):
        files.append(answer["origin"])
    answer["files"] = sorted(set(files))
    return answer


def _judge(module: str, origin: "Optional[str]", judge_: "Judge") -> "Dict[str, Any]":
    checks = keras_checks(judge_.locate)
    unable = "ValueError: " + checks["unable"] + module
    notes: "List[str]" = []
    if origin is None:
        origin, _ = judge_.find(module)
        if origin is None:
            return {"error": unable, "notes": [], "origin": None}
        notes.append("{} is found through its package's own import set-up ({}); kbackend follows it by "
                     "reading, which may differ from what runs".format(module, origin))
    # packages run first, then the module itself
    parts = module.split(".")
    for index in range(1, len(parts)):
        parent = ".".join(parts[:index])
        parent_origin, _ = judge_.find(parent)
        if parent_origin and parent_origin.endswith(".py") and not trusted(parent_origin):
            summary = judge_.summary(parent, parent_origin)
            failure = summary.state.failure if summary is not None else None
            if failure is not None:
                return _failed(failure, unable, notes, origin)
    if origin.endswith(".py") and trusted(origin) and module not in sys.modules and module not in _MID_IMPORT:
        first = checks["required"][0] if checks["required"] else None
        doubts: "List[str]" = []
        if first is not None and _surely_unbound(module, origin, first, judge_, doubts):
            if doubts:
                notes.append("{!r} is spelled in no file {} takes names from, but {} binds names dynamically"
                             .format(first, module, doubts[0]))
            return {"error": "ValueError: " + checks["missing"] + first, "notes": notes, "origin": origin}
    names = _namespace(module, origin, judge_, notes)
    if isinstance(names, dict):
        return names
    present = names
    for entry in checks["required"]:
        verdict = present(entry)
        if verdict is False:
            return {"error": "ValueError: " + checks["missing"] + entry, "notes": notes, "origin": origin}
    own = checks["own"]
    for name in checks["imports"]:
        if name in own or present(name) is not False:
            continue
        loader = checks["loader"]
        if sys.version_info < (3, 7):
            message = "ImportError: cannot import name {!r}".format(name)
        else:
            message = "ImportError: cannot import name {!r} from 'keras.backend.{}' ({})".format(
                name, os.path.splitext(os.path.basename(loader))[0], loader)
        return {"error": message, "notes": notes, "origin": origin}
    return {"error": None, "notes": notes, "origin": origin}


def _failed(failure: "_Failure", unable: str, notes: "List[str]", origin: str) -> "Dict[str, Any]":
    if not failure.certain:
        if not trusted(failure.where.rsplit(" line ", 1)[0]):  # installed code is taken to import cleanly
            notes.append("{}: import may fail with {}".format(failure.where, failure.cls))
        return {"error": None, "notes": notes, "origin": origin}
    if failure.cls in _IMPORT_FAILURES:
        return {"error": unable, "notes": notes, "origin": origin}
    text = failure.text()
    if text is None:
        notes.append("{}: the import raises {}, whose message depends on the code".format(failure.where, failure.cls))
        text = failure.cls
    return {"error": text, "notes": notes, "origin": origin}


def _namespace(module: str, origin: str, judge_: "Judge", notes: "List[str]") -> "Any":
    """``present(name)`` -> True/False (likeliest) for the module's ``__dict__``,
    or a finished answer dict when importing the module fails."""
    unable = "ValueError: " + keras_checks(judge_.locate)["unable"] + module
    if module in _MID_IMPORT:
        return lambda name: False
    loaded = sys.modules.get(module)
    if loaded is not None and (origin in ("built-in", "frozen") or trusted(origin)):
        # Already imported here (sys, os.path, ...): Keras gets this very
        # module object, so its namespace is the answer, and nothing runs.
        namespace = vars(loaded)
        return lambda name: name in namespace
    if origin in ("built-in", "frozen", "namespace") or os.path.isdir(origin):
        return lambda name: False  # namespace packages and unloaded built-ins hold no backend API
    if not origin.endswith(".py"):
        return lambda name: _occurs_anywhere(origin, name)
    summary = judge_.summary(module, origin)
    if summary is None:
        notes.append("{} could not be read; judged by the names its package's files mention".format(origin))
        return lambda name: _occurs_anywhere(origin, name)
    state = summary.state
    if state.failure is not None:
        answer = _failed(state.failure, unable, notes, origin)
        if answer["error"] is not None:
            return answer
    # doubts about the reading that are not about a name: where an import lands
    notes.extend(n for n in state.notes if "cannot tell where" in n and n not in notes)

    def present(name: str) -> bool:
        verdict = state.has(name)
        if verdict is not None:
            return verdict
        if name in state.maybe:
            why = [n for n in state.notes if repr(name) in n] or [
                "{!r} is bound only on some paths, under a condition kbackend cannot decide".format(name)]
            notes.extend(n for n in why if n not in notes)
            return True
        note = "{!r} may be bound dynamically ({}); judged by whether the module's source names it".format(
            name, state.anything[0])
        if note not in notes:
            notes.append(note)
        return _mentioned(origin, name) or _occurs_anywhere(origin, name)

    return present


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
    ast = _ast()
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
    ast = _ast()
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


def _surely_unbound(module: str, origin: str, name: str, judge_: "Judge", doubts: "List[str]") -> bool:
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
        if len(seen) > _MAX_MODULES:
            return False
        data = _read(path) if os.path.isfile(path) else None
        if data is None or (needle in data and (not path.endswith(".py") or word.search(data))):
            return False
        if not path.endswith(".py"):
            continue  # compiled: its names are strings in it, and this one is not
        if any(mark in data for mark in _DYNAMIC_MARKS) and re.search(_DYNAMIC_USE, data) and \
                _binds_dynamically(_parse(data, path)):
            doubts.append(path)
        is_package = os.path.basename(path) == "__init__.py"
        for match in star.finditer(data):
            target = match.group(1).decode("ascii", "replace")
            level = len(target) - len(target.lstrip("."))
            resolved = _Walker(judge_, current, path, is_package, False, 0).absolute(target[level:] or None, level)
            found = judge_.find(resolved)[0] if resolved else None
            if resolved is None or found is None:
                return False
            todo.append((resolved, found))
    return True


def _mentioned(origin: str, name: str) -> bool:
    """Whether the module's own source spells ``name`` as a string: what
    ``globals()[n] = ...`` over a list of names, or ``exec`` of a string
    built here, most likely binds."""
    ast = _ast()
    tree = _read_tree(origin)
    if tree is None:
        return False
    for node in ast.walk(tree):
        ok, value = _const(node)
        if ok and isinstance(value, str) and (value == name or name in value.replace("(", " ").split()):
            return True
    return False


def _occurs_anywhere(origin: str, name: str) -> bool:
    """Whether ``name`` could be bound by any file of the module's package:
    as a module-level binding in a .py file or as a string in compiled code."""
    root = os.path.dirname(origin) if os.path.basename(origin) == "__init__.py" else None
    files = [origin] if root is None else [
        os.path.join(directory, f) for directory, _, names in os.walk(root) for f in names]
    needle = name.encode()
    for path in files:
        data = _read(path)
        if data is None or needle not in data:
            continue
        if not path.endswith(".py"):
            return True
        tree = _parse(data, path)
        if tree is None:
            return True
        names, _ = bindings("", path, lambda _name: None, depth=_MAX_DEPTH)
        if name in names:
            return True
    return False


# -- the older entry points ------------------------------------------------------------------------------
def bindings(module: str, origin: str, locate: "Locate", depth: int = 0,
             seen: "Optional[Set[str]]" = None) -> "Tuple[Set[str], bool]":
    """Names a module binds at import time (surely or perhaps), and whether
    that set is certain."""
    judge_ = Judge(locate)
    summary = judge_.summary(module, origin, depth)
    if summary is None:
        return set(), False
    state = summary.state
    return state.sure | state.maybe, not state.anything and not state.maybe


def import_error(module: str, origin: str, locate: "Locate") -> "Optional[str]":
    """The exception ``import keras`` raises with ``module`` as its custom
    backend, as ``"Class: message"``; None when it imports."""
    return judge(module, origin, locate)["error"]


def first_missing_entry(module: str, origin: str, locate: "Locate", source: "Any" = None) -> "Optional[str]":
    """The required entry Keras will report missing (it checks them in order
    and stops at the first), or None."""
    error = judge(module, origin, locate)["error"] or ""
    marker = keras_checks(locate)["missing"]
    return error.split(marker, 1)[1] if marker in error else None
