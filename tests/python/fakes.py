"""Fake installations for the unit tests: dist-info metadata and package dirs.

A fake site directory holds ``<name>-<version>.dist-info`` plus an empty
package for each library, enough for kbackend's discovery (which never
imports) to see it as installed.  ``isolated_path`` swaps ``sys.path`` so
the real site-packages cannot leak into a test.  Stdlib only (Python 3.6+).
"""

import contextlib
import importlib
import os
import shutil
import sys
import tempfile

DISTS = {"tensorflow": "tensorflow_cpu", "theano": "Theano"}


#: The body of each fake package: a trap that fails any real import of it.
#: It stands for a package whose import works, so its failure must not be
#: readable without running it: kbackend follows imports statically where
#: the installation is unusual (a pytest process has the lab's numpy loaded
#: from another site than the fakes), and a plain top-level ``raise`` would
#: rightly be predicted as the import's failure.
TRAP = "if getattr(__import__('builtins'), 'kbackend_fake_imported', True):\n" \
       "    raise RuntimeError('kbackend must never import {}')\n"


def make_site(root, libraries, keras_layout="keras3"):
    """Create ``root`` holding each ``{module: version}`` as an installed package."""
    os.makedirs(root, exist_ok=True)
    for module, version in libraries.items():
        dist = DISTS.get(module, module)
        info = os.path.join(root, "{}-{}.dist-info".format(dist, version))
        os.makedirs(info, exist_ok=True)
        with open(os.path.join(info, "METADATA"), "w") as handle:
            handle.write("Metadata-Version: 2.1\nName: {}\nVersion: {}\n\n".format(dist, version))
        package = os.path.join(root, module)
        os.makedirs(package, exist_ok=True)
        with open(os.path.join(package, "__init__.py"), "w") as handle:
            handle.write(TRAP.format(module))
    if "keras" in libraries and keras_layout == "keras3":
        os.makedirs(os.path.join(root, "keras", "src", "backend"), exist_ok=True)
        open(os.path.join(root, "keras", "src", "backend", "config.py"), "w").close()
        # the tf.keras API TensorFlow >= 2.15 finds on its module path
        os.makedirs(os.path.join(root, "keras", "_tf_keras", "keras"), exist_ok=True)
        open(os.path.join(root, "keras", "_tf_keras", "keras", "__init__.py"), "w").close()
    if "tf_keras" in libraries:
        os.makedirs(os.path.join(root, "tf_keras", "api", "_v2", "keras"), exist_ok=True)
        open(os.path.join(root, "tf_keras", "api", "_v2", "keras", "__init__.py"), "w").close()
    return root


#: The libraries kbackend reads from ``sys.modules`` when they are loaded.
#: Under pytest the lab's numpy (and more) is loaded from the real
#: site-packages; a plain interpreter, or an R session's Python before
#: anything runs, has none of them.
LIBRARIES = ("keras", "tensorflow", "jax", "jaxlib", "torch", "numpy", "openvino", "theano", "cntk", "tf_keras",
             "flax", "scipy", "tree", "optree", "ml_dtypes", "h5py")


@contextlib.contextmanager
def unloaded(tops=LIBRARIES):
    """Hide the already-imported ``tops`` (and their submodules) from
    ``sys.modules`` for the duration, restoring the same module objects."""
    hidden = {name: module for name, module in sys.modules.items() if name.split(".")[0] in tops}
    for name in hidden:
        del sys.modules[name]
    try:
        yield
    finally:
        sys.modules.update(hidden)


@contextlib.contextmanager
def isolated_path(*directories):
    """``sys.path`` = the given dirs + the stdlib only, for the duration;
    the real site's libraries loaded in this process are hidden too, so
    that they cannot leak into a test either (see :func:`unloaded`)."""
    saved = list(sys.path)
    stdlib = os.path.dirname(os.__file__)
    sys.path[:] = list(directories) + [stdlib, os.path.join(stdlib, "lib-dynload")]
    importlib.invalidate_caches()
    try:
        with unloaded():
            yield
    finally:
        sys.path[:] = saved
        importlib.invalidate_caches()


@contextlib.contextmanager
def environ(**values):
    """Replace os.environ entirely (keeping PATH), restoring it afterwards."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ["PATH"] = saved.get("PATH", "/usr/bin:/bin")
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class Sandbox:
    """A temporary directory with a home and a site dir, removed on exit."""

    def __enter__(self):
        self.root = tempfile.mkdtemp(prefix="kbackend-test-")
        self.home = os.path.join(self.root, "home")
        self.site = os.path.join(self.root, "site")
        os.makedirs(self.home)
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.root, ignore_errors=True)

    def keras_json(self, text):
        """Write ~/.keras/keras.json with ``text``; return its path."""
        directory = os.path.join(self.home, ".keras")
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, "keras.json")
        with open(path, "w") as handle:
            handle.write(text)
        return path
