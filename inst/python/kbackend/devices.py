"""Forecast the device each backend will run on, and why not the GPU.

Whether a backend uses the GPU is decided before it starts, by files on
disk and variables: the build of the backend library (a CPU-only wheel, a
CUDA build, a jax without its CUDA plugin), whether the NVIDIA driver is
there for the loader to find, and the variables that hide or pick devices.
After the backend starts it is too late to change, and importing it just to
find out costs seconds and, for TensorFlow and JAX, most of the GPU's
memory.  Those facts are read without importing anything:

* the build (:mod:`kbackend.device_builds`): TensorFlow's
  ``python/platform/build_info.py``, torch's ``version.py``, the local
  version tag (``+cpu``, ``+cu124``), jax's CUDA or ROCm plugin
  distributions (or an old ``+cuda`` jaxlib), the Metal plugins, and the
  ``nvidia-*`` wheels beside them;
* the driver (:mod:`kbackend.device_driver`): ``libcuda.so.1`` as the
  loader finds it (``LD_LIBRARY_PATH``, then ``/etc/ld.so.cache``, then the
  default folders), WSL's ``/usr/lib/wsl/lib``,
  ``/proc/driver/nvidia/version``, ``/dev/nvidia*``; on macOS the
  architecture and the OS version;
* the variables, with who reads them (here).

This module is the entry point: it forecasts from those facts, and checks
the forecast against what ``--verify`` saw.  Every file read is small and
is cached with :func:`cache.memo`; the per-call work is a few dictionary
look-ups.  ``root`` and ``system`` let the unit tests lay out a machine with
a driver in a temporary folder.
"""

import os
import re

from . import cache, device_builds, metadata

# the driver's public names are kbackend.devices' too (the tests use them so)
from .device_driver import current_system, driver_facts, parse_ld_cache, read_file  # noqa: F401

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Optional, Set, Tuple

#: The backends whose device is forecast (Keras 3 names).
BACKENDS = ("tensorflow", "jax", "torch", "numpy", "openvino")
#: The oldest Linux driver each CUDA major release runs on (CUDA's minor
#: version compatibility, from NVIDIA's CUDA release notes, table 2/3):
#: below it the CUDA runtime refuses to start.
MIN_DRIVER = {10: (410, 48), 11: (450, 80, 2), 12: (525, 60, 13), 13: (580, 65, 6)}
#: What each backend prints when its CUDA build finds no NVIDIA driver, as
#: seen on machines without one (tensorflow 2.21, jax 0.10.2 with
#: jax-cuda12-plugin, torch 2.14.1: see the differential tests); torch says
#: nothing, ``torch.cuda.is_available()`` is just False.  ``{major}`` is the
#: CUDA major release of jax's plugin.
NO_DRIVER_WARNINGS = {
    "tensorflow": "failed call to cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
    "jax": "Jax plugin configuration error: Exception when calling jax_plugins.xla_cuda{major}.initialize()",
    "torch": None,
}  # type: Dict[str, Optional[str]]
#: What jax prints when a driver is there but no CUDA plugin is installed.
JAX_CPU_WITH_DRIVER = ("An NVIDIA GPU may be present on this machine, but a CUDA-enabled jaxlib is not installed. "
                       "Falling back to cpu.")
#: Who reads which variable, for the record.
READERS = {
    "CUDA_VISIBLE_DEVICES": "the CUDA runtime, when the backend starts (tensorflow, jax, torch)",
    "NVIDIA_VISIBLE_DEVICES": "the NVIDIA container runtime, when the container starts (not the process)",
    "JAX_PLATFORMS": "jax, at its first use",
    "JAX_PLATFORM_NAME": "jax (older name of JAX_PLATFORMS), at its first use",
    "HIP_VISIBLE_DEVICES": "the ROCm runtime, when the backend starts",
    "ROCR_VISIBLE_DEVICES": "the ROCm runtime, when the backend starts",
    "TF_FORCE_GPU_ALLOW_GROWTH": "tensorflow, when it creates its GPU device (Keras 3 sets it when its backend "
                                 "is not tensorflow)",
    "XLA_PYTHON_CLIENT_PREALLOCATE": "jax, when it creates its GPU client",
    "XLA_PYTHON_CLIENT_MEM_FRACTION": "jax, when it creates its GPU client",
}
#: The variables a forecast depends on (besides the one Keras reads for torch).
_VARIABLES = ("LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES",
              "ROCR_VISIBLE_DEVICES", "JAX_PLATFORMS", "JAX_PLATFORM_NAME")


