"""Machinery shared by the hardening tests; stdlib only, Python 3.6+.

A fuzz *case* is plain JSON data, so that the same case can be replayed in
another interpreter (``python hardening_support.py replay ...`` in
.venv-py36/.venv-py37) and run through real Keras in a subprocess::

    {"env":    {"KERAS_BACKEND": "jax", "KERAS_HOME": "{root}/kh", ...},
     "home":   "{root}/home" | "" | "<unset>" | ...,   # the HOME variable
     "config": FILESPEC or None,   # what sits where Keras reads keras.json
     "decoy":  FILESPEC or None}   # ~/.keras/keras.json when that is not it

``{root}``, ``{home}`` and ``{work}`` are expanded to a sandbox directory.
A FILESPEC is ``{"kind": "bytes", "hex": ...}``, ``nested`` (depth),
``huge`` (size), ``dir``, ``fifo``, ``empty`` or ``symlink`` (to another
FILESPEC, ``"dangling"`` or ``"self"``).

Nothing here ever writes outside the sandbox: a keras.json location that
would leave it (``KERAS_HOME=/``, ``~user``, an unset HOME...) is left alone
and the case is marked unsafe, so it is never given to real Keras, which
writes keras.json where it reads it.
"""

import contextlib
import io
import json
import os
import re
import shutil
import signal
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON_DIR = os.path.join(ROOT, "python")

#: HOME values that all name the sandbox's existing, writable home directory.
SAFE_HOMES = ("{root}/home", "{root}/home/", "{root}//home", "{root}/./home", "{root}/home/../home")
UNSET = "<unset>"
#: Names that could leak the developer's own set-up into a case (as tests/scenario.py scrubs).
_SCRUB = re.compile(
    r"^(KERAS_.*|TF_USE_LEGACY_KERAS|TF_FORCE_GPU_ALLOW_GROWTH|XLA_.*|JAX_.*|PYTORCH_.*|THEANO_FLAGS|THEANORC"
    r"|CNTK_.*|PYTHONPATH|PYTHONHOME|PYTHONSTARTUP|RETICULATE_.*|HOME|USERPROFILE)$"
)
#: Nesting depths whose outcome depends on how deep the caller's stack is when
#: ``import keras`` runs json.load (see docs/guarantees.md): never compared.
STACK_DEPENDENT_DEPTHS = (800, 1100)


def expand(value, root):
    return value.replace("{root}", root).replace("{home}", os.path.join(root, "home")).replace(
        "{work}", os.path.join(root, "work"))


def case_variables(case, root):
    """(variables to set, names to remove) for a case in sandbox ``root``."""
    values = {}
    removed = []
    if case["home"] == UNSET:
        removed.append("HOME")
    else:
        values["HOME"] = expand(case["home"], root)
    for name, value in case["env"].items():
        values[name] = expand(value, root)
    return values, removed


def _inside(path, root):
    real = os.path.realpath(path)
    base = os.path.realpath(root)
    return real == base or real.startswith(base + os.sep)


def keras_locations(values, root):
    """Where Keras (3 and multi-backend 2) reads keras.json and which directory
    it creates, from the variables alone, or None when either could be outside
    the sandbox.  Written independently of kbackend, from Keras's source."""
    work = os.path.join(root, "work")
    home = values.get("HOME")
    if "KERAS_HOME" in values:
        keras_dir = values["KERAS_HOME"]
    else:
        if not home or not os.path.isabs(home) or not os.path.isdir(home):
            return None  # Keras would fall back to /tmp/.keras or the passwd home
        keras_dir = os.path.join(home, ".keras")
    config = os.path.join(keras_dir, "keras.json")
    if config.startswith("~"):
        if not (config == "~" or config.startswith("~/")) or not home:
            return None  # ~user: another user's home
        config = (home.rstrip("/") + config[1:]) or "/"
    config = os.path.join(work, config)
    keras_dir = os.path.join(work, keras_dir)
    if not (_inside(config, root) and _inside(keras_dir, root)):
        return None
    return {"dir": keras_dir, "config": config}


def write_spec(path, spec, root):
    """Create what ``spec`` describes at ``path`` (parents included)."""
    parent = os.path.dirname(path)
    if parent and not os.path.isdir(parent):
        os.makedirs(parent)
    kind = spec["kind"]
    if kind == "dir":
        os.mkdir(path)
        with open(os.path.join(path, "inside.json"), "w") as handle:
            handle.write('{"backend": "jax"}')
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink":
        target = spec["to"]
        if target == "dangling":
            os.symlink(os.path.join(root, "nowhere", "keras.json"), path)
        elif target == "self":
            os.symlink(path, path)
        else:
            real = os.path.join(root, "elsewhere", "target.json")
            if not os.path.lexists(real):
                write_spec(real, target, root)
            os.symlink(real, path)
    else:
        with open(path, "wb") as handle:
            handle.write(spec_bytes(spec))


