"""The device forecast against real imports of the backend libraries.

These machines have no GPU and no NVIDIA driver.  In .venv-gpu (CUDA builds
of jax, torch and tensorflow, built by ``tools/setup-python.sh gpu``) every
backend must fall back to the CPU, for the reason kbackend gives and with
the warning kbackend says it prints; in .venv (CPU-only builds) they run on
the CPU silently.  Each case imports one library in a fresh process and asks
it for its devices: ``jax.devices()``, ``torch.cuda.is_available()``,
``tf.config.list_physical_devices("GPU")``.

.venv-gpu is not one of conftest's ENVIRONMENTS (so no other suite runs
there); its fixture skips, or fails in strict mode, like ``env_python``.
"""

import json
import os
import re
import subprocess

import pytest

from conftest import LAB_ROOT, PYTHON_DIR, STRICT, env_python  # noqa: F401  (STRICT: see gpu_python)
import scenario as scenario_table

GPU_ENV = ".venv-gpu"

#: What each library reports as its devices, as a device kind kbackend uses.
PROBES = {
    "jax": "import jax\nd = jax.devices()\nkind = 'cpu' if all(x.platform == 'cpu' for x in d) else d[0].platform\n",
    "torch": "import torch\nkind = 'cuda' if torch.cuda.is_available() else 'cpu'\n",
    "tensorflow": "import tensorflow as tf\nkind = 'cuda' if tf.config.list_physical_devices('GPU') else 'cpu'\n",
}


def gpu_python():
    """The interpreter of .venv-gpu; skips (strict: fails) when it is not built."""
    path = os.path.join(LAB_ROOT, GPU_ENV, "bin", "python")
    if not os.path.exists(path):
        pytest.skip("needs the gpu environment ({} is missing); build it with `tools/setup-python.sh gpu`"
                    .format(path))
    return path


def _environ(tmp_path, variables):
    env = {k: v for k, v in os.environ.items() if not scenario_table._SCRUB.match(k)
           and k not in ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), TF_CPP_MIN_LOG_LEVEL="0")
    env.update(variables)
    return env


