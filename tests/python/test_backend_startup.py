"""A backend library's own start-up, predicted and held against real Keras.

Each case sets variables that a backend library reads while it loads (JAX's
flags, TORCH_LOGS, THEANO_FLAGS, TensorFlow's plug-in variables,
PYTHONWARNINGS), valid and invalid, in the environments where that library
is imported by ``import keras``, and in some where it is not (the variable
must then change nothing).  ``python -m kbackend --json`` and a real
``import keras`` run in fresh subprocesses with the same environment and a
throwaway HOME; status, backend, exception class and message must agree.
"""

import pytest

from conftest import FLAVOURS, THEANO_DIR, env_python, kbackend_json, oracle
import scenario as scenario_table
from test_differential import _predicted, assert_agrees

K3 = ("keras3",)
THEANO_BASE = "base_compiledir=" + THEANO_DIR + ","

#: (id, environments, variables)
CASES = [
    # JAX validates its flags while jax/_src/config.py (and the modules after it) load
    ("jax-x64-invalid", K3 + ("keras3-bare", "keras2-tf"), {"KERAS_BACKEND": "jax", "JAX_ENABLE_X64": "enabled"}),
    ("jax-x64-valid", K3, {"KERAS_BACKEND": "jax", "JAX_ENABLE_X64": "True"}),
    ("jax-x64-invalid-tf-backend", K3, {"KERAS_BACKEND": "tensorflow", "JAX_ENABLE_X64": "enabled"}),
    ("jax-x64-invalid-torch-backend", K3, {"KERAS_BACKEND": "torch", "JAX_ENABLE_X64": "2"}),
    ("jax-enum-invalid", K3, {"KERAS_BACKEND": "jax", "JAX_DEFAULT_PRNG_IMPL": "mt19937"}),
    ("jax-enum-valid", K3, {"KERAS_BACKEND": "jax", "JAX_DEFAULT_PRNG_IMPL": "rbg"}),
    ("jax-enum-class-invalid", K3, {"KERAS_BACKEND": "jax", "JAX_LEGACY_PRNG_KEY": "loud"}),
    ("jax-optional-enum-invalid", K3, {"KERAS_BACKEND": "jax", "JAX_DEFAULT_MATMUL_PRECISION": "extreme"}),
    ("jax-int-invalid", K3, {"KERAS_BACKEND": "jax", "JAX_NUM_CPU_DEVICES": "four"}),
    ("jax-int-valid", K3, {"KERAS_BACKEND": "jax", "JAX_NUM_CPU_DEVICES": "4"}),
    ("jax-int-env-invalid", K3, {"KERAS_BACKEND": "jax", "JAX_TRACER_ERROR_NUM_TRACEBACK_FRAMES": "z"}),
    ("jax-first-of-two", K3, {"KERAS_BACKEND": "jax", "JAX_NUM_CPU_DEVICES": "x", "JAX_ENABLE_X64": "maybe"}),
    ("jax-platforms-lazy", K3, {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cuda"}),
    ("jax-unknown-variable", K3, {"KERAS_BACKEND": "jax", "JAX_NOT_A_FLAG": "whatever"}),
    # torch parses TORCH_LOGS at the end of `import torch`
    ("torch-logs-invalid", K3, {"KERAS_BACKEND": "torch", "TORCH_LOGS": "dynamoo"}),
    ("torch-logs-malformed", K3, {"KERAS_BACKEND": "torch", "TORCH_LOGS": "+dynamo,,guards"}),
    ("torch-logs-valid", K3, {"KERAS_BACKEND": "torch", "TORCH_LOGS": "+dynamo, guards,-inductor"}),
    ("torch-logs-module", K3, {"KERAS_BACKEND": "torch", "TORCH_LOGS": "torch.nn.modules"}),
    ("torch-logs-missing-package", K3, {"KERAS_BACKEND": "torch", "TORCH_LOGS": "nosuchpkg.sub"}),
    ("torch-logs-help", K3, {"KERAS_BACKEND": "torch", "TORCH_LOGS": "help"}),
    ("torch-logs-other-backend", K3, {"KERAS_BACKEND": "jax", "TORCH_LOGS": "dynamoo"}),
    # TensorFlow's plug-in variables
    ("tf-plugin-missing", K3 + ("keras2-tf", "keras2-theano"),
     {"KERAS_BACKEND": "tensorflow", "TF_PLUGGABLE_DEVICE_LIBRARY_PATH": "/nonexistent/plugin.so"}),
    ("tf-plugin-missing-jax-backend", K3, {"KERAS_BACKEND": "jax", "TF_PLUGGABLE_DEVICE_LIBRARY_PATH": "/nonexistent"}),
    ("tf-plugin-empty-dir", ("keras2-tf",), {"TF_PLUGGABLE_DEVICE_LIBRARY_PATH": "{root}"}),
    ("tf-modular-filesystem", K3 + ("keras2-tf",), {"KERAS_BACKEND": "tensorflow", "TF_USE_MODULAR_FILESYSTEM": "1"}),
    ("tf-modular-filesystem-other-value", K3, {"KERAS_BACKEND": "tensorflow", "TF_USE_MODULAR_FILESYSTEM": "yes"}),
    # Theano checks THEANO_FLAGS while theano.configdefaults loads
    ("theano-device-gpu", ("keras2-theano",), {"KERAS_BACKEND": "theano", "THEANO_FLAGS": THEANO_BASE + "device=gpu"}),
    ("theano-device-gpu0", ("keras2-theano",), {"KERAS_BACKEND": "theano", "THEANO_FLAGS": THEANO_BASE + "device=gpu0"}),
    ("theano-device-invalid", ("keras2-theano",), {"KERAS_BACKEND": "theano", "THEANO_FLAGS": THEANO_BASE + "device=tpu"}),
    ("theano-device-cpu", ("keras2-theano",), {"KERAS_BACKEND": "theano", "THEANO_FLAGS": THEANO_BASE + "device=cpu"}),
    ("theano-floatx-invalid", ("keras2-theano",),
     {"KERAS_BACKEND": "theano", "THEANO_FLAGS": THEANO_BASE + "floatX=float128"}),
    ("theano-floatx-short", ("keras2-theano",), {"KERAS_BACKEND": "theano", "THEANO_FLAGS": THEANO_BASE + "floatX=32"}),
    ("theano-floatx-first", ("keras2-theano",),
     {"KERAS_BACKEND": "theano", "THEANO_FLAGS": THEANO_BASE + "device=gpu,floatX=half"}),
    ("theano-flags-tf-backend", ("keras2-theano",),
     {"KERAS_BACKEND": "tensorflow", "THEANO_FLAGS": THEANO_BASE + "device=gpu"}),
    # ... and reads ~/.theanorc (THEANORC) for what THEANO_FLAGS does not set
    ("theanorc-device-gpu", ("keras2-theano",), {"KERAS_BACKEND": "theano"}),
    ("theanorc-floatx-invalid", ("keras2-theano",), {"KERAS_BACKEND": "theano"}),
    ("theanorc-overridden-by-flags", ("keras2-theano",),
     {"KERAS_BACKEND": "theano", "THEANO_FLAGS": THEANO_BASE + "device=cpu"}),
    ("theanorc-malformed", ("keras2-theano",), {"KERAS_BACKEND": "theano"}),
    ("theanorc-elsewhere", ("keras2-theano",), {"KERAS_BACKEND": "theano", "THEANORC": "{root}/rc1:{root}/rc2"}),
    # Theano creates its compile directory at import; under a regular file it cannot
    ("theano-compiledir-blocked", ("keras2-theano",),
     {"KERAS_BACKEND": "theano", "THEANO_FLAGS": "base_compiledir={root}/afile/theano"}),
    # Keras 2.3.1 checks keras.json's floatx before Theano loads, then sets Theano's floatX from it
    ("theano-json-floatx-vs-flags", ("keras2-theano",),
     {"KERAS_BACKEND": "theano", "THEANO_FLAGS": THEANO_BASE + "floatX=float64"}),
    ("theano-json-floatx-invalid-first", ("keras2-theano",),
     {"KERAS_BACKEND": "theano", "THEANO_FLAGS": THEANO_BASE + "device=gpu"}),
    # PYTHONWARNINGS=error turns the first import-time warning into the exception
    ("warnings-error", tuple(sorted(FLAVOURS)), {"PYTHONWARNINGS": "error"}),
    ("warnings-error-jax", K3, {"KERAS_BACKEND": "jax", "PYTHONWARNINGS": "error"}),
    ("warnings-error-torch", K3, {"KERAS_BACKEND": "torch", "PYTHONWARNINGS": "error"}),
    ("warnings-error-theano", ("keras2-theano",), {"KERAS_BACKEND": "theano", "PYTHONWARNINGS": "error"}),
    ("warnings-error-cntk", ("keras2-cntk",), {"KERAS_BACKEND": "cntk", "PYTHONWARNINGS": "error"}),
    ("warnings-error-deprecation", ("keras2-theano", "keras2-cntk"),
     {"KERAS_BACKEND": "tensorflow", "PYTHONWARNINGS": "error::DeprecationWarning"}),
    ("warnings-error-user-only", ("keras2-theano", "keras2-cntk"),
     {"KERAS_BACKEND": "theano", "PYTHONWARNINGS": "error::UserWarning"}),
    ("warnings-error-then-ignore", ("keras2-theano", "keras2-cntk"),
     {"KERAS_BACKEND": "cntk", "PYTHONWARNINGS": "error,ignore::DeprecationWarning,ignore::UserWarning"}),
]

#: Files a case needs, as in tests/scenarios.json.
_RC = "[global]\nbase_compiledir = " + THEANO_DIR + "\n"
FILES = {
    "theanorc-device-gpu": {"{home}/.theanorc": {"text": _RC + "device = gpu\n"}},
    "theanorc-floatx-invalid": {"{home}/.theanorc": {"text": _RC + "floatX = float128\n"}},
    "theanorc-overridden-by-flags": {"{home}/.theanorc": {"text": _RC + "device = gpu\n"}},
    "theanorc-malformed": {"{home}/.theanorc": {"text": "device = gpu\n"}},
    "theanorc-elsewhere": {"rc1": {"text": "[global]\nfloatX = float32\n"},
                           "rc2": {"text": _RC + "FLOATX = float80\n"}},
    "theano-compiledir-blocked": {"afile": {"text": "not a folder"}},
    "theano-json-floatx-vs-flags": {"{home}/.keras/keras.json": {"json": {
        "floatx": "float16", "epsilon": 1e-07, "backend": "theano", "image_data_format": "channels_last"}}},
    "theano-json-floatx-invalid-first": {"{home}/.keras/keras.json": {"json": {
        "floatx": "float8", "epsilon": 1e-07, "backend": "theano", "image_data_format": "channels_last"}}},
}

PARAMS = [pytest.param(case_id, environment, env, id="{}-{}".format(case_id, environment))
          for case_id, environments, env in CASES for environment in environments]


@pytest.mark.parametrize("case_id,environment,env", PARAMS)
def test_startup_matches_real_keras(case_id, environment, env, tmp_path):
    python = env_python(environment)
    scenario = {"id": case_id, "env": dict(env), "files": FILES.get(case_id, {})}
    overlay = scenario_table.materialize(scenario, str(tmp_path), THEANO_DIR)
    record = kbackend_json(python, overlay)
    assert record["keras"]["flavour"] == FLAVOURS[environment], record["keras"]
    actual = oracle(python, overlay, "keras", 300)
    context = "case {} in {}; Keras stderr tail:\n{}".format(case_id, environment, actual.get("stderr", "")[-800:])
    assert_agrees(_predicted(record, "keras"), actual, context)
