"""kbackend installs the usual ways, from every layout a checkout can have.

The one copy of the Python code is inst/python/kbackend (the R package ships
it from there); python/kbackend is a symbolic link to it.  Three layouts of
the source are built and installed:

* ``as-is``: as this checkout has it (the link is a link on POSIX);
* ``dereferenced``: a copy made with links followed (``cp -L``, an archive
  tool without link support);
* ``links-as-files``: a copy where the link is a small text file holding its
  target, as git writes it with ``core.symlinks=false`` (Windows).

Python: ``python -m build`` makes an sdist and a wheel from each (build makes
the wheel from the unpacked sdist, so the sdist must stand alone); both are
installed into fresh venvs, as are ``pip install ./python`` (pip's in-tree
build) and an editable install; the ``kbackend`` console script and
``python -m kbackend`` must then print the same record as the in-tree module
in the same interpreter.  The wheel also installs on CPython 3.6 with its own
old pip.  R: ``R CMD build`` + ``R CMD INSTALL`` from the links-as-files copy,
and ``R CMD INSTALL`` straight from both source trees, must install
inst/python/kbackend.

Nothing is downloaded: builds use .venv-tools's setuptools (``build
--no-isolation``; pip ``--no-build-isolation`` with .venv-tools's
site-packages on PYTHONPATH), installs use ``--no-index``, and pip reads no
configuration file.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import tarfile
import zipfile

import pytest
from conftest import LAB_ROOT, PYTHON_DIR, ROOT, require

import kbackend

PYENV = os.environ.get("PYENV_ROOT") or "/root/.pyenv"
TOOLS = os.path.join(LAB_ROOT, ".venv-tools")
TOOLS_PYTHON = os.path.join(TOOLS, "bin", "python")
PACKAGE_DIR = os.path.join(ROOT, "inst", "python", "kbackend")
LAYOUTS = ["as-is", "dereferenced", "links-as-files"]


def _python(version):
    """A pyenv interpreter, or skip (strict: fail) naming it."""
    path = os.path.join(PYENV, "versions", version, "bin", "python")
    require(os.path.exists(path), "CPython {} ({})".format(version, path),
            "install it with pyenv (the lab has 3.6.15 to 3.13.0 under {})".format(PYENV))
    return path


def _tools():
    require(os.path.exists(TOOLS_PYTHON), "the .venv-tools environment ({} is missing)".format(TOOLS_PYTHON),
            "build it with `make setup` or `tools/setup-python.sh tools`")
    return TOOLS_PYTHON


def _run(argv, cwd=None, env=None, timeout=300):
    """Run a command that must succeed; return its stdout."""
    full = dict(os.environ, PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        full.pop(name, None)
    full.update(env or {})
    done = subprocess.run(argv, cwd=cwd, env=full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)
    assert done.returncode == 0, "{} failed ({}):\n{}".format(" ".join(argv), done.returncode, done.stdout[-4000:])
    return done.stdout


def _tracked(paths):
    """The checkout's files under ``paths`` (tracked, or new and not ignored), as git lists them."""
    out = _run(["git", "-C", ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "--"] + paths)
    return sorted({line for line in out.splitlines() if os.path.lexists(os.path.join(ROOT, line))})


def _copy_layout(destination, layout, paths):
    """Copy the checkout's ``paths`` to ``destination``, each link kept
    (``as-is``), followed (``dereferenced``) or written as a text file holding
    its target (``links-as-files``, what git does without symlink support)."""
    for relative in _tracked(paths):
        source, target = os.path.join(ROOT, relative), os.path.join(destination, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.islink(source) and layout == "as-is":
            os.symlink(os.readlink(source), target)
        elif os.path.islink(source) and layout == "links-as-files":
            with open(target, "w", encoding="utf-8", newline="") as handle:
                handle.write(os.readlink(source))  # git writes the target alone, no newline
        elif os.path.isdir(source):  # a link to a directory, followed
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target)


def _lab_environments():
    """The folder of every environment tools/setup-python.sh builds in the checkout."""
    with open(os.path.join(ROOT, "tools", "setup-python.sh"), encoding="utf-8") as handle:
        return sorted(set(re.findall(r"\bENV_DIR=(\.venv[\w-]*)", handle.read())))


