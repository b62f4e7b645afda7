"""A generator of real environments, each checked against real Keras.

Every case is a small JSON *spec* drawn from a seed and an index (``draw``):
which of the five lab installations, how its distributions are placed (a
fresh virtual environment's site-packages, the user site, a folder added by
a ``.pth`` file, a ``PYTHONPATH`` folder, a zip, an egg; whole, a stub with
only ``__init__.py``, missing a subpackage, metadata only, stale metadata of
another version beside it; another environment's Keras or site first),
interpreter flags, files in the working directory, variables of Keras and of
each backend library, keras.json and home permissions.  ``build`` makes the
environment from the lab's real installations (symbolic links, copies of
metadata, zips; nothing is downloaded), ``run_case`` runs
``python -m kbackend --json`` (through a ``-c`` bootstrap that *appends*
kbackend's folder, so the interpreter, flags, working directory and
environment are exactly those of the oracle) and a real ``import keras``,
and compares them with ``test_differential.assert_agrees``.

The sample is drawn blind: nothing about kbackend's prediction decides
which cases are run.  A spec replays exactly (``replay``); every
disagreement is kept in tests/generated-cases.json (``record``) and replayed
by test_generated.py, as an expected failure while it is a known miss.

Long mode (``make fuzz-keras``)::

    .venv/bin/python tests/python/generator.py run --count 2000 --jobs 2
    .venv/bin/python tests/python/generator.py replay '<spec json>'
    .venv/bin/python tests/python/generator.py refresh    # re-judge the kept cases

Why not Hypothesis's ``@given``: one case costs seconds of real Keras, so
shrinking is unaffordable, and Hypothesis's first examples lean to the
simplest values; a per-index seeded draw is replayable alone, spreads over
pytest-xdist workers and over the five installations evenly.
"""

import argparse
import collections
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import farms  # noqa: E402

PYTHON_DIR = os.path.join(ROOT, "python")
ORACLE = os.path.join(HERE, "oracle.py")
CASES_FILE = os.path.join(ROOT, "tests", "generated-cases.json")
LAB_ROOT = os.environ.get("KBACKEND_LAB_ROOT") or ROOT
THEANO_DIR = os.path.join(tempfile.gettempdir(), "kbackend-test-theano")
CACHE = os.path.join(tempfile.gettempdir(), "kbackend-generator-cache-{}".format(os.getuid()))
DEFAULT_SEED = "kbackend-generator-1"

#: installation -> (virtual environment, Keras line, backends it may name)
INSTALLS = collections.OrderedDict([
    ("keras3", (".venv", "keras3")),
    ("keras3-bare", (".venv-bare", "keras3")),
    ("keras2-tf", (".venv-keras2", "keras2-tensorflow")),
    ("keras2-theano", (".venv-py37", "keras2-multibackend")),
    ("keras2-cntk", (".venv-py36", "keras2-multibackend")),
])
#: Distributions that may be placed on their own, per installation (the
#: rest of site-packages goes where the spec's "rest" item says).
MOVABLE = {
    "keras3": ["keras", "tensorflow", "jax", "torch", "numpy", "tf_keras"],
    "keras3-bare": ["keras", "numpy"],
    "keras2-tf": ["keras", "tensorflow", "numpy"],
    "keras2-theano": ["keras", "theano", "tensorflow", "numpy", "six"],
    "keras2-cntk": ["keras", "cntk", "numpy", "six"],
}
#: Pure-Python packages small enough to zip (per case, cached).
ZIPPABLE = ("keras", "six", "tf_keras")
#: Another environment whose Keras (or whole site) can come first; same
#: Python version where one exists.
FOREIGN = {"keras3": "keras2-tf", "keras3-bare": "keras2-tf", "keras2-tf": "keras3",
           "keras2-theano": "keras2-cntk", "keras2-cntk": "keras2-theano"}
BACKENDS = {
    "keras3": ["tensorflow", "jax", "torch", "numpy", "openvino"],
    "keras2": ["tensorflow", "theano", "cntk"],
}
ODD_BACKENDS = ["JAX", "Theano", "TensorFlow", " jax", "torch ", "bogus", "", "5", "keras.backend", "os.path"]
#: Module names multi-backend Keras 2 imports as a custom backend.
KERAS2_MODULE_BACKENDS = ["tensorflow_core", "tensorflow.keras.backend", "tensorflow.compat.v1", "numpy",
                          "theano.tensor"]
FLAGS = ["-E", "-I", "-s", "-P"]
#: Standard modules Keras (or what it imports) loads at import time, which
#: neither the interpreter's start-up nor kbackend's bootstrap needs first.
STDLIB_NAMES = ["random", "json", "csv", "string", "platform", "inspect", "copy", "math", "threading",
                "subprocess", "typing", "logging", "tempfile", "hashlib", "zipfile", "shutil"]
