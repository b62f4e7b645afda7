"""Broken installations, built in seconds from the project's own environments.

A *farm* is a folder of symbolic links to the entries of one or more real
``site-packages`` folders, minus some distributions: put on ``PYTHONPATH``
of the bare interpreter the environment was made from, it behaves like that
environment with those distributions uninstalled (``pip install --no-deps``,
a half-finished upgrade).  Nothing is downloaded or copied.  Stdlib only.
"""

import os
import re


def _normal(name):
    return re.sub(r"[-_.]+", "_", name).lower()


def _dist_files(site, entry):
    """Top-level names a distribution installed (from its RECORD)."""
    names = {entry}
    try:
        with open(os.path.join(site, entry, "RECORD"), encoding="utf-8") as handle:
            for line in handle:
                top = line.split(",", 1)[0].split("/", 1)[0]
                if top and not top.startswith(".."):
                    names.add(top)
    except OSError:
        pass
    return names


def make_farm(root, sites, without=(), extra=None):
    """Link every entry of ``sites`` into ``root`` (the first site wins a
    name), leaving out the distributions named in ``without`` and all their
    files.  ``extra`` maps names to paths to link as well.  Returns ``root``."""
    os.makedirs(root, exist_ok=True)
    drop = set()
    for site in sites:
        for entry in os.listdir(site):
            if entry.endswith(".dist-info") and _normal(entry.split("-", 1)[0]) in {_normal(w) for w in without}:
                drop |= _dist_files(site, entry)
    for site in sites:
        for entry in os.listdir(site):
            target = os.path.join(root, entry)
            if entry in drop or entry == "__pycache__" or os.path.lexists(target):
                continue
            os.symlink(os.path.join(site, entry), target)
    for name, path in (extra or {}).items():
        target = os.path.join(root, name)
        if os.path.lexists(target):
            os.unlink(target)
        os.symlink(path, target)
    return root


def base_python(venv):
    """The interpreter a virtual environment was made from (pyvenv.cfg ``home``)."""
    with open(os.path.join(venv, "pyvenv.cfg")) as handle:
        for line in handle:
            key, _, value = line.partition("=")
            if key.strip() == "home":
                home = value.strip()
                for name in ("python3", "python"):
                    if os.path.exists(os.path.join(home, name)):
                        return os.path.join(home, name)
    raise FileNotFoundError("no base interpreter for " + venv)


def site_packages(venv):
    lib = os.path.join(venv, "lib")
    for entry in sorted(os.listdir(lib)):
        path = os.path.join(lib, entry, "site-packages")
        if os.path.isdir(path):
            return path
    raise FileNotFoundError("no site-packages in " + venv)