@pytest.mark.parametrize("kind", ["folder", "link"])
def test_no_lab_environment_is_ever_listed_as_source(kind, tmp_path):
    """What git lists is what gets staged and copied, so a lab environment
    git lists would be copied whole (.venv-gpu, a link to the shared GPU
    build, holds gigabytes). Checked in a fresh repository holding only the
    checkout's .gitignore, so that nothing this checkout or this machine
    excludes besides (.git/info/exclude, a global excludes file) hides a miss."""
    environments = _lab_environments()
    assert ".venv" in environments and ".venv-gpu" in environments, environments
    repo, elsewhere = tmp_path / "repo", tmp_path / "elsewhere"
    (elsewhere / "bin").mkdir(parents=True)
    (elsewhere / "bin" / "python").write_text("")
    repo.mkdir()
    shutil.copy2(os.path.join(ROOT, ".gitignore"), str(repo / ".gitignore"))
    for name in environments:
        if kind == "link":
            os.symlink(str(elsewhere), str(repo / name))
        else:
            shutil.copytree(str(elsewhere), str(repo / name))
    git = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    _run(["git", "init", "-q", str(repo)], env=git)
    listed = _run(["git", "-C", str(repo), "ls-files", "--others", "--exclude-standard"], env=git).split()
    assert listed == [".gitignore"], listed


@pytest.fixture(scope="module")
def checkouts(tmp_path_factory):
    """{layout: a copy of the checkout's package files in that layout}.

    Copies, even as-is: builds and in-tree installs write into the source
    (egg-info, build/), and the real checkout stays clean.
    """
    require(os.path.islink(os.path.join(PYTHON_DIR, "kbackend")),
            "a checkout where python/kbackend is a symbolic link (the layouts are made from it)",
            "clone with symbolic links enabled (git config core.symlinks true)")
    roots = {}
    for layout in LAYOUTS:
        root = str(tmp_path_factory.mktemp(layout))
        _copy_layout(root, layout, [])  # the whole source, as tools/stage-r-package.sh stages it
        roots[layout] = root
    assert os.path.islink(os.path.join(roots["as-is"], "python", "kbackend"))
    assert os.path.isdir(os.path.join(roots["dereferenced"], "python", "kbackend"))
    assert os.path.isfile(os.path.join(roots["links-as-files"], "python", "kbackend"))
    return roots


@pytest.fixture(scope="module")
def dists(checkouts, tmp_path_factory):
    """{layout: (sdist, wheel)} built by ``python -m build`` (sdist, then the
    wheel from the unpacked sdist)."""
    tools = _tools()
    built = {}
    for layout in LAYOUTS:
        out = str(tmp_path_factory.mktemp("dist-" + layout))
        _run([tools, "-m", "build", "--no-isolation", "--outdir", out, os.path.join(checkouts[layout], "python")])
        sdists, wheels = glob.glob(os.path.join(out, "*.tar.gz")), glob.glob(os.path.join(out, "*.whl"))
        assert len(sdists) == 1 and len(wheels) == 1, os.listdir(out)
        built[layout] = (sdists[0], wheels[0])
    return built


def _package_files():
    """{name: bytes} of the package's own files, as the checkout has them."""
    files = {}
    for relative in _tracked(["inst/python/kbackend"]):
        with open(os.path.join(ROOT, relative), "rb") as handle:
            files[os.path.relpath(relative, "inst/python")] = handle.read()
    return files


def _wheel_files(wheel):
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_every_layout_builds_the_same_wheel_and_sdist(dists):
    """Same package files, byte for byte, whatever the layout; nothing else."""
    package = _package_files()
    wheels = {layout: _wheel_files(wheel) for layout, (_, wheel) in dists.items()}
    for layout, files in wheels.items():
        assert {name: data for name, data in files.items() if not name.startswith("kbackend-")} == package, layout
        assert files == wheels["as-is"], layout
        entry_points = files["kbackend-{}.dist-info/entry_points.txt".format(kbackend.__version__)].decode()
        assert "kbackend = kbackend.cli:main" in entry_points
        assert "[pytest11]\nkbackend = kbackend.pytest_plugin" in entry_points  # the pytest plugin
    for layout, (sdist, _) in dists.items():
        with tarfile.open(sdist) as archive:
            members = {member.name: member for member in archive.getmembers()}
        top = os.path.basename(sdist)[:-len(".tar.gz")]
        for name in package:
            assert members[top + "/" + name].isfile(), (layout, name)  # plain files, never a link
        assert top + "/kbackend_build.py" in members and top + "/pyproject.toml" in members
        assert not [name for name in members if "__pycache__" in name or name.endswith(".pyc")], layout


