"""CNTK's start-up check: the warning it emits at import on any Linux but Ubuntu 16.04.

``import cntk`` reads ``/etc/os-release`` (or ``/etc/lsb-release``) and
warns on an unsupported distribution; ``-W error`` /
``PYTHONWARNINGS=error`` turns that ``UserWarning`` into the import's
exception.  The files are read as CNTK reads them (fixed lines and columns,
with :mod:`linecache`).  Run by :func:`kbackend.startup.check`.
"""

import os
import sys

from . import _stdlib
from .startup_common import outcome, source_has, startup_failure
from .startup_warnings import warning_is_error

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    import linecache
    from typing import Dict, Tuple

    from .startup_common import Found


def load_parsers() -> None:
    """linecache costs milliseconds to import: only on this path."""
    global linecache
    with _stdlib.first():
        import linecache


def check(package: str, environ: "Dict[str, str]", warnoptions: "Tuple[str, ...]", home: str) -> "Found":
    """CNTK warns at import on anything but Ubuntu 16.04 (from /etc/os-release)."""
    if not warnoptions or not sys.platform.startswith("linux") or \
            not source_has(os.path.join(package, "cntk_py_init.py"), r"Unsupported Linux distribution"):
        return outcome()
    distro = linecache.getline("/etc/os-release", 3)[3:-1]
    version = linecache.getline("/etc/os-release", 6)[12:-2]
    if not distro:
        distro = linecache.getline("/etc/lsb-release", 1)[11:-1]
        version = linecache.getline("/etc/lsb-release", 2)[16:-1]
    distro, version = distro.lower(), version.lower()
    message = "Unsupported Linux distribution ({}-{}). CNTK supports Ubuntu 16.04 and above, only.".format(distro, version)
    if (distro, version) == ("ubuntu", "16.04") or not warning_is_error(warnoptions, "UserWarning", message,
                                                                          "cntk.cntk_py_init"):
        return outcome()
    return startup_failure("cntk", "PYTHONWARNINGS", "UserWarning: " + message,
                           "CNTK warns that this Linux is not Ubuntu 16.04, and PYTHONWARNINGS/-W makes that warning an error",
                           "Do not turn every warning into an error: e.g. PYTHONWARNINGS=error,ignore::UserWarning:cntk.cntk_py_init.")
