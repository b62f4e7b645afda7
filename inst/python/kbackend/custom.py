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

This module keeps the entry points the rest of kbackend uses; the work is
split by concern: :mod:`~kbackend.custom_source` reads source,
:mod:`~kbackend.custom_state` is what a walk knows,
:mod:`~kbackend.custom_walker` walks statements (with the mixins
:mod:`~kbackend.custom_walker_imports`,
:mod:`~kbackend.custom_walker_bindings` and
:mod:`~kbackend.custom_walker_values`), :mod:`~kbackend.custom_judge` finds
and reads each module once, :mod:`~kbackend.custom_keras` reads what Keras
asks of the module, :mod:`~kbackend.custom_text` answers from the text of
installed code, and :mod:`~kbackend.custom_verdict` puts the answer together.
"""

import os
import sys

# re-exported: callers import kbackend.custom only
from .custom_judge import Judge, bindings  # noqa: F401
from .custom_keras import MISSING_ENTRY, REQUIRED, UNABLE, keras_checks  # noqa: F401
from .custom_source import compile_error, trusted  # noqa: F401
from .custom_state import Summary  # noqa: F401
from .custom_verdict import judge

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, Iterable, List, Optional, Tuple

    from .custom_judge import Locate

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


# -- the older entry points (and bindings, from custom_judge) -------------------------------------------
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
