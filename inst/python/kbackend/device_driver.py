"""Whether there is a GPU driver for a backend to find, read from files.

A CUDA build of a backend runs on the GPU only if the dynamic loader finds
the NVIDIA driver's ``libcuda.so.1`` when the backend starts, so this module
asks what the loader would answer, without loading anything: ``libcuda.so.1``
on ``LD_LIBRARY_PATH``, then in ``/etc/ld.so.cache`` (parsed here), then in
glibc's default folders; WSL's ``/usr/lib/wsl/lib``, which the loader does
not search unless told; the driver's version from
``/proc/driver/nvidia/version`` (or the library's file name); the
``/dev/nvidia*`` nodes.  On macOS: the architecture and the OS version.

``root`` and ``system`` let the unit tests lay out a machine with a driver
in a temporary folder.  :mod:`kbackend.devices` caches the answer.
"""

import os
import re
import sys

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, Optional, Tuple

#: Folders the loader searches after its cache (glibc's trusted folders).
_DEFAULT_LIB_DIRS = ("/lib64", "/usr/lib64", "/lib", "/usr/lib")
_WSL_LIB = "/usr/lib/wsl/lib"
#: ld.so.cache entry flags for the architecture's own libraries.
_ARCH_FLAGS = {"x86_64": 0x0303, "aarch64": 0x0a03, "ppc64le": 0x0503}
_CACHE_MAGIC = b"glibc-ld.so.cache1.1"


def _path(root: str, name: str) -> str:
    return os.path.join(root, name.lstrip("/")) if root != "/" else name


def read_file(path: str, limit: int = 1 << 16) -> "Optional[bytes]":
    """The first ``limit`` bytes of a (small) file, or None if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read(limit)
    except OSError:
        return None


# ---------------------------------------------------------------------------
# the loader: which libcuda.so.1 would dlopen() find

def parse_ld_cache(data: bytes, names: "Tuple[str, ...]", machine: str) -> "Dict[str, str]":
    """``{soname: path}`` from the bytes of ``/etc/ld.so.cache`` (glibc's
    new format, alone or after the old one), for the architecture's own
    entries; the first entry of a name wins, as in the loader."""
    found: "Dict[str, str]" = {}
    start = data.find(_CACHE_MAGIC)
    if start < 0 or not any(name.encode() + b"\0" in data for name in names):
        return found
    if len(data) < start + 48:
        return found
    count = int.from_bytes(data[start + 20:start + 24], "little")
    want = _ARCH_FLAGS.get(machine)
    wanted = {name.encode() for name in names}
    for index in range(count):
        at = start + 48 + index * 24
        if at + 24 > len(data):
            break
        flags = int.from_bytes(data[at:at + 4], "little")
        key = _cstring(data, start + int.from_bytes(data[at + 4:at + 8], "little"))
        if key not in wanted or (want is not None and flags != want):
            continue
        name = key.decode("utf-8", "replace")
        if name not in found:
            found[name] = _cstring(data, start + int.from_bytes(data[at + 8:at + 12], "little")).decode("utf-8", "replace")
    return found


def _cstring(data: bytes, at: int) -> bytes:
    end = data.find(b"\0", at)
    return data[at:end] if 0 <= at < len(data) and end >= 0 else b""


def _loader_finds(root: str, soname: str, ld_library_path: str, cache: "Dict[str, str]") -> "Tuple[Optional[str], Optional[str]]":
    """(path, how) of a library as the dynamic loader would find it."""
    for folder in ld_library_path.split(":"):
        if folder and os.path.exists(_path(root, os.path.join(folder, soname))):
            return os.path.join(folder, soname), "LD_LIBRARY_PATH"
    if soname in cache and os.path.exists(_path(root, cache[soname])):
        return cache[soname], "/etc/ld.so.cache"
    for folder in _DEFAULT_LIB_DIRS:
        if os.path.exists(_path(root, os.path.join(folder, soname))):
            return os.path.join(folder, soname), "default folder"
    return None, None


def driver_facts(root: str = "/", ld_library_path: str = "", system: "Optional[Dict[str, str]]" = None
                 ) -> "Dict[str, Any]":
    """Whether there is an NVIDIA driver to use: its library as the loader
    finds it, its version, the device nodes; on macOS the architecture and
    OS version."""
    system = system or current_system()
    facts: "Dict[str, Any]" = {"platform": system["platform"], "machine": system["machine"], "nvidia": False,
                               "library": None, "found_by": None, "version": None, "device_nodes": [],
                               "wsl": False, "note": None}
    if system["platform"] == "darwin":
        facts["macos_version"] = system.get("mac_version") or None
        return facts
    if not system["platform"].startswith("linux"):
        return facts
    text = read_file(_path(root, "/proc/driver/nvidia/version"), 4096)
    if text is not None:
        match = re.search(r"Kernel Module\s+(?:for\s+\S+\s+)?([0-9]+(?:\.[0-9]+)+)", text.decode("utf-8", "replace"))
        facts["version"] = match.group(1) if match else None
        facts["version_source"] = "/proc/driver/nvidia/version"
    try:
        facts["device_nodes"] = sorted("/dev/" + n for n in os.listdir(_path(root, "/dev"))
                                       if n.startswith("nvidia") or n == "dxg")
    except OSError:
        pass
    facts["wsl"] = "/dev/dxg" in facts["device_nodes"] or os.path.isdir(_path(root, _WSL_LIB))
    data = read_file(_path(root, "/etc/ld.so.cache"), 1 << 24) or b""
    cache = parse_ld_cache(data, ("libcuda.so.1",), system["machine"])
    facts["library"], facts["found_by"] = _loader_finds(root, "libcuda.so.1", ld_library_path, cache)
    if facts["library"] is None and os.path.exists(_path(root, _WSL_LIB + "/libcuda.so.1")):
        facts["note"] = ("{}/libcuda.so.1 exists but the loader does not search {} (not in /etc/ld.so.cache nor "
                         "LD_LIBRARY_PATH)".format(_WSL_LIB, _WSL_LIB))
    if facts["library"] is not None and facts["version"] is None:
        real = os.path.realpath(_path(root, facts["library"]))
        match = re.search(r"libcuda\.so\.([0-9]+(?:\.[0-9]+)+)$", real)
        if match:
            facts.update(version=match.group(1), version_source=os.path.basename(real))
    facts["nvidia"] = facts["library"] is not None
    return facts


def current_system() -> "Dict[str, str]":
    system = {"platform": sys.platform, "machine": _machine()}
    if sys.platform == "darwin":
        plist = read_file("/System/Library/CoreServices/SystemVersion.plist", 8192) or b""
        match = re.search(rb"<key>ProductVersion</key>\s*<string>([0-9.]+)</string>", plist)
        system["mac_version"] = match.group(1).decode() if match else ""
    return system


def _machine() -> str:
    try:
        return os.uname().machine
    except AttributeError:  # Windows
        return os.environ.get("PROCESSOR_ARCHITECTURE", "").lower()

