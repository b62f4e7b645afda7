"""The pytest plugin (kbackend.pytest_plugin), through pytest's own pytester.

Each inner run is a separate ``python -m pytest`` in .venv with the plugin
*installed*: a dist-info folder on PYTHONPATH whose ``pytest11`` entry point
is the one python/pyproject.toml declares, so pytest loads it as it loads a
pip-installed plugin.  Backend facts (what imports in .venv) come from real
imports: the run that imports Keras at the top of a test module says which
backend Keras chose.
"""

import os
import re
import sys

import pytest

from conftest import PYTHON_DIR, ROOT, require_modules

pytest_plugins = ["pytester"]

pytestmark = pytest.mark.needs_env("keras3")


def _entry_point():
    """The pytest11 entry point python/pyproject.toml declares, as (name, module)."""
    with open(os.path.join(ROOT, "python", "pyproject.toml")) as handle:
        text = handle.read()
    section = text.split("[project.entry-points.pytest11]", 1)[1].split("\n[", 1)[0]
    found = re.search(r'^(\w+)\s*=\s*"([\w.]+)"', section, re.M)
    assert found, section
    return found.group(1), found.group(2)


@pytest.fixture
def installed(tmp_path_factory, monkeypatch):
    """PYTHONPATH with kbackend and a dist-info announcing its pytest11 entry point."""
    site = tmp_path_factory.mktemp("site")
    info = site / "kbackend_plugin_only-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kbackend-plugin-only\nVersion: 0.1.0\n")
    name, module = _entry_point()
    (info / "entry_points.txt").write_text("[pytest11]\n{} = {}\n".format(name, module))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([PYTHON_DIR, str(site)]))
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    return str(site)


def _run(pytester, *args):
    # the lab's .venv: pytest, Keras 3 with TensorFlow, JAX and torch
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", *args, timeout=600)


def _lines(result):
    return "\n".join(result.outlines + result.errlines)


def test_runs_in_the_lab_python():
    require_modules("keras", "jax", "torch")
    assert os.path.realpath(sys.prefix).endswith(".venv"), sys.prefix


def test_option_sets_the_backend_before_conftest_and_collection(pytester, installed):
    pytester.makeconftest("import os\nSEEN = os.environ.get('KERAS_BACKEND')\n")
    pytester.makepyfile(test_seen="""
        import os
        import conftest

        def test_seen():
            assert conftest.SEEN == "jax"
            assert os.environ["KERAS_BACKEND"] == "jax"
    """)
    result = _run(pytester, "--keras-backend", "jax")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["keras backend: jax (source: environment), Keras 3.15.1"])


def test_keras_imported_at_module_top_gets_the_pinned_backend(pytester, installed):
    pytester.makepyfile(test_top="""
        import keras

        def test_backend():
            assert keras.backend.backend() == "jax"
    """)
    result = _run(pytester, "--keras-backend", "jax")
    result.assert_outcomes(passed=1)


def test_keras_backend_marker_runs_only_under_its_backends(pytester, installed):
    pytester.makepyfile(test_marked="""
        import pytest

        @pytest.mark.keras_backend("jax", "torch")
        def test_jax_or_torch():
            pass

        @pytest.mark.keras_backend("tensorflow")
        def test_tensorflow():
            pass

        def test_unmarked():
            pass
    """)
    result = _run(pytester, "--keras-backend", "jax")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["*runs with Keras backend tensorflow; the backend in force is 'jax' (KERAS_BACKEND*"])
    # without the option: the backend the environment gives (Keras 3's default, tensorflow)
    result = _run(pytester)
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["*runs with Keras backend jax or torch; the backend in force is 'tensorflow'*"])


def test_requires_keras_backend_marker_skips_with_the_reason(pytester, installed):
    pytester.makepyfile(test_requires="""
        import pytest

        @pytest.mark.requires_keras_backend("torch")
        def test_torch():
            pass

        @pytest.mark.requires_keras_backend("openvino")
        def test_openvino():
            pass

        @pytest.mark.requires_keras_backend("JAX")
        def test_misspelt():
            pass
    """)
    result = _run(pytester)
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines([
        "*requires Keras backend openvino: With KERAS_BACKEND='openvino', import keras would fail: "
        "ModuleNotFoundError: No module named 'openvino'*",
        "*requires Keras backend JAX: 'JAX' is not a backend Keras 3.15.1 can load*Did you mean 'jax'?*",
    ])


def test_fixture_returns_the_record(pytester, installed):
    pytester.makepyfile(test_fixture="""
        def test_record(keras_backend_info):
            assert keras_backend_info["backend"] == "torch"
            assert keras_backend_info["source"] == "environment"
            assert keras_backend_info["status"] == "ok"
            assert keras_backend_info["keras"]["version"] == "3.15.1"
    """)
    _run(pytester, "--keras-backend", "torch").assert_outcomes(passed=1)


def test_a_backend_that_would_not_import_is_a_usage_error(pytester, installed):
    pytester.makepyfile(test_never="def test_never():\n    raise AssertionError('collected')\n")
    result = _run(pytester, "--keras-backend", "openvino")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, _lines(result)
    assert "--keras-backend openvino: With KERAS_BACKEND='openvino', import keras would fail: " \
           "ModuleNotFoundError: No module named 'openvino'" in _lines(result)
    result = _run(pytester, "--keras-backend", "Jax")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, _lines(result)
    assert "Did you mean 'jax'?" in _lines(result)
    assert "collected" not in result.stdout.str()


def test_keras_already_imported_with_another_backend_is_a_usage_error(pytester, installed):
    # a plugin loaded before this one imports Keras (numpy backend: the quickest import)
    pytester.makepyfile(keras_first="import os\nos.environ['KERAS_BACKEND'] = 'numpy'\nimport keras\n")
    pytester.makepyfile(test_any="def test_any():\n    pass\n")
    monkey = os.pathsep.join([os.environ["PYTHONPATH"], str(pytester.path)])
    os.environ["PYTHONPATH"] = monkey  # restored by the `installed` fixture's monkeypatch
    result = _run(pytester, "-p", "keras_first", "--keras-backend", "jax")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, _lines(result)
    assert re.search(r"--keras-backend jax: Keras is already loaded in this process .* with the 'numpy' backend; "
                     r"it cannot switch to 'jax'", _lines(result)), _lines(result)
    # the backend it was loaded with is fine
    _run(pytester, "-p", "keras_first", "--keras-backend", "numpy").assert_outcomes(passed=1)


def test_unused_plugin_is_inert(pytester, installed):
    pytester.makepyfile(test_inert="""
        import os
        import sys

        def test_inert(pytestconfig):
            assert pytestconfig.pluginmanager.has_plugin("kbackend")  # loaded, through the entry point
            assert "KERAS_BACKEND" not in os.environ
            loaded = sorted(name for name in sys.modules if name.startswith("kbackend."))
            # the plugin file and what `import kbackend` needs; nothing of the record's
            assert "kbackend.info" not in loaded, loaded
            assert "kbackend.matrix" not in loaded, loaded
    """)
    result = _run(pytester)
    result.assert_outcomes(passed=1)
    assert "keras backend:" not in result.stdout.str()
    # the header on request, from the ini file
    pytester.makeini("[pytest]\nkeras_backend_header = true\n")
    result = _run(pytester)
    result.stdout.fnmatch_lines(["keras backend: tensorflow (source: default), Keras 3.15.1"])