def test_building_leaves_the_source_tree_as_it_was(checkouts, dists):
    """The staging for a link written as a file happens in a temporary copy."""
    root = checkouts["links-as-files"]
    assert sorted(os.listdir(os.path.join(root, "python"))) == \
        sorted(os.path.basename(name) for name in _tracked(["python"]))
    assert not [name for name in os.listdir(root) if name.startswith(".kbackend-")]


def test_the_sdist_builds_a_wheel_on_its_own(dists, tmp_path):
    """Unpacked away from any checkout, the links-as-files sdist builds the same wheel."""
    sdist = dists["links-as-files"][0]
    with tarfile.open(sdist) as archive:
        archive.extractall(str(tmp_path / "unpacked"))
    source = glob.glob(str(tmp_path / "unpacked" / "kbackend-*"))[0]
    _run([_tools(), "-m", "build", "--no-isolation", "--wheel", "--outdir", str(tmp_path / "out"), source])
    wheel = glob.glob(str(tmp_path / "out" / "*.whl"))[0]
    assert _wheel_files(wheel) == _wheel_files(dists["as-is"][1])


def _venv(path, python, with_pip=False):
    """A fresh venv at ``path``; without pip unless asked (pip then comes from .venv-tools)."""
    _run([python, "-m", "venv"] + ([] if with_pip else ["--without-pip"]) + [path])
    return os.path.join(path, "bin", "python")


def _pip_install(venv_python, *args):
    """.venv-tools's pip installing into ``venv_python``'s venv, offline.

    A build from source runs setuptools in the target interpreter: it comes
    from .venv-tools's site-packages (same CPython 3.11) on PYTHONPATH, with
    build isolation off, since nothing may be downloaded here.
    """
    site = glob.glob(os.path.join(TOOLS, "lib", "python3*", "site-packages"))[0]
    _run([_tools(), "-m", "pip", "--python", venv_python, "install", "--no-index", "--no-deps",
          "--no-build-isolation"] + list(args), env={"PYTHONPATH": site})


def _records(venv_python, home):
    """(console script, python -m kbackend, in-tree module) records, run alike."""
    env = {"HOME": home, "KERAS_HOME": os.path.join(home, "keras")}
    script = os.path.join(os.path.dirname(venv_python), "kbackend")
    records = []
    for argv, extra in (([script, "--json"], {}), ([venv_python, "-m", "kbackend", "--json"], {}),
                        ([venv_python, "-m", "kbackend", "--json"], {"PYTHONPATH": PYTHON_DIR})):
        done = subprocess.run(argv, cwd=home, env=dict(_clean_env(), **dict(env, **extra)), capture_output=True,
                              text=True, timeout=60)
        assert done.returncode in (0, 1), (argv, done.stderr)  # 1: "import keras would fail" (no Keras here)
        records.append(json.loads(done.stdout))
    return records


