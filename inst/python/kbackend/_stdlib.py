"""Import kbackend's own standard-library modules from the standard library.

``python -m kbackend`` and the R bridge run with the user's working
directory first on ``sys.path``, where a ``json.py``, ``re.py`` or
``random.py`` of the user's would shadow the standard module kbackend needs,
and kbackend would crash instead of reporting (the same file does break
Keras, which is worth predicting, not suffering).  Within :class:`first`,
the standard library's folders come first on ``sys.path``; ``sys.path`` is
restored afterwards, so discovery still sees the path ``import keras`` will
use.  Only ``os`` and ``sys`` are used here: the interpreter has loaded them
from the standard library before ``sys.path`` held anything of the user's.
"""

import os
import sys


class first:
    """Put the standard library's folders ahead of everything else for a block."""

    def __enter__(self) -> None:
        stdlib = os.path.dirname(os.__file__)
        front = [stdlib, os.path.join(stdlib, "lib-dynload")]
        self.saved = sys.path[:]
        sys.path[:] = front + [entry for entry in self.saved if entry not in front]

    def __exit__(self, *exc_info: object) -> None:
        sys.path[:] = self.saved