def _version(text: "Optional[str]") -> "Tuple[int, ...]":
    return metadata.version_tuple(text)


def keras_torch_variables(keras_path: "Optional[str]") -> "List[str]":
    """The variables the installed Keras 3 reads to pick its torch device,
    from its own source (``KERAS_TORCH_DEVICE`` in 3.x)."""
    if not keras_path:
        return []
    package = os.path.dirname(keras_path) if keras_path.endswith(".py") else keras_path
    source = os.path.join(package, "src", "backend", "torch", "core.py")

    text = (read_file(source, 1 << 14) or b"").decode("utf-8", "replace")
    head = text.split("DEFAULT_DEVICE = \"cpu\"", 1)[0] if "DEFAULT_DEVICE" in text else ""
    names: "Set[str]" = set()
    for line in head.splitlines():  # if "KERAS_TORCH_DEVICE" in os.environ: ...
        if "os.environ" in line:
            for quote in ('"', "'"):
                names.update(p for p in line.split(quote)[1::2] if p and p.replace("_", "").isupper()
                             and p.replace("_", "").isalnum())
    return sorted(names)


# ---------------------------------------------------------------------------
# the forecast

def _copy(facts: "Dict[str, Any]") -> "Dict[str, Any]":
    """A copy of cached facts for one record (callers may change a record)."""
    return {key: dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value
            for key, value in facts.items()}


def _hidden_by_cuda_variable(environ: "Dict[str, str]") -> "Optional[str]":
    """CUDA_VISIBLE_DEVICES hides every GPU when its first entry is not a
    device (the runtime stops at the first invalid entry): ``""``, ``-1``."""
    value = environ.get("CUDA_VISIBLE_DEVICES")
    if value is None:
        return None
    first = value.split(",")[0].strip()
    if re.match(r"^([0-9]+|GPU-[0-9a-fA-F-]+|MIG-.+)$", first):
        return None
    return "CUDA_VISIBLE_DEVICES={!r} hides every GPU".format(value)


def _jax_platforms(environ: "Dict[str, str]") -> "Tuple[Optional[str], Optional[List[str]]]":
    for name in ("JAX_PLATFORMS", "JAX_PLATFORM_NAME"):
        value = environ.get(name)
        if value:
            return name, [p.strip().lower() for p in value.split(",") if p.strip()]
    return None, None


def _driver_too_old(driver: "Dict[str, Any]", cuda: "Optional[str]") -> "Optional[str]":
    major = (_version(cuda) or (None,))[0]
    have = _version(driver.get("version"))
    need = MIN_DRIVER.get(major) if major is not None else None
    if not have or need is None or have >= need:
        return None
    return "NVIDIA driver {} is older than CUDA {} needs ({} or newer)".format(
        driver["version"], cuda, ".".join("{:02d}".format(n) if i else str(n) for i, n in enumerate(need)))


