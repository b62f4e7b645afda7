"""Hardening: concurrent writers, kill -9, permissions and odd files.

keras.json is a file other tools depend on, so ``persist_backend`` must never
leave it torn, lose its other keys, leave temporaries lying around, or replace
something that is not a plain, writable keras.json; and ``backend_info()``
must describe any of these files without hanging.

Permission bits do not stop root, and these tests run as root: read-only
cases therefore run in a forked child that drops to ``nobody`` (uid 65534)
with ``os.setuid``, and root itself is stopped with ``chattr +i`` (the
immutable attribute, which binds root too).  Real Keras cannot run as
``nobody`` here (the interpreters live under /root, mode 0700), so for those
cases the record is checked for the condition itself; every other odd file is
also compared with real ``import keras``.
"""

import hashlib
import json
import os
import random
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time

import pytest

import hardening_support as hs
from conftest import env_python, kbackend_json, oracle
from test_differential import _predicted, assert_agrees

import kbackend
from kbackend import persist

SEED = 20251121
NOBODY = 65534
WRITERS = 8
WRITES_EACH = 200
KILL_ROUNDS = 60  # two writers killed per round
NAMES = ["tensorflow", "jax", "torch", "numpy", "openvino", "theano", "cntk", "mxnet"]
ORIGINAL = {"floatx": "float64", "epsilon": 1e-05, "backend": "tensorflow", "image_data_format": "channels_first",
            "nnx_enabled": False, "custom": {"nested": [1, 2, {"deep": "\u00e9\u65e5"}]}, "note": None}
UNRELATED = {k: v for k, v in ORIGINAL.items() if k != "backend"}


def _temporaries(directory):
    return sorted(f for f in os.listdir(directory) if f.startswith(".keras.json.") and f.endswith(".tmp"))


def _write_original(path, mode=0o640):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(ORIGINAL, handle, indent=4)
    os.chmod(path, mode)


def _assert_sound(path):
    """keras.json parses, keeps every unrelated key and holds a written backend."""
    with open(path) as handle:
        document = json.load(handle)
    assert {k: v for k, v in document.items() if k != "backend"} == UNRELATED, document
    assert document["backend"] in NAMES, document
    return document


def _python_env():
    env = {k: v for k, v in os.environ.items() if not hs._SCRUB.match(k)}
    env["HOME"] = os.environ["HOME"]
    return env


# ---------------------------------------------------------------- concurrent writers

WRITER = r"""
import sys
sys.path.insert(0, {python_dir!r})
from kbackend import persist
path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
print("ready", flush=True)
sys.stdin.readline()  # all writers start together
for _ in range(count):
    persist.persist_backend(path, name)
print("done", flush=True)
"""
READER = r"""
import json, os, sys
sys.path.insert(0, {python_dir!r})
import kbackend
path, stop, mode = sys.argv[1], sys.argv[2], sys.argv[3]
unrelated = json.loads(sys.argv[4])
names = json.loads(sys.argv[5])
reads = bad = 0
seen = set()
problems = []
print("ready", flush=True)
while reads == 0 or not os.path.exists(stop):
    try:
        if mode == "raw":
            with open(path) as handle:
                document = json.load(handle)
            backend = document.get("backend")
            ok = {{k: v for k, v in document.items() if k != "backend"}} == unrelated and backend in names
        else:
            record = kbackend.backend_info()
            backend = record["config_file"]["backend"]
            ok = record["config_file"]["parses"] is True and backend in names and record["status"] == "ok"
    except Exception as exc:
        ok, backend = False, repr(exc)
    reads += 1
    seen.add(str(backend))
    if not ok:
        bad += 1
        problems.append(str(backend)[:200])
print(json.dumps({{"reads": reads, "bad": bad, "seen": sorted(seen), "problems": problems[:5]}}))
"""