def real_device(python, library, tmp_path, variables):
    """(device kind, stderr) from a real import of ``library``."""
    code = PROBES[library] + "print('KBACKEND-DEVICE:' + kind)\n"
    done = subprocess.run([python, "-c", code], cwd=str(tmp_path), env=_environ(tmp_path, variables),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("KBACKEND-DEVICE:")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return lines[-1].split(":", 1)[1], done.stderr


def forecast(python, tmp_path, variables):
    env = _environ(tmp_path, variables)
    env["PYTHONPATH"] = PYTHON_DIR
    done = subprocess.run([python, "-m", "kbackend", "--json"], cwd=str(tmp_path), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def _agree(python, library, tmp_path, variables, reason):
    record = forecast(python, tmp_path, variables)
    predicted = record["devices"][library]
    device, stderr = real_device(python, library, tmp_path, variables)
    assert predicted["device"] == device, (predicted, stderr[-2000:])
    assert re.search(reason, predicted["reason"]), predicted["reason"]
    if predicted["warning"]:
        assert predicted["warning"] in stderr, (predicted["warning"], stderr[-3000:])
    else:  # nothing about a GPU, CUDA or a plugin on stderr
        assert not re.search(r"(?i)cuinit|cuda_platform|plugin configuration error|cuda init", stderr), stderr[-3000:]
    return record


# (library, variables, reason the forecast gives) on a GPU build without a driver
GPU_CASES = [
    ("jax", {}, r"^no NVIDIA driver"),
    ("torch", {}, r"^no NVIDIA driver"),
    ("tensorflow", {}, r"^no NVIDIA driver"),
    ("jax", {"CUDA_VISIBLE_DEVICES": ""}, r"^no NVIDIA driver"),
    ("torch", {"CUDA_VISIBLE_DEVICES": ""}, r"^no NVIDIA driver"),
    ("tensorflow", {"CUDA_VISIBLE_DEVICES": ""}, r"^no NVIDIA driver"),
    ("jax", {"JAX_PLATFORMS": "cpu"}, r"^JAX_PLATFORMS='cpu' limits jax to the CPU"),
]


@pytest.mark.parametrize("library,variables,reason", GPU_CASES,
                         ids=["{}-{}".format(c[0], ",".join("{}={}".format(*kv) for kv in c[1].items()) or "plain")
                              for c in GPU_CASES])
def test_gpu_build_without_driver(library, variables, reason, tmp_path):
    record = _agree(gpu_python(), library, tmp_path, variables, reason)
    assert record["devices"][library]["build"]["kind"] == "cuda"
    assert record["devices"][library]["driver"]["nvidia"] is False


CPU_CASES = [
    ("jax", {}, r"^jax without a GPU plugin"),
    ("torch", {}, r"^a CPU-only build of torch"),
    ("tensorflow", {}, r"^a CPU-only build of TensorFlow"),
    ("jax", {"JAX_PLATFORMS": "cpu"}, r"^JAX_PLATFORMS='cpu' limits jax to the CPU"),
    ("torch", {"CUDA_VISIBLE_DEVICES": ""}, r"^a CPU-only build of torch"),
]


@pytest.mark.parametrize("library,variables,reason", CPU_CASES,
                         ids=["{}-{}".format(c[0], ",".join("{}={}".format(*kv) for kv in c[1].items()) or "plain")
                              for c in CPU_CASES])
def test_cpu_only_builds(library, variables, reason, tmp_path):
    _agree(env_python("keras3"), library, tmp_path, variables, reason)


def test_chosen_backend_and_problem(tmp_path):
    """The record's device is the chosen backend's; the GPU build without a
    driver is a problem with a fix (no real import needed: the agreement is
    shown above)."""
    record = forecast(gpu_python(), tmp_path, {"KERAS_BACKEND": "jax"})
    assert record["backend"] == "jax"
    assert record["device"] == record["devices"]["jax"]
    codes = [p["code"] for p in record["problems"]]
    assert "gpu-build-without-driver" in codes, record["problems"]
    plain = forecast(env_python("keras3"), tmp_path, {"KERAS_BACKEND": "jax"})
    assert not [p for p in plain["problems"] if p["code"].startswith(("gpu-", "cpu-", "devices-", "driver-"))]


def _run_code(python, tmp_path, code, variables=None):
    env = _environ(tmp_path, variables or {})
    env["PYTHONPATH"] = PYTHON_DIR
    done = subprocess.run([python, "-c", code], cwd=str(tmp_path), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_gpu_request_refused_on_a_cpu_only_build(tmp_path):
    code = ("import os, kbackend\ntry:\n    kbackend.use_keras_backend('jax', device='gpu')\n"
            "except kbackend.KBackendError as error:\n    print('REFUSED', error)\n"
            "print('KERAS_BACKEND', os.environ.get('KERAS_BACKEND'))\n")
    done = _run_code(env_python("keras3"), tmp_path, code)
    assert "REFUSED The 'jax' backend cannot run on a GPU here: jax without a GPU plugin" in done.stdout, done.stdout
    assert "KERAS_BACKEND None" in done.stdout  # nothing changed


def test_cpu_request_then_the_real_import(tmp_path):
    """device='cpu' on a CUDA build: jax then starts on the CPU without
    trying its CUDA plugin (no plugin error), as the forecast says."""
    code = ("import kbackend\nkbackend.use_keras_backend('jax', device='cpu')\n"
            "print('FORECAST', kbackend.backend_info()['device']['reason'])\n"
            + PROBES["jax"] + "print('KBACKEND-DEVICE:' + kind)\n")
    done = _run_code(gpu_python(), tmp_path, code)
    assert "FORECAST JAX_PLATFORMS='cpu' limits jax to the CPU" in done.stdout, done.stdout
    assert "KBACKEND-DEVICE:cpu" in done.stdout
    assert "plugin configuration error" not in done.stderr, done.stderr[-3000:]


def test_verify_compares_the_real_device(tmp_path):
    """--verify: the child's devices (Keras's jax backend on a CUDA build,
    no driver) agree with the forecast; a forecast of cuda would not."""
    code = ("import json, kbackend\nfrom kbackend import verify\nrecord = kbackend.backend_info(verify=True)\n"
            "wrong = dict(record, device=dict(record['device'], device='cuda'))\n"
            "again = verify.verify(wrong, 300)\n"
            "print('KBACKEND-VERIFY:' + json.dumps([record['verify'], again, verify.mismatch_problem(wrong, again)]))\n")
    done = _run_code(gpu_python(), tmp_path, code, {"KERAS_BACKEND": "jax"})
    line = [x for x in done.stdout.splitlines() if x.startswith("KBACKEND-VERIFY:")][-1]
    right, wrong, problem = json.loads(line.split(":", 1)[1])
    assert (right["status"], right["backend"], right["device"], right["device_agrees"], right["agrees"]) == \
        ("ok", "jax", "cpu", True, True), right
    assert (wrong["device"], wrong["device_agrees"], wrong["agrees"]) == ("cpu", False, False), wrong
    assert '"device": "cuda"' in problem["message"] and '"device": "cpu"' in problem["message"]
