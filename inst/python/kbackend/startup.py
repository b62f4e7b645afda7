"""A backend library's own start-up: the checks it runs on its variables at import.

``import keras`` imports its backend library, and some libraries validate
their own environment variables (or files) while they load: JAX its
``JAX_*`` flags, PyTorch ``TORCH_LOGS``, Theano ``THEANO_FLAGS`` and its
compile directory, TensorFlow its plug-in variables; ``PYTHONWARNINGS=error``
turns a warning one of them emits while loading into the exception.

Each check is replayed from the library's installed source, read as text
(``ast`` and regular expressions; nothing is executed), and only when one of
those variables is set: the ordinary path costs one scan of the variable
names.  :func:`apply` is the one entry point; it changes a record whose
import was predicted to work into the failure the library raises first, in
the order ``import keras`` meets the libraries, and adds the problem with its
fix.  A value a library only checks at first use does not fail the import; it
is reported as a problem only.
"""

import os
import re
import sys

from . import _stdlib, discovery

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    import ast
    import bisect
    import linecache
    import shlex
    from typing import Any, Dict, List, Optional, Tuple

    Found = Dict[str, Any]

#: The variables that make a library check something at import.
_NAMES = ("TORCH_LOGS", "THEANO_FLAGS", "THEANORC", "PYTHONWARNINGS", "TF_PLUGGABLE_DEVICE_LIBRARY_PATH",
          "TF_USE_MODULAR_FILESYSTEM")
_PREFIXES = ("JAX_", "JAX2TF_")
_TRUE = ("y", "yes", "t", "true", "on", "1")
_FALSE = ("n", "no", "f", "false", "off", "0")


def _relevant(environ: "Dict[str, str]") -> "Tuple[Tuple[str, str], ...]":
    return tuple(sorted((name, value) for name, value in environ.items()
                        if name in _NAMES or name.startswith(_PREFIXES)))


def apply(record: "Dict[str, Any]", environ: "Dict[str, str]", libs: "Dict[str, Dict[str, Any]]") -> None:
    """Turn ``record`` into the start-up failure of a library ``import keras`` loads, if any.

    Only a record that is not locked and predicts a working import changes;
    Keras's own checks (keras.json, KERAS_BACKEND) come first and keep
    their error.  Problems are added either way.
    """
    flavour = record["keras"]["flavour"]
    theano = record["backend"] == "theano" and flavour == "keras2-multibackend"
    relevant = _relevant(environ)
    if record["locked"] or flavour is None or not (relevant or theano or sys.warnoptions):
        return
    warnoptions = tuple(sys.warnoptions) or ((environ.get("PYTHONWARNINGS", ""),)
                                             if not sys.flags.ignore_environment else ())
    paths = tuple((name, lib["path"]) for name, lib in sorted(libs.items()) if lib.get("path"))
    home = environ.get("HOME", "")
    # keras.json may name the backend with any JSON value (a list): the key must hash
    backend = record["backend"] if record["backend"] is None or isinstance(record["backend"], str) \
        else repr(record["backend"])
    found = discovery.memo("startup", (relevant, warnoptions, flavour, backend, paths, home),
                           lambda: check(flavour, backend, dict(relevant), dict(paths), warnoptions, home))
    if found["error"] is not None and record["status"] == "ok":
        record.update(status="error", error=found["error"])
        record["reason"] = "{}; then {}".format(record["reason"], found["why"])
        record["problems"][:0] = [dict(p) for p in found["problems"]]
    else:  # Keras fails earlier (or nothing fails): what remains to fix after that
        record["problems"].extend(dict(p) for p in found["problems"])


