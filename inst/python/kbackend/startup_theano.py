"""Theano's start-up checks: ``THEANO_FLAGS``, its config files and its compile directory.

``import theano`` splits ``THEANO_FLAGS`` like a shell (at commas), reads
``THEANORC`` (default ``~/.theanorc``) with configparser, validates every
configuration variable either sets against its definition in
``theano/configdefaults.py`` (``device``, ``floatX``, ...), and creates its
compile directory, failing on a read-only home.  Each step is replayed
from the installed source and the files, in that order; the first error is
the one Theano raises.  Run by :func:`kbackend.startup.check` (Keras 2's
multi-backend Keras with the Theano backend).
"""

import os
import re

from . import _stdlib
from .startup_common import argument, call_name, constant, outcome, parse, startup_failure

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    import ast
    import shlex
    from typing import Dict, List, Optional, Tuple

    from .startup_common import Found


def load_parsers() -> None:
    """ast and shlex cost milliseconds to import: only on this path."""
    global ast, shlex
    with _stdlib.first():
        import ast
        import shlex


def _theano_flags(value: str) -> "Tuple[Dict[str, str], Optional[str]]":
    """THEANO_FLAGS as Theano's configparser splits it, or its shlex error."""
    splitter = shlex.shlex(value, posix=True)
    splitter.whitespace = ","
    splitter.whitespace_split = True
    flags = {}  # type: Dict[str, str]
    try:
        for pair in splitter:
            pair = pair.strip()
            if "=" in pair:
                key, item = pair.split("=", 1)
                flags[key] = item
    except ValueError as exc:
        return flags, "ValueError: {}".format(exc)
    return flags, None


def _convert(tree: "ast.Module", name: "Optional[str]") -> "Dict[str, str]":
    """A convert function made of ``if s == "32": return "float32"`` branches, as a table."""
    table = {}  # type: Dict[str, str]
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            for branch in ast.walk(node):
                if isinstance(branch, ast.If) and isinstance(branch.test, ast.Compare) and branch.body and \
                        isinstance(branch.body[0], ast.Return):
                    key, result = constant(branch.test.comparators[0]), constant(branch.body[0].value)
                    if isinstance(key, str) and isinstance(result, str):
                        table[key] = result
    return table


def _theano_param(tree: "ast.Module", name: str, param: "ast.Call", value: str) -> "Optional[str]":
    """The error Theano's filter raises for ``value`` of config variable ``name``, or None."""
    kind = call_name(param)
    if kind == "EnumStr":
        options = [constant(a) for a in param.args]
        convert = argument(param, 99, "convert")
        table = _convert(tree, convert.id) if isinstance(convert, ast.Name) else {}
        value = table.get(value, value)
        if value in options:
            return None
        return "ValueError: Invalid value (\"{}\") for configuration variable \"{}\". Valid options are {}".format(
            value, name, tuple(options))
    if kind == "DeviceParam":
        default = constant(argument(param, 0, "default"))
        if value == default or value.startswith(("opencl", "cuda")):
            return None
        if value.startswith("gpu"):
            return ("ValueError: You are tring to use the old GPU back-end. It was removed from Theano. Use device=cuda* "
                    "now. See https://github.com/Theano/Theano/wiki/Converting-to-the-new-gpu-back-end%28gpuarray%29 "
                    "for more information.")
        return ("ValueError: Invalid value (\"{}\") for configuration variable \"{}\". Valid options start with one of "
                "\"cpu\", \"opencl\" or \"cuda\".".format(value, name))
    if kind == "BoolParam" and argument(param, 1, "is_valid") is None:
        if value in ("False", "false", "0", "True", "true", "1"):
            return None
        return "ValueError: ('Invalid value ({}) for configuration variable \"{}\".', {!r})".format(value, name, value)
    if kind in ("IntParam", "FloatParam") and argument(param, 1, "is_valid") is None:
        try:
            (int if kind == "IntParam" else float)(value)
        except ValueError as exc:
            return "ValueError: {}".format(exc)
    return None


def _short_platform(release: str, full: str) -> str:
    """Theano's ``short_platform``: the kernel release cut to X.Y in platform.platform()."""
    parts = release.split("-")
    kernel = parts[0].split(".")
    if len(parts) < 2 or len(kernel) <= 2:
        return full
    parts[0] = ".".join(kernel[:2])
    rest = parts[1].split(".")
    while rest and rest[0].isdigit():
        del rest[0]
    parts[1] = ".".join(rest)
    return full.replace(release, "-".join(parts))


