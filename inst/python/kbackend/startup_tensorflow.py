"""TensorFlow's start-up checks: its plug-in variables, and the warning its loader emits.

``import tensorflow`` imports ``tensorflow_io_gcs_filesystem`` when
``TF_USE_MODULAR_FILESYSTEM`` asks for it, loads the plug-in that
``TF_PLUGGABLE_DEVICE_LIBRARY_PATH`` names (a missing file raises), and,
in TensorFlow 1.x, imports the deprecated ``imp`` module, whose warning
``-W error`` / ``PYTHONWARNINGS=error`` turns into the import's exception.
Each is read from the installed source and the standard library's
``imp.py``.  Run by :func:`kbackend.startup.check`.
"""

import os
import re

from . import _stdlib, discovery
from .startup_common import call_name, constant, outcome, parse, read, source_has, startup_failure
from .startup_warnings import warning_is_error

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    import ast
    from typing import Dict, Optional, Tuple

    from .startup_common import Found


def load_parsers() -> None:
    """ast costs milliseconds to import: only on this path."""
    global ast
    with _stdlib.first():
        import ast


def check(package: str, environ: "Dict[str, str]", warnoptions: "Tuple[str, ...]", home: str) -> "Found":
    init = read(os.path.join(package, "__init__.py")) or ""
    modular = environ.get("TF_USE_MODULAR_FILESYSTEM", "0")
    if modular in ("true", "1") and "import tensorflow_io_gcs_filesystem" in init and \
            discovery.find_spec_without_import("tensorflow_io_gcs_filesystem") is None:
        return startup_failure("tensorflow", "TF_USE_MODULAR_FILESYSTEM",
                               "ModuleNotFoundError: No module named 'tensorflow_io_gcs_filesystem'",
                               "TF_USE_MODULAR_FILESYSTEM={!r} asks for tensorflow_io_gcs_filesystem, which is not "
                               "installed".format(modular), "pip install tensorflow-io-gcs-filesystem, or unset "
                               "TF_USE_MODULAR_FILESYSTEM.")
    plugin = environ.get("TF_PLUGGABLE_DEVICE_LIBRARY_PATH", "")
    if plugin and "TF_PLUGGABLE_DEVICE_LIBRARY_PATH" in init:
        loader = read(os.path.join(package, "python", "framework", "load_library.py")) or ""
        match = re.search(r"errno\.ENOENT,\s*'([^']*)'\s*'([^']*)'", loader)
        if not os.path.exists(plugin) and match:
            return startup_failure("tensorflow", "TF_PLUGGABLE_DEVICE_LIBRARY_PATH",
                                   "FileNotFoundError: [Errno 2] {}{}: {!r}".format(match.group(1), match.group(2), plugin),
                                   "TF_PLUGGABLE_DEVICE_LIBRARY_PATH={!r} does not exist".format(plugin),
                                   "Point TF_PLUGGABLE_DEVICE_LIBRARY_PATH at the plug-in's shared library (or its folder), "
                                   "or unset it.")
    imp = _imp_warning() if warnoptions else None
    if imp is not None and warning_is_error(warnoptions, imp[0], imp[1], "tensorflow_core.python.pywrap_tensorflow_internal"):
        internal = [os.path.join(package, "python", "pywrap_tensorflow_internal.py"),
                    os.path.join(os.path.dirname(package), "tensorflow_core", "python", "pywrap_tensorflow_internal.py")]
        if any(source_has(path, r"^\s*import imp\b") for path in internal):
            return startup_failure("tensorflow", "PYTHONWARNINGS", "{}: {}".format(*imp),
                                   "TensorFlow's compiled-module loader imports the deprecated imp module, and "
                                   "PYTHONWARNINGS/-W makes that warning an error",
                                   "Do not turn every warning into an error: e.g. PYTHONWARNINGS=error,"
                                   "ignore::DeprecationWarning.")
    return outcome()


def _imp_warning() -> "Optional[Tuple[str, str]]":
    """(category, message) of the warning this interpreter's imp module emits when
    first imported, read from the standard library; None without imp (3.12+)."""
    tree = parse(os.path.join(os.path.dirname(os.__file__), "imp.py"))
    for node in tree.body if tree is not None else []:
        call = node.value if isinstance(node, ast.Expr) else None
        if isinstance(call, ast.Call) and call_name(call) == "warn" and len(call.args) >= 2:
            message, category = constant(call.args[0]), call.args[1]
            if isinstance(message, str) and isinstance(category, ast.Name):
                return category.id, message
    return None
