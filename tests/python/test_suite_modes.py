"""The suite's two modes: skip with a reason outside the lab, fail under make test.

Each test runs pytest in a subprocess on a machine made to lack things: no
lab environments (KBACKEND_LAB_ROOT at an empty directory), a module that
does not exist, a module-level import that fails.  Without
KBACKEND_STRICT_TESTS the run passes with the tests skipped, and each skip
reason names what is missing and how to build it; with it (as
tools/run-tests.sh sets it) the same run fails, and still says why.
"""

import os
import subprocess
import sys

import pytest
from conftest import ROOT

HERE = os.path.join(ROOT, "tests", "python")

#: A test module asking for what no machine has, through each way the
#: suite has to ask: a marker, a call, a module-level import.
NEEDY = '''
import pytest
from conftest import env_python, import_or_skip, require_modules

@pytest.mark.needs_env("keras2-cntk")
def test_marker_env():
    pass

@pytest.mark.needs_module("kbackend_no_such_module")
def test_marker_module():
    pass

def test_call_env():
    env_python("keras3")

def test_call_module():
    require_modules("kbackend_no_such_module")

def test_met():
    pass
'''
NEEDY_MODULE = '''
from conftest import import_or_skip
import_or_skip("kbackend_no_such_module")

def test_never_collected():
    pass
'''


def _pytest(args, cwd, strict, lab_root):
    """Run pytest on ``args`` with kbackend's conftest as a plugin; return (exit code, output)."""
    # CI and BUILD_NUMBER: pytest stops shortening its summary lines on CI,
    # which would change the output counted below
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PYTEST_", "KBACKEND_")) and name not in ("PYTHONPATH", "CI", "BUILD_NUMBER")}
    env.update(PYTHONPATH=HERE, KBACKEND_LAB_ROOT=lab_root)
    if strict:
        env["KBACKEND_STRICT_TESTS"] = "true"
    # its own --basetemp: in the shared one, pytest would first delete the
    # oldest earlier runs' folders (gigabytes after a whole suite), on this
    # test's clock
    basetemp = os.path.join(cwd, "basetemp")
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "conftest",
                           "-q", "-rfEs", "--rootdir", cwd, "--basetemp", basetemp] + args, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120)
    return done.returncode, done.stdout


@pytest.fixture
def needy(tmp_path):
    (tmp_path / "test_needy.py").write_text(NEEDY)
    (tmp_path / "test_needy_module.py").write_text(NEEDY_MODULE)
    lab = tmp_path / "empty-lab"
    lab.mkdir()
    return str(tmp_path), str(lab)


def test_outside_the_lab_missing_things_skip_with_reasons(needy):
    cwd, lab = needy
    code, out = _pytest(["test_needy.py", "test_needy_module.py"], cwd, strict=False, lab_root=lab)
    assert code == 0, out
    assert "1 passed, 5 skipped" in out, out
    assert "needs the keras2-cntk environment ({}".format(os.path.join(lab, ".venv-py36")) in out
    assert "`tools/setup-python.sh py36`" in out and "`tools/setup-python.sh main`" in out
    assert out.count("needs the module kbackend_no_such_module in this Python") == 3, out


def test_under_make_test_every_skip_fails_and_says_why(needy):
    cwd, lab = needy
    code, out = _pytest(["test_needy.py"], cwd, strict=True, lab_root=lab)
    assert code == 1, out
    # a marker's skip comes in setup, so it fails as an error there
    assert out.splitlines()[-1].startswith("2 failed, 1 passed, 2 errors in"), out
    assert out.count("KBACKEND_STRICT_TESTS is on, so this skip is a failure") == 4, out
    assert "needs the keras2-cntk environment" in out and "`tools/setup-python.sh py36`" in out
    # a module skipped as a whole is a collection error, which stops the run
    code, out = _pytest(["test_needy_module.py"], cwd, strict=True, lab_root=lab)
    assert code == 2 and out.splitlines()[-1].startswith("1 error in"), out
    assert "KBACKEND_STRICT_TESTS is on, so this skip is a failure: Skipped: needs the module " \
           "kbackend_no_such_module" in out, out


@pytest.mark.parametrize("strict", [False, True], ids=["outside-the-lab", "make-test"])
def test_a_real_differential_test_without_its_environment(strict, tmp_path):
    """The suite's own tests go through env_python(): the same two modes."""
    node = os.path.join(HERE, "test_isolation.py") + "::test_backend_info_imports_nothing_it_reports_on[keras3-bare]"
    code, out = _pytest([node], str(tmp_path), strict=strict, lab_root=str(tmp_path))
    assert "needs the keras3-bare environment ({}".format(os.path.join(str(tmp_path), ".venv-bare")) in out, out
    if strict:
        assert code == 1 and "1 failed" in out, out
    else:
        assert code == 0 and "1 skipped" in out, out
