"""Whether what Keras and its backend need is installed, in versions that fit.

``pip install --no-deps``, a half-finished upgrade or a ``PYTHONPATH`` into
another environment leave Keras without a package it imports at once, or
with JAX next to a jaxlib it refuses.  The installed metadata says what each
distribution requires (``Requires-Dist``); this module reads it for the
distribution ``import`` will actually load and checks each requirement
against what the search path holds, without importing anything.
"""

import os
import re
import sys

from . import cache, discovery, metadata
from .problems import problem

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Callable, Dict, List, Optional, Tuple

#: Distribution name -> the module it provides, where they differ.
MODULES = {"absl_py": "absl", "ml_dtypes": "ml_dtypes", "pyyaml": "yaml", "protobuf": "google.protobuf",
           "pillow": "PIL", "tensorflow_cpu": "tensorflow", "jax_cuda12_plugin": "jax_plugins"}
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*\(?([^;)]*)\)?\s*(?:;(.*))?$")
_CLAUSE = re.compile(r"^\s*(~=|===|==|!=|<=|>=|<|>)\s*([^\s,]+)\s*$")


def requirements(dist_dir: "Optional[str]") -> "List[Tuple[str, str]]":
    """``(normalised name, specifier)`` for each unconditional ``Requires-Dist``.

    Requirements with an environment marker (an ``extra``, a platform or a
    Python version) are left out: kbackend only acts on what certainly applies.
    """
    found: "List[Tuple[str, str]]" = []
    for filename in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(dist_dir or "", filename), encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    if not line.strip():
                        break  # the body (description) follows the headers
                    if not line.startswith("Requires-Dist:"):
                        continue
                    match = _REQUIREMENT.match(line.split(":", 1)[1])
                    if match and not (match.group(3) or "").strip():
                        found.append((metadata.normalize_dist_name(match.group(1)), match.group(2).strip()))
            return found
        except OSError:
            continue
    return found


def satisfies(version: "Optional[str]", specifier: str) -> bool:
    """Whether ``version`` meets a PEP 440 specifier, on release numbers.

    Unreadable versions or clauses count as met: kbackend reports a mismatch
    only when it is certain.
    """
    have = metadata.version_tuple(version)
    if not have or not specifier.strip():
        return True
    for clause in specifier.split(","):
        match = _CLAUSE.match(clause)
        if not match:
            continue
        operator, text = match.groups()
        wildcard = text.endswith(".*")
        want = metadata.version_tuple(text[:-2] if wildcard else text)
        if not want:
            continue
        size = max(len(have), len(want))
        left, right = have + (0,) * (size - len(have)), want + (0,) * (size - len(want))
        if wildcard:
            left, right = have[:len(want)], want
        ok = {
            "==": left == right, "===": left == right, "!=": left != right, "<=": left <= right,
            ">=": left >= right, "<": left < right, ">": left > right,
            "~=": left >= right and have[:len(want) - 1] == want[:len(want) - 1],
        }[operator]
        if not ok:
            return False
    return True


def module_of(dist: str) -> str:
    """The top-level module a distribution provides, for the error Python gives."""
    return MODULES.get(dist, dist).split(".")[0]


def unmet(dist_dir: "Optional[str]", locate: "Callable[[str], Optional[Tuple[Optional[str], str]]]"
          ) -> "List[Dict[str, Any]]":
    """Each requirement of the distribution at ``dist_dir`` that is missing or
    installed in a version outside its specifier.

    ``locate(name)`` gives ``(version, folder)`` of the first installation of
    a distribution on the search path, or None.
    """
    problems: "List[Dict[str, Any]]" = []
    for name, specifier in requirements(dist_dir):
        where = locate(name)
        if where is None:
            problems.append({"name": name, "specifier": specifier, "installed": None, "module": module_of(name)})
        elif not satisfies(where[0], specifier):
            problems.append({"name": name, "specifier": specifier, "installed": where[0], "module": module_of(name)})
    return problems


def wheel_mismatch(dist_dir: "Optional[str]") -> "Optional[str]":
    """The wheel tag of a distribution built for another Python, or None.

    A ``PYTHONPATH`` into another interpreter's site-packages finds its
    packages, but their compiled extensions carry that Python's ABI tag and
    do not load here.  ``WHEEL`` names the tags a wheel was built for.
    """
    tags: "List[str]" = []
    try:
        with open(os.path.join(dist_dir or "", "WHEEL"), encoding="utf-8", errors="replace") as handle:
            tags = [line.split(":", 1)[1].strip() for line in handle if line.startswith("Tag:")]
    except OSError:
        return None
    if not tags:
        return None
    for tag in tags:
        pythons, _, rest = tag.partition("-")
        abis = rest.partition("-")[0]
        if any(_compatible(python, abi) for python in pythons.split(".") for abi in abis.split(".")):
            return None
    return tags[0]


