"""Verify a prediction by importing real Keras in a separate, time-limited process.

The calling process imports nothing.  The child gets the caller's environment
and ``sys.path``, but ``KERAS_HOME`` points at a temporary copy of the
keras.json Keras would read, because Keras writes keras.json on import when
it is missing: the user's Keras directory is never created or rewritten.  A
hang is stopped at the limit (with everything the child started: its process
group on POSIX, its process tree on Windows), a crash is reported with its
signal or exit status and the tail of its stderr.
"""

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

from . import devices, kerasr
from .keras_json import describe_exception

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional, Sequence

DEFAULT_TIMEOUT = 120.0
_MARKER = "KBACKEND-VERIFY:"

#: Runs in the child: import Keras, then ask the backend for its devices.
_PROBE = r"""
import sys
if sys.path and sys.path[0] == "":  # -c: the working directory must not shadow json (-P, -I add none)
    del sys.path[0]
import json, os, time
sys.path[:] = json.loads(os.environ.pop("_KBACKEND_SYS_PATH"))
def describe(exc):
    message = str(exc)
    return type(exc).__name__ + (": " + message if message else "")
def devices(backend):
    if backend == "tensorflow":
        import tensorflow as tf
        return [d.name for d in tf.config.list_physical_devices()]
    if backend == "jax":
        import jax
        return [str(d) for d in jax.devices()]
    if backend == "torch":
        import torch
        found = ["cpu"] + ["cuda:%d" % i for i in range(torch.cuda.device_count())]
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            found.append("mps")
        return found
    if backend == "theano":
        import theano
        return [str(theano.config.device)]
    if backend == "cntk":
        import cntk
        return [str(d) for d in cntk.device.all_devices()]
    if backend == "openvino":
        import openvino
        return list(openvino.Core().available_devices)
    return ["cpu"]
answer = {"status": "ok", "backend": None, "error": None, "devices": None, "devices_error": None}
start = time.perf_counter()
try:
    import importlib
    keras = importlib.import_module(os.environ.pop("_KBACKEND_MODULE"))
    answer["backend"] = keras.backend.backend()
    answer["version"] = getattr(keras, "__version__", None)
    for name in filter(None, os.environ.pop("_KBACKEND_THEN", "").split(",")):
        importlib.import_module(name)  # what an interface's load imports next (kerasR)
except BaseException as exc:
    answer.update(status="error", error=describe(exc))
answer["import_seconds"] = round(time.perf_counter() - start, 3)
if answer["status"] == "ok":
    try:
        answer["devices"] = devices(answer["backend"])
    except BaseException as exc:
        answer["devices_error"] = describe(exc)
try:
    import resource
    answer["ru_maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
except Exception:  # no resource module (Windows)
    answer["ru_maxrss"] = None
sys.stdout.write("\n" + MARKER + json.dumps(answer) + "\n")
sys.stdout.flush()
""".replace("MARKER", repr(_MARKER))


def _copy_keras_json(source: str, directory: str) -> None:
    """Recreate whatever sits at ``source`` as ``directory/keras.json``.

    Odd entries are recreated too (a directory, a FIFO), so the child meets
    the same failure the real import would meet.
    """
    target = os.path.join(directory, "keras.json")
    try:
        mode = os.stat(source).st_mode
    except OSError:
        return
    if stat.S_ISDIR(mode):
        os.mkdir(target)
    elif stat.S_ISFIFO(mode):
        os.mkfifo(target)
    elif stat.S_ISREG(mode):
        shutil.copyfile(source, target)
        shutil.copymode(source, target)


def _agrees(prediction: "Dict[str, Any]", actual: "Dict[str, Any]") -> "Optional[bool]":
    """True or False when Keras answered; None (inconclusive) when the import
    timed out or the child died: nothing then contradicts the prediction."""
    if actual["status"] in ("timeout", "crashed"):
        return None
    if actual["status"] == "ok":
        return prediction["status"] == "ok" and prediction["backend"] == actual["backend"]
    if actual["status"] == "error" and prediction["status"] == "error":
        return (prediction["error"] or "").split(":")[0] == (actual["error"] or "").split(":")[0]
    return False


