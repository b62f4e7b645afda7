"""Import statements, as the custom-backend walker runs them.

``import x``, ``from x import y`` and ``from x import *`` as Python runs them:
the user's own modules imported are judged in turn (through the
:class:`~kbackend.custom_judge.Judge`, which reads each once), a module that
cannot be found or a name it does not bind raises what Python raises, and
``*`` binds what the imported module exports.  Installed modules are taken to
import cleanly; only the names they bind are read.  A mixin of
:class:`kbackend.custom_walker.Walker`.
"""

import sys

from .custom_source import trusted
from .custom_state import Failure

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Optional

    from .custom_judge import Judge
    from .custom_state import State


class Imports:
    """The import statements of :class:`~kbackend.custom_walker.Walker`."""

    if MYPY:  # set by Walker.__init__
        judge: "Judge"
        name: str
        is_package: bool
        user: bool
        depth: int

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

    def import_module(self, name: str, st: "State", where: str) -> bool:
        """Judge ``import name`` (its packages first); False when it fails."""
        if not self.user:
            return True
        parts = name.split(".")
        for index in range(1, len(parts) + 1):
            current = ".".join(parts[:index])
            origin, certain = self.judge.find(current)
            if origin is None:
                if certain:
                    st.failure = Failure("ModuleNotFoundError", "No module named {!r}".format(current), True, where)
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
                    st.failure = Failure(failure.cls, failure.message, failure.certain, failure.where)
                    if failure.certain:
                        return False
        return True

    def own_submodule(self, module: "Optional[str]", st: "State") -> None:
        """Importing ``pkg.sub`` from inside ``pkg`` binds ``sub`` in ``pkg``."""
        if self.is_package and module and module.startswith(self.name + "."):
            part = module[len(self.name) + 1:].split(".")[0]
            st.bind(part, (self.name, part))

    def import_from(self, node: "Any", st: "State", where: str) -> None:
        module = self.absolute(node.module, node.level or 0)
        if module is None:
            if self.user:
                st.failure = Failure("ImportError", "attempted relative import beyond top-level package", True, where)
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

    def provides(self, module: str, name: str, st: "State", where: str) -> bool:
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
        st.failure = Failure("ImportError", message, True, where)
        return False

    def star(self, module: str, st: "State", where: str) -> None:
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