def _compatible(python: str, abi: str) -> bool:
    """Whether one (python, abi) wheel tag pair loads in this interpreter;
    anything unfamiliar counts as loading."""
    ours = sys.version_info[:2]
    match = re.match(r"^(py|cp)(\d)(\d*)$", python)
    if not match:
        return True
    major, minor = int(match.group(2)), int(match.group(3)) if match.group(3) else None
    if major != ours[0]:
        return False
    if abi == "none":
        return minor is None or minor <= ours[1]
    if abi == "abi3":
        return minor is None or minor <= ours[1]
    built = re.match(r"^cp(\d)(\d+)", abi)
    if built:
        return (int(built.group(1)), int(built.group(2))) == ours
    return True


#: Requirements of Keras that ``import keras`` imports at once, in the order
#: it meets them, measured with real Keras (3.15 with each backend; 2.3.1 on
#: Python 3.7) by removing each: a missing one fails the import with
#: ``ModuleNotFoundError``.  Other requirements (namex, optree, h5py and
#: packaging for Keras 3; PyYAML and h5py for Keras 2) are imported later,
#: so a missing one is reported, and the import still works.
IMPORTED_AT_ONCE = {
    "keras3": ("numpy", "absl_py", "ml_dtypes", "rich"),
    "keras2-multibackend": ("numpy", "six", "keras_applications", "keras_preprocessing", "scipy"),
}
#: What TensorFlow-only Keras 2 (2.6-2.15) meets under TensorFlow 2.16 and
#: later: it registers itself through a private TensorFlow API that 2.16
#: removed (measured: Keras 2.15.0 with TensorFlow 2.21.0).
KERAS2_ON_NEWER_TENSORFLOW = ("AttributeError: module 'tensorflow._api.v2.compat.v2.__internal__' has no "
                              "attribute 'register_load_context_function'")
#: jax's own message when jaxlib is missing (jax 0.4 and later).
JAXLIB_MISSING = ("ModuleNotFoundError: jax requires jaxlib to be installed. See "
                  "https://github.com/jax-ml/jax#installation for installation instructions.")


def check(libs: "Dict[str, Dict[str, Any]]", flavour: "Optional[str]", needed: "List[str]",
          python: str) -> "Dict[str, Any]":
    """What is missing, mismatched or built for another Python among what
    ``import keras`` needs (``needed``: see :func:`kbackend.shadows.needed_libraries`;
    JAX is imported for real only when ``jaxlib`` is among them).  Returns
    ``{"error": the exception the import meets first, or None; "problems": [...]}``."""
    locate = metadata.locate_distribution
    fatal: "List[str]" = []
    problems: "List[Dict[str, str]]" = []
    at_once = IMPORTED_AT_ONCE.get(flavour or "", ())
    # a package compiled for another Python fails where it is first imported
    checked: "List[str]" = []
    for name in ("numpy",) + tuple(at_once) + tuple(needed):
        if name in checked:
            continue
        checked.append(name)
        found = _first_installed(name, locate)
        tag = wheel_mismatch(found[1]) if found else None
        if tag and found:
            fatal.append("ImportError: {} {} in {} was built for another Python ({}), not Python {}.{}".format(
                name, found[0], os.path.dirname(found[1]), tag, *sys.version_info[:2]))
            problems.append(problem(
                "built-for-another-python",
                "{} {} in {} is a build for another Python ({}); this is Python {}.{}.".format(
                    name, found[0], os.path.dirname(found[1]), tag, *sys.version_info[:2]),
                "Remove that folder from PYTHONPATH, or install {} for this interpreter: {} -m pip install {}".format(
                    name, python, name)))
    unmet_keras = unmet(libs["keras"].get("dist"), locate) if libs["keras"].get("dist") else []
    order = {name: index for index, name in enumerate(at_once)}
    for item in sorted(unmet_keras, key=lambda item: order.get(item["name"], len(order))):
        if item["installed"] is None and item["name"] in order:
            fatal.append("ModuleNotFoundError: No module named {!r}".format(item["module"]))
        problems.append(_requirementproblem("keras", item, python))
    pair = _tensorflow_pair(libs, flavour, python)
    if pair is not None:
        fatal.extend(pair[0])
        problems.append(pair[1])
    jax = libs.get("jax", {})
    if jax.get("version") and jax["version"] != "unknown":
        # whether or not the backend uses JAX, what is wrong with it is said;
        # it fails the import only when the backend imports it
        if not libs.get("jaxlib", {}).get("version"):
            if "jaxlib" in needed:
                fatal.append(JAXLIB_MISSING)
            problems.append(problem(
                "jaxlib-missing", "jax {} is installed without jaxlib, which it needs.".format(jax["version"]),
                "{} -m pip install \"jaxlib=={}\"".format(python, jax["version"])))
        for item in unmet(jax.get("dist"), locate) if jax.get("dist") else []:
            if item["name"] != "jaxlib" or item["installed"] is not None:
                problems.append(_requirementproblem("jax", item, python))
    return {"error": fatal[0] if fatal else None, "problems": problems}