def test_concurrent_writers_never_tear_keras_json(tmp_path):
    keras_dir = tmp_path / "keras"
    path = str(keras_dir / "keras.json")
    _write_original(path)
    stop = str(tmp_path / "stop")
    env = _python_env()
    env["KERAS_HOME"] = str(keras_dir)
    env["KERAS_BACKEND"] = "numpy"  # the kbackend reader: a backend this environment has, whatever the file says
    python = env_python("keras3")
    readers = [subprocess.Popen([python, "-c", READER.format(python_dir=hs.PYTHON_DIR), path, stop, mode,
                                 json.dumps(UNRELATED), json.dumps(NAMES)], env=env, cwd=str(tmp_path),
                                stdout=subprocess.PIPE, universal_newlines=True)
               for mode in ("raw", "raw", "kbackend")]
    writers = [subprocess.Popen([python, "-c", WRITER.format(python_dir=hs.PYTHON_DIR), path, name,
                                 str(WRITES_EACH)], env=env, cwd=str(tmp_path), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
               for name in NAMES[:WRITERS]]
    for process in readers + writers:
        assert process.stdout.readline().strip() == "ready"
    started = time.time()
    for writer in writers:
        writer.stdin.write("go\n")
        writer.stdin.flush()
    results = [writer.communicate(timeout=300) for writer in writers]
    elapsed = time.time() - started
    open(stop, "w").close()
    reports = [json.loads(reader.communicate(timeout=120)[0]) for reader in readers]
    for writer, (out, err) in zip(writers, results):
        assert writer.returncode == 0 and out.strip() == "done", err[-2000:]
    reads = sum(r["reads"] for r in reports)
    print("\n{} writers x {} persists in {:.1f} s; {} concurrent reads ({} through backend_info), all parsed".format(
        WRITERS, WRITES_EACH, elapsed, reads, reports[2]["reads"]))
    for report in reports:
        assert report["reads"] > 0 and report["bad"] == 0, report
    # The readers saw the writers at work, not just the file before or after.
    assert len(set().union(*(r["seen"] for r in reports[:2]))) >= 2, reports
    document = _assert_sound(path)
    assert document["backend"] in NAMES[:WRITERS]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert _temporaries(str(keras_dir)) == []


# ---------------------------------------------------------------- kill -9

LOOPER = r"""
import sys
sys.path.insert(0, {python_dir!r})
from kbackend import persist
path, first, second = sys.argv[1], sys.argv[2], sys.argv[3]
persist.persist_backend(path, first)  # also removes stale temporaries
print("ready", flush=True)
while True:
    persist.persist_backend(path, second)
    persist.persist_backend(path, first)
"""


def test_kill_9_during_persist_never_corrupts(tmp_path):
    keras_dir = tmp_path / "keras"
    directory = str(keras_dir)
    path = str(keras_dir / "keras.json")
    _write_original(path)
    rng = random.Random(SEED)
    python = env_python("keras3")
    env = _python_env()
    kills = 0
    left_behind = 0
    started = time.time()
    for _ in range(KILL_ROUNDS):
        names = rng.sample(NAMES, 4)
        writers = [subprocess.Popen([python, "-c", LOOPER.format(python_dir=hs.PYTHON_DIR), path, names[2 * i],
                                     names[2 * i + 1]], env=env, cwd=str(tmp_path), stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, universal_newlines=True) for i in range(2)]
        for writer in writers:
            line = writer.stdout.readline()
            assert line.strip() == "ready", writer.stderr.read()[-2000:]
        pids = {writer.pid for writer in writers}
        for writer in writers:
            time.sleep(rng.uniform(0, 0.02))
            os.kill(writer.pid, signal.SIGKILL)
            writer.wait(timeout=30)
            assert writer.returncode == -signal.SIGKILL
            kills += 1
        # After every round of kills: the file is whole and keeps its other keys.
        _assert_sound(path)
        temporaries = _temporaries(directory)
        left_behind += len(temporaries)
        # Temporaries from earlier rounds were removed by this round's writers
        # (each persisted at least once before it was killed): none lingers.
        owners = {int(name.split(".")[3]) for name in temporaries}  # .keras.json.PID.RANDOM.tmp
        assert owners <= pids, (temporaries, pids)
        assert all(not persist.pid_alive(pid) for pid in owners)
    elapsed = time.time() - started
    # One more persist, as any later call would, leaves nothing behind.
    persist.persist_backend(path, "jax")
    assert _temporaries(directory) == []
    with open(path) as handle:
        assert json.load(handle)["backend"] == "jax"
    print("\n{} kill -9 in {:.1f} s; {} killed mid-write (temporary left, then cleaned); file intact after "
          "every kill".format(kills, elapsed, left_behind))
    assert kills >= 100
    # The kills really landed inside persist_backend's write, not only between calls.
    assert left_behind >= 5, left_behind


# ---------------------------------------------------------------- permissions and odd files

def _fingerprint(path):
    """Everything that would show a change: type, inode, mode, size, times, content or link."""
    info = os.lstat(path)
    state = [stat.S_IFMT(info.st_mode), info.st_ino, stat.S_IMODE(info.st_mode), info.st_size, info.st_mtime_ns,
             info.st_uid]
    if stat.S_ISLNK(info.st_mode):
        state.append(os.readlink(path))
    elif stat.S_ISREG(info.st_mode):
        with open(path, "rb") as handle:
            state.append(hashlib.sha256(handle.read()).hexdigest())
    elif stat.S_ISDIR(info.st_mode):
        state.append(sorted(os.listdir(path)))
    return state


def _persist_refused(path, name="jax", seconds=30):
    """persist_backend must fail with the classed error, quickly, touching nothing."""
    directory = os.path.dirname(os.path.realpath(path))
    before = _fingerprint(path) if os.path.lexists(path) else None
    started = time.time()
    with hs.time_limit(seconds):
        with pytest.raises(kbackend.ConfigFileError) as caught:
            persist.persist_backend(path, name)
    elapsed = time.time() - started
    if before is not None:
        assert _fingerprint(path) == before, "persist changed {}".format(path)
    else:
        assert not os.path.lexists(path)
    if os.path.isdir(directory):
        assert _temporaries(directory) == []
    return str(caught.value), elapsed


def _overlay(root, **variables):
    home = os.path.join(root, "home")
    work = os.path.join(root, "work")
    scratch = os.path.join(root, "tmp")  # Keras's backends write caches under TMPDIR
    for directory in (home, work, scratch):
        os.makedirs(directory, exist_ok=True)
    values = dict(variables, HOME=home, TMPDIR=scratch)
    return {"set": values, "unset": sorted(n for n in os.environ if hs._SCRUB.match(n) and n not in values),
            "cwd": work}


def _agrees_with_keras(root, environment="keras3", timeout=300, **variables):
    """kbackend (bounded in time) and real Keras, same files and variables."""
    overlay = _overlay(root, **variables)
    python = env_python(environment)
    started = time.time()
    record = kbackend_json(python, overlay, timeout=30)
    seconds = time.time() - started
    actual = oracle(python, overlay, "keras", timeout)
    assert_agrees(_predicted(record, "keras"), actual, "odd keras.json in {}".format(root))
    return record, actual, seconds


@pytest.fixture
def immutable():
    """chattr +i, undone afterwards (else the sandbox could not be deleted)."""
    marked = []

    def mark(path):
        done = subprocess.run(["chattr", "+i", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True)
        assert done.returncode == 0, "chattr +i failed here: {}".format(done.stderr)
        marked.append(path)

    yield mark
    for path in reversed(marked):
        subprocess.run(["chattr", "-i", path])


@pytest.mark.needs_root
def test_immutable_keras_json_and_directory_stop_even_root(tmp_path, immutable):
    root = str(tmp_path)
    keras_dir = os.path.join(root, "home", ".keras")
    path = os.path.join(keras_dir, "keras.json")
    _write_original(path)
    immutable(path)
    message, _ = _persist_refused(path)
    assert "keras.json" in message
    _, _, seconds = _agrees_with_keras(root)
    # A read-only (immutable) directory: no temporary can be created in it.
    os.makedirs(os.path.join(root, "other", "keras"))
    other = os.path.join(root, "other", "keras", "keras.json")
    _write_original(other)
    immutable(os.path.dirname(other))
    _persist_refused(other)
    missing = os.path.join(root, "other", "keras", "sub", "keras.json")
    _persist_refused(missing)  # cannot even create the directory


def _as_nobody(function, *args):
    """Run ``function(*args)`` in a forked child as uid/gid nobody; return its JSON answer."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        answer = {"error": "did not finish"}
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            answer = function(*args)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            answer = {"error": "{}: {}".format(type(exc).__name__, exc)}
        finally:
            with os.fdopen(write_end, "w") as handle:
                handle.write(json.dumps(answer))
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as handle:
        text = handle.read()
    os.waitpid(pid, 0)
    return json.loads(text)


def _try_persist(path):
    assert os.geteuid() == NOBODY
    try:
        with hs.time_limit(30):
            persist.persist_backend(path, "jax")
    except kbackend.KBackendError as exc:
        return {"raised": type(exc).__name__, "message": str(exc)}
    return {"raised": None}


def _record_as_nobody(keras_home):
    os.environ["KERAS_HOME"] = keras_home
    os.environ["HOME"] = keras_home
    with hs.time_limit(30):
        record = kbackend.backend_info()
        text = kbackend.backend_info_json()
    hs.strict_json(text)
    return record


@pytest.fixture
def shared_dir():
    """A sandbox ``nobody`` can reach (pytest's tmp_path sits under a 0700 directory)."""
    base = tempfile.mkdtemp(prefix="kbackend-nobody-")
    os.chmod(base, 0o711)
    yield base
    shutil.rmtree(base)


@pytest.mark.needs_root
def test_read_only_keras_json_as_unprivileged_user(shared_dir):
    base = shared_dir
    keras_dir = os.path.join(base, "keras")
    os.mkdir(keras_dir)
    os.chown(keras_dir, NOBODY, NOBODY)  # the directory is writable: only the file says no
    path = os.path.join(keras_dir, "keras.json")
    _write_original(path, mode=0o444)
    os.chown(path, NOBODY, NOBODY)
    before = _fingerprint(path)
    answer = _as_nobody(_try_persist, path)
    assert answer.get("raised") == "ConfigFileError", answer
    assert _fingerprint(path) == before and _temporaries(keras_dir) == []
    # Reading a read-only keras.json is fine: Keras and kbackend both just read it.
    record = _as_nobody(_record_as_nobody, keras_dir)
    assert record.get("config_file", {}).get("parses") is True, record
    assert hs.record_complaints(record, hs.shape(record)) == []


@pytest.mark.needs_root
def test_read_only_directory_as_unprivileged_user(shared_dir):
    base = shared_dir
    keras_dir = os.path.join(base, "keras")
    os.mkdir(keras_dir)
    path = os.path.join(keras_dir, "keras.json")
    _write_original(path, mode=0o644)
    os.chown(path, NOBODY, NOBODY)
    os.chown(keras_dir, NOBODY, NOBODY)
    os.chmod(keras_dir, 0o555)
    before = _fingerprint(path)
    answer = _as_nobody(_try_persist, path)
    assert answer.get("raised") == "ConfigFileError", answer
    assert _fingerprint(path) == before and _temporaries(keras_dir) == []
    # No keras.json yet, in a directory nobody cannot write: refused, nothing created.
    empty = os.path.join(base, "empty")
    os.mkdir(empty, 0o755)
    answer = _as_nobody(_try_persist, os.path.join(empty, "keras.json"))
    assert answer.get("raised") == "ConfigFileError", answer
    assert os.listdir(empty) == []


@pytest.mark.needs_root
def test_unreadable_keras_json_as_unprivileged_user(shared_dir):
    base = shared_dir
    keras_dir = os.path.join(base, "keras")
    os.mkdir(keras_dir, 0o777)
    os.chmod(keras_dir, 0o777)
    path = os.path.join(keras_dir, "keras.json")
    _write_original(path, mode=0o000)  # owned by root: nobody can neither read nor write it
    before = _fingerprint(path)
    answer = _as_nobody(_try_persist, path)
    assert answer.get("raised") == "ConfigFileError", answer
    assert _fingerprint(path) == before and _temporaries(keras_dir) == []
    # Keras's open() raises PermissionError (only ValueError is caught), so
    # import keras fails even with KERAS_BACKEND set; the record must say so.
    record = _as_nobody(_record_as_nobody, keras_dir)
    assert record.get("config_file", {}).get("error", "").startswith("PermissionError"), record
    assert record["status"] == "error" and record["error"].startswith("PermissionError"), record
    assert hs.record_complaints(record, hs.shape(record)) == []


def test_symlinked_keras_json_updates_target_and_keeps_link(tmp_path):
    root = str(tmp_path)
    keras_dir = os.path.join(root, "home", ".keras")
    os.makedirs(keras_dir)
    target = os.path.join(root, "dotfiles", "keras.json")
    _write_original(target)
    middle = os.path.join(root, "dotfiles", "current.json")
    os.symlink("keras.json", middle)  # a chain of two links, the first one relative
    link = os.path.join(keras_dir, "keras.json")
    os.symlink(os.path.relpath(middle, keras_dir), link)
    before = (os.readlink(link), os.readlink(middle), os.lstat(link).st_ino)
    persist.persist_backend(link, "jax")
    assert (os.readlink(link), os.readlink(middle), os.lstat(link).st_ino) == before
    assert os.path.islink(link) and os.path.islink(middle) and not os.path.islink(target)
    document = json.load(open(target))
    assert document["backend"] == "jax" and {k: v for k, v in document.items() if k != "backend"} == UNRELATED
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert _temporaries(keras_dir) == [] and _temporaries(os.path.dirname(target)) == []
    # Real Keras reads through the link what kbackend predicts.
    record, _, _ = _agrees_with_keras(root)
    assert record["config_file"]["type"] == "file"
    # A dangling link: the target is created, the link kept.
    dangling = os.path.join(root, "elsewhere", "keras.json")
    link2 = os.path.join(root, "second", "keras.json")
    os.makedirs(os.path.dirname(link2))
    os.symlink(dangling, link2)
    persist.persist_backend(link2, "torch")
    assert os.readlink(link2) == dangling and json.load(open(dangling))["backend"] == "torch"
    # A link loop: refused, untouched.
    loop = os.path.join(root, "loop", "keras.json")
    os.makedirs(os.path.dirname(loop))
    os.symlink(loop, loop)
    _persist_refused(loop)


def test_directory_named_keras_json(tmp_path):
    root = str(tmp_path)
    path = os.path.join(root, "home", ".keras", "keras.json")
    os.makedirs(path)
    with open(os.path.join(path, "inside.json"), "w") as handle:
        handle.write('{"backend": "jax"}')
    _persist_refused(path)
    record, actual, _ = _agrees_with_keras(root)
    assert record["config_file"]["type"] == "directory"


def test_fifo_named_keras_json_never_blocks(tmp_path):
    root = str(tmp_path)
    path = os.path.join(root, "home", ".keras", "keras.json")
    os.makedirs(os.path.dirname(path))
    os.mkfifo(path)
    _, elapsed = _persist_refused(path, seconds=10)
    assert elapsed < 5
    # backend_info() answers at once; real Keras blocks on open() (the oracle
    # gives up after 20 s and reports a hang, which the prediction must say).
    record, actual, seconds = _agrees_with_keras(root, timeout=20)
    assert record["config_file"]["type"] == "fifo" and seconds < 20
    assert actual["status"] == "hang"
    assert stat.S_ISFIFO(os.lstat(path).st_mode)


def test_special_files_dev_null_and_socket(tmp_path):
    """keras.json as a link to /dev/null (reads as empty) or a Unix socket (open fails at once)."""
    root = str(tmp_path / "null")
    path = os.path.join(root, "home", ".keras", "keras.json")
    os.makedirs(os.path.dirname(path))
    os.symlink(os.devnull, path)
    null_before = _fingerprint(os.devnull)
    _persist_refused(path)
    assert _fingerprint(os.devnull)[:3] == null_before[:3]  # still the same character device
    _agrees_with_keras(root)
    root = str(tmp_path / "sock")
    path = os.path.join(root, "home", ".keras", "keras.json")
    os.makedirs(os.path.dirname(path))
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(path)
        _persist_refused(path)
        _agrees_with_keras(root)
    finally:
        server.close()


HUGE_BYTES = 50 * 1024 * 1024


def test_huge_keras_json(tmp_path):
    root = str(tmp_path)
    path = os.path.join(root, "home", ".keras", "keras.json")
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as handle:
        handle.write('{"backend": "jax", "epsilon": 1e-07, "pad": "')
        handle.write("x" * HUGE_BYTES)
        handle.write('"}')
    message, elapsed = _persist_refused(path)
    assert elapsed < 10, elapsed
    record, actual, seconds = _agrees_with_keras(root)
    print("\n50 MB keras.json: persist refused in {:.2f} s; backend_info answered in {:.1f} s".format(elapsed, seconds))
    assert seconds < 30
    # 50 MB of nesting, and 200 kB of it (below any size limit): refused with the classed error.
    for depth in (HUGE_BYTES // 2, 100000):
        with open(path, "w") as handle:
            handle.write("[" * depth + "]" * depth)
        _persist_refused(path)
    _agrees_with_keras(root)
