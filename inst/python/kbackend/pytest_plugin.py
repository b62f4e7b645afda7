"""pytest plugin: pin, skip and report the Keras backend, without importing Keras.

Registered through the ``pytest11`` entry point, so installing kbackend makes
it available to every pytest run; a run that uses none of it is unchanged:
loading it imports nothing but this file (kbackend's own modules load when
an option, a marker, the fixture or the header needs them).

* ``--keras-backend NAME`` sets ``KERAS_BACKEND`` before any conftest or test
  module is imported.  A name with which ``import keras`` would not work, or
  a Keras already imported with another backend, is a usage error carrying
  kbackend's reason.
* ``@pytest.mark.keras_backend("jax", "torch")``: the test runs only when the
  backend in force is one of these, and is skipped with the reason otherwise.
* ``@pytest.mark.requires_keras_backend("jax")``: skipped, with the reason,
  when ``import keras`` would not work with that backend here.
* The session header names the backend, where it comes from and the Keras
  version, in a run with ``--keras-backend`` (or with the ini option
  ``keras_backend_header = true``).
* The ``keras_backend_info`` fixture returns the record
  (:func:`kbackend.backend_info`).
"""

import os

import pytest  # type: ignore  # loaded by pytest already: it is pytest that loads this plugin

_MARKERS = (
    "keras_backend(*names): run only when the Keras backend in force is one of names, else skip (kbackend)",
    "requires_keras_backend(name): skip unless import keras would work with backend name here (kbackend)",
)


def pytest_addoption(parser):
    group = parser.getgroup("kbackend", "Keras backend (kbackend)")
    group.addoption(
        "--keras-backend", dest="keras_backend", default=None, metavar="NAME",
        help="set KERAS_BACKEND=NAME before collection; a usage error (with the reason) when import keras would "
             "not work with NAME here",
    )
    parser.addini("keras_backend_header", type="bool", default=False,
                  help="show the Keras backend in the session header even without --keras-backend (kbackend)")


def pytest_load_initial_conftests(early_config, parser, args):
    """Set the backend before conftest files, and so any test module, can import Keras."""
    name = getattr(early_config.known_args_namespace, "keras_backend", None)
    if name is not None:
        _pin(name)


def _pin(name):
    from kbackend import matrix

    verdict = matrix.usable_keras_backends([name])["candidates"][0]
    if not verdict["usable"]:
        raise pytest.UsageError("--keras-backend {}: {}".format(name, verdict["reason"]))
    os.environ["KERAS_BACKEND"] = name


def pytest_configure(config):
    for line in _MARKERS:
        config.addinivalue_line("markers", line)


def pytest_report_header(config):
    """One line, as pytest names its plugins -- only in a run that pins the
    backend, or when the ini option ``keras_backend_header`` is true."""
    if config.getoption("keras_backend") is None and not config.getini("keras_backend_header"):
        return None
    from kbackend import info

    record = info.backend_info()
    keras = record["keras"]
    version = "Keras {}".format(keras["version"]) if keras["installed"] else "Keras not installed"
    status = "" if record["status"] == "ok" else ", import keras would fail: {}".format(record["error"])
    return "keras backend: {} (source: {}), {}{}".format(record["backend"], record["source"], version, status)


def pytest_runtest_setup(item):
    wanted = item.get_closest_marker("keras_backend")
    required = list(item.iter_markers("requires_keras_backend"))
    if wanted is None and not required:
        return
    from kbackend import info, matrix

    for mark in required:
        names = list(mark.args)
        if len(names) != 1 or not isinstance(names[0], str):
            raise pytest.UsageError("requires_keras_backend takes one backend name, not {!r}".format(names))
        verdict = matrix.usable_keras_backends(names)["candidates"][0]
        if not verdict["usable"]:
            pytest.skip("requires Keras backend {}: {}".format(names[0], verdict["reason"]))
    if wanted is not None:
        names = list(wanted.args)
        if not names or not all(isinstance(name, str) for name in names):
            raise pytest.UsageError("keras_backend takes backend names, not {!r}".format(names))
        record = info.backend_info()
        if record["backend"] not in names:
            pytest.skip("runs with Keras backend {}; the backend in force is {!r} ({})".format(
                " or ".join(names), record["backend"], record["reason"]))


@pytest.fixture
def keras_backend_info():
    """The kbackend record: which Keras backend is in force, why, and whether ``import keras`` works."""
    from kbackend import info

    return info.backend_info()