def _compiledir(flags: "Dict[str, str]", base: str) -> str:
    """Theano's compiledir: base_compiledir plus its platform-dependent folder name."""
    if flags.get("compiledir"):
        return os.path.realpath(os.path.expanduser(flags["compiledir"]))
    with _stdlib.first():
        import platform
        import struct
    fields = {"platform": platform.platform(), "processor": platform.processor(),
              "python_version": platform.python_version(), "python_bitwidth": str(struct.calcsize("P") * 8),
              "short_platform": _short_platform(platform.release(), platform.platform())}
    form = flags.get("compiledir_format", "compiledir_%(short_platform)s-%(processor)s-%(python_version)s-"
                                          "%(python_bitwidth)s")
    try:
        name = form % fields
    except (KeyError, ValueError, TypeError):
        name = form
    return os.path.realpath(os.path.join(base, re.sub(r"[()\s,]+", "_", name)))


def _theano_compiledir(package: str, flags: "Dict[str, str]", home: str) -> "Optional[Found]":
    """A compile directory Theano can neither use nor create (a read-only home)."""
    base = os.path.expanduser(flags.get("base_compiledir") or os.path.join(home or os.path.expanduser("~"), ".theano"))
    path = _compiledir(flags, base)
    probe = path
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if probe == path:
        if os.access(path, os.R_OK | os.W_OK | os.X_OK):
            return None
        error = ("ValueError: compiledir '{}' exists but you don't have read, write or listing "
                 "permissions.".format(path))
        what = "exists but is not readable, writable and listable"
    elif os.path.isdir(probe) and os.access(probe, os.W_OK | os.X_OK):
        return None
    else:
        error = "ValueError: Unable to create the compiledir directory '{}'. Check the permissions.".format(path)
        what = "cannot be created ({} is not a writable folder)".format(probe)
    return startup_failure("theano", "THEANO_FLAGS", error, "its compile directory {} {}".format(path, what),
                           "Make {} writable, or set THEANO_FLAGS=base_compiledir=<a writable folder>.".format(probe))


def _theanorc(environ: "Dict[str, str]", home: str) -> "Tuple[Dict[str, str], Optional[str], List[str]]":
    """The [global] options of Theano's config files (THEANORC, default ~/.theanorc),
    read with the standard library's configparser as Theano does; or its error."""
    with _stdlib.first():
        import configparser
    files = [s.replace("~", home, 1) if home and s.startswith("~") else os.path.expanduser(s)
             for s in environ.get("THEANORC", "~/.theanorc").split(os.pathsep)]
    existing = [f for f in files if os.path.isfile(f)]
    if not existing:
        return {}, None, []
    parser = configparser.RawConfigParser()
    try:
        parser.read(existing)
    except configparser.Error as exc:
        return {}, "{}: {}".format(type(exc).__name__, exc), existing
    values = dict(parser.items("global")) if parser.has_section("global") else {}
    return values, None, existing


def check(package: str, environ: "Dict[str, str]", warnoptions: "Tuple[str, ...]", home: str) -> "Found":
    flags, error = _theano_flags(environ.get("THEANO_FLAGS", ""))
    if error is not None:
        return startup_failure("theano", "THEANO_FLAGS", error, "THEANO_FLAGS cannot be split into key=value pairs",
                               "Quote THEANO_FLAGS values properly (Theano splits it like a shell, at commas).")
    rc_values, rc_error, rc_files = _theanorc(environ, home)
    if rc_error is not None:
        return startup_failure("theano", "THEANORC", rc_error,
                               "its config file {} does not parse".format(", ".join(rc_files)),
                               "Fix or remove {} (an INI file with a [global] section).".format(", ".join(rc_files)))
    # THEANO_FLAGS wins over the config files; their option names are not case-sensitive
    from_file = "the config file " + ", ".join(rc_files)
    tree = parse(os.path.join(package, "configdefaults.py")) if flags or rc_values else None
    if tree is not None:
        for node in tree.body:
            call = node.value if isinstance(node, ast.Expr) else None
            if not isinstance(call, ast.Call) or call_name(call) != "AddConfigVar" or len(call.args) < 3:
                continue
            name, param = constant(call.args[0]), call.args[2]
            if not isinstance(name, str) or not isinstance(param, ast.Call):
                continue
            if name in flags:
                setting = (flags[name], "THEANO_FLAGS")
            elif name.lower() in rc_values:
                setting = (rc_values[name.lower()], from_file)
            else:
                continue
            failed = _theano_param(tree, name, param, setting[0])
            if failed is not None:
                return startup_failure("theano", "THEANO_FLAGS", failed, "{} sets {}={!r}, which Theano rejects".format(
                    setting[1], name, setting[0]), "Fix {} in {} (device=cpu or cuda*, floatX=float32/float64/"
                    "float16).".format(name, setting[1]))
    paths = {key: flags.get(key, rc_values.get(key)) for key in ("base_compiledir", "compiledir", "compiledir_format")}
    compiledir = _theano_compiledir(package, {k: v for k, v in paths.items() if v}, home)
    return compiledir if compiledir is not None else outcome()