def spec_bytes(spec):
    kind = spec["kind"]
    if kind == "empty":
        return b""
    if kind == "bytes":
        return bytes.fromhex(spec["hex"])
    if kind == "nested":
        depth = spec["depth"]
        if spec["inner"] == "[":
            body = "[" * depth + "]" * depth
        else:
            body = '{"k": ' * depth + "0" + "}" * depth
        if spec.get("wrap"):
            body = '{"%s": %s}' % (spec["wrap"], body)
        return body.encode("ascii")
    if kind == "huge":
        size = spec["size"]
        backend = json.dumps(spec["backend"])
        if spec["filler"] == "space":
            return (" " * size + '{"backend": %s}' % backend).encode("ascii")
        if spec["filler"] == "backend":
            return ('{"backend": "%s"}' % ("j" * size)).encode("ascii")
        return ('{"backend": %s, "pad": "%s"}' % (backend, "x" * size)).encode("ascii")
    raise ValueError("unknown spec kind {!r}".format(kind))


def spec_kinds(spec):
    """Every kind a spec uses (a symlink's target included)."""
    if spec is None:
        return set()
    kinds = {spec["kind"]}
    if spec["kind"] == "symlink" and isinstance(spec["to"], dict):
        kinds |= spec_kinds(spec["to"])
    return kinds


def max_depth(spec):
    if spec is None:
        return 0
    if spec["kind"] == "nested":
        return spec["depth"] + (1 if spec.get("wrap") else 0)
    if spec["kind"] == "symlink" and isinstance(spec["to"], dict):
        return max_depth(spec["to"])
    return 0


def materialize(case, root):
    """Build the case's files under ``root``; return an overlay for conftest.run.

    The overlay also says whether the case is ``safe`` for real Keras (every
    file Keras reads or writes stays inside ``root``) and where keras.json is.
    """
    for sub in ("home", "work"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    # A regular file for KERAS_HOME templates that point at (or into) a file.
    with open(os.path.join(root, "afile"), "w") as handle:
        handle.write("not a directory\n")
    values, removed = case_variables(case, root)
    where = keras_locations(values, root)
    config_path = where["config"] if where else None
    if config_path and case["config"] is not None:
        try:
            write_spec(config_path, case["config"], root)
        except (OSError, ValueError):
            pass  # e.g. KERAS_HOME names a file or a too-long path: nothing can sit there
    decoy = os.path.join(root, "home", ".keras", "keras.json")
    if case["decoy"] is not None and not os.path.lexists(decoy):
        with contextlib.suppress(OSError):
            write_spec(decoy, case["decoy"], root)
    safe = where is not None and case["home"] in SAFE_HOMES
    unset = sorted(set(n for n in os.environ if _SCRUB.match(n) and n not in values) | set(removed))
    return {"set": values, "unset": unset, "cwd": os.path.join(root, "work"), "safe": safe,
            "config_path": config_path}


def clear_directory(path):
    """Empty ``path`` (FIFOs, symlink loops and read-only trees included)."""
    for entry in os.listdir(path):
        full = os.path.join(path, entry)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(full)


@contextlib.contextmanager
def applied(overlay):
    """Apply an overlay to this process (os.environ and cwd), then restore it."""
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    try:
        for name in overlay["unset"]:
            os.environ.pop(name, None)
        os.environ.update(overlay["set"])
        os.chdir(overlay["cwd"])
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds):
    """Turn a blocking call (a FIFO opened for reading) into an exception."""
    def _alarm(signum, frame):
        raise Hang("still running after {} s".format(seconds))

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _reject_constant(name):
    raise ValueError("not strict JSON: {}".format(name))


def strict_json(text):
    """Parse JSON as strict parsers (R's jsonlite) do: no NaN/Infinity."""
    return json.loads(text, parse_constant=_reject_constant)


#: Fields that are always objects with a fixed set of keys.
_OBJECTS = ("config_file", "config", "keras", "installed", "tf_keras", "python")
#: Fields whose JSON type never varies.
_TYPED = ("kbackend_version", "status", "source", "reason", "locked", "locked_by", "keras_home_source",
          "variables", "problems")


def shape(record):
    """The record's keys, its fixed objects' keys and its fixed-type fields' types."""
    out = {}
    for key, value in record.items():
        if key in _OBJECTS and isinstance(value, dict):
            out[key] = sorted(value)
        elif key in _TYPED:
            out[key] = type(value).__name__
        else:
            out[key] = "*"
    return out


def record_complaints(record, baseline):
    """What is wrong with a record compared with the usual shape."""
    found = []
    if not isinstance(record, dict):
        return ["record is a {}".format(type(record).__name__)]
    if shape(record) != baseline:
        found.append("shape {} != {}".format(shape(record), baseline))
        return found
    if record["status"] not in ("ok", "error"):
        found.append("status {!r}".format(record["status"]))
    if (record["status"] == "ok") != (record["error"] is None):
        found.append("status {!r} with error {!r}".format(record["status"], record["error"]))
    if record["error"] is not None and not isinstance(record["error"], str):
        found.append("error is not text")
    if record["source"] not in ("environment", "config", "default", "imported"):
        found.append("source {!r}".format(record["source"]))
    if not isinstance(record["reason"], str) or not record["reason"]:
        found.append("no reason")
    for problem in record["problems"]:
        if not (isinstance(problem, dict) and sorted(problem) == ["code", "fix", "message"]
                and all(isinstance(v, str) and v for v in problem.values())):
            found.append("bad problem {!r}".format(problem))
    if not isinstance(record["variables"], dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in record["variables"].items()):
        found.append("variables is not a map of strings")
    return found


