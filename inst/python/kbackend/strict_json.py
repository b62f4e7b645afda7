"""The record as strict JSON, the form the R bridge and ``--json`` read.

A record is plain data, but it copies keras.json's values, and Python's
JSON reads the bare literals ``NaN`` and ``Infinity`` there (Keras accepts
``"epsilon": NaN``) and would write them back: they are not JSON, and
strict parsers such as R's jsonlite reject the whole record.  Such values
are written as strings instead; every other record is written as
:func:`json.dumps` writes it.
"""

import json
import math

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, List, Mapping, Optional


def _finite(value: "Any") -> "Any":
    """A copy of ``value`` with non-finite floats as the strings ``"NaN"``,
    ``"Infinity"``, ``"-Infinity"``.

    Python's JSON reads those bare literals from keras.json (Keras accepts
    ``"epsilon": NaN``) and writes them back, but they are not JSON: strict
    parsers such as R's jsonlite reject the whole record.  Iterative, because
    a keras.json value can nest nearly as deep as the recursion limit.
    """
    holder = [value]
    stack: "List[Any]" = [(holder, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, float) and not math.isfinite(item):
            container[key] = "NaN" if item != item else ("Infinity" if item > 0 else "-Infinity")
        elif isinstance(item, dict):
            container[key] = dict(item)
            stack.extend((container[key], k) for k in item)
        elif isinstance(item, (list, tuple)):
            container[key] = list(item)
            stack.extend((container[key], i) for i in range(len(item)))
    return holder[0]


def record_json(record: "Mapping[str, Any]", indent: "Optional[int]" = None) -> str:
    """The record as strict JSON (no NaN/Infinity literals), for R and ``--json``."""
    try:
        return json.dumps(record, indent=indent, allow_nan=False)
    except ValueError:  # a non-finite float, copied from keras.json
        return json.dumps(_finite(record), indent=indent, allow_nan=False)
