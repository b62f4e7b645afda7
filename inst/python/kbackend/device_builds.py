"""What each backend library's build is: for the CPU, CUDA, ROCm or Metal.

Read from the installed files, never by importing the library:
TensorFlow's ``python/platform/build_info.py``, torch's ``version.py`` and
the local version tag (``+cpu``, ``+cu124``), jax's CUDA or ROCm plugin
distributions (or an old ``+cuda`` jaxlib), the Metal plugins, and, for a
CUDA build, the ``nvidia-*`` wheels of its CUDA release beside it.
:mod:`kbackend.devices` forecasts the device from these builds.
"""

import os
import re

from . import cache, metadata
from .device_driver import read_file

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, Optional


def _site(lib: "Dict[str, Any]") -> "Optional[str]":
    """The folder a library's distribution metadata sits in (its site-packages)."""
    dist = lib.get("dist")
    return os.path.dirname(dist) if dist else None


def _dists(folder: "Optional[str]") -> "Dict[str, str]":
    """Distributions installed in one folder: normalised name -> version
    (metadata's listing of the folder, made once per search path)."""
    if not folder:
        return {}
    listing = metadata.listing(folder, cache.STATE["listings"])
    return {name: entries[0][1] or "unknown" for name, entries in listing.items()}


def _nvidia_wheels(dists: "Dict[str, str]", major: "Optional[int]") -> "Dict[str, str]":
    """The nvidia-* wheels for one CUDA major release: ``-cuNN`` names, and
    (CUDA 13 on, which dropped the suffix) the unsuffixed ones."""
    chosen = {}
    for name, version in dists.items():
        if not name.startswith("nvidia_"):
            continue
        suffix = re.search(r"_cu([0-9]+)$", name)
        if major is None or (suffix and int(suffix.group(1)) == major) or (not suffix and major >= 13):
            chosen[name] = version
    return dict(sorted(chosen.items()))


def _local_tag(version: "Optional[str]") -> "Optional[str]":
    return version.split("+", 1)[1] if version and "+" in version else None


_MISSING = object()


def _assigned(text: str, key: str) -> "Any":
    """The literal given to ``key`` in TensorFlow's build_info.py: a
    ``('key', value)`` pair (2.x), ``'key': value`` or ``key = value`` (1.x,
    where the versions are ``cuda_version_number``).  No regular
    expression: compiling one costs more than the whole read."""
    for pattern in ("'{}', ", "'{}': ", '"{}", ', '"{}": ', "{} = ", "{}_number = "):
        at = text.find(pattern.format(key))
        if at < 0:
            continue
        rest = text[at + len(pattern.format(key)):].lstrip()
        if rest.startswith(("True", "False")):
            return rest.startswith("True")
        if rest[:1] in ("'", '"'):
            end = rest.find(rest[0], 1)
            return rest[1:end] if end > 0 else _MISSING
    return _MISSING


def _tf_build(lib: "Dict[str, Any]", dists: "Dict[str, str]") -> "Dict[str, Any]":
    package = os.path.dirname(lib["path"]) if lib["path"] and lib["path"].endswith(".py") else lib["path"]
    source = os.path.join(package, "python", "platform", "build_info.py") if package else None
    build: "Dict[str, Any]" = {"library": "tensorflow", "version": lib["version"],
                               "distribution": os.path.basename(lib["dist"] or "").split("-")[0] or None,
                               "source": source, "is_cuda_build": None, "is_rocm_build": None,
                               "cuda_version": None, "cudnn_version": None}
    text = (read_file(source) or b"").decode("utf-8", "replace") if source else ""
    if source and not text:  # TensorFlow 1.15: the code lives in tensorflow_core
        source = os.path.join(os.path.dirname(package), "tensorflow_core", "python", "platform", "build_info.py")
        build["source"] = source
        text = (read_file(source) or b"").decode("utf-8", "replace")
    for key in ("is_cuda_build", "is_rocm_build", "cuda_version", "cudnn_version"):
        value = _assigned(text, key)
        if value is not _MISSING:
            build[key] = value
    if not text:
        build["source"] = None
    metal = dists.get("tensorflow_metal")
    if metal:
        build["tensorflow_metal"] = metal
    if build["is_rocm_build"]:
        build["kind"] = "rocm"
    elif build["is_cuda_build"]:
        build["kind"] = "cuda"
    elif metal:
        build["kind"] = "metal"
    else:
        build["kind"] = "cpu" if text else None
    if build["kind"] == "cuda":
        build["nvidia_wheels"] = _nvidia_wheels(dists, (metadata.version_tuple(build["cuda_version"]) or (None,))[0])
    return build