def warm_up():
    """Modules imported lazily on paths kbackend takes, none named by input:
    the standard library's own (``os.path.expanduser("~user")`` imports
    ``pwd``), those kbackend loads only on the paths that need them (zips,
    RECORD hashes, the module walk, a backend library's start-up checks),
    and kbackend's own modules."""
    import ast  # noqa: F401
    import base64  # noqa: F401
    import bisect  # noqa: F401
    import configparser  # noqa: F401
    import hashlib  # noqa: F401
    import linecache  # noqa: F401
    import platform  # noqa: F401
    import pwd  # noqa: F401
    import shlex  # noqa: F401
    import tokenize  # noqa: F401
    import zipfile  # noqa: F401

    # and kbackend's own modules, some of which load on first use too (the
    # custom backend judge, the per-library start-up checks)
    import importlib
    import pkgutil

    import kbackend

    for module in pkgutil.iter_modules(kbackend.__path__):
        if module.name not in ("__main__", "pytest_plugin"):  # (the command line; pytest's own plugin)
            importlib.import_module("kbackend." + module.name)


def exercise(kbackend, baseline, seconds=20):
    """Call every read-only entry point once; return (complaints, record)."""
    from kbackend import cli

    complaints = []
    record = None
    before = set(sys.modules)
    try:
        with time_limit(seconds):
            record = kbackend.backend_info()
            text = kbackend.backend_info_json()
            outputs = {}
            # The report under an ASCII stdout also covers what UTF-8 cannot encode (lone surrogates).
            for argv, encoding in ((["--json"], "utf-8"), ([], "ascii")):
                raw = io.BytesIO()
                stream = io.TextIOWrapper(raw, encoding=encoding, errors="strict")
                errors = io.StringIO()
                with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(errors):
                    code = cli.main(argv)
                    stream.flush()
                if code not in (0, 1):
                    complaints.append("cli {} ({} stdout) exit {}: {}".format(argv, encoding, code, errors.getvalue()[-800:]))
                outputs[tuple(argv)] = raw.getvalue()
    except BaseException as exc:  # noqa: BLE001 - the point is to catch everything
        complaints.append("raised {}: {}".format(type(exc).__name__, str(exc)[:300]))
        return complaints, record
    new = sorted(set(sys.modules) - before)
    if new:
        complaints.append("imported {}".format(new))
    complaints.extend(record_complaints(record, baseline))
    try:
        json.dumps(record)
        parsed = strict_json(text)
        strict_json(outputs[("--json",)].decode("utf-8"))
    except (ValueError, TypeError, RecursionError) as exc:
        complaints.append("not JSON: {}: {}".format(type(exc).__name__, str(exc)[:200]))
    else:
        if sorted(parsed) != sorted(record):
            complaints.append("JSON form has other keys")
    return complaints, record


def summary(record):
    """The part of a record the real-Keras comparison and sampling use."""
    return {"status": record["status"], "backend": record["backend"], "error": record["error"],
            "source": record["source"]}


def replay(cases_path, baseline_path, out_path):
    """Replay fuzz cases in this interpreter (run in .venv-py36/.venv-py37)."""
    sys.path.insert(0, PYTHON_DIR)
    import kbackend

    with open(cases_path) as handle:
        cases = json.load(handle)
    with open(baseline_path) as handle:
        baseline = json.load(handle)
    root = tempfile.mkdtemp(prefix="kbackend-replay-")
    failures = []
    ran = 0
    try:
        # Warm up: lazily imported modules (``ast`` for Keras 2 custom
        # backends, the CLI's report, codecs) are not imported by input.
        warm_up()
        # colorsys: a module on disk that nothing has imported, so kbackend
        # parses it (and loads ast) here rather than in the first real case.
        warm = {"env": {"KERAS_BACKEND": "colorsys"}, "home": SAFE_HOMES[0], "config": None, "decoy": None}
        with applied(materialize(warm, root)):
            exercise(kbackend, baseline)
        clear_directory(root)
        for number, case in enumerate(cases):
            overlay = materialize(case, root)
            with applied(overlay):
                complaints, _ = exercise(kbackend, baseline)
            clear_directory(root)
            ran += 1
            if complaints:
                failures.append({"case": number, "complaints": complaints})
    finally:
        clear_directory(root)
        os.rmdir(root)
    with open(out_path, "w") as handle:
        json.dump({"ran": ran, "failures": failures[:20], "failed": len(failures),
                   "python": sys.version.split()[0]}, handle)


if __name__ == "__main__":
    if sys.argv[1:2] == ["replay"] and len(sys.argv) == 5:
        replay(*sys.argv[2:])
    else:
        sys.exit("usage: hardening_support.py replay CASES BASELINE OUT")