#: What a file in the working directory holds, and whether its content (not
#: Keras or the import system) decides the exception's message.
CWD_CONTENTS = {
    "empty": ("", "message"),
    "attribute": ("value = 1\n", "message"),
    "raises": ("raise RuntimeError('user file {name} says no')\n", "class"),
    "imports-itself": ("import {name}\n{name}.anything\n", "class"),
}
#: The entries multi-backend Keras 2.3.1 requires of a custom backend
#: module (keras/backend/load_backend.py), in its order.
REQUIRED_ENTRIES = ["placeholder", "variable", "function"]
CUSTOM_MODULES = {
    "complete": ("import numpy\n" + "".join("def {}(*a, **k):\n    return None\n".format(e) for e in REQUIRED_ENTRIES)
                 + "def epsilon():\n    return 1e-07\n", "message"),
    "missing": (None, "message"),
    "syntax-error": ("def placeholder(:\n    pass\n", "message"),
    "bad-import": ("import kbackend_no_such_module_xyz\n", "message"),
    "raises": ("raise RuntimeError('custom backend refuses')\n", "class"),
}
KERAS_VARIABLES = {
    "KERAS_HOME": ["{root}/kh", "", "{root}/nowhere", "~/kh"],
    "KERAS_MAX_EPOCHS": ["3", "abc", ""],
    "KERAS_NNX_ENABLED": ["true", "false", "maybe"],
    "TF_USE_LEGACY_KERAS": ["1", "0", "true"],
}
BACKEND_VARIABLES = {
    "JAX_ENABLE_X64": ["1", "true", "0", "enabled", "bogus"],
    "JAX_PLATFORMS": ["cpu", "", "gpu", "bogus"],
    "TORCH_LOGS": ["+dynamo", "nonsense", "dynamo,bogus", "-all"],
    "THEANO_FLAGS": ["floatX=float32", "device=gpu", "floatX=bogus", "device=cpu", "mode=FAST_COMPILE"],
    "PYTHONWARNINGS": ["error", "ignore", "default", "error::DeprecationWarning", "error::FutureWarning",
                       "error::UserWarning", "bogus"],
    "TF_CPP_MIN_LOG_LEVEL": ["3", "abc"],
    "TF_ENABLE_ONEDNN_OPTS": ["0", "1", "maybe"],
    "TF_PLUGGABLE_DEVICE_LIBRARY_PATH": ["{root}/no-such-plugin.so", ""],
    "TF_USE_MODULAR_FILESYSTEM": ["1", "true"],
}
CONFIGS = ["missing", "valid", "invalid-json", "bom", "wrong-types", "bad-floatx", "bad-epsilon",
           "bad-image-format", "directory", "unreadable", "empty"]
HOMES = ["ok", "ok", "ok", "read-only", "keras-dir-read-only"]


# ------------------------------------------------------------------ facts


def _memo(function):
    cache = {}

    def wrapper(*args):
        if args not in cache:
            cache[args] = function(*args)
        return cache[args]
    return wrapper


@_memo
def venv_dir(install):
    return os.path.join(LAB_ROOT, INSTALLS[install][0])


@_memo
def site_of(install):
    return farms.site_packages(venv_dir(install))


@_memo
def base_of(install):
    return farms.base_python(venv_dir(install))


@_memo
def version_of(install):
    """'3.11' for the installation's interpreter."""
    return os.path.basename(os.path.dirname(site_of(install)))[len("python"):]


@_memo
def dist_info(install, what):
    """The ``*.dist-info`` entry of distribution ``what`` (by top-level package), or None."""
    site = site_of(install)
    for entry in sorted(os.listdir(site)):
        if entry.endswith(".dist-info") and what in farms._dist_files(site, entry) - {entry}:
            return entry
    for entry in sorted(os.listdir(site)):  # tensorflow_cpu, Keras, Theano: match on the name
        if entry.endswith(".dist-info") and farms._normal(entry.split("-", 1)[0]) in (what, what + "_cpu"):
            return entry
    return None


@_memo
def entries_of(install, what):
    """Top-level entries of ``site-packages`` that belong to ``what``
    (its package or module, its dist-info, and whatever its RECORD names)."""
    site = site_of(install)
    info = dist_info(install, what)
    names = set(farms._dist_files(site, info)) if info else set()
    names |= {e for e in (what, what + ".py") if os.path.lexists(os.path.join(site, e))}
    return sorted(n for n in names if os.path.lexists(os.path.join(site, n)) and not n.startswith("__pycache__")
                  and n != "bin")


@_memo
def subpackages(install, what):
    """Subpackages of ``what`` one and two levels down (relative paths), sorted."""
    top = os.path.join(site_of(install), what)
    found = []
    if not os.path.isdir(top):
        return found
    for first in sorted(os.listdir(top)):
        path = os.path.join(top, first)
        if os.path.isfile(os.path.join(path, "__init__.py")):
            found.append(first)
            for second in sorted(os.listdir(path)):
                if os.path.isfile(os.path.join(path, second, "__init__.py")):
                    found.append(first + "/" + second)
    return found


def available(install):
    return os.path.exists(os.path.join(venv_dir(install), "bin", "python"))


def line_of(install):
    return "keras3" if INSTALLS[install][1] == "keras3" else "keras2"


# ------------------------------------------------------------------- draw


#: The dimensions a case may perturb; the others stay as a plain
#: installation has them.  Most cases perturb one or two, so that a
#: disagreement points at its cause.
DIMENSIONS = ["placement", "flags", "cwd", "keras-variables", "backend-variables", "config", "home", "mode",
              "custom-module"]
#: The backend a backend library's variables matter to.
VARIABLE_BACKEND = {"JAX_ENABLE_X64": "jax", "JAX_PLATFORMS": "jax", "TORCH_LOGS": "torch",
                    "THEANO_FLAGS": "theano", "TF_CPP_MIN_LOG_LEVEL": "tensorflow",
                    "TF_ENABLE_ONEDNN_OPTS": "tensorflow", "TF_PLUGGABLE_DEVICE_LIBRARY_PATH": "tensorflow",
                    "TF_USE_MODULAR_FILESYSTEM": "tensorflow"}


def _placement(rng, install, spec):
    where = ["site", "site", "site", "pth", "pythonpath", "user"] if spec["interpreter"] == "venv" \
        else ["user", "user", "pth", "pythonpath"]
    items = [{"what": "rest", "at": rng.choice(where)}]
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        what = rng.choice(MOVABLE[install])
        pack = rng.choice(["dir", "dir", "zip", "zip-bare", "egg"]) if what in ZIPPABLE else "dir"
        at = rng.choice(["pythonpath", "pth"]) if pack != "dir" else rng.choice(where + ["pythonpath"])
        form = rng.choice(["full", "full", "stub", "partial", "metadata-only", "stale-metadata"])
        if pack != "dir" and form in ("metadata-only", "stale-metadata"):
            form = "full"
        item = {"what": what, "at": at, "pack": pack, "form": form}
        if form == "partial":
            subs = subpackages(install, what)
            if subs:
                item["missing"] = rng.choice(subs)
            else:
                item["form"] = "stub"
        items.append(item)
        if item["form"] in ("stub", "partial", "metadata-only") and rng.random() < 0.5:
            # the real copy is still installed somewhere, ahead or behind
            items.append({"what": what, "at": rng.choice(where + ["pythonpath"]), "pack": "dir", "form": "full"})
    if rng.random() < 0.2:
        items.append({"what": "foreign", "from": FOREIGN[install], "form": rng.choice(["keras", "site"])})
    rng.shuffle(items)
    # another environment's Keras or site comes first, as a leftover PYTHONPATH puts it
    items.sort(key=lambda item: item["what"] != "foreign")
    return items


