"""Find and read the modules a custom backend imports, each once.

:class:`Judge` answers where ``import name`` lands, following packages that
forward their submodules at run time when the plain search fails, and reads
each module it is asked about into a :class:`~kbackend.custom_state.Summary`
by walking its statements (:class:`~kbackend.custom_walker.Walker`).  Every
module is read once per judgement however many modules import it; the limits
on depth and on the number of modules read keep a pathological import graph
from making the report slow.
"""

import os

from . import discovery
from .custom_source import compile_error, lazy_ast, parse, read_source, trusted
from .custom_state import Failure, State, Summary
from .custom_walker import Walker

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Callable, Dict, List, Optional, Set, Tuple

    Locate = Callable[[str], Optional[str]]

#: Limits of one judgement: how deep imports are followed, how many modules are read.
MAX_DEPTH = 8
MAX_MODULES = 400


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
        if origin is not None or "." not in name or depth > MAX_DEPTH:
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
        if depth > MAX_DEPTH or self.read >= MAX_MODULES or not path.endswith(".py"):
            return None
        self.read += 1
        if not trusted(path):
            self.files.append(path)
        data = read_source(path)
        if data is None:
            self.cache[key] = None
            return None
        user = not trusted(path)
        state = State()
        if user:
            error = compile_error(data, path)
            if error is not None:
                cls, _, message = error.partition(": ")
                state.failure = Failure(cls, message, True, path)
                summary = Summary(name, path, state, False)
                self.cache[key] = summary
                return summary
        tree = parse(data, path)
        if tree is None:
            self.cache[key] = None
            return None
        dynamic = (b"__path__" in data or b"modules" in data) and _is_dynamic(tree)
        self.running.add(key)
        try:
            walker = Walker(self, name, path, os.path.basename(path) == "__init__.py", user, depth)
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
    return discovery.module_location(spec)


def _is_dynamic(tree: "Any") -> bool:
    """Whether a package rearranges the import system when it runs: stores
    into ``__path__`` or into ``sys.modules``."""
    ast = lazy_ast()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "__path__" and isinstance(node.ctx, ast.Store):
            return True
        if isinstance(node, ast.Attribute) and node.attr == "__path__" and isinstance(node.ctx, ast.Store):
            return True
        if isinstance(node, ast.Attribute) and node.attr == "modules" and isinstance(node.value, ast.Name) \
                and node.value.id.lstrip("_") == "sys":
            return True
    return False


# -- an older entry point (kbackend.custom re-exports it) ---------------------------------------------
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
