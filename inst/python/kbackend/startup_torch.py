"""PyTorch's start-up check: ``TORCH_LOGS``, which ``import torch`` parses while it loads.

torch reads ``TORCH_LOGS`` at import and raises a ``ValueError`` (with its
list of valid names) for a name that is neither a registered log or
artifact nor an importable module; ``help`` and ``+help`` raise the help
text itself.  The registered names are read from the installed
``torch/_logging`` source.  Run by :func:`kbackend.startup.check`.
"""

import os
import re

from . import _stdlib, discovery
from .startup_common import argument, call_name, constant, outcome, parse, read, startup_failure

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    import ast
    from typing import Any, Dict, List, Optional, Tuple  # noqa: F401 - Any is used in a type comment

    from .startup_common import Found


def load_parsers() -> None:
    """ast costs milliseconds to import: only on this path."""
    global ast
    with _stdlib.first():
        import ast


def _torch_names(package: str) -> "Optional[List[str]]":
    """Every name TORCH_LOGS accepts by name: registered logs and artifacts."""
    tree = parse(os.path.join(package, "_logging", "_registrations.py"))
    if tree is None:
        return None
    names = {"all"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and call_name(node) in ("register_log", "register_artifact"):
            value = constant(argument(node, 0, "setting_name"))
            if isinstance(value, str):
                names.add(value)
    return sorted(names)


def _torch_help(package: str, internal: str, verbose: bool) -> "Optional[str]":
    """The text of ``help_message`` in torch/_logging/_internal.py, rebuilt from its parts."""
    examples = re.search(r'examples = """(.*?)"""', internal, re.S)
    tree = parse(os.path.join(package, "_logging", "_registrations.py"))
    if examples is None or tree is None:
        return None
    logs, artifacts = set(), {}  # type: Any, Dict[str, str]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and call_name(node) == "register_log":
            logs.add(constant(argument(node, 0, "setting_name")))
        elif isinstance(node, ast.Call) and call_name(node) == "register_artifact":
            visible = constant(argument(node, 2, "visible"))
            if verbose or visible:
                artifacts[constant(argument(node, 0, "setting_name"))] = constant(argument(node, 1, "description"))
    if None in logs or None in artifacts or any(not isinstance(v, str) for v in artifacts.values()):
        return None
    heading = "All registered names" if verbose else \
        "Visible registered names (use TORCH_LOGS='+help' for full list)"
    lines = ["all"] + sorted(logs) + sorted("{}{}\t{}".format(name, " " * max(0, 30 - len(name)), text)
                                          for name, text in artifacts.items())
    return "\nTORCH_LOGS Info\n{}\n\n{}\n{}\n".format(examples.group(1), heading, "  " + "\n  ".join(lines))


def check(package: str, environ: "Dict[str, str]", warnoptions: "Tuple[str, ...]", home: str) -> "Found":
    settings = environ.get("TORCH_LOGS")
    internal = read(os.path.join(package, "_logging", "_internal.py"))
    if settings is None or not settings or internal is None or "TORCH_LOGS" not in internal:
        return outcome()
    names = _torch_names(package)
    if names is None:
        return outcome()
    fix = "Use a comma-separated list of: {} (or fully qualified module names).".format(", ".join(names))
    if settings in ("help", "+help"):
        text = _torch_help(package, internal, verbose=settings == "+help")
        if text is None:
            return outcome()
        return startup_failure("torch", "TORCH_LOGS", "ValueError: " + text,
                               "TORCH_LOGS={!r} asks for its help, which torch raises as an exception".format(settings),
                               "Unset TORCH_LOGS; " + fix[0].lower() + fix[1:])
    invalid = ("ValueError: \nInvalid log settings: {}, must be a comma separated list of fully\n"
               "qualified module names, registered log names or registered artifact names.\n"
               "For more info on various settings, try TORCH_LOGS=\"help\"\nValid settings:\n{}\n").format(
                   settings, ", ".join(names))
    words = "TORCH_LOGS={!r} names no registered log, artifact or module".format(settings)
    if re.fullmatch(r"((\+|-)?[\w\.]+,\s*)*(\+|-)?[\w\.]+?", settings) is None:
        return startup_failure("torch", "TORCH_LOGS", invalid, words, fix)
    for item in re.sub(r"\s+", "", settings).split(","):
        name = item.replace("+", "").replace("-", "")
        if name in names:
            continue
        top = name.split(".")[0]
        if "." in name and discovery.find_spec_without_import(top) is None:
            # importlib.util.find_spec imports the parent package first
            return startup_failure("torch", "TORCH_LOGS", "ModuleNotFoundError: No module named {!r}".format(top),
                                   "TORCH_LOGS names {!r}, whose package {!r} is not installed".format(name, top), fix)
        if discovery.find_spec_without_import(name) is None:
            return startup_failure("torch", "TORCH_LOGS", invalid, words, fix)
    return outcome()
