"""What Keras asks of a custom backend module, read from the installed Keras's source.

The entries multi-backend Keras 2 requires in the module's ``__dict__`` (in
the order it checks them), the messages it raises, and the names
``keras.backend`` then imports from the loader module whose namespace the
entries joined, with that module's own names: read from
``keras/backend/load_backend.py`` and ``keras/backend/__init__.py`` (or the
package's ``__init__.py`` in Keras 2.2.0-2.2.4, which checks in place), never
imported.
"""

import os

from .custom_judge import MAX_DEPTH, Judge
from .custom_source import const, lazy_ast, read_tree, strings
from .custom_state import State
from .custom_walker import Walker

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional

    from .custom_judge import Locate

#: Used only when the installed Keras's source cannot be read.
REQUIRED = ("placeholder", "variable", "function")
MISSING_ENTRY = "Invalid backend. Missing required entry : "
UNABLE = "Unable to import backend : "


def keras_checks(locate: "Locate") -> "Dict[str, Any]":
    """Read from the installed Keras: the entries it requires in order, its
    messages, and the names ``keras.backend`` then imports from the module
    that took in the custom backend's entries (with that module's own names).
    Cached per Keras file."""
    package = locate("keras.backend")
    loader = locate("keras.backend.load_backend") or package
    key = (package, loader)

    def compute() -> "Dict[str, Any]":
        return _keras_checks(package, loader)

    try:
        from . import discovery

        return discovery.memo("custom.keras_checks", key, compute)
    except Exception:  # noqa: BLE001 - memo is an optimisation
        return compute()


def _keras_checks(package: "Optional[str]", loader: "Optional[str]") -> "Dict[str, Any]":
    ast = lazy_ast()
    checks: "Dict[str, Any]" = {"required": list(REQUIRED), "missing": MISSING_ENTRY, "unable": UNABLE,
                                "imports": [], "own": set(), "loader": loader, "read": False}
    tree = read_tree(loader) if loader and loader.endswith(".py") else None
    if tree is None:
        return checks
    lists: "Dict[str, List[str]]" = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            names = strings(node.value)
            if names is not None:
                lists[node.targets[0].id] = names
    for node in ast.walk(tree):
        if isinstance(node, ast.For):
            raised = [n for n in ast.walk(node) if isinstance(n, ast.Raise)]
            text = [const(n)[1] for r in raised for n in ast.walk(r) if const(n)[0] and isinstance(const(n)[1], str)]
            if raised and any("required" in t.lower() for t in text):
                names = lists.get(node.iter.id) if isinstance(node.iter, ast.Name) else strings(node.iter)
                if names:
                    checks["required"] = names
                    checks["missing"] = next(t for t in text if "required" in t.lower())
                    checks["read"] = True
        if isinstance(node, ast.ExceptHandler):
            text = [const(n)[1] for n in ast.walk(node) if const(n)[0] and isinstance(const(n)[1], str)]
            unable = [t for t in text if "import backend" in t]
            if unable:
                checks["unable"] = unable[0]
    if package and loader != package and package.endswith(".py"):
        init = read_tree(package)
        if init is not None:
            stem = os.path.splitext(os.path.basename(loader or ""))[0]
            for node in init.body:  # unconditional imports: the trailing if-chain names built-in backends
                if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module == stem:
                    checks["imports"] += [alias.name for alias in node.names if alias.name != "*"]
        judge = Judge(lambda _name: None)
        state = State()
        Walker(judge, "keras.backend." + (os.path.splitext(os.path.basename(loader or ""))[0]), loader or "",
                False, False, MAX_DEPTH).walk(tree.body, state)
        checks["own"] = state.sure | state.maybe
    return checks