def imports(flavour: "Optional[str]", backend: "Optional[str]", paths: "Dict[str, str]") -> "List[str]":
    """The libraries ``import keras`` loads, in the order it meets them."""
    order = []  # type: List[str]
    if flavour == "keras2-multibackend":
        order = [str(backend)] + (["tensorflow"] if backend != "tensorflow" else [])
    elif flavour == "keras2-tensorflow":
        order = ["tensorflow"]
    elif flavour == "keras3":
        order = [str(backend)]
        # Keras 3's checkpoint callback imports jax whatever the backend
        keras = paths.get("keras", "")
        if _source_has(os.path.join(_package(keras), "src", "callbacks", "orbax_checkpoint.py"), r"^\s*import jax\b"):
            order.append("jax")
    expanded = []  # type: List[str]
    for name in order:
        if name == "tensorflow" and _source_has(os.path.join(_package(paths.get("tensorflow", "")), "lite", "python",
                                                             "util.py"), r"^\s*from jax import"):
            expanded.append("jax")  # TensorFlow's TFLite utilities import jax optionally, early
        expanded.append(name)
    out = []  # type: List[str]
    for name in expanded:
        if name in paths and name not in out:
            out.append(name)
    return out


def check(flavour: "Optional[str]", backend: "Optional[str]", environ: "Dict[str, str]", paths: "Dict[str, str]",
          warnoptions: "Tuple[str, ...]", home: str) -> "Found":
    """The first start-up failure and every problem, for the libraries Keras imports."""
    _load_parsers()
    found = {"error": None, "why": None, "problems": []}  # type: Found
    checks = {"jax": _jax, "torch": _torch, "theano": _theano, "tensorflow": _tensorflow, "cntk": _cntk}
    for library in imports(flavour, backend, paths):
        if library not in checks:
            continue
        result = checks[library](_package(paths[library]), environ, warnoptions, home)
        found["problems"].extend(result["problems"])
        if result["error"] is not None and found["error"] is None:
            found["error"] = result["error"]
            found["why"] = result["why"]
    errors = [o for option in warnoptions for o in option.split(",") if o.strip().startswith("e")]
    if found["error"] is None and errors:
        found["problems"].append(_problem(
            "warnings-as-errors", "-W / PYTHONWARNINGS ({}) turns warnings into exceptions. kbackend knows the "
            "import-time warnings of TensorFlow 1.x (its imp import) and CNTK (its Linux distribution check) and "
            "finds none here, but it cannot see a warning that code raises only when it runs (a version check, a "
            "deprecation in a dependency): those would fail import keras too.".format(", ".join(errors)),
            "Run backend_info(verify = TRUE) to import Keras for real, or limit the filter (e.g. "
            "error::UserWarning:mymodule)."))
    return found


def _load_parsers() -> None:
    """ast, shlex and linecache cost milliseconds to import: only on this path."""
    global ast, bisect, linecache, shlex
    with _stdlib.first():
        import ast
        import bisect
        import linecache
        import shlex


def _package(path: str) -> str:
    return os.path.dirname(path) if path.endswith(".py") else path


def _read(path: str) -> "Optional[str]":
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except (OSError, ValueError):
        return None


def _source_has(path: str, pattern: str) -> bool:
    text = _read(path)
    return text is not None and re.search(pattern, text, re.M) is not None


def _parse(path: str) -> "Optional[ast.Module]":
    text = _read(path)
    if text is None:
        return None
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


def _problem(code: str, message: str, fix: str) -> "Dict[str, str]":
    return {"code": code, "message": message, "fix": fix}


def _result(error: "Optional[str]" = None, why: "Optional[str]" = None,
            problems: "Optional[List[Dict[str, str]]]" = None) -> "Found":
    return {"error": error, "why": why, "problems": problems or []}


def _failure(library: str, variable: str, error: str, words: str, fix: str) -> "Found":
    why = "{}'s own start-up fails: {}".format(library, words)
    return _result(error, why, [_problem("backend-startup", "import keras imports {}, which fails while it loads: {} "
                                         "({}).".format(library, words, error), fix)])


# -- JAX -------------------------------------------------------------------

def _call_name(node: "ast.AST") -> str:
    func = getattr(node, "func", None)
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _constant(node: "Optional[ast.AST]") -> "Any":
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _argument(call: "ast.Call", index: int, keyword: str) -> "Optional[ast.AST]":
    for item in call.keywords:
        if item.arg == keyword:
            return item.value
    args = [a for a in call.args if not isinstance(a, getattr(ast, "Starred", ()))]
    return args[index] if index < len(args) else None


