"""What the custom-backend walker knows at one point of a module's import.

:class:`State` holds it: the names surely bound, the names bound on some
paths only, the reasons any name at all might be bound, the exception the
import raises (a :class:`Failure`) and where names came from.  Branches run
on copies that :func:`merge` joins again; :class:`Summary` is what a whole
module leaves behind for the modules that import it.  Kept apart from the
walker (:mod:`kbackend.custom_walker`), so that what a merge keeps and what
``from x import *`` exports read in one place.
"""

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Dict, List, Optional, Set, Tuple


class Failure:
    """An exception the module's import raises: class, message (None when
    only the class is known), whether it certainly happens, and where."""

    __slots__ = ("certain", "cls", "message", "where")

    def __init__(self, cls: str, message: "Optional[str]", certain: bool, where: str) -> None:
        self.cls, self.message, self.certain, self.where = cls, message, certain, where

    def text(self) -> "Optional[str]":
        if self.message is None:
            return None
        return "{}: {}".format(self.cls, self.message) if self.message else self.cls


class State:
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
        self.failure: "Optional[Failure]" = None
        self.notes: "List[str]" = []
        self.aliases: "Dict[str, str]" = {}  # local name -> module it names
        self.origins: "Dict[str, Tuple[str, str]]" = {}  # name -> (module, attribute) it came from
        self.all: "Optional[List[str]]" = None
        self.all_known = True
        self.functions: "Dict[str, Set[str]]" = {}  # function -> names it declares global and binds
        self.all_tuple = False  # __all__ is a tuple (a list cannot be added to it)

    def copy(self) -> "State":
        other = State()
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


def merge(paths: "List[State]") -> "State":
    """The state after one of several possible paths ran."""
    live = [p for p in paths if p.failure is None or not p.failure.certain]
    failed = [p for p in paths if p.failure is not None and p.failure.certain]
    if not live:
        result = failed[0].copy()
        texts = {p.failure.text() for p in failed if p.failure is not None}
        if len(texts) > 1 and result.failure is not None:
            result.failure = Failure(result.failure.cls, None, True, result.failure.where)
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
            result.failure = Failure(path.failure.cls, path.failure.message, False, path.failure.where)
    return result


def without_failure(state: "State") -> "State":
    state.failure = None
    return state


def assign_state(target: "State", source: "State") -> None:
    for slot in State.__slots__:
        setattr(target, slot, getattr(source, slot))


class Summary:
    """What running one module leaves behind, as far as can be told."""

    __slots__ = ("dynamic", "name", "path", "state")

    def __init__(self, name: str, path: str, state: "State", dynamic: bool) -> None:
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