def _run_child(env: "Dict[str, str]", timeout: float) -> "Dict[str, Any]":
    """Run the probe; never raise, never leave a process behind."""
    started = time.perf_counter()
    try:
        child = subprocess.Popen([sys.executable] + interpreter_flags() + ["-c", _PROBE], env=env,
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, **_own_group())
    except OSError as exc:
        return {"status": "crashed", "error": describe_exception(exc), "stderr_tail": []}
    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        out, err = child.communicate()
        return {"status": "timeout", "error": "no answer within {:g} s; the import was stopped".format(timeout),
                "wall_seconds": round(time.perf_counter() - started, 3), "stderr_tail": _tail(err)}
    finally:
        _kill_group(child)
    text = out.decode("utf-8", "replace")
    lines = [line for line in text.splitlines() if line.startswith(_MARKER)]
    if not lines:
        code = child.returncode
        return {"status": "crashed", "returncode": code, "signal": _signal_name(code),
                "error": "the import died ({})".format(_death(code)), "stderr_tail": _tail(err)}
    answer = json.loads(lines[-1][len(_MARKER):])
    answer["peak_memory_mb"] = _peak_memory_mb(answer.pop("ru_maxrss", None))
    answer["wall_seconds"] = round(time.perf_counter() - started, 3)
    answer["stderr_tail"] = _tail(err) if answer["status"] != "ok" else []
    return answer


def interpreter_flags() -> "List[str]":
    """The command-line flags this interpreter was started with (``-E``,
    ``-I``, ``-s``, ``-S``, ``-P``, ``-W``, ``-X`` ...), for a child that must
    import as this process would: the same flags decide its search path and
    which variables it reads at start-up."""
    flags = getattr(subprocess, "_args_from_interpreter_flags", None)
    try:
        return list(flags()) if flags is not None else []
    except Exception:  # noqa: BLE001 - a private helper; without it the child runs unflagged
        return []


def _peak_memory_mb(ru_maxrss: "Optional[int]", platform: "Optional[str]" = None) -> "Optional[float]":
    """The child's peak resident memory in MiB from its ``ru_maxrss``.

    ``ru_maxrss`` is in bytes on macOS and in KiB on Linux and the BSDs;
    Windows has no ``resource`` module, so there it is None and so is the
    answer.  ``platform`` is a ``sys.platform`` value (default: this one,
    which the child shares: it runs the same interpreter).
    """
    if ru_maxrss is None:
        return None
    unit = 1024.0 * 1024.0 if (platform or sys.platform) == "darwin" else 1024.0
    return round(ru_maxrss / unit, 1)


def _own_group(os_name: "Optional[str]" = None) -> "Dict[str, Any]":
    """Popen arguments that put the child in a process group of its own, so
    that it can be stopped with everything it started.  ``os_name`` is an
    ``os.name`` value (default: this one)."""
    if (os_name or os.name) == "nt":
        return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200)}
    return {"start_new_session": True}