def _calls_in_order(node: "ast.AST") -> "List[ast.Call]":
    """Calls in evaluation order: arguments before the call that takes them."""
    out = []  # type: List[ast.Call]
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.ClassDef, ast.Lambda)) or \
                type(child).__name__ == "AsyncFunctionDef":
            continue
        out.extend(_calls_in_order(child))
    if isinstance(node, ast.Call):
        out.append(node)
    return out


def _enum_values(body: "List[Any]") -> "Dict[str, List[str]]":
    """The string values of each ``enum`` class defined among these statements."""
    values = {}  # type: Dict[str, List[str]]
    for node in body:
        if isinstance(node, ast.ClassDef):
            found = [_constant(item.value) for item in node.body if isinstance(item, ast.Assign)]
            values[node.name] = [v for v in found if isinstance(v, str)]
    return values


def _jax_value_error(kind: str, call: "ast.Call", environ: "Dict[str, str]",
                     enums: "Dict[str, List[str]]") -> "Optional[Tuple[str, str, str]]":
    """(variable, error, words) when this definition rejects its variable."""
    if kind in ("bool_env", "int_env"):
        variable = _constant(_argument(call, 0, "varname"))
        if not isinstance(variable, str) or variable not in environ:
            return None
        value = environ[variable]
        if kind == "bool_env":
            if value.lower() in _TRUE + _FALSE:
                return None
            return variable, "ValueError: invalid truth value {!r} for environment {!r}".format(
                value.lower(), variable), "{}={!r} is not a truth value".format(variable, value)
        try:
            int(value)
        except ValueError as exc:
            return variable, "ValueError: {}".format(exc), "{}={!r} is not an integer".format(variable, value)
        return None
    name = _constant(_argument(call, 0, "name"))
    if not isinstance(name, str):
        return None
    variable = name.upper()
    if variable not in environ:
        return None
    value = environ[variable]
    invalid = "ValueError: Invalid value \"{}\" for JAX flag {}".format(value, name.lower())
    if kind == "bool_state":
        if value.lower() in _TRUE + _FALSE:
            return None
        return variable, "ValueError: invalid truth value {!r} for environment {!r}".format(
            value.lower(), variable), "{}={!r} is not a truth value".format(variable, value)
    if kind in ("enum_state", "optional_enum_state"):
        allowed = _constant(_argument(call, 1, "enum_values"))
        if not isinstance(allowed, (list, tuple)) or value in allowed:
            return None
        return variable, invalid, "{}={!r} is not one of {}".format(variable, value, ", ".join(map(str, allowed)))
    if kind == "enum_class_state":
        holder = _argument(call, 1, "enum_class")
        allowed = enums.get(holder.id) if isinstance(holder, ast.Name) else None
        if not allowed or value in allowed:
            return None
        return variable, invalid, "{}={!r} is not one of {}".format(variable, value, ", ".join(allowed))
    if kind in ("int_state", "float_state"):
        try:
            (int if kind == "int_state" else float)(value)
        except ValueError:
            return variable, invalid, "{}={!r} is not {}".format(
                variable, value, "an integer" if kind == "int_state" else "a number")
    return None


_JAX_KINDS = ("bool_env", "int_env", "bool_state", "enum_state", "optional_enum_state", "enum_class_state",
              "int_state", "float_state")


def _jax_sources(package: str) -> "List[str]":
    """jax/_src/config.py first (the first module ``import jax`` runs), then
    the other modules of jax/_src that define flags (not the test helpers)."""
    source = os.path.join(package, "_src")
    try:
        others = sorted(n for n in os.listdir(source) if n.endswith(".py") and n != "config.py"
                        and not n.startswith("test_"))
    except OSError:
        return []
    return [os.path.join(source, "config.py")] + [os.path.join(source, n) for n in others]