def _torch_build(lib: "Dict[str, Any]", dists: "Dict[str, str]") -> "Dict[str, Any]":
    package = os.path.dirname(lib["path"]) if lib["path"] and lib["path"].endswith(".py") else lib["path"]
    source = os.path.join(package, "version.py") if package else None
    text = (read_file(source) or b"").decode("utf-8", "replace") if source else ""
    build: "Dict[str, Any]" = {"library": "torch", "version": lib["version"], "local": _local_tag(lib["version"]),
                               "source": source if text else None, "cuda": None, "hip": None, "xpu": None}
    for line in text.splitlines():  # cuda: Optional[str] = '12.4'  (or cuda = '12.4')
        key, equals, value = line.partition("=")
        key = key.split(":", 1)[0].strip()
        if equals and key in ("cuda", "hip", "xpu"):
            value = value.strip()
            build[key] = None if value == "None" else value.strip("'\"")
    if build["hip"]:
        build["kind"] = "rocm"
    elif build["cuda"]:
        build["kind"] = "cuda"
    elif build["xpu"]:
        build["kind"] = "xpu"
    elif text or build["local"]:
        build["kind"] = "cpu"
    else:
        build["kind"] = None
    if build["kind"] == "cuda":
        build["nvidia_wheels"] = _nvidia_wheels(dists, (metadata.version_tuple(build["cuda"]) or (None,))[0])
    return build


def _jax_build(lib: "Dict[str, Any]", jaxlib: "Dict[str, Any]", dists: "Dict[str, str]") -> "Dict[str, Any]":
    plugins = {name: version for name, version in sorted(dists.items()) if name.startswith("jax_") and (
        name == "jax_metal" or (name.startswith(("jax_cuda", "jax_rocm")) and name.endswith(("_plugin", "_pjrt"))))}
    build: "Dict[str, Any]" = {"library": "jax", "version": lib["version"], "jaxlib": jaxlib.get("version"),
                               "plugins": plugins, "cuda_version": None}
    cuda = sorted(int(n[8:-7]) for n in plugins if n.startswith("jax_cuda") and n.endswith("_plugin") and n[8:-7].isdigit())
    tag = _local_tag(jaxlib.get("version")) or ""
    if cuda:
        build["kind"] = "cuda"
        build["cuda_version"] = str(cuda[-1])
    elif tag.startswith("cuda"):
        build["kind"] = "cuda"
        match = re.match(r"cuda([0-9]+)", tag)
        build["cuda_version"] = match.group(1) if match else None
    elif any(n.startswith("jax_rocm") for n in plugins) or tag.startswith("rocm"):
        build["kind"] = "rocm"
    elif "jax_metal" in plugins:
        build["kind"] = "metal"
    else:
        build["kind"] = "cpu"
    if build["kind"] == "cuda":
        build["nvidia_wheels"] = _nvidia_wheels(dists, int(build["cuda_version"]) if build["cuda_version"] else None)
    return build


def builds(libs: "Dict[str, Dict[str, Any]]") -> "Dict[str, Dict[str, Any]]":
    """The build of each installed backend library (``libs``: discovery's
    answer), by backend: numpy's and openvino's are for the CPU."""
    listings: "Dict[Optional[str], Dict[str, str]]" = {}

    def dists(lib: "Dict[str, Any]") -> "Dict[str, str]":
        folder = _site(lib)
        if folder not in listings:
            listings[folder] = _dists(folder)
        return listings[folder]

    found: "Dict[str, Dict[str, Any]]" = {}
    if libs["tensorflow"]["version"]:
        found["tensorflow"] = _tf_build(libs["tensorflow"], dists(libs["tensorflow"]))
    if libs["jax"]["version"]:
        found["jax"] = _jax_build(libs["jax"], libs["jaxlib"], dists(libs["jax"]))
    if libs["torch"]["version"]:
        found["torch"] = _torch_build(libs["torch"], dists(libs["torch"]))
    for name in ("numpy", "openvino"):
        if libs[name]["version"]:
            found[name] = {"library": name, "version": libs[name]["version"], "kind": "cpu"}
    return found