def _one(name: str, build: "Dict[str, Any]", driver: "Dict[str, Any]", environ: "Dict[str, str]",
         torch_variables: "List[str]") -> "Dict[str, Any]":
    kind = build.get("kind")
    entry: "Dict[str, Any]" = {"device": "cpu", "reason": None, "build": _copy(build), "driver": _copy(driver),
                               "warning": None, "variables": {}}
    variables = entry["variables"]
    for variable in ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES"):
        if variable in environ:
            variables[variable] = {"value": environ[variable], "read_by": READERS[variable]}
    if name == "jax":
        for variable in ("JAX_PLATFORMS", "JAX_PLATFORM_NAME"):
            if variable in environ:
                variables[variable] = {"value": environ[variable], "read_by": READERS[variable]}
    if name == "torch":
        for variable in torch_variables:
            if variable in environ:
                variables[variable] = {"value": environ[variable],
                                       "read_by": "Keras's torch backend, when it is imported"}
    if name in ("numpy", "openvino"):
        entry["reason"] = "Keras's {} backend runs on the CPU".format(name)
        return entry
    if name == "torch":
        picked = next((environ[v] for v in torch_variables if environ.get(v)), None)
        if picked:
            entry.update(device=picked.split(":")[0].lower(),
                         reason="{}={!r} picks the device (Keras reads it)".format(
                             next(v for v in torch_variables if environ.get(v)), picked))
            return entry
    if name == "jax":
        jax_variable, platforms = _jax_platforms(environ)
        if jax_variable and platforms and not {"cuda", "gpu", "rocm", "metal", "tpu"} & set(platforms):
            entry["reason"] = "{}={!r} limits jax to the CPU".format(jax_variable, environ[jax_variable])
            return entry
    if kind is None:
        entry.update(device=None, reason="the build of {} could not be read".format(name))
        return entry
    if driver["platform"] == "darwin":
        return _apple(name, build, driver, entry)
    if kind == "cpu":
        entry["reason"] = {
            "tensorflow": "a CPU-only build of TensorFlow ({} {}, build_info: is_cuda_build False)",
            "torch": "a CPU-only build of torch ({} {}: version.cuda is None)",
            "jax": "jax without a GPU plugin ({} {}: no jax-cuda*-plugin installed)",
        }[name].format(build.get("distribution") or name, build["version"])
        if name == "jax" and driver["nvidia"]:
            entry["warning"] = JAX_CPU_WITH_DRIVER
        return entry
    if kind == "metal":
        entry["reason"] = "{} with its Metal plugin runs on the CPU outside macOS".format(name)
        return entry
    if kind in ("rocm",):
        hidden = next((v for v in ("HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES")
                       if v in environ and not re.match(r"^[0-9]", environ[v].strip())), "")
        entry.update(device="cpu" if hidden else "rocm",
                     reason="{}={!r} hides every GPU".format(hidden, environ[hidden]) if hidden else
                     "a ROCm build of {} (kbackend does not look for the ROCm driver)".format(name))
        return entry
    if kind == "xpu":
        entry.update(device="xpu", reason="an XPU build of torch (kbackend does not look for the Intel GPU driver)")
        return entry
    cuda = build.get("cuda_version") or build.get("cuda")
    label = "a CUDA {} build of {}".format(cuda, name) if cuda else "a CUDA build of {}".format(name)
    if not driver["nvidia"]:
        container = environ.get("NVIDIA_VISIBLE_DEVICES")
        entry["reason"] = "no NVIDIA driver: {} but libcuda.so.1 is not found by the loader{}{}".format(
            label, " ({})".format(driver["note"]) if driver.get("note") else "",
            " (NVIDIA_VISIBLE_DEVICES={!r}: the container runtime passed no GPU in)".format(container)
            if container is not None and container.strip().lower() in ("", "void", "none") else "")
        warning = NO_DRIVER_WARNINGS.get(name)
        entry["warning"] = warning.format(major=(_version(cuda) or ("",))[0]) if warning else None
        return entry
    hidden_by = _hidden_by_cuda_variable(environ)
    if hidden_by:
        entry["reason"] = hidden_by
        return entry
    old = _driver_too_old(driver, cuda)
    if old:
        entry["reason"] = old
        return entry
    entry.update(device="cuda", reason="{} and NVIDIA driver {} ({})".format(
        label, driver["version"] or "of unknown version", driver["library"]))
    return entry