def draw(seed, index, installs=None):
    """The spec of case ``index`` of the sample ``seed``: a plain JSON dict."""
    rng = random.Random("{}:{}".format(seed, index))
    installs = list(installs or INSTALLS)
    install = installs[index % len(installs)]
    version = tuple(int(p) for p in version_of(install).split("."))
    line = line_of(install)
    multi = install in ("keras2-theano", "keras2-cntk")
    dimensions = [d for d in DIMENSIONS if (d != "custom-module" or multi)
                  and (d != "mode" or install in ("keras3", "keras2-tf"))]
    chosen = set(rng.sample(dimensions, rng.choice([0, 1, 1, 1, 2, 2, 2, 3, 4])))
    spec = collections.OrderedDict(install=install)
    spec["interpreter"] = "venv"
    spec["place"] = [{"what": "rest", "at": "site"}]
    if "placement" in chosen:
        spec["interpreter"] = rng.choice(["venv", "venv", "base"])
        spec["place"] = _placement(rng, install, spec)
    if spec["interpreter"] == "base" or any(i.get("at") == "user" for i in spec["place"]):
        spec["userbase"] = rng.choice(["home", "variable"])
    spec["flags"], spec["flag_variables"] = [], {}
    if "flags" in chosen:
        while not spec["flags"] and not spec["flag_variables"]:
            spec["flags"] = [f for f in FLAGS if rng.random() < 0.3 and (f != "-P" or version >= (3, 11))]
            spec["flag_variables"] = {n: "1" for n in ("PYTHONNOUSERSITE", "PYTHONSAFEPATH") if rng.random() < 0.25}
    spec["cwd"] = {}
    if "cwd" in chosen:
        for _ in range(rng.choice([1, 1, 2])):
            name = rng.choice(["keras", "keras-package", "jax", "tensorflow", "torch", "theano", "cntk", "numpy"]
                              + STDLIB_NAMES)
            spec["cwd"][name] = rng.choice(sorted(CWD_CONTENTS))
    variables = collections.OrderedDict()
    if rng.random() < 0.4:
        variables["KERAS_BACKEND"] = rng.choice(BACKENDS[line])
    if "keras-variables" in chosen:
        if rng.random() < 0.4:
            variables["KERAS_BACKEND"] = rng.choice(ODD_BACKENDS + BACKENDS[line] + (
                KERAS2_MODULE_BACKENDS if multi else []))
        names = sorted(KERAS_VARIABLES)
        for name in rng.sample(names, rng.choice([1, 1, 2])):
            variables[name] = rng.choice(KERAS_VARIABLES[name])
    if "backend-variables" in chosen:
        for name in rng.sample(sorted(BACKEND_VARIABLES), rng.choice([1, 1, 2])):
            variables[name] = rng.choice(BACKEND_VARIABLES[name])
            wanted = VARIABLE_BACKEND.get(name)
            if wanted in BACKENDS[line] and rng.random() < 0.6:
                variables["KERAS_BACKEND"] = wanted
    if "custom-module" in chosen:
        variables["KERAS_BACKEND"] = "mybk"
        kind = rng.choice(sorted(CUSTOM_MODULES))
        spec["custom_module"] = {"kind": kind}
        if kind == "missing":
            spec["custom_module"]["without"] = rng.choice(REQUIRED_ENTRIES)
    spec["config"] = "missing"
    if "config" in chosen:
        spec["config"] = rng.choice(CONFIGS[1:] + ["valid", "valid"])
        if spec["config"] == "valid":
            spec["config_backend"] = rng.choice(BACKENDS[line] + ["jax" if line == "keras2" else "theano"])
    spec["home"] = rng.choice(HOMES[3:]) if "home" in chosen else "ok"
    if spec["home"] == "read-only" and "KERAS_HOME" not in variables:
        # Keras falls back to /tmp/.keras under an unwritable home: keep it
        # in the sandbox, where Theano's compile directory still meets the home
        variables["KERAS_HOME"] = "{root}/kh"
    spec["variables"] = variables
    spec["mode"] = rng.choice(["tf.keras", "tensorflow.keras"]) if "mode" in chosen else "keras"
    return json.loads(json.dumps(spec))


def spec_id(spec):
    return hashlib.sha1(canonical(spec).encode()).hexdigest()[:12]


def canonical(spec):
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


# ------------------------------------------------------------------ build


def _link(source, target):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if not os.path.lexists(target):
        os.symlink(source, target)


def _link_without(source, target, missing):
    """A folder of links to ``source``'s entries, without the relative path ``missing``."""
    first, _, rest = missing.partition("/")
    os.makedirs(target, exist_ok=True)
    for entry in os.listdir(source):
        if entry == "__pycache__":
            continue
        if entry == first:
            if rest:
                _link_without(os.path.join(source, entry), os.path.join(target, entry), rest)
            continue
        os.symlink(os.path.join(source, entry), os.path.join(target, entry))


def _stale(folder, info):
    """A ``*.dist-info`` of another version beside the real one."""
    name, _, version = info[:-len(".dist-info")].partition("-")
    other = "0.0.1" if not version.startswith("0.") else "9.9.9"
    path = os.path.join(folder, "{}-{}.dist-info".format(name, other))
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "METADATA"), "w") as handle:
        handle.write("Metadata-Version: 2.1\nName: {}\nVersion: {}\n\n".format(name, other))
    with open(os.path.join(path, "RECORD"), "w") as handle:
        handle.write("{}/__init__.py,sha256=stale,1\n".format(name.lower()))


