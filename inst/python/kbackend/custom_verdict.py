"""The verdict on a custom backend: what ``import keras`` does with it.

Puts together what the other custom-backend modules find, in the order Keras
2 meets it: the module's packages run first, then the module itself (an
import failure becomes Keras's "Unable to import backend", any other
exception passes through), then Keras checks the required entries in order,
then ``keras.backend`` imports its names.  Each answer is the certain one or,
with a note saying why, the likeliest.
"""

import os
import sys

from .custom_judge import Judge
from .custom_keras import keras_checks
from .custom_source import trusted
from .custom_text import mentioned, occurs_anywhere, surely_unbound

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional

    from .custom_judge import Locate
    from .custom_state import Failure

# Modules still running their own import when Keras imports the custom
# backend: Python hands back the half-built module, which holds none of the
# backend API yet, however complete its source looks.
_MID_IMPORT = frozenset(("keras", "keras.backend", "keras.backend.load_backend"))
_IMPORT_FAILURES = ("ImportError", "ModuleNotFoundError")


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
        if first is not None and surely_unbound(module, origin, first, judge_, doubts):
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


def _failed(failure: "Failure", unable: str, notes: "List[str]", origin: str) -> "Dict[str, Any]":
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
        return lambda name: occurs_anywhere(origin, name)
    summary = judge_.summary(module, origin)
    if summary is None:
        notes.append("{} could not be read; judged by the names its package's files mention".format(origin))
        return lambda name: occurs_anywhere(origin, name)
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
        return mentioned(origin, name) or occurs_anywhere(origin, name)

    return present
