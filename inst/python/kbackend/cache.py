"""The process-wide cache of what the file system says, and when it is stale.

In process, ``backend_info()`` is called often and must stay cheap, yet
every answer rests on reading folders: which packages are installed where,
their metadata, the shadows and requirements around them.  All of that is
remembered here, keyed on a fingerprint of the search path (its entries,
their mtimes, the import hooks), and forgotten at once when the fingerprint
changes: installing or removing a package changes its folder's mtime.

One cache for every module, so that one record sees one moment: between
:func:`hold` and :func:`release` the fingerprint is not taken again.
"""

import os
import sys

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional, Tuple

#: What is remembered for the current fingerprint (``key``): discovery's
#: look at the known modules (``value``), :func:`memo`'s answers, each
#: search-path folder's distributions (``listings``), each zip archive's
#: members (``archives``), and how many :func:`hold` calls are open.
STATE: "Dict[str, Any]" = {"key": None, "value": None, "memo": {}, "listings": {}, "archives": {}, "held": 0}


def _fingerprint() -> "Tuple[Any, ...]":
    """What discovery depends on: the search path, its directories' mtimes
    (installing or removing a package adds or removes a directory entry) and
    the import hooks.  Cheap: one stat per sys.path entry."""
    stamps: "List[Any]" = []
    for directory in sys.path:
        try:
            stamps.append(os.stat(directory or ".").st_mtime_ns)
        except OSError:
            stamps.append(None)
    return (tuple(sys.path), tuple(stamps), working_directory(), tuple(map(id, sys.meta_path)),
            tuple(map(id, sys.path_hooks)))


def working_directory() -> "Optional[str]":
    """The current directory, or None when it has been deleted under us."""
    try:
        return os.getcwd()
    except OSError:
        return None


def hold() -> None:
    """Look at the search path once for a whole record: until :func:`release`,
    the look-ups reuse that look instead of taking the fingerprint again
    (a dozen ``stat`` calls each time).  One record describes one moment."""
    refresh()
    STATE["held"] += 1


def release() -> None:
    """End a :func:`hold`."""
    STATE["held"] = max(0, STATE["held"] - 1)


def refresh() -> None:
    """Forget everything when the fingerprint changed (not while held), and
    look at the known modules again (:func:`kbackend.discovery.discover`)."""
    if STATE["held"] and STATE["key"] is not None:
        return
    key = _fingerprint()
    if STATE["key"] != key:
        # discovery imports this module; its look is the cache's first entry
        from . import discovery

        # one listing per folder for the whole fingerprint: the requirement
        # checks look up dozens of distributions in the same site-packages
        STATE["listings"] = {}
        STATE["archives"] = {}
        STATE["value"] = discovery.discover()
        STATE["memo"] = {}
        STATE["key"] = key


def memo(name: str, args: "Tuple[Any, ...]", compute: "Any") -> "Any":
    """``compute()``, remembered until the search path or one of its folders
    changes (the same fingerprint as
    :func:`kbackend.discovery.installed_libraries`).  For the other look-ups
    that read the file system (shadows, requirements): in process,
    ``backend_info()`` is called often and must stay cheap.  The result is
    shared: callers must not change it."""
    refresh()
    key = (name, args)
    if key not in STATE["memo"]:
        STATE["memo"][key] = compute()
    return STATE["memo"][key]
