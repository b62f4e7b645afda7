"""R's environment against the running Python's, for the R bridge.

reticulate copies R's environment into Python once, when Python starts; a
later ``Sys.setenv()`` changes R only.  So once R has started Python, R's
``KERAS_BACKEND`` (or ``KERAS_HOME``, ``TF_USE_LEGACY_KERAS``) can say one
thing while the Python that will import Keras sees another.  R supplies its
environment (only R knows it); this module decides which variables differ
and words the problem and its fix, so that the rule and its sentences live
here only.  Python callers never load it.
"""

import json
import os

from .problems import problem

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Mapping, Optional

#: Variables whose R value and running-Python value must agree.
SYNCED_VARIABLES = ("KERAS_BACKEND", "KERAS_HOME", "TF_USE_LEGACY_KERAS")


def environment_mismatch(r_environ: "Mapping[str, str]", locked: bool,
                         environ: "Optional[Mapping[str, str]]" = None) -> "Dict[str, List[Dict[str, Any]]]":
    """Where R's environment (``r_environ``: its variables, unset ones
    absent) and this process's (``environ``, default ``os.environ``)
    disagree on :data:`SYNCED_VARIABLES`: ``{"mismatch": [{"variable", "r",
    "python"}], "problems": [{"code", "message", "fix"}]}``, None for unset.
    ``locked`` (Keras already imported) changes the fix: a restart."""
    environ = os.environ if environ is None else environ
    mismatch = [{"variable": name, "r": r_environ.get(name), "python": environ.get(name)}
                for name in SYNCED_VARIABLES if r_environ.get(name) != environ.get(name)]
    return {"mismatch": mismatch, "problems": [_problem(row, locked) for row in mismatch]}


def environment_mismatch_json(r_environ: "Mapping[str, str]", locked: bool) -> str:
    """:func:`environment_mismatch` as JSON, for the R bridge."""
    return json.dumps(environment_mismatch(dict(r_environ), bool(locked)))


def _show(value: "Optional[str]") -> str:
    return "unset" if value is None else '"{}"'.format(value)


def _problem(row: "Dict[str, Any]", locked: bool) -> "Dict[str, str]":
    variable, value = row["variable"], row["r"]
    message = ("R has {} {} but the running Python sees {}: reticulate does not copy Sys.setenv() into a Python "
               "that has already started.".format(variable, _show(value), _show(row["python"])))
    if locked and variable in ("KERAS_BACKEND", "KERAS_HOME"):
        fix = ("Keras is already loaded, so this can no longer take effect in this session: restart R and set it "
               "before anything imports Keras.")
    elif variable == "KERAS_BACKEND" and value is not None:
        fix = 'call kbackend::use_keras_backend("{}"), which sets R and Python alike'.format(value)
    elif value is None:
        fix = 'unset it in Python too: reticulate::import("os")$environ$pop("{}", NULL)'.format(variable)
    else:
        fix = 'set it in Python too: reticulate::import("os")$environ$update(list({} = "{}"))'.format(variable, value)
    return problem("r-env-mismatch", message, fix)