def _populate(folder, install, item):
    """Put ``item``'s distribution into ``folder`` as its form says."""
    site = site_of(install)
    what, form = item["what"], item.get("form", "full")
    info = dist_info(install, what)
    entries = entries_of(install, what)
    os.makedirs(folder, exist_ok=True)
    package = os.path.isdir(os.path.join(site, what))
    for entry in entries:
        source = os.path.join(site, entry)
        target = os.path.join(folder, entry)
        if os.path.lexists(target):
            continue  # another copy got there first; never write through a link into the lab
        if entry == info:
            _link(source, target)
            continue
        if entry not in (what, what + ".py"):
            if form in ("full", "stale-metadata", "partial"):
                _link(source, target)  # companions: what.libs, other modules of the distribution
            continue
        if form in ("full", "stale-metadata"):
            _link(source, target)
        elif form == "stub":
            if package:
                os.makedirs(target, exist_ok=True)
                open(os.path.join(target, "__init__.py"), "w").close()
            else:
                open(target, "w").close()
        elif form == "partial" and package:
            _link_without(source, target, item["missing"])
    if form == "stale-metadata" and info:
        _stale(folder, info)


def _rest(folder, install, moved):
    """Links to every entry of the installation's site-packages but those of ``moved``."""
    site = site_of(install)
    drop = set()
    for what in moved:
        drop |= set(entries_of(install, what))
    os.makedirs(folder, exist_ok=True)
    for entry in os.listdir(site):
        if entry in drop or entry == "__pycache__" or entry.startswith("__editable__"):  # the lab's own kbackend
            continue
        _link(os.path.join(site, entry), os.path.join(folder, entry))


def _archive(install, item, egg, metadata=True):
    """A zip (or egg) of ``item``, built once per machine and cached;
    ``metadata=False``: a zip without the ``*.dist-info``."""
    # keyed by what is zipped: a rebuilt environment gets new archives
    package = os.path.join(site_of(install), item["what"])
    stamp = [dist_info(install, item["what"]), os.stat(package).st_mtime if os.path.exists(package) else None]
    key = hashlib.sha1(canonical([install, item, egg, metadata, site_of(install), stamp]).encode()).hexdigest()[:16]
    what = item["what"]
    info = dist_info(install, what) or "{}-0.dist-info".format(what)
    name, _, version = info[:-len(".dist-info")].partition("-")
    filename = "{}-{}-py{}.egg".format(name, version, version_of(install)) if egg else what + ".zip"
    folder = os.path.join(CACHE, key)
    path = os.path.join(folder, filename)
    if os.path.exists(path):
        return path
    staging = tempfile.mkdtemp(prefix="staging-", dir=os.makedirs(CACHE, exist_ok=True) or CACHE)
    tree = os.path.join(staging, "tree")
    _populate(tree, install, item)
    temporary = os.path.join(staging, filename)
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as bundle:
        for folder_now, dirs, files in os.walk(tree, followlinks=True):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for filename_now in files:
                if filename_now.endswith(".pyc"):
                    continue
                full = os.path.join(folder_now, filename_now)
                relative = os.path.relpath(full, tree)
                if relative.split(os.sep)[0].endswith(".dist-info"):
                    if not egg and metadata:
                        bundle.write(full, relative)
                    elif filename_now == "METADATA":
                        bundle.write(full, "EGG-INFO/PKG-INFO")
                    continue
                bundle.write(full, relative)
    os.makedirs(folder, exist_ok=True)
    os.replace(temporary, path)
    shutil.rmtree(staging, ignore_errors=True)
    return path


def _config_bytes(spec):
    kind = spec["config"]
    good = {"floatx": "float32", "epsilon": 1e-07, "backend": spec.get("config_backend", "jax"),
            "image_data_format": "channels_last"}
    if kind == "valid":
        return json.dumps(good, indent=4).encode()
    if kind == "invalid-json":
        return b'{"backend": "jax",'
    if kind == "bom":
        return b"\xef\xbb\xbf" + json.dumps(good).encode()
    if kind == "wrong-types":
        return json.dumps(dict(good, backend=5, floatx=32, epsilon="small")).encode()
    if kind == "bad-floatx":
        return json.dumps(dict(good, floatx="float8")).encode()
    if kind == "bad-epsilon":
        return json.dumps(dict(good, epsilon="abc")).encode()
    if kind == "bad-image-format":
        return json.dumps(dict(good, image_data_format="NCHW")).encode()
    if kind == "empty":
        return b""
    if kind == "unreadable":
        return json.dumps(good).encode()
    return None


def _expand(value, root):
    return value.replace("{root}", root).replace("{home}", os.path.join(root, "home"))


class Built:
    """A materialised case: interpreter, flags, environment, working directory."""

    def __init__(self, python, flags, env, cwd, immutable, compare, mode):
        self.python, self.flags, self.env, self.cwd = python, flags, env, cwd
        self.immutable, self.compare, self.mode = immutable, compare, mode


def _clean_environment():
    keep = {}
    for name, value in os.environ.items():
        upper = name.upper()
        if upper.startswith(("KERAS_", "TF_", "XLA_", "JAX_", "PYTORCH_", "TORCH", "THEANO", "CNTK", "PYTHON",
                             "RETICULATE_", "VIRTUAL_ENV", "KBACKEND_", "CONDA")) or upper in (
                "HOME", "USERPROFILE", "CUDA_VISIBLE_DEVICES"):
            continue
        keep[name] = value
    return keep


