"""The import system as :mod:`kbackend.modgraph` models it: ``sys.modules``, finding, loading.

:class:`Walk` is one modelled ``import``.  It finds each module as the path
finder would on the modelled search path (built-in and frozen modules first,
namespace portions that a later regular package beats, submodules in their
parent's folders), reads its source without running it, and hands the
module-level statements to :class:`kbackend.modgraph_statements.Frame`.  It
also judges what statements cannot show (a whole installation's namespaces
are built dynamically; a package's ``__version__`` may come from its
metadata) and words the exceptions as the interpreter being modelled words
them, since the report quotes them.
"""

import importlib.machinery
import os
import re
import sys
import tokenize  # noqa: F401 - loaders' get_source imports it: loaded now, from the standard library

from . import discovery
from .modgraph_model import NO_VALUE, Failure, Module, parsed
from .modgraph_statements import Frame

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
            tree = parsed(source, spec.origin or name)
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
        value = module.values.get("__version__", NO_VALUE)
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

