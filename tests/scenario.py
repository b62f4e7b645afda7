"""Materialise a scenario from scenarios.json into a sandbox directory.

Shared by the Python differential tests and the R parity tests, so both run
real Keras, ``python -m kbackend`` and R's ``backend_info()`` under exactly
the same environment and files.  Stdlib only; runs on Python 3.6+.

    python tests/scenario.py list [--in-process]   # --in-process: those R's running Python shares
    python tests/scenario.py materialize ID DIR   # prints {"set", "unset", "cwd"}
"""

import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TABLE = os.path.join(HERE, "scenarios.json")

#: Inherited variables that would leak the developer's own set-up into a scenario.
_SCRUB = re.compile(
    r"^(KERAS_.*|TF_USE_LEGACY_KERAS|TF_FORCE_GPU_ALLOW_GROWTH|XLA_.*|JAX_.*|PYTORCH_.*|THEANO_FLAGS|THEANORC"
    r"|CNTK_.*|PYTHONPATH|PYTHONHOME|PYTHONSTARTUP|RETICULATE_.*|HOME|USERPROFILE)$"
)


def load():
    """All scenarios, in table order."""
    with open(TABLE, encoding="utf-8") as handle:
        return json.load(handle)["scenarios"]


def by_id(scenario_id):
    for scenario in load():
        if scenario["id"] == scenario_id:
            return scenario
    raise KeyError(scenario_id)


def _expand(value, root):
    return value.replace("{root}", root).replace("{home}", os.path.join(root, "home")).replace(
        "{work}", os.path.join(root, "work"))


def _write(path, spec):
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        os.makedirs(parent)
    if "dir" in spec:
        os.makedirs(path)
    elif "fifo" in spec:
        os.mkfifo(path)
    elif "symlink" in spec:
        os.symlink(spec["symlink"], path)
    elif "json" in spec:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(spec["json"], handle, indent=4)
    elif "hex" in spec:
        with open(path, "wb") as handle:
            handle.write(bytes.fromhex(spec["hex"]))
    elif "nested" in spec:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("[" * spec["nested"] + "]" * spec["nested"])
    else:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(spec["text"])
    if "mode" in spec:
        os.chmod(path, int(spec["mode"], 8))


def materialize(scenario, root, theano_dir=None):
    """Create the scenario's files under ``root``; return its environment.

    Returns ``{"set": {...}, "unset": [...], "cwd": dir}``: variables to set
    and to remove relative to the caller's environment.  ``HOME`` is always a
    fresh directory under ``root``, never the real home.
    """
    root = os.path.abspath(root)
    for sub in ("home", "work"):
        path = os.path.join(root, sub)
        if not os.path.isdir(path):
            os.makedirs(path)
    for relative, spec in sorted(scenario.get("files", {}).items()):
        _write(os.path.join(root, _expand(relative, root)), spec)
    unset = sorted(name for name in os.environ if _SCRUB.match(name))
    values = {"HOME": os.path.join(root, "home")}
    if theano_dir:
        values["THEANO_FLAGS"] = "base_compiledir=" + theano_dir
    for name, value in scenario.get("env", {}).items():
        values[name] = _expand(value, root)
    return {"set": values, "unset": [n for n in unset if n not in values], "cwd": os.path.join(root, "work")}


def environment(overlay):
    """The full environment dict an overlay describes, based on os.environ."""
    env = {k: v for k, v in os.environ.items() if k not in overlay["unset"]}
    env.update(overlay["set"])
    return env


def main(argv):
    if argv[:1] == ["list"]:
        for scenario in load():
            if "--in-process" not in argv or scenario.get("in_process", True):
                print(scenario["id"])
        return 0
    if len(argv) in (3, 4) and argv[0] == "materialize":
        theano_dir = argv[3] if len(argv) == 4 else None
        print(json.dumps(materialize(by_id(argv[1]), argv[2], theano_dir)))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