def build(spec, root):
    """Create the case's files under ``root``; return a :class:`Built`."""
    root = os.path.abspath(root)
    install = spec["install"]
    version = version_of(install)
    home = os.path.join(root, "home")
    work = os.path.join(root, "work")
    os.makedirs(home)
    os.makedirs(work)
    env = _clean_environment()
    env["HOME"] = home
    compare = "message"
    # the interpreter
    if spec["interpreter"] == "venv":
        venv = os.path.join(root, "venv")
        os.makedirs(os.path.join(venv, "bin"))
        site = os.path.join(venv, "lib", "python" + version, "site-packages")
        os.makedirs(site)
        base = base_of(install)
        with open(os.path.join(venv, "pyvenv.cfg"), "w") as handle:
            handle.write("home = {}\ninclude-system-site-packages = false\nversion = {}\n".format(
                os.path.dirname(base), version))
        python = os.path.join(venv, "bin", "python")
        os.symlink(base, python)
    else:
        python, site = base_of(install), None
    userbase = os.path.join(home, ".local")
    if spec.get("userbase") == "variable":
        userbase = os.path.join(root, "userbase")
        env["PYTHONUSERBASE"] = userbase
    user_site = os.path.join(userbase, "lib", "python" + version, "site-packages")
    # the distributions
    pythonpath = []
    moved = {item["what"] for item in spec["place"] if item["what"] not in ("rest", "foreign")}
    pth_lines = collections.defaultdict(list)
    for number, item in enumerate(spec["place"]):
        what = item["what"]
        if what == "foreign":
            other = item["from"]
            if item["form"] == "site":
                pythonpath.append(site_of(other))
            else:
                folder = os.path.join(root, "foreign")
                _populate(folder, other, {"what": "keras", "form": "full"})
                pythonpath.append(folder)
            continue
        at = item["at"]
        if item.get("pack", "dir") != "dir":
            location = _archive(install, {"what": what, "form": item["form"], "missing": item.get("missing")},
                                item["pack"] == "egg", item["pack"] != "zip-bare")
        else:
            if at == "site":
                folder = site
            elif at == "user":
                folder = user_site
            else:
                folder = os.path.join(root, "placed", "{}-{}".format(number, what))
            if what == "rest":
                _rest(folder, install, moved)
            else:
                _populate(folder, install, item)
            location = folder
        if at == "pythonpath":
            pythonpath.append(location)
        elif at == "pth":
            pth_lines["{:02d}-{}.pth".format(number, what)].append(location)
    pth_home = site if spec["interpreter"] == "venv" else user_site
    for name, lines in pth_lines.items():
        os.makedirs(pth_home, exist_ok=True)
        with open(os.path.join(pth_home, name), "w") as handle:
            handle.write("\n".join(lines) + "\n")
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(pythonpath)
    # the working directory
    for name, content in sorted(spec["cwd"].items()):
        text, level = CWD_CONTENTS[content]
        module = "keras" if name == "keras-package" else name
        path = os.path.join(work, "keras", "__init__.py") if name == "keras-package" else \
            os.path.join(work, name + ".py")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text.format(name=module))
        if level == "class":
            compare = "class"
    custom = spec.get("custom_module")
    if custom:
        text, level = CUSTOM_MODULES[custom["kind"]]
        if custom["kind"] == "missing":
            text = "".join("def {}(*a, **k):\n    return None\n".format(e)
                           for e in REQUIRED_ENTRIES if e != custom["without"])
        with open(os.path.join(work, "mybk.py"), "w") as handle:
            handle.write(text)
        if level == "class":
            compare = "class"
    # variables
    for name, value in spec["variables"].items():
        env[name] = _expand(value, root)
    env.update(spec.get("flag_variables", {}))
    theano = "base_compiledir=" + THEANO_DIR
    if spec["home"] != "ok" and install == "keras2-theano":
        theano = ""  # Theano's compile directory is under the home being tested
    env["THEANO_FLAGS"] = ",".join(p for p in (theano, env.get("THEANO_FLAGS")) if p)
    if not env["THEANO_FLAGS"]:
        del env["THEANO_FLAGS"]
    # keras.json
    keras_dir = os.path.join(home, ".keras")
    if "KERAS_HOME" in env:
        value = env["KERAS_HOME"]
        keras_dir = home + value[1:] if value.startswith("~") else os.path.join(work, value)
    config = os.path.join(keras_dir, "keras.json")
    immutable = []
    if spec["config"] != "missing" and os.path.realpath(keras_dir).startswith(root):
        os.makedirs(keras_dir, exist_ok=True)
        if spec["config"] == "directory":
            os.makedirs(config)
        else:
            with open(config, "wb") as handle:
                handle.write(_config_bytes(spec))
            if spec["config"] == "unreadable":
                os.chmod(config, 0)
    if spec["home"] == "read-only":
        immutable.append(home)
    elif spec["home"] == "keras-dir-read-only":
        os.makedirs(os.path.join(home, ".keras"), exist_ok=True)
        immutable.append(os.path.join(home, ".keras"))
    for path in immutable:
        subprocess.check_call(["chattr", "+i", path])
    return Built(python, list(spec["flags"]), env, work, immutable, compare, spec["mode"])


def release(built):
    """Undo what build() made immutable, so the sandbox can be removed."""
    for path in built.immutable:
        subprocess.call(["chattr", "-i", path])


# -------------------------------------------------------------------- run

BOOTSTRAP = ("import sys; sys.path.append({!r}); from kbackend.cli import main; "
             "sys.exit(main())").format(PYTHON_DIR)