def _statements(text: str, pattern: str) -> "Optional[List[Any]]":
    """The top-level statements of ``text`` that contain ``pattern``, parsed
    on their own (a whole module is slow to parse); None when a piece does
    not parse alone (a string spanning column 0), to fall back on the file."""
    starts = [m.start() for m in re.finditer(r"^[A-Za-z_@]", text, re.M)] + [len(text)]
    out = []  # type: List[Any]
    done = -1
    for hit in re.finditer(pattern, text):
        index = bisect.bisect_right(starts, hit.start()) - 1
        if index < 0 or index <= done or index >= len(starts) - 1:
            continue
        done = index
        try:
            out.extend(ast.parse(text[starts[index]:starts[index + 1]]).body)
        except (SyntaxError, ValueError):
            return None
    return out


def _jax(package: str, environ: "Dict[str, str]", warnoptions: "Tuple[str, ...]", home: str) -> "Found":
    problems = []  # type: List[Dict[str, str]]
    platforms = environ.get("JAX_PLATFORMS", "")
    if any(p.strip() not in ("", "cpu") for p in platforms.split(",")):
        problems.append(_problem(
            "backend-first-use", "JAX_PLATFORMS={!r} is not checked when jax is imported: import keras works, and the "
            "first computation fails if a listed platform cannot start.".format(platforms),
            "Install the plug-in of each listed platform (e.g. jax[cuda12]), or set JAX_PLATFORMS=cpu."))
    names = [n for n in environ if n.startswith(_PREFIXES)]
    if not names:
        return _result(problems=problems)
    wanted = sorted(set(names) | {n.lower() for n in names})
    pattern = "[\'\"]({})[\'\"]".format("|".join(re.escape(w) for w in wanted))
    for path in _jax_sources(package):
        text = _read(path)
        if text is None or not any(w in text for w in wanted):
            continue
        statements = _statements(text, pattern)
        if statements is None:
            tree = _parse(path)
            statements = tree.body if tree is not None else []
        enums = {}  # type: Dict[str, List[str]]
        if "enum_class_state" in text:
            classes = _statements(text, r"(?m)^class \w+")
            if classes is None:
                tree = _parse(path)
                classes = tree.body if tree is not None else []
            enums = _enum_values(classes)
        for statement in statements:
            for call in _calls_in_order(statement):
                kind = _call_name(call)
                if kind not in _JAX_KINDS:
                    continue
                bad = _jax_value_error(kind, call, environ, enums)
                if bad is not None:
                    variable, error, words = bad
                    failure = _failure("jax", variable, error, words,
                                       "Fix or unset {} (see the JAX configuration options).".format(variable))
                    failure["problems"][:0] = problems
                    return failure
    return _result(problems=problems)


# -- PyTorch ---------------------------------------------------------------

def _torch_names(package: str) -> "Optional[List[str]]":
    """Every name TORCH_LOGS accepts by name: registered logs and artifacts."""
    tree = _parse(os.path.join(package, "_logging", "_registrations.py"))
    if tree is None:
        return None
    names = {"all"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) in ("register_log", "register_artifact"):
            value = _constant(_argument(node, 0, "setting_name"))
            if isinstance(value, str):
                names.add(value)
    return sorted(names)


def _torch_help(package: str, internal: str, verbose: bool) -> "Optional[str]":
    """The text of ``help_message`` in torch/_logging/_internal.py, rebuilt from its parts."""
    examples = re.search(r'examples = """(.*?)"""', internal, re.S)
    tree = _parse(os.path.join(package, "_logging", "_registrations.py"))
    if examples is None or tree is None:
        return None
    logs, artifacts = set(), {}  # type: Any, Dict[str, str]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) == "register_log":
            logs.add(_constant(_argument(node, 0, "setting_name")))
        elif isinstance(node, ast.Call) and _call_name(node) == "register_artifact":
            visible = _constant(_argument(node, 2, "visible"))
            if verbose or visible:
                artifacts[_constant(_argument(node, 0, "setting_name"))] = _constant(_argument(node, 1, "description"))
    if None in logs or None in artifacts or any(not isinstance(v, str) for v in artifacts.values()):
        return None
    heading = "All registered names" if verbose else \
        "Visible registered names (use TORCH_LOGS='+help' for full list)"
    lines = ["all"] + sorted(logs) + sorted("{}{}\t{}".format(name, " " * max(0, 30 - len(name)), text)
                                          for name, text in artifacts.items())
    return "\nTORCH_LOGS Info\n{}\n\n{}\n{}\n".format(examples.group(1), heading, "  " + "\n  ".join(lines))


