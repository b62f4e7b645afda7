"""`python -m kbackend matrix` against real Keras, backend by backend.

In each real Keras environment (and a Python without Keras), the matrix is
asked once; then every backend name any Keras knows is imported for real
with ``KERAS_BACKEND=name`` in a fresh subprocess.  A name is in the matrix
exactly when that import works *and* gives that backend (Keras 2.15
ignores ``KERAS_BACKEND`` and imports TensorFlow: that is not "jax works").
"""

import json
import os
import subprocess

import pytest

from conftest import ENVIRONMENTS, LAB_ROOT, PYTHON_DIR, THEANO_DIR, env_python, oracle, run
import scenario as scenario_table

#: Every backend name some Keras line knows.
NAMES = ["tensorflow", "jax", "torch", "numpy", "openvino", "theano", "cntk"]
#: A Python with no Keras at all: the lab's tool environment.
NO_KERAS = "no-keras"
_MATRICES = {}


def _python(environment):
    if environment == NO_KERAS:
        path = os.path.join(LAB_ROOT, ".venv-tools", "bin", "python")
        if not os.path.exists(path):
            pytest.skip("needs the tools environment ({} is missing); build it with `make setup` or "
                        "`tools/setup-python.sh tools`".format(path))
        return path
    return env_python(environment)


def _matrix(python, root, *args):
    overlay = scenario_table.materialize({"id": "matrix"}, root, THEANO_DIR)
    done = run(python, ["-m", "kbackend", "matrix"] + list(args), overlay, 120, {"PYTHONPATH": PYTHON_DIR})
    assert done is not None, "kbackend matrix timed out"
    assert done.returncode == 0, done.stderr
    return done.stdout


def _details(environment, python, tmp_path_factory):
    if environment not in _MATRICES:
        root = str(tmp_path_factory.mktemp("matrix"))
        compact = json.loads(_matrix(python, root))
        details = json.loads(_matrix(python, root, "--details"))
        assert compact == {"backend": details["backend"]}
        # every name asked for explicitly, the ones this Keras does not list too
        named = json.loads(_matrix(python, root, "--details", *NAMES))
        _MATRICES[environment] = (details, named)
    return _MATRICES[environment]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("environment", sorted(ENVIRONMENTS) + [NO_KERAS])
def test_matrix_matches_real_import(environment, name, tmp_path, tmp_path_factory):
    python = _python(environment)
    details, named = _details(environment, python, tmp_path_factory)
    overlay = scenario_table.materialize({"id": "matrix", "env": {"KERAS_BACKEND": name}}, str(tmp_path),
                                         THEANO_DIR)
    actual = oracle(python, overlay)
    imports = actual["status"] == "ok" and actual["backend"] == name
    listed = name in details["backend"]
    candidate = [c for c in named["candidates"] if c["backend"] == name]
    context = "{} in {}: matrix {}, real Keras {}\nstderr tail: {}".format(
        name, environment, details["backend"], {k: actual[k] for k in ("status", "backend", "error")},
        actual["stderr"][-600:])
    assert listed == imports, context
    assert (name in named["backend"]) == imports, "asked by name: " + context
    if not candidate[0]["usable"]:
        assert candidate[0]["reason"], context   # every "no" says why
    if actual["status"] == "ok":
        assert details["keras"]["version"] == actual["version"], context


def test_matrix_table_and_json_forms(tmp_path):
    python = env_python("keras3")
    root = str(tmp_path)
    compact = _matrix(python, root)
    assert compact.count("\n") == 1, "one line, for a CI system's output variable"
    backends = json.loads(compact)["backend"]
    table = _matrix(python, root, "--table")
    assert "Keras 3.15.1" in table
    for line in table.splitlines()[3:8]:
        name, verdict = line.split()[:2]
        assert verdict == ("yes" if name in backends else "no"), line
        if verdict == "no":
            assert "import keras would fail" in line, line  # the reason, as use --check gives it
    assert table.splitlines()[-1] == "would import: " + ", ".join(backends)


def test_matrix_is_the_python_api(tmp_path):
    """The CLI prints what kbackend.usable_keras_backends() returns."""
    python = env_python("keras3")
    overlay = scenario_table.materialize({"id": "matrix"}, str(tmp_path))
    code = "import json, kbackend; print(json.dumps(kbackend.usable_keras_backends()))"
    done = run(python, ["-c", code], overlay, 120, {"PYTHONPATH": PYTHON_DIR})
    assert done is not None and done.returncode == 0, done and done.stderr
    assert json.loads(done.stdout) == json.loads(_matrix(python, str(tmp_path), "--details"))


def test_matrix_usage_error(tmp_path):
    python = env_python("keras3")
    overlay = scenario_table.materialize({"id": "matrix"}, str(tmp_path))
    done = run(python, ["-m", "kbackend", "matrix", "--no-such-flag"], overlay, 120, {"PYTHONPATH": PYTHON_DIR})
    assert done.returncode == 2, done.stderr
    assert "unrecognized arguments" in done.stderr


def test_matrix_keeps_the_cli_start_cheap():
    """The subcommand's module loads only when asked for."""
    python = env_python("keras3")
    code = ("import sys; sys.argv = ['kbackend', '--json']; import kbackend.cli as c; import io, contextlib\n"
            "with contextlib.redirect_stdout(io.StringIO()): c.main(['--json'])\n"
            "print('kbackend.matrix' in sys.modules, 'kbackend.setting' in sys.modules)")
    done = subprocess.run([python, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, env=dict(os.environ, PYTHONPATH=PYTHON_DIR), timeout=120)
    assert done.stdout.split() == ["False", "False"], done.stderr