def _run(built, args, timeout):
    try:
        return subprocess.run([built.python] + built.flags + args, cwd=built.cwd, env=built.env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def predict(built, timeout=120):
    """kbackend's record, through the ``-c`` bootstrap, or an internal-error dict."""
    done = _run(built, ["-c", BOOTSTRAP, "--json"], timeout)
    if done is None:
        return {"internal_error": True, "error": "kbackend timed out"}
    try:
        record = json.loads(done.stdout)
    except ValueError:
        return {"internal_error": True, "error": "exit {}: {}".format(done.returncode, done.stderr[-1500:])}
    if done.returncode not in (0, 1):
        record.setdefault("internal_error", True)
    return record


def ask_keras(built, timeout=300):
    with open(ORACLE) as handle:
        code = handle.read()
    done = _run(built, ["-c", code, built.mode], timeout)
    if done is None:
        return {"status": "hang", "backend": None, "version": None, "error": None, "stderr": ""}
    lines = [line for line in done.stdout.splitlines() if line.startswith("KBACKEND-ORACLE:")]
    if not lines:
        # the interpreter itself did not start (a flag, a broken start-up): that is its answer
        tail = done.stderr.strip().splitlines()
        return {"status": "no-answer", "backend": None, "version": None, "exit": done.returncode,
                "error": tail[-1] if tail else "exit {}".format(done.returncode), "stderr": done.stderr[-2000:]}
    answer = json.loads(lines[-1][len("KBACKEND-ORACLE:"):])
    answer["stderr"] = done.stderr[-2000:]
    return answer


def predicted_view(record, mode):
    from test_differential import _predicted
    return _predicted(record, mode)


def judge(predicted, actual, compare, context=""):
    """None when kbackend agrees with Keras (test_differential's rule), else the reason."""
    from test_differential import assert_agrees
    try:
        assert_agrees(predicted, actual, context, compare)
    except AssertionError as exc:
        return str(exc) or "disagrees"
    except (KeyError, TypeError, AttributeError) as exc:
        return "cannot compare: {!r}".format(exc)
    return None


def run_case(spec, root=None):
    """Build, predict, ask Keras; return a result dict (spec, predicted, actual, verdict, mechanism)."""
    own = root is None
    root = tempfile.mkdtemp(prefix="kbackend-gen-") if own else root
    built = build(spec, root)
    started = time.time()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        record = predict(built)
        actual = ask_keras(built)
    finally:
        release(built)
        if own:
            shutil.rmtree(root, ignore_errors=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = {"spec": spec, "compare": built.compare, "seconds": round(time.time() - started, 2),
              "cpu_seconds": round(cpu, 2),
              "actual": {k: actual.get(k) for k in ("status", "backend", "version", "error", "package") if k in actual}}
    if record.get("internal_error"):
        result.update(predicted={"internal_error": record.get("error")}, verdict="kbackend failed: {}".format(
            record.get("error")))
    elif actual["status"] == "no-answer":
        result.update(predicted=None, verdict=None, skipped="the interpreter gave no answer: " + actual["error"])
        return result
    else:
        predicted = predicted_view(record, built.mode)
        result["predicted"] = predicted
        result["verdict"] = judge(predicted, actual, built.compare)
    result["mechanism"] = classify(spec, result.get("predicted") or {}, actual) if result["verdict"] else None
    result["tail"] = actual.get("stderr", "")[-600:] if result["verdict"] else ""
    return result


# --------------------------------------------------------------- classify

def perturbed(spec):
    """The dimensions a spec moves away from a plain installation."""
    found = []
    if spec["place"] != [{"what": "rest", "at": "site"}] or spec["interpreter"] != "venv":
        found.append("placement")
    if spec["flags"] or spec.get("flag_variables"):
        found.append("flags")
    if spec["cwd"]:
        found.append("cwd")
    variables = spec["variables"]
    if set(variables) & set(KERAS_VARIABLES) - ({"KERAS_HOME"} if spec["home"] == "read-only" else set()) or \
            (variables.get("KERAS_BACKEND") not in (None, "mybk") and variables["KERAS_BACKEND"] not in
             BACKENDS[line_of(spec["install"])]):
        found.append("keras-variables")
    if set(variables) & set(BACKEND_VARIABLES):
        found.append("backend-variables")
    if spec["config"] != "missing":
        found.append("config")
    if spec["home"] != "ok":
        found.append("home")
    if spec["mode"] != "keras":
        found.append("mode")
    if spec.get("custom_module"):
        found.append("custom-module")
    return found


def _placement_mechanism(spec):
    items = spec["place"]
    if any(i["what"] == "foreign" for i in items):
        return "dependencies (mixed environments)"
    if any(i.get("pack") in ("zip", "zip-bare", "egg") for i in items):
        return "placement (zip/egg)"
    if any(i.get("form") == "partial" for i in items):
        return "submodule"
    if any(i.get("form") in ("stale-metadata", "metadata-only") for i in items):
        return "metadata"
    if any(i.get("form") == "stub" for i in items):
        return "stub"
    return "placement"


SINGLE = {"flags": "flags", "cwd": "message (working directory)", "keras-variables": "keras variables",
          "backend-variables": "backend start-up", "config": "keras.json", "home": "home permissions",
          "mode": "tf.keras routing", "custom-module": "custom module"}


def classify(spec, predicted, actual):
    """The dimension that caused a disagreement: the only one the case
    perturbs, or else the most plausible one (a heuristic from the spec and
    both answers; the kept spec is the evidence)."""
    moved = perturbed(spec)
    if predicted.get("internal_error"):
        return "kbackend crash"
    if not moved:
        return "plain installation"
    if len(moved) == 1:
        return _placement_mechanism(spec) if moved == ["placement"] else SINGLE[moved[0]]
    error = actual.get("error") or ""
    said = predicted.get("error") or ""
    variables = spec.get("variables", {})
    items = spec.get("place", [])
    flags = set(spec["flags"]) | set(spec.get("flag_variables", {}))
    ignores_environment = bool({"-E", "-I"} & flags)
    safe_path = "-P" in flags or "-I" in flags or ("PYTHONSAFEPATH" in flags and not ignores_environment)
    no_user = bool({"-s", "-I"} & flags) or ("PYTHONNOUSERSITE" in flags and not ignores_environment)
    cwd_live = bool(spec.get("cwd")) and not safe_path
    uses_pythonpath = any(i.get("at") == "pythonpath" or i["what"] == "foreign" for i in items)
    uses_user = spec["interpreter"] == "base" or any(i.get("at") == "user" for i in items)
    if (ignores_environment and (uses_pythonpath or spec.get("userbase") == "variable"
                                 or set(variables) & set(BACKEND_VARIABLES) or set(variables) & set(KERAS_VARIABLES))) \
            or (no_user and uses_user) or (safe_path and spec.get("cwd")):
        return "flags"
    if "placement" in moved and (predicted.get("version") == "unknown" or (
            predicted.get("version") and actual.get("version") and predicted["version"] != actual["version"])):
        return _placement_mechanism(spec)  # the Keras found was misread
    for name in BACKEND_VARIABLES:  # a backend library refusing its own variable's value
        value = _expand(variables.get(name, ""), "").strip("/")
        if name in variables and (name in error or (len(value) > 3 and value in error)):
            return "backend start-up"
    named = set()
    for text in (error, said):
        for marker in ("No module named '", "from '", "module '", "'", "import name '"):
            for piece in text.split(marker)[1:]:
                named.add(piece.split("'")[0].split(".")[0])
    cwd_names = {"keras" if n == "keras-package" else n for n in spec.get("cwd", {})}
    if cwd_live and (named & cwd_names or any(os.sep + "work" + os.sep in t for t in (error, said))):
        return "message (working directory)"
    placed = [i for i in items if i["what"] in named or (i["what"] == "foreign" and "keras" in named)]
    if placed:
        return _placement_mechanism(dict(spec, place=placed))
    if spec.get("custom_module") and ("mybk" in error + said or "Invalid backend" in error + said):
        return "custom module"
    backend_vars = [n for n in BACKEND_VARIABLES if n in variables]
    if any(n in error or (VARIABLE_BACKEND.get(n) or "~") in error for n in backend_vars):
        return "backend start-up"
    if spec["home"] != "ok" and spec["install"] == "keras2-theano":
        return "home permissions"
    if "placement" in moved:
        return _placement_mechanism(spec)
    for dimension in ("custom-module", "cwd", "backend-variables", "keras-variables", "config", "mode", "home"):
        if dimension in moved:
            return SINGLE[dimension]
    return "other"


# --------------------------------------------------------- regression file


def load_cases(path=CASES_FILE):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {"about": "", "cases": []}


def save_cases(data, path=CASES_FILE):
    data["about"] = ("Every disagreement the environment generator (tests/python/generator.py) has found, "
                     "replayed by tests/python/test_generated.py; \"known_miss\" marks one kbackend does not "
                     "fix yet (an expected failure, strict). Regenerate the marks with "
                     "`.venv/bin/python tests/python/generator.py refresh`.")
    data["cases"].sort(key=lambda case: (case.get("mechanism") or "", case["id"]))
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=False, ensure_ascii=False)
        handle.write("\n")
    os.replace(temporary, path)


def signature(result):
    """What makes two disagreements the same finding: the mechanism and the
    shapes of both answers (exception classes, backends, statuses)."""
    predicted = result.get("predicted") or {}
    actual = result["actual"]

    def shape(answer):
        error = answer.get("error") or answer.get("internal_error") or ""
        return "{}|{}|{}".format(answer.get("status"), answer.get("backend"), str(error).split(":")[0])
    return "{}||{}||{}||{}".format(result.get("mechanism"), result["spec"]["install"], shape(predicted),
                                   shape(actual))


def record(results, path=CASES_FILE, everything=False):
    """Add the disagreements among ``results`` to the regression file, one
    per new signature (``everything``: every one); returns how many."""
    data = load_cases(path)
    known = {case["id"] for case in data["cases"]}
    seen = collections.Counter(case.get("signature") for case in data["cases"])
    added = 0
    for result in results:
        if not result.get("verdict"):
            continue
        identity = spec_id(result["spec"])
        sign = signature(result)
        if identity in known or (seen[sign] and not everything):
            continue
        seen[sign] += 1
        known.add(identity)
        data["cases"].append(collections.OrderedDict([
            ("id", identity), ("mechanism", result["mechanism"]), ("signature", sign),
            ("known_miss", "kbackend disagrees with real Keras: predicted {} / Keras {}".format(
                _short(result.get("predicted")), _short(result["actual"]))),
            ("spec", result["spec"])]))
        added += 1
    save_cases(data, path)
    return added


def _short(answer):
    if not answer:
        return "nothing"
    if answer.get("internal_error"):
        return "internal error"
    if answer.get("status") == "ok":
        return "ok, {} {}".format(answer.get("backend"), answer.get("version") or "")
    return "{} {}".format(answer.get("status"), (answer.get("error") or "")[:160])


# --------------------------------------------------------------- long mode


def _worker(args):
    spec = args
    try:
        return run_case(spec)
    except Exception as exc:  # noqa: BLE001 - a harness failure is reported, not fatal to the run
        return {"spec": spec, "verdict": None, "skipped": "harness error: {!r}".format(exc), "actual": {},
                "mechanism": None}


def summarise(results, seconds):
    counted = [r for r in results if not r.get("skipped")]
    disagreements = [r for r in counted if r.get("verdict")]
    by_mechanism = collections.Counter(r["mechanism"] for r in disagreements)
    by_install = collections.OrderedDict()
    for name in INSTALLS:
        mine = [r for r in counted if r["spec"]["install"] == name]
        by_install[name] = {"environments": len(mine), "agree": sum(1 for r in mine if not r.get("verdict")),
                            "mean_seconds": round(sum(r.get("seconds", 0) for r in mine) / len(mine), 2)
                            if mine else None,
                            "mean_cpu_seconds": round(sum(r.get("cpu_seconds", 0) for r in mine) / len(mine), 2)
                            if mine else None}
    examples = {}
    for result in disagreements:
        examples.setdefault(result["mechanism"], {"spec": result["spec"], "predicted": result.get("predicted"),
                                                  "actual": result["actual"]})
    return collections.OrderedDict([
        ("environments", len(counted)),
        ("agreements", len(counted) - len(disagreements)),
        ("disagreements", len(disagreements)),
        ("agreement_percent", round(100.0 * (len(counted) - len(disagreements)) / len(counted), 1) if counted else None),
        ("not_compared", collections.Counter(r["skipped"].split(":")[0] for r in results if r.get("skipped"))),
        ("by_mechanism", collections.OrderedDict(by_mechanism.most_common())),
        ("by_installation", by_install),
        ("ok_in_keras", sum(1 for r in counted if r["actual"].get("status") == "ok")),
        ("seconds", round(seconds, 1)),
        ("examples", examples),
    ])


def long_run(count, seed, jobs, output, start=0, write=True):
    from concurrent.futures import ProcessPoolExecutor
    installs = [name for name in INSTALLS if available(name)]
    specs = [draw(seed, index, installs) for index in range(start, start + count)]
    results = []
    began = time.time()
    progress = os.path.splitext(output)[0] + ".jsonl"
    with open(progress, "w") as log, ProcessPoolExecutor(jobs) as pool:
        for number, result in enumerate(pool.map(_worker, specs), 1):
            results.append(result)
            log.write(json.dumps(result) + "\n")
            log.flush()
            if number % 25 == 0 or number == len(specs):
                bad = sum(1 for r in results if r.get("verdict"))
                sys.stderr.write("[generator] {}/{} environments, {} disagreements, {:.0f}s\n".format(
                    number, len(specs), bad, time.time() - began))
    summary = summarise(results, time.time() - began)
    summary["seed"], summary["first_index"] = seed, start
    summary["new_regression_cases"] = record(results, everything=write == "all") if write else 0
    with open(output, "w") as handle:
        json.dump(summary, handle, indent=1)
    print_summary(summary, output)
    return summary


def print_summary(summary, output):
    print("environment generator: {environments} environments, {agreements} agree ({agreement_percent}%), "
          "{disagreements} disagree".format(**summary))
    for mechanism, count in summary["by_mechanism"].items():
        print("  {:5d}  {}".format(count, mechanism))
    for name, row in summary["by_installation"].items():
        print("  {:14s} {agree}/{environments} agree; each {mean_seconds} s, {mean_cpu_seconds} s of CPU".format(
            name, **row))
    if summary.get("not_compared"):
        print("  not compared: {}".format(dict(summary["not_compared"])))
    print("new regression cases written to {}: {}".format(CASES_FILE, summary.get("new_regression_cases")))
    print("summary (JSON): {}".format(output))


def refresh(jobs):
    """Replay every kept case; a known miss that now agrees loses its mark,
    a case that now disagrees gains one."""
    from concurrent.futures import ProcessPoolExecutor
    data = load_cases()
    with ProcessPoolExecutor(jobs) as pool:
        results = list(pool.map(_worker, [case["spec"] for case in data["cases"]]))
    for case, result in zip(data["cases"], results):
        if result.get("verdict"):
            case["mechanism"] = result["mechanism"]
            case["known_miss"] = "kbackend disagrees with real Keras: predicted {} / Keras {}".format(
                _short(result.get("predicted")), _short(result["actual"]))
        elif not result.get("skipped"):
            case.pop("known_miss", None)
    save_cases(data)
    print("{} kept cases, {} known misses".format(len(data["cases"]),
                                                  sum(1 for c in data["cases"] if c.get("known_miss"))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="draw and check COUNT environments; print and write a summary")
    run.add_argument("--count", type=int, default=int(os.environ.get("KBACKEND_GENERATED", "2000")))
    run.add_argument("--seed", default=os.environ.get("KBACKEND_GENERATED_SEED", "long-" + time.strftime("%Y%m%d")))
    run.add_argument("--start", type=int, default=0)
    run.add_argument("--jobs", type=int, default=int(os.environ.get("KBACKEND_GENERATED_JOBS", "2")))
    run.add_argument("--output", default=os.path.join(tempfile.gettempdir(), "kbackend-generator-summary.json"))
    run.add_argument("--no-record", action="store_true", help="do not write new disagreements to the regression file")
    run.add_argument("--record-all", action="store_true",
                     help="write every disagreement, not one per new signature (for the make-test sample)")
    replay = sub.add_parser("replay", help="run one spec (JSON, or @file) and print the comparison")
    replay.add_argument("spec")
    show = sub.add_parser("draw", help="print the spec of case INDEX of sample SEED")
    show.add_argument("index", type=int)
    show.add_argument("--seed", default=DEFAULT_SEED)
    keep = sub.add_parser("record", help="classify the results of a run (its .jsonl log) and keep the "
                                         "disagreements; prints the summary")
    keep.add_argument("log")
    keep.add_argument("--all", action="store_true", help="every disagreement, not one per new signature")
    keep.add_argument("--no-write", action="store_true", help="only print the summary")
    fresh = sub.add_parser("refresh", help="replay the kept cases and re-mark the known misses")
    fresh.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    if args.command == "run":
        long_run(args.count, args.seed, args.jobs, args.output, args.start,
                 "all" if args.record_all else not args.no_record)
    elif args.command == "replay":
        text = open(args.spec[1:]).read() if args.spec.startswith("@") else args.spec
        print(json.dumps(run_case(json.loads(text)), indent=1))
    elif args.command == "draw":
        print(json.dumps(draw(args.seed, args.index)))
    elif args.command == "record":
        with open(args.log) as handle:
            results = [json.loads(line) for line in handle if line.strip()]
        for result in results:
            if result.get("verdict"):
                result["mechanism"] = classify(result["spec"], result.get("predicted") or {}, result["actual"])
        summary = summarise(results, sum(r.get("seconds", 0) for r in results))
        summary["new_regression_cases"] = 0 if args.no_write else record(results, everything=args.all)
        output = os.path.splitext(args.log)[0] + ".summary.json"
        with open(output, "w") as handle:
            json.dump(summary, handle, indent=1)
        print_summary(summary, output)
    elif args.command == "refresh":
        refresh(args.jobs)
    else:
        parser.print_help()
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