def _torch(package: str, environ: "Dict[str, str]", warnoptions: "Tuple[str, ...]", home: str) -> "Found":
    settings = environ.get("TORCH_LOGS")
    internal = _read(os.path.join(package, "_logging", "_internal.py"))
    if settings is None or not settings or internal is None or "TORCH_LOGS" not in internal:
        return _result()
    names = _torch_names(package)
    if names is None:
        return _result()
    fix = "Use a comma-separated list of: {} (or fully qualified module names).".format(", ".join(names))
    if settings in ("help", "+help"):
        text = _torch_help(package, internal, verbose=settings == "+help")
        if text is None:
            return _result()
        return _failure("torch", "TORCH_LOGS", "ValueError: " + text,
                        "TORCH_LOGS={!r} asks for its help, which torch raises as an exception".format(settings),
                        "Unset TORCH_LOGS; " + fix[0].lower() + fix[1:])
    invalid = ("ValueError: \nInvalid log settings: {}, must be a comma separated list of fully\n"
               "qualified module names, registered log names or registered artifact names.\n"
               "For more info on various settings, try TORCH_LOGS=\"help\"\nValid settings:\n{}\n").format(
                   settings, ", ".join(names))
    words = "TORCH_LOGS={!r} names no registered log, artifact or module".format(settings)
    if re.fullmatch(r"((\+|-)?[\w\.]+,\s*)*(\+|-)?[\w\.]+?", settings) is None:
        return _failure("torch", "TORCH_LOGS", invalid, words, fix)
    for item in re.sub(r"\s+", "", settings).split(","):
        name = item.replace("+", "").replace("-", "")
        if name in names:
            continue
        top = name.split(".")[0]
        if "." in name and discovery.find_spec_without_import(top) is None:
            # importlib.util.find_spec imports the parent package first
            return _failure("torch", "TORCH_LOGS", "ModuleNotFoundError: No module named {!r}".format(top),
                            "TORCH_LOGS names {!r}, whose package {!r} is not installed".format(name, top), fix)
        if discovery.find_spec_without_import(name) is None:
            return _failure("torch", "TORCH_LOGS", invalid, words, fix)
    return _result()


# -- Theano ----------------------------------------------------------------

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
                    key, result = _constant(branch.test.comparators[0]), _constant(branch.body[0].value)
                    if isinstance(key, str) and isinstance(result, str):
                        table[key] = result
    return table


