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

The model is in parts: :mod:`kbackend.modgraph_model` (a module and a
failure), :mod:`kbackend.modgraph_loader` (the import system: finding and
loading modules, and the exceptions' wording), :mod:`kbackend.modgraph_statements`
(a module's top level, run in order) and :mod:`kbackend.modgraph_expressions`
(what an expression can be told to be).  This module is the entry point:
:func:`walk` runs one modelled import and reports it.
"""

import os

from .modgraph_loader import Walk
from .modgraph_model import Failure, Module
from .modgraph_statements import Frame

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional, Tuple

__all__ = ["Failure", "Frame", "Module", "Walk", "walk"]


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