def _kill_group(child: "subprocess.Popen[bytes]", os_name: "Optional[str]" = None) -> None:
    """Kill the child and anything it started: its session on POSIX, its
    process tree on Windows (taskkill /T).

    On POSIX the session is killed even after the child itself ended, since
    what it started may still run.  Windows finds a tree only through its
    live root, so there an ended child leaves nothing to do.
    """
    if (os_name or os.name) == "nt":
        if child.poll() is not None:
            return
        try:
            subprocess.run(["taskkill", "/F", "/T", "/PID", str(child.pid)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
        except (OSError, subprocess.SubprocessError):
            pass
    else:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if child.poll() is None:
        child.kill()


def _death(code: "Optional[int]", os_name: "Optional[str]" = None) -> str:
    """How a child that printed no answer ended, in words.

    POSIX: the signal behind a negative return code.  Windows: a crash ends
    a process with an NTSTATUS code (0xC0000005 is an access violation),
    which reads best in hex.
    """
    name = _signal_name(code)
    if name:
        return name
    if code is not None and (os_name or os.name) == "nt" and code >= 0xC0000000:
        return "exit status 0x{:08X}".format(code)
    return "exit status {}".format(code)


def _signal_name(code: "Optional[int]") -> "Optional[str]":
    """The signal that ended a POSIX child (negative return code), if any."""
    if code is None or code >= 0:
        return None
    try:
        return signal.Signals(-code).name
    except ValueError:
        return "signal {}".format(-code)


def _tail(stderr: bytes, lines: int = 12) -> "List[str]":
    return stderr.decode("utf-8", "replace").splitlines()[-lines:]


#: Modules the child may import: Keras itself, or tf.keras for the legacy R
#: package.  Never a module named by a variable.
_MODULES = ("keras", "tensorflow.keras", "tensorflow.python.keras")


def verify(record: "Dict[str, Any]", timeout: "Optional[float]" = None,
           environ: "Optional[Dict[str, str]]" = None, module: str = "keras",
           then: "Sequence[str]" = ()) -> "Dict[str, Any]":
    """Import Keras in a child process and compare with ``record``'s prediction.

    Returns ``{"status", "backend", "error", "import_seconds",
    "peak_memory_mb", "devices", "agrees", ...}``; ``status`` is ``ok``,
    ``error`` (Keras raised), ``timeout`` or ``crashed``.  When Keras is
    already imported in this process the live backend is the answer and
    nothing is run (``status`` ``"not-run"``).  ``environ`` and ``module``
    are what an R interface's load step leaves (default: this process's
    environment, ``import keras``); ``then`` the Keras submodules that load
    imports next, one by one (kerasR's), each of which must be one of
    :data:`kbackend.kerasr.SUBMODULES`.
    """
    timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
    if record["locked"]:
        return {"status": "not-run", "agrees": None,
                "reason": "Keras is already imported in this process; its live backend is authoritative."}
    if module not in _MODULES:
        return {"status": "not-run", "agrees": None,
                "reason": "the module {!r} is named by a variable; kbackend never imports it.".format(module)}
    if any(name not in kerasr.SUBMODULES for name in then):
        raise ValueError("verify imports only kerasR's fixed list of Keras submodules after Keras")
    scratch = tempfile.mkdtemp(prefix="kbackend-verify-")
    try:
        _copy_keras_json(record["config_path"], scratch)
        env = dict(os.environ if environ is None else environ)
        env["KERAS_HOME"] = scratch
        env["_KBACKEND_MODULE"] = module
        env["_KBACKEND_THEN"] = ",".join(then)
        env["_KBACKEND_SYS_PATH"] = json.dumps(sys.path)
        actual = _run_child(env, timeout)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    actual.setdefault("backend", None)
    actual["timeout_seconds"] = timeout
    actual["agrees"] = _agrees(record, actual)
    actual.update(devices.compare(record.get("device"), actual))
    return actual


def mismatch_problem(record: "Dict[str, Any]", actual: "Dict[str, Any]") -> "Dict[str, str]":
    """The loud problem entry for a prediction that real Keras contradicted."""
    predicted = {"backend": record["backend"], "status": record["status"], "error": record["error"],
                 "device": (record.get("device") or {}).get("device")}
    observed = {"backend": actual.get("backend"), "status": actual["status"], "error": actual.get("error"),
                "device": actual.get("device")}
    return {
        "code": "kbackend-bug",
        "message": "kbackend's prediction disagrees with real Keras. Predicted: {}. Keras: {}.".format(
            json.dumps(predicted), json.dumps(observed)),
        "fix": "Trust the verified result, and please report this as a kbackend bug with "
               "`python -m kbackend --verify --json` attached.",
    }