def _theano_param(tree: "ast.Module", name: str, param: "ast.Call", value: str) -> "Optional[str]":
    """The error Theano's filter raises for ``value`` of config variable ``name``, or None."""
    kind = _call_name(param)
    if kind == "EnumStr":
        options = [_constant(a) for a in param.args]
        convert = _argument(param, 99, "convert")
        table = _convert(tree, convert.id) if isinstance(convert, ast.Name) else {}
        value = table.get(value, value)
        if value in options:
            return None
        return "ValueError: Invalid value (\"{}\") for configuration variable \"{}\". Valid options are {}".format(
            value, name, tuple(options))
    if kind == "DeviceParam":
        default = _constant(_argument(param, 0, "default"))
        if value == default or value.startswith(("opencl", "cuda")):
            return None
        if value.startswith("gpu"):
            return ("ValueError: You are tring to use the old GPU back-end. It was removed from Theano. Use device=cuda* "
                    "now. See https://github.com/Theano/Theano/wiki/Converting-to-the-new-gpu-back-end%28gpuarray%29 "
                    "for more information.")
        return ("ValueError: Invalid value (\"{}\") for configuration variable \"{}\". Valid options start with one of "
                "\"cpu\", \"opencl\" or \"cuda\".".format(value, name))
    if kind == "BoolParam" and _argument(param, 1, "is_valid") is None:
        if value in ("False", "false", "0", "True", "true", "1"):
            return None
        return "ValueError: ('Invalid value ({}) for configuration variable \"{}\".', {!r})".format(value, name, value)
    if kind in ("IntParam", "FloatParam") and _argument(param, 1, "is_valid") is None:
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
    return _failure("theano", "THEANO_FLAGS", error, "its compile directory {} {}".format(path, what),
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


def _theano(package: str, environ: "Dict[str, str]", warnoptions: "Tuple[str, ...]", home: str) -> "Found":
    flags, error = _theano_flags(environ.get("THEANO_FLAGS", ""))
    if error is not None:
        return _failure("theano", "THEANO_FLAGS", error, "THEANO_FLAGS cannot be split into key=value pairs",
                        "Quote THEANO_FLAGS values properly (Theano splits it like a shell, at commas).")
    rc_values, rc_error, rc_files = _theanorc(environ, home)
    if rc_error is not None:
        return _failure("theano", "THEANORC", rc_error, "its config file {} does not parse".format(", ".join(rc_files)),
                        "Fix or remove {} (an INI file with a [global] section).".format(", ".join(rc_files)))
    # THEANO_FLAGS wins over the config files; their option names are not case-sensitive
    from_file = "the config file " + ", ".join(rc_files)
    tree = _parse(os.path.join(package, "configdefaults.py")) if flags or rc_values else None
    if tree is not None:
        for node in tree.body:
            call = node.value if isinstance(node, ast.Expr) else None
            if not isinstance(call, ast.Call) or _call_name(call) != "AddConfigVar" or len(call.args) < 3:
                continue
            name, param = _constant(call.args[0]), call.args[2]
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
                return _failure("theano", "THEANO_FLAGS", failed, "{} sets {}={!r}, which Theano rejects".format(
                    setting[1], name, setting[0]), "Fix {} in {} (device=cpu or cuda*, floatX=float32/float64/"
                    "float16).".format(name, setting[1]))
    paths = {key: flags.get(key, rc_values.get(key)) for key in ("base_compiledir", "compiledir", "compiledir_format")}
    compiledir = _theano_compiledir(package, {k: v for k, v in paths.items() if v}, home)
    return compiledir if compiledir is not None else _result()


# -- TensorFlow ------------------------------------------------------------

def _tensorflow(package: str, environ: "Dict[str, str]", warnoptions: "Tuple[str, ...]", home: str) -> "Found":
    init = _read(os.path.join(package, "__init__.py")) or ""
    modular = environ.get("TF_USE_MODULAR_FILESYSTEM", "0")
    if modular in ("true", "1") and "import tensorflow_io_gcs_filesystem" in init and \
            discovery.find_spec_without_import("tensorflow_io_gcs_filesystem") is None:
        return _failure("tensorflow", "TF_USE_MODULAR_FILESYSTEM",
                        "ModuleNotFoundError: No module named 'tensorflow_io_gcs_filesystem'",
                        "TF_USE_MODULAR_FILESYSTEM={!r} asks for tensorflow_io_gcs_filesystem, which is not "
                        "installed".format(modular), "pip install tensorflow-io-gcs-filesystem, or unset "
                        "TF_USE_MODULAR_FILESYSTEM.")
    plugin = environ.get("TF_PLUGGABLE_DEVICE_LIBRARY_PATH", "")
    if plugin and "TF_PLUGGABLE_DEVICE_LIBRARY_PATH" in init:
        loader = _read(os.path.join(package, "python", "framework", "load_library.py")) or ""
        match = re.search(r"errno\.ENOENT,\s*'([^']*)'\s*'([^']*)'", loader)
        if not os.path.exists(plugin) and match:
            return _failure("tensorflow", "TF_PLUGGABLE_DEVICE_LIBRARY_PATH", "FileNotFoundError: [Errno 2] {}{}: {!r}"
                            .format(match.group(1), match.group(2), plugin),
                            "TF_PLUGGABLE_DEVICE_LIBRARY_PATH={!r} does not exist".format(plugin),
                            "Point TF_PLUGGABLE_DEVICE_LIBRARY_PATH at the plug-in's shared library (or its folder), "
                            "or unset it.")
    imp = _imp_warning() if warnoptions else None
    if imp is not None and _warning_is_error(warnoptions, imp[0], imp[1], "tensorflow_core.python.pywrap_tensorflow_internal"):
        internal = [os.path.join(package, "python", "pywrap_tensorflow_internal.py"),
                    os.path.join(os.path.dirname(package), "tensorflow_core", "python", "pywrap_tensorflow_internal.py")]
        if any(_source_has(path, r"^\s*import imp\b") for path in internal):
            return _failure("tensorflow", "PYTHONWARNINGS", "{}: {}".format(*imp),
                            "TensorFlow's compiled-module loader imports the deprecated imp module, and "
                            "PYTHONWARNINGS/-W makes that warning an error",
                            "Do not turn every warning into an error: e.g. PYTHONWARNINGS=error,"
                            "ignore::DeprecationWarning.")
    return _result()


def _imp_warning() -> "Optional[Tuple[str, str]]":
    """(category, message) of the warning this interpreter's imp module emits when
    first imported, read from the standard library; None without imp (3.12+)."""
    tree = _parse(os.path.join(os.path.dirname(os.__file__), "imp.py"))
    for node in tree.body if tree is not None else []:
        call = node.value if isinstance(node, ast.Expr) else None
        if isinstance(call, ast.Call) and _call_name(call) == "warn" and len(call.args) >= 2:
            message, category = _constant(call.args[0]), call.args[1]
            if isinstance(message, str) and isinstance(category, ast.Name):
                return category.id, message
    return None


# -- CNTK ------------------------------------------------------------------

def _cntk(package: str, environ: "Dict[str, str]", warnoptions: "Tuple[str, ...]", home: str) -> "Found":
    """CNTK warns at import on anything but Ubuntu 16.04 (from /etc/os-release)."""
    if not warnoptions or not sys.platform.startswith("linux") or \
            not _source_has(os.path.join(package, "cntk_py_init.py"), r"Unsupported Linux distribution"):
        return _result()
    distro = linecache.getline("/etc/os-release", 3)[3:-1]
    version = linecache.getline("/etc/os-release", 6)[12:-2]
    if not distro:
        distro = linecache.getline("/etc/lsb-release", 1)[11:-1]
        version = linecache.getline("/etc/lsb-release", 2)[16:-1]
    distro, version = distro.lower(), version.lower()
    message = "Unsupported Linux distribution ({}-{}). CNTK supports Ubuntu 16.04 and above, only.".format(distro, version)
    if (distro, version) == ("ubuntu", "16.04") or not _warning_is_error(warnoptions, "UserWarning", message,
                                                                           "cntk.cntk_py_init"):
        return _result()
    return _failure("cntk", "PYTHONWARNINGS", "UserWarning: " + message,
                    "CNTK warns that this Linux is not Ubuntu 16.04, and PYTHONWARNINGS/-W makes that warning an error",
                    "Do not turn every warning into an error: e.g. PYTHONWARNINGS=error,ignore::UserWarning:cntk.cntk_py_init.")


# -- PYTHONWARNINGS --------------------------------------------------------

_CATEGORIES = {"Warning": ("Warning",),
               "DeprecationWarning": ("DeprecationWarning", "Warning"),
               "PendingDeprecationWarning": ("PendingDeprecationWarning", "Warning"),
               "UserWarning": ("UserWarning", "Warning")}
_ACTIONS = ("error", "ignore", "always", "default", "module", "once")


def _warning_is_error(warnoptions: "Tuple[str, ...]", category: str, message: str, module: str) -> bool:
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