def _apple(name: str, build: "Dict[str, Any]", driver: "Dict[str, Any]", entry: "Dict[str, Any]") -> "Dict[str, Any]":
    arm = driver["machine"] in ("arm64", "aarch64")
    mac = _version(driver.get("macos_version"))
    if name == "torch":
        if arm and mac >= (12, 3):
            entry.update(device="mps", reason="torch on Apple silicon with macOS {} (MPS needs 12.3+)".format(
                driver["macos_version"]))
        else:
            entry["reason"] = "torch's MPS device needs Apple silicon and macOS 12.3+ ({} macOS {})".format(
                driver["machine"], driver.get("macos_version") or "unknown")
        return entry
    if build.get("kind") == "metal" and arm:
        entry.update(device="metal", reason="{} with its Metal plugin on Apple silicon".format(name))
    else:
        entry["reason"] = "{} runs on the CPU on macOS without a working Metal plugin".format(name)
    return entry


def forecast(libs: "Dict[str, Dict[str, Any]]", environ: "Dict[str, str]", backend: "Any",
             keras_path: "Optional[str]" = None, root: str = "/",
             system: "Optional[Dict[str, str]]" = None) -> "Dict[str, Any]":
    """``{"device": <entry of the chosen backend or None>, "devices": {backend: entry}}``.

    Each entry: ``device`` (``cpu``, ``cuda``, ``rocm``, ``mps``, ``metal``,
    ``xpu``), ``reason``, ``build``, ``driver``, ``warning`` (the text the
    backend prints when it falls back), ``variables`` (those in force that
    hide or pick its devices, with who reads them)."""
    ld_path = environ.get("LD_LIBRARY_PATH", "")
    facts_key = (tuple((name, libs[name]["version"], libs[name]["path"], libs[name].get("dist"))
                       for name in ("tensorflow", "torch", "jax", "jaxlib", "numpy", "openvino")),
                 keras_path, root, ld_path, tuple(sorted((system or {}).items())))
    # collect() has just refreshed the cache: a warm hit skips the
    # fingerprint (one stat per sys.path entry) that memo() would take again
    cached = cache.STATE["memo"]
    facts = cached.get(("devices", facts_key)) or cache.memo("devices", facts_key, lambda: (
        device_builds.builds(libs), driver_facts(root, ld_path, system),
        keras_torch_variables(keras_path) if libs["torch"]["version"] else []))
    found, driver, torch_variables = facts
    key = ("device-forecast", (facts_key, tuple(environ.get(v) for v in _VARIABLES),
                               tuple(environ.get(v) for v in torch_variables)))
    if key not in cached:
        devices = {name: _one(name, found[name], driver, environ, torch_variables) for name in BACKENDS if name in found}
        cached[key] = devices
    devices = cached[key]
    return {"device": devices.get(backend) if isinstance(backend, str) else None, "devices": dict(devices)}


def observed_kind(backend: "Optional[str]", names: "Any") -> "Optional[str]":
    """The device kind a backend actually picked, from the devices
    ``--verify`` listed in the child (``/physical_device:GPU:0``,
    ``CudaDevice(id=0)``, ``cuda:0``, ``mps``, ``CpuDevice(id=0)``)."""
    if not isinstance(names, list) or backend not in ("tensorflow", "jax", "torch"):
        return None
    text = " ".join(str(name) for name in names).lower()
    if backend == "torch" and "mps" in text.split():
        return "mps"
    if "cuda" in text or ("gpu" in text and "rocm" not in text):
        return "cuda"
    if "rocm" in text:
        return "rocm"
    if "metal" in text:
        return "metal"
    return "cpu"


def compare(forecast: "Optional[Dict[str, Any]]", actual: "Dict[str, Any]") -> "Dict[str, Any]":
    """For ``--verify``: the device the child saw and whether the forecast
    said it; a disagreement makes the whole verification disagree."""
    seen = observed_kind(actual.get("backend"), actual.get("devices"))
    if forecast is None or seen is None or actual.get("status") != "ok":
        return {"device": seen, "device_agrees": None}
    agrees = forecast["device"] == seen
    changes: "Dict[str, Any]" = {"device": seen, "device_agrees": agrees}
    if not agrees and actual.get("agrees"):
        changes["agrees"] = False
    return changes