def _tensorflow_pair(libs: "Dict[str, Dict[str, Any]]", flavour: "Optional[str]", python: str
                     ) -> "Optional[Tuple[List[str], Dict[str, str]]]":
    """TensorFlow-only Keras 2.6-2.15 is released with the TensorFlow of the
    same minor version and declares no requirement on it, so pip never says
    when the two drift apart.  Returns (the failure, if known; the problem)."""
    keras = metadata.version_tuple(libs["keras"]["version"])[:2]
    tensorflow = metadata.version_tuple(libs.get("tensorflow", {}).get("version"))[:2]
    if flavour != "keras2-tensorflow" or len(keras) < 2 or len(tensorflow) < 2 or keras < (2, 6) \
            or keras == tensorflow:
        return None
    wanted = "{}.{}".format(*keras)
    if tensorflow >= (2, 16):
        fix = ("{0} -m pip install \"keras>=3\" (TensorFlow {1} goes with Keras 3), or {0} -m pip install "
               "\"tensorflow=={2}.*\" to keep Keras {2}").format(python, libs["tensorflow"]["version"], wanted)
        fatal = [KERAS2_ON_NEWER_TENSORFLOW]
    else:
        fix = "{} -m pip install \"keras=={}.{}.*\"".format(python, *tensorflow)
        fatal = []
    return fatal, problem(
        "keras-tensorflow-mismatch",
        "Keras {} is made for TensorFlow {}, but TensorFlow {} is installed.".format(
            libs["keras"]["version"], wanted, libs["tensorflow"]["version"]),
        fix)


def _first_installed(name: str, locate: "Callable[[str], Optional[Tuple[Optional[str], str]]]"
                     ) -> "Optional[Tuple[Optional[str], str]]":
    """A module's distribution (tensorflow may be tensorflow_cpu, ...), or a distribution by name."""
    for dist in discovery.KNOWN_MODULES.get(name, (name,)):
        found = locate(dist)
        if found is not None:
            return found
    return None


def _requirementproblem(owner: str, item: "Dict[str, Any]", python: str) -> "Dict[str, str]":
    want = "{}{}".format(item["name"], item["specifier"] and " " + item["specifier"])
    if item["installed"] is None:
        return problem("dependency-missing", "{} requires {}, which is not installed.".format(owner, want),
                        "{} -m pip install \"{}{}\"".format(python, item["name"], item["specifier"]))
    return problem("dependency-mismatch", "{} requires {}, but {} {} is installed.".format(
        owner, want, item["name"], item["installed"]),
        "{} -m pip install \"{}{}\"".format(python, item["name"], item["specifier"]))


def loaded_requirements(tops: "Dict[str, str]", python: str, skip: "Tuple[str, ...]" = ("keras", "jax")
                        ) -> "List[Dict[str, str]]":
    """Unmet requirements of every distribution the import loads, read where
    it is installed (``tops``: top-level module -> the folder it is loaded
    from), checked against what wins on the search path.  Keras's and JAX's
    own are checked by :func:`check` already.  Cached like discovery."""
    return cache.memo("loaded-requirements", (tuple(sorted(tops.items())), python, skip),
                      lambda: _loaded_requirements(tops, python, skip))


def _loaded_requirements(tops: "Dict[str, str]", python: str, skip: "Tuple[str, ...]") -> "List[Dict[str, str]]":
    locate = metadata.locate_distribution
    problems: "List[Dict[str, str]]" = []
    seen = set()  # type: set
    for module, folder in sorted(tops.items()):
        dist_dir = _distribution_in(folder, module)
        if dist_dir is None or dist_dir in seen:
            continue
        seen.add(dist_dir)
        owner = os.path.basename(dist_dir).split("-", 1)[0]
        if metadata.normalize_dist_name(owner) in skip:
            continue
        for item in unmet(dist_dir, locate):
            if item["installed"] is not None:
                problems.append(_requirementproblem("{} (in {})".format(owner, folder), item, python))
    return problems


def _distribution_in(folder: str, module: str) -> "Optional[str]":
    """The metadata folder in ``folder`` of the distribution that provides ``module``."""
    names = {metadata.normalize_dist_name(dist) for dist in discovery.KNOWN_MODULES.get(module, (module,))}
    names.update(dist for dist, provided in MODULES.items() if provided.split(".")[0] == module)
    try:
        entries = os.listdir(folder)
    except OSError:
        return None
    for entry in sorted(entries):
        if entry.endswith((".dist-info", ".egg-info")) and \
                metadata.normalize_dist_name(entry.split("-", 1)[0]) in names:
            return os.path.join(folder, entry)
    return None
