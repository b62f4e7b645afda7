"""What kbackend says and compares about workers, shared with the R package.

``workers.json`` holds the fields of a survey row, which of them are
compared across workers, and the words of a refusal to set a backend across
workers.  The R package reads the same file (``R/backend-survey.R``,
``R/workers.R``) because it surveys and sets its own clusters without
starting Python: one file, so R and Python judge and word workers alike (a
testthat test compares their verdicts and refusals as data).
"""

import json
import os

from .errors import KBackendError, WorkerFailedError

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional


def _load() -> "Dict[str, Any]":
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "workers.json")) as handle:
        return dict(json.load(handle))


#: The whole of workers.json.
FIELDS = _load()
#: The fields of a survey row, in order.
ROW_FIELDS = tuple(FIELDS["row_fields"])
#: Fields compared across workers for ``differences``, in the order reported.
COMPARED_FIELDS = tuple(FIELDS["compared"])
#: Fields that must agree for a survey to be ``consistent``: the same backend
#: on the same kind of device, working or failing alike, with the same Keras.
CONSISTENCY_FIELDS = tuple(FIELDS["consistency"])


def worker_name(worker: "Any", pid: "Any", host: "Any") -> str:
    """How a worker of a process pool or an R cluster is named in messages."""
    return str(FIELDS["refusal"]["worker"].format(worker=worker, pid=pid, host=host))


def refusal(name: str, refused: "List[Dict[str, Any]]", total: int,
            restored: "Optional[int]" = None) -> "Dict[str, Any]":
    """The verdict on a setting that workers refused, as plain data.

    ``refused`` has one ``{"worker": its name in messages, "code": the class
    of its refusal (None: kbackend could not run there), "message": why}``
    per refusing worker, in order; ``total`` is how many workers were asked;
    ``restored`` how many workers already changed were set back (None: the
    refusal came before any change).  Returns ``code``, the class of the
    error (the refusals' own when they share one, else the base class;
    :class:`~kbackend.WorkerFailedError`'s for a worker kbackend could not
    run in),
    ``headline`` and ``lines`` (one per refusing worker, on one line each).
    """
    words = FIELDS["refusal"]
    codes = {entry["code"] or WorkerFailedError.code for entry in refused}
    outcome = words["unchanged"] if restored is None else words["restored"].format(restored=restored)
    return {
        "code": codes.pop() if len(codes) == 1 else KBackendError.code,
        "headline": words["headline"].format(backend=name, refused=len(refused), total=total, outcome=outcome),
        "lines": ["{}: {}".format(entry["worker"], _one_line(entry["message"])) for entry in refused],
    }


def _one_line(text: str) -> str:
    """A message on one line: the line breaks of a wrapped message become spaces."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())
