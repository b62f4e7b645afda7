"""``-W`` / ``PYTHONWARNINGS`` as the interpreter applies them: is a given warning an error?

A backend library that warns while it loads (TensorFlow 1.x's ``imp``
import, CNTK's distribution check) fails ``import keras`` when the warning
filters make that warning an exception.  :func:`warning_is_error` replays
the filters the options install, for one warning's category, message and
module; the start-up checks (:mod:`kbackend.startup_tensorflow`,
:mod:`kbackend.startup_cntk`) ask it about the warnings they know.
"""

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Tuple

#: The categories a filter's class matches, for the warnings the checks know:
#: the warning's own class and its bases.
_CATEGORIES = {"Warning": ("Warning",),
               "DeprecationWarning": ("DeprecationWarning", "Warning"),
               "PendingDeprecationWarning": ("PendingDeprecationWarning", "Warning"),
               "UserWarning": ("UserWarning", "Warning")}
#: The filter actions; an option may shorten its action to a prefix (``e`` for error).
_ACTIONS = ("error", "ignore", "always", "default", "module", "once")


def warning_is_error(warnoptions: "Tuple[str, ...]", category: str, message: str, module: str) -> bool:
    """Whether the -W / PYTHONWARNINGS options make this warning an exception.

    Options are filters: the last one that matches decides (Python inserts
    each in front of the previous).  With none matching, the default filters
    leave it a warning.
    """
    options = [item for option in warnoptions for item in option.split(",") if item.strip()]
    for option in reversed(options):
        parts = [p.strip() for p in option.split(":")] + [""] * 5
        action, text, klass, where = parts[0], parts[1], parts[2], parts[3]
        matches = [a for a in _ACTIONS if a.startswith(action)] if action else ["default"]
        if len(matches) != 1:
            continue  # Python ignores an invalid option (with a warning of its own)
        if klass and klass not in _CATEGORIES.get(category, (category,)):
            continue
        if text and not message.lower().startswith(text.lower()):
            continue
        if where and where != module:
            continue
        return matches[0] == "error"
    return False
