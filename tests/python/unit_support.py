"""What the stdlib unit tests share (test_unit_*.py): fake installations in
a sandbox, the R interfaces' facts, small file helpers.  Stdlib only,
Python 3.6+."""

import contextlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "python"))
sys.path.insert(0, HERE)

from fakes import Sandbox, environ, isolated_path, make_site  # noqa: E402

KERAS3 = {"keras": "3.15.1", "tensorflow": "2.21.0", "jax": "0.10.2", "jaxlib": "0.10.2", "numpy": "2.4.0"}
HEAVY = ("keras", "tensorflow", "jax", "torch", "theano", "cntk", "openvino", "tf_keras", "flax")


@contextlib.contextmanager
def installed(libraries, keras_layout="keras3", **env):
    """A sandbox with ``libraries`` installed, HOME in it, and ``env`` set."""
    with Sandbox() as box:
        make_site(box.site, libraries, keras_layout)
        with isolated_path(box.site), environ(HOME=box.home, **env):
            yield box


def write(path, text="x = 1\n"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)
    return path


def shutil_rmtree(path):
    import shutil

    shutil.rmtree(path)


def config_source(document=None, raises=None):
    return {"exists": document is not None or raises is not None, "value": document, "raises": raises}


KERAS2_TF1 = {"keras": "2.3.1", "theano": "1.0.5", "tensorflow": "1.15.5", "numpy": "1.19.5"}


def keras3_facts(version="1.5.1", **r_environ):
    return {"name": "keras3", "version": version, "r_environ": r_environ, "cache_dir": "/r-cache/keras3",
            "home_keras_exists": False}


def legacy_facts(version="2.15.0", **r_environ):
    return {"name": "keras", "version": version, "r_environ": r_environ}


def write_config(home, document):
    os.makedirs(os.path.join(home, ".keras"), exist_ok=True)
    with open(os.path.join(home, ".keras", "keras.json"), "w") as handle:
        json.dump(document, handle)


def codes(record):
    return [problem["code"] for problem in record["problems"]]


def importlib_reset():
    import importlib

    importlib.invalidate_caches()