def _clean_env():
    env = {name: value for name, value in os.environ.items()
           if name not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV") and not name.startswith("KERAS")}
    return env


def _where(venv_python, home):
    """Where the venv imports kbackend from (outside the checkout's python/)."""
    return _run([venv_python, "-c", "import kbackend; print(kbackend.__file__)"], cwd=home,
                env={"HOME": home}).strip()


def _assert_installed_agrees(venv_python, home, expected_dir):
    os.makedirs(home, exist_ok=True)
    installed, module, in_tree = _records(venv_python, home)
    assert installed == module == in_tree
    assert installed["python"]["executable"] == venv_python
    assert installed["kbackend_version"] == kbackend.__version__
    # (through python/kbackend, a link, or not: the one copy either way)
    assert os.path.realpath(os.path.dirname(_where(venv_python, home))) == os.path.realpath(expected_dir)


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_wheel_and_sdist_install_into_a_clean_venv(kind, dists, tmp_path):
    venv_python = _venv(str(tmp_path / "venv"), _python("3.11.7"))
    sdist, wheel = dists["as-is"]
    _pip_install(venv_python, wheel if kind == "wheel" else sdist)
    site = glob.glob(str(tmp_path / "venv" / "lib" / "python3*" / "site-packages"))[0]
    _assert_installed_agrees(venv_python, str(tmp_path / "home"), os.path.join(site, "kbackend"))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_pip_install_of_the_python_folder(layout, checkouts, tmp_path):
    """``pip install ./python``, pip's in-tree build, from each layout."""
    venv_python = _venv(str(tmp_path / "venv"), _python("3.11.7"))
    _pip_install(venv_python, os.path.join(checkouts[layout], "python"))
    site = glob.glob(str(tmp_path / "venv" / "lib" / "python3*" / "site-packages"))[0]
    _assert_installed_agrees(venv_python, str(tmp_path / "home"), os.path.join(site, "kbackend"))


@pytest.mark.parametrize("layout", ["as-is", "links-as-files"])
def test_editable_install_points_at_the_one_copy(layout, checkouts, tmp_path):
    """``pip install -e python/`` (as tools/setup-python.sh does for .venv)
    imports inst/python/kbackend itself, links or no links."""
    venv_python = _venv(str(tmp_path / "venv"), _python("3.11.7"))
    root = checkouts[layout]
    before = sorted(os.listdir(root))  # (the as-is egg-info lands in python/, as setuptools puts it)
    _pip_install(venv_python, "--editable", os.path.join(root, "python"))
    _assert_installed_agrees(venv_python, str(tmp_path / "home"), os.path.join(root, "inst", "python", "kbackend"))
    assert sorted(os.listdir(root)) == before  # the editable stage beside python/ is gone


def test_wheel_installs_on_python36_with_its_own_pip(dists, tmp_path):
    """The oldest supported CPython, with the pip its venv brings (18.1)."""
    venv_python = _venv(str(tmp_path / "venv"), _python("3.6.15"), with_pip=True)
    _run([venv_python, "-m", "pip", "install", "--no-index", "--no-deps", dists["as-is"][1]])
    site = str(tmp_path / "venv" / "lib" / "python3.6" / "site-packages")
    _assert_installed_agrees(venv_python, str(tmp_path / "home"), os.path.join(site, "kbackend"))


# ---------------------------------------------------------------------------
# R: the package installs inst/python/kbackend from any layout

def _r_tools():
    require(shutil.which("R") is not None and shutil.which("Rscript") is not None, "R (R and Rscript on PATH)",
            "install it with `make setup` or `tools/setup-r.sh`")


def _r_installs_python(library):
    """The installed package's copy of cli.py, checked against the checkout's."""
    code = 'cat(system.file("python/kbackend/cli.py", package = "kbackend", lib.loc = "{}"))'.format(library)
    path = _run(["Rscript", "-e", code]).strip()
    assert path == os.path.join(library, "kbackend", "python", "kbackend", "cli.py"), path
    with open(path, "rb") as installed, open(os.path.join(PACKAGE_DIR, "cli.py"), "rb") as source:
        assert installed.read() == source.read()


@pytest.mark.parametrize("layout", ["as-is", "links-as-files"])
def test_r_cmd_install_from_the_source_tree(layout, checkouts, tmp_path):
    _r_tools()
    library = str(tmp_path / "lib")
    os.makedirs(library)
    _run(["R", "CMD", "INSTALL", "--no-multiarch", "--library=" + library, checkouts[layout]], env={"R_LIBS": library})
    _r_installs_python(library)


def test_r_cmd_build_and_install_from_links_as_files(checkouts, tmp_path):
    """The Windows case: a checkout without links builds an R tarball that
    carries the code (and none of python/), which installs."""
    _r_tools()
    out = str(tmp_path)
    _run(["R", "CMD", "build", "--no-build-vignettes", "--no-manual", checkouts["links-as-files"]], cwd=out,
         env={"HOME": out})
    tarball = glob.glob(os.path.join(out, "kbackend_*.tar.gz"))[0]
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert "kbackend/inst/python/kbackend/cli.py" in names
    assert not [name for name in names if name.startswith("kbackend/python")], names
    library = os.path.join(out, "lib")
    os.makedirs(library)
    _run(["R", "CMD", "INSTALL", "--no-multiarch", "--library=" + library, tarball], env={"R_LIBS": library})
    _r_installs_python(library)


def test_one_version_for_the_r_and_the_python_package():
    """The R package's DESCRIPTION carries the version of kbackend/_version.py,
    which the Python package's metadata reads (pyproject.toml: dynamic)."""
    with open(os.path.join(ROOT, "DESCRIPTION")) as handle:
        fields = dict(line.split(": ", 1) for line in handle.read().splitlines() if ": " in line and line[0] != " ")
    assert fields["Version"] == kbackend.__version__
