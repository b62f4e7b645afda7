"""Unit tests of the device forecast on recorded facts (stdlib unittest).

These machines have no GPU and no NVIDIA driver, so the forecast for a
machine WITH one is checked here, on facts recorded from real installs laid
out in a temporary root: ``/proc/driver/nvidia/version`` as the proprietary
and the open kernel modules write it, ``/dev/nvidia*``, an
``/etc/ld.so.cache`` in glibc's format naming ``libcuda.so.1``, WSL's
``/usr/lib/wsl/lib``, and the build files of real wheels (TensorFlow 2.21's
and 2.15's ``build_info.py``, torch 2.14.1's and 2.13.0+cpu's
``version.py``, jax's CUDA plugin distributions).  The ld.so.cache reader is
also held against ``ldconfig -p`` on this machine's real cache.

Runs on every CPython from 3.6 to 3.13 with ``python -m unittest``.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "python"))
sys.path.insert(0, HERE)

from kbackend import devices, discovery, problems, setting  # noqa: E402
from kbackend.errors import BackendLockedError, KBackendError  # noqa: E402
from fakes import Sandbox, environ, isolated_path, make_site  # noqa: E402

#: Recorded: /proc/driver/nvidia/version of the proprietary and the open kernel module.
PROC_VERSION = ("NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024\n"
                "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n")
PROC_VERSION_OPEN = ("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.133.07  Release Build  "
                     "(dvs-builder@U16-I3-B03-4-3)  Fri Mar 14 13:11:27 UTC 2025\nGCC version:  gcc version 13.3.0\n")
#: Recorded: tensorflow 2.21.0 (Linux x86_64 wheel) and tensorflow-cpu 2.15.1.
TF_GPU_BUILD_INFO = ("import collections\nbuild_info = collections.OrderedDict([('cpu_compiler', 'clang'), "
                     "('cuda_compute_capabilities', ['sm_60', 'sm_70', 'sm_80', 'sm_89', 'compute_90']), "
                     "('cuda_version', '12.5.1'), ('cudnn_version', '9'), ('is_cuda_build', True), "
                     "('is_rocm_build', False), ('is_tensorrt_build', False)])\n")
TF_CPU_BUILD_INFO = ("import collections\nbuild_info = collections.OrderedDict([('is_cuda_build', False), "
                     "('is_rocm_build', False), ('is_tensorrt_build', False)])\n")
#: Recorded: torch 2.14.1 (PyPI's default Linux wheel) and 2.13.0+cpu.
TORCH_CUDA_VERSION = ("from typing import Optional\n\n__all__ = ['__version__', 'debug', 'cuda', 'git_version', 'hip', "
                      "'rocm', 'xpu']\n__version__ = '2.14.1+cu130'\ndebug = False\ncuda: Optional[str] = '13.0'\n"
                      "git_version = '5c4886908584029761b579af026dcfb627c84070'\nhip: Optional[str] = None\n"
                      "rocm: Optional[str] = None\nxpu: Optional[str] = None\n")
TORCH_CPU_VERSION = TORCH_CUDA_VERSION.replace("2.14.1+cu130", "2.13.0+cpu").replace("'13.0'", "None")
#: Recorded: the head of keras 3.15.1's keras/src/backend/torch/core.py.
KERAS_TORCH_CORE = ('import os\n\nimport torch\n\n# Some operators such as "aten::_foreach_mul_.Scalar"\n'
                    'if "KERAS_TORCH_DEVICE" in os.environ:\n    DEFAULT_DEVICE = os.environ["KERAS_TORCH_DEVICE"]\n'
                    'elif torch.backends.mps.is_available():\n    DEFAULT_DEVICE = "mps"\nelif torch.cuda.is_available():\n'
                    '    DEFAULT_DEVICE = "cuda"\nelse:\n    DEFAULT_DEVICE = "cpu"\n')
#: Recorded: the CUDA 12 wheels jax[cuda12]==0.10.2 pulled (some of them).
JAX_CUDA12 = {"jax_cuda12_plugin": "0.10.2", "jax_cuda12_pjrt": "0.10.2", "nvidia_cuda_runtime_cu12": "12.9.79",
              "nvidia_cudnn_cu12": "9.28.0.42", "nvidia_cublas_cu12": "12.9.3.13"}
LINUX = {"platform": "linux", "machine": "x86_64"}


def ld_cache(entries):
    """An /etc/ld.so.cache in glibc's new format ("glibc-ld.so.cache1.1"):
    48-byte header, 24-byte entries (flags, key, value, osversion, hwcap),
    then the strings; offsets from the start of the file."""
    header, table = 48, 24 * len(entries)
    strings = b""
    rows = b""
    for soname, path, flags in entries:
        key = header + table + len(strings)
        strings += soname.encode() + b"\0"
        value = header + table + len(strings)
        strings += path.encode() + b"\0"
        rows += (flags.to_bytes(4, "little") + key.to_bytes(4, "little") + value.to_bytes(4, "little")
                 + (0).to_bytes(4, "little") + (0).to_bytes(8, "little"))
    head = (b"glibc-ld.so.cache1.1" + len(entries).to_bytes(4, "little") + len(strings).to_bytes(4, "little")
            + bytes([2, 0, 0, 0]) + (0).to_bytes(4, "little") + bytes(12))
    assert len(head) == header
    return head + rows + strings


class Machine(object):
    """A temporary root laid out like a Linux machine, and a site-packages."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="kbackend-devices-")
        self.site = os.path.join(self.root, "site-packages")
        os.makedirs(self.site)

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def write(self, path, text=b""):
        full = os.path.join(self.root, path.lstrip("/"))
        if not os.path.isdir(os.path.dirname(full)):
            os.makedirs(os.path.dirname(full))
        with open(full, "wb") as handle:
            handle.write(text.encode() if isinstance(text, str) else text)
        return full

    def driver(self, version="550.54.14", proc=None, cache=True, folder="/usr/lib/x86_64-linux-gnu"):
        self.write("/proc/driver/nvidia/version", proc or PROC_VERSION.replace("550.54.14", version))
        for node in ("nvidia0", "nvidiactl", "nvidia-uvm"):
            self.write("/dev/" + node)
        self.write("{}/libcuda.so.{}".format(folder, version), b"\x7fELF")
        os.symlink("libcuda.so.{}".format(version), os.path.join(self.root, folder.lstrip("/"), "libcuda.so.1"))
        if cache:
            self.write("/etc/ld.so.cache", ld_cache([("libcuda.so.1", folder + "/libcuda.so.1", 0x0303),
                                                     ("libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6", 0x0303)]))

    def dist(self, name, version):
        folder = os.path.join(self.site, "{}-{}.dist-info".format(name, version))
        if not os.path.isdir(folder):
            os.makedirs(folder)
        with open(os.path.join(folder, "METADATA"), "w") as handle:
            handle.write("Metadata-Version: 2.1\nName: {}\nVersion: {}\n\n".format(name, version))
        return folder

    def library(self, module, dist, version, files=None):
        init = os.path.join(self.site, module, "__init__.py")
        self.write(os.path.relpath(init, self.root))
        for relative, text in (files or {}).items():
            self.write(os.path.relpath(os.path.join(self.site, module, relative), self.root), text)
        return {"version": version, "path": init, "dist": self.dist(dist, version), "shadow": None}

    def libs(self, **chosen):
        none = {"version": None, "path": None, "dist": None, "shadow": None}
        result = {name: dict(none) for name in discovery.KNOWN_MODULES}
        result.update(chosen)
        return result


class DeviceTestCase(unittest.TestCase):
    def setUp(self):
        self.machine = Machine()
        discovery._CACHE["memo"].clear()

    def tearDown(self):
        self.machine.close()
        discovery._CACHE["memo"].clear()

    def tf(self, gpu=True):
        return self.machine.library("tensorflow", "tensorflow" if gpu else "tensorflow_cpu", "2.21.0",
                                    {"python/platform/build_info.py": TF_GPU_BUILD_INFO if gpu else TF_CPU_BUILD_INFO})

    def torch(self, gpu=True):
        return self.machine.library("torch", "torch", "2.14.1" if gpu else "2.13.0+cpu",
                                    {"version.py": TORCH_CUDA_VERSION if gpu else TORCH_CPU_VERSION})

    def jax(self, gpu=True):
        if gpu:
            for name, version in JAX_CUDA12.items():
                self.machine.dist(name, version)
        return self.machine.library("jax", "jax", "0.10.2"), self.machine.library("jaxlib", "jaxlib", "0.10.2")

    def keras(self):
        return self.machine.library("keras", "keras", "3.15.1", {"src/backend/torch/core.py": KERAS_TORCH_CORE})

    def forecast(self, backend="jax", environ=None, system=None, **libs):
        keras = self.keras()
        every = self.machine.libs(keras=keras, **libs)
        return devices.forecast(every, dict(environ or {}), backend, keras["path"], root=self.machine.root,
                                system=system or LINUX)

    def gpu_libs(self):
        jax, jaxlib = self.jax()
        return {"tensorflow": self.tf(), "torch": self.torch(), "jax": jax, "jaxlib": jaxlib}

    def problem_codes(self, result, backend, environ=None):
        record = {"backend": backend, "device": result["device"], "devices": result["devices"]}
        return [p["code"] for p in problems._device_problems(record, dict(environ or {}))]


class LdCache(unittest.TestCase):
    def test_fake_cache_round_trip(self):
        data = ld_cache([("libcuda.so.1", "/usr/lib/i386-linux-gnu/libcuda.so.1", 0x0003),
                         ("libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1", 0x0303)])
        self.assertEqual(devices.parse_ld_cache(data, ("libcuda.so.1",), "x86_64"),
                         {"libcuda.so.1": "/usr/lib/x86_64-linux-gnu/libcuda.so.1"})
        self.assertEqual(devices.parse_ld_cache(data, ("libcudart.so.12",), "x86_64"), {})
        self.assertEqual(devices.parse_ld_cache(b"garbage", ("libcuda.so.1",), "x86_64"), {})
        self.assertEqual(devices.parse_ld_cache(data[:60], ("libcuda.so.1",), "x86_64"), {})

    def test_old_format_prefix(self):
        data = b"ld.so-1.7.0" + bytes(13) + ld_cache([("libcuda.so.1", "/opt/nv/libcuda.so.1", 0x0303)])
        self.assertEqual(devices.parse_ld_cache(data, ("libcuda.so.1",), "x86_64"),
                         {"libcuda.so.1": "/opt/nv/libcuda.so.1"})

    @unittest.skipUnless(os.path.exists("/etc/ld.so.cache") and shutil.which("ldconfig") and
                         os.uname().machine == "x86_64", "needs glibc's ldconfig and its cache (x86_64)")
    def test_real_cache_agrees_with_ldconfig(self):
        """ldconfig -p is glibc's own reading of the cache: the first x86-64
        path of every name must be ours."""
        listing = subprocess.check_output(["ldconfig", "-p"], universal_newlines=True)
        expected = {}
        for soname, flags, path in re.findall(r"^\s*(\S+) \(([^)]*)\) => (\S+)$", listing, re.M):
            if "x86-64" in flags and "hwcap" not in flags:
                expected.setdefault(soname, path)
        self.assertGreater(len(expected), 20)
        with open("/etc/ld.so.cache", "rb") as handle:
            data = handle.read()
        self.assertEqual(devices.parse_ld_cache(data, tuple(expected), "x86_64"), expected)


class DriverFacts(DeviceTestCase):
    def test_no_driver(self):
        facts = devices.driver_facts(self.machine.root, "", LINUX)
        self.assertEqual((facts["nvidia"], facts["library"], facts["version"], facts["device_nodes"]),
                         (False, None, None, []))

    def test_driver_through_the_cache(self):
        self.machine.driver()
        facts = devices.driver_facts(self.machine.root, "", LINUX)
        self.assertEqual(facts["library"], "/usr/lib/x86_64-linux-gnu/libcuda.so.1")
        self.assertEqual(facts["found_by"], "/etc/ld.so.cache")
        self.assertEqual(facts["version"], "550.54.14")
        self.assertEqual(facts["device_nodes"], ["/dev/nvidia-uvm", "/dev/nvidia0", "/dev/nvidiactl"])
        self.assertTrue(facts["nvidia"])

    def test_open_kernel_module_version(self):
        self.machine.driver(version="570.133.07", proc=PROC_VERSION_OPEN)
        self.assertEqual(devices.driver_facts(self.machine.root, "", LINUX)["version"], "570.133.07")

    def test_version_from_library_name_without_proc(self):
        self.machine.driver(version="535.183.01")
        os.remove(os.path.join(self.machine.root, "proc/driver/nvidia/version"))
        facts = devices.driver_facts(self.machine.root, "", LINUX)
        self.assertEqual((facts["version"], facts["version_source"]), ("535.183.01", "libcuda.so.535.183.01"))

    def test_library_outside_the_cache_needs_ld_library_path(self):
        self.machine.driver(cache=False, folder="/opt/nvidia/lib")
        self.assertFalse(devices.driver_facts(self.machine.root, "", LINUX)["nvidia"])
        facts = devices.driver_facts(self.machine.root, "/nowhere:/opt/nvidia/lib", LINUX)
        self.assertEqual((facts["library"], facts["found_by"]), ("/opt/nvidia/lib/libcuda.so.1", "LD_LIBRARY_PATH"))

    def test_default_folder(self):
        self.machine.driver(cache=False, folder="/usr/lib")
        self.assertEqual(devices.driver_facts(self.machine.root, "", LINUX)["found_by"], "default folder")

    def test_wsl_library_off_the_loader_path(self):
        self.machine.write("/usr/lib/wsl/lib/libcuda.so.1", b"\x7fELF")
        self.machine.write("/dev/dxg")
        facts = devices.driver_facts(self.machine.root, "", LINUX)
        self.assertFalse(facts["nvidia"])
        self.assertTrue(facts["wsl"])
        self.assertIn("/usr/lib/wsl/lib/libcuda.so.1 exists but the loader does not search", facts["note"])
        self.machine.write("/etc/ld.so.cache", ld_cache([("libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1", 0x0303)]))
        facts = devices.driver_facts(self.machine.root, "", LINUX)
        self.assertEqual((facts["nvidia"], facts["note"]), (True, None))

    def test_macos(self):
        facts = devices.driver_facts(self.machine.root, "", {"platform": "darwin", "machine": "arm64",
                                                              "mac_version": "14.4.1"})
        self.assertEqual((facts["nvidia"], facts["macos_version"]), (False, "14.4.1"))


class Builds(DeviceTestCase):
    def test_gpu_builds(self):
        result = self.forecast(**self.gpu_libs())["devices"]
        self.assertEqual(result["tensorflow"]["build"]["kind"], "cuda")
        self.assertEqual((result["tensorflow"]["build"]["cuda_version"], result["tensorflow"]["build"]["cudnn_version"]),
                         ("12.5.1", "9"))
        self.assertEqual((result["torch"]["build"]["kind"], result["torch"]["build"]["cuda"]), ("cuda", "13.0"))
        jax = result["jax"]["build"]
        self.assertEqual((jax["kind"], jax["cuda_version"]), ("cuda", "12"))
        self.assertEqual(sorted(jax["plugins"]), ["jax_cuda12_pjrt", "jax_cuda12_plugin"])
        self.assertEqual(jax["nvidia_wheels"]["nvidia_cuda_runtime_cu12"], "12.9.79")

    def test_cpu_builds(self):
        jax, jaxlib = self.jax(gpu=False)
        result = self.forecast(tensorflow=self.tf(gpu=False), torch=self.torch(gpu=False), jax=jax, jaxlib=jaxlib)
        for name in ("tensorflow", "torch", "jax"):
            self.assertEqual(result["devices"][name]["build"]["kind"], "cpu", name)
            self.assertEqual(result["devices"][name]["device"], "cpu", name)
        self.assertEqual(result["devices"]["torch"]["build"]["local"], "cpu")

    def test_old_cuda_jaxlib(self):
        jaxlib = self.machine.library("jaxlib", "jaxlib", "0.4.13+cuda12.cudnn89")
        jax = self.machine.library("jax", "jax", "0.4.13")
        build = self.forecast(jax=jax, jaxlib=jaxlib)["devices"]["jax"]["build"]
        self.assertEqual((build["kind"], build["cuda_version"]), ("cuda", "12"))

    def test_tensorflow_1_15_layout(self):
        lib = self.machine.library("tensorflow", "tensorflow", "1.15.5")
        self.machine.write(os.path.join(os.path.relpath(self.machine.site, self.machine.root),
                                        "tensorflow_core/python/platform/build_info.py"),
                           "is_rocm_build = False\nis_cuda_build = True\ncuda_version_number = '10.0'\n")
        build = self.forecast("tensorflow", tensorflow=lib)["devices"]["tensorflow"]["build"]
        self.assertEqual((build["kind"], build["cuda_version"]), ("cuda", "10.0"))


class Forecast(DeviceTestCase):
    def test_no_driver(self):
        result = self.forecast(**self.gpu_libs())
        for name in ("tensorflow", "jax", "torch"):
            entry = result["devices"][name]
            self.assertEqual(entry["device"], "cpu")
            self.assertTrue(entry["reason"].startswith("no NVIDIA driver"), entry["reason"])
        self.assertEqual(result["devices"]["jax"]["warning"],
                         "Jax plugin configuration error: Exception when calling jax_plugins.xla_cuda12.initialize()")
        self.assertIsNone(result["devices"]["torch"]["warning"])
        self.assertIs(result["device"], result["devices"]["jax"])
        self.assertEqual(self.problem_codes(result, "jax"), ["gpu-build-without-driver"])

    def test_container_without_gpu(self):
        result = self.forecast("torch", {"NVIDIA_VISIBLE_DEVICES": "void"}, **self.gpu_libs())
        self.assertTrue(result["device"]["reason"].endswith(
            "(NVIDIA_VISIBLE_DEVICES='void': the container runtime passed no GPU in)"), result["device"]["reason"])
        self.assertEqual(result["device"]["variables"]["NVIDIA_VISIBLE_DEVICES"]["read_by"],
                         devices.READERS["NVIDIA_VISIBLE_DEVICES"])

    def test_driver_present(self):
        self.machine.driver(version="580.82.07")
        result = self.forecast(**self.gpu_libs())
        for name in ("tensorflow", "jax", "torch"):
            self.assertEqual(result["devices"][name]["device"], "cuda", result["devices"][name]["reason"])
        self.assertIn("NVIDIA driver 580.82.07", result["devices"]["torch"]["reason"])
        self.assertEqual(self.problem_codes(result, "jax"), ["gpu-memory-contention"])

    def test_memory_contention_stopped_by_variables(self):
        self.machine.driver(version="580.82.07")
        environ = {"TF_FORCE_GPU_ALLOW_GROWTH": "true", "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
        result = self.forecast("tensorflow", environ, **self.gpu_libs())
        self.assertEqual(self.problem_codes(result, "tensorflow", environ), [])
        result = self.forecast("tensorflow", {"TF_FORCE_GPU_ALLOW_GROWTH": "true"}, **self.gpu_libs())
        self.assertEqual(self.problem_codes(result, "tensorflow", {"TF_FORCE_GPU_ALLOW_GROWTH": "true"}),
                         ["gpu-memory-contention"])  # jax still takes 75%

    def test_driver_older_than_cuda(self):
        self.machine.driver(version="550.54.14")  # runs CUDA 12, not CUDA 13 (needs 580.65.06)
        result = self.forecast("torch", **self.gpu_libs())
        self.assertEqual(result["devices"]["torch"]["device"], "cpu")
        self.assertEqual(result["devices"]["torch"]["reason"],
                         "NVIDIA driver 550.54.14 is older than CUDA 13.0 needs (580.65.06 or newer)")
        self.assertEqual(result["devices"]["jax"]["device"], "cuda")
        self.assertIn("driver-older-than-cuda", self.problem_codes(result, "torch"))

    def test_hidden_by_cuda_visible_devices(self):
        self.machine.driver(version="580.82.07")
        for value, hidden in (("", True), ("-1", True), ("none", True), ("0", False), ("1,0", False),
                              ("GPU-8f6c8a2e-1c4b-4a3d-9f0e-0123456789ab", False), ("-1,0", True)):
            discovery._CACHE["memo"].clear()
            environ = {"CUDA_VISIBLE_DEVICES": value}
            result = self.forecast("tensorflow", environ, **self.gpu_libs())
            entry = result["devices"]["tensorflow"]
            self.assertEqual(entry["device"], "cpu" if hidden else "cuda", value)
            self.assertEqual(entry["variables"]["CUDA_VISIBLE_DEVICES"]["value"], value)
            if hidden:
                self.assertEqual(entry["reason"], "CUDA_VISIBLE_DEVICES={!r} hides every GPU".format(value))
                self.assertIn("devices-hidden-by-variable", self.problem_codes(result, "tensorflow", environ))

    def test_jax_platforms(self):
        self.machine.driver(version="580.82.07")
        for variable in ("JAX_PLATFORMS", "JAX_PLATFORM_NAME"):
            discovery._CACHE["memo"].clear()
            result = self.forecast("jax", {variable: "cpu"}, **self.gpu_libs())
            self.assertEqual(result["device"]["device"], "cpu")
            self.assertEqual(result["device"]["reason"], "{}='cpu' limits jax to the CPU".format(variable))
            self.assertEqual(result["devices"]["torch"]["device"], "cuda")  # jax's variable only
            self.assertIn("devices-hidden-by-variable", self.problem_codes(result, "jax", {variable: "cpu"}))
        result = self.forecast("jax", {"JAX_PLATFORMS": "cuda,cpu"}, **self.gpu_libs())
        self.assertEqual(result["device"]["device"], "cuda")

    def test_keras_torch_device(self):
        self.machine.driver(version="580.82.07")
        result = self.forecast("torch", {"KERAS_TORCH_DEVICE": "cpu"}, **self.gpu_libs())
        self.assertEqual(result["device"]["device"], "cpu")
        self.assertEqual(result["device"]["reason"], "KERAS_TORCH_DEVICE='cpu' picks the device (Keras reads it)")
        discovery._CACHE["memo"].clear()
        result = self.forecast("torch", {"KERAS_TORCH_DEVICE": "cuda:1"}, **self.gpu_libs())
        self.assertEqual(result["device"]["device"], "cuda")

    def test_cpu_only_build_with_a_driver(self):
        self.machine.driver(version="580.82.07")
        jax, jaxlib = self.jax(gpu=False)
        result = self.forecast("jax", jax=jax, jaxlib=jaxlib, torch=self.torch(gpu=False))
        self.assertEqual(result["device"]["device"], "cpu")
        self.assertEqual(result["device"]["warning"], devices.JAX_CPU_WITH_DRIVER)
        self.assertEqual(self.problem_codes(result, "jax"), ["cpu-only-build"])
        self.assertEqual(self.problem_codes(result, "torch"), ["cpu-only-build"])

    def test_cpu_only_build_without_a_driver_is_no_problem(self):
        jax, jaxlib = self.jax(gpu=False)
        result = self.forecast("jax", jax=jax, jaxlib=jaxlib)
        self.assertIsNone(result["device"]["warning"])
        self.assertEqual(self.problem_codes(result, "jax"), [])

    def test_numpy_and_missing_backend(self):
        numpy = self.machine.library("numpy", "numpy", "2.4.6")
        result = self.forecast("numpy", numpy=numpy)
        self.assertEqual(result["device"]["device"], "cpu")
        self.assertIsNone(self.forecast("theano", numpy=numpy)["device"])

    def test_apple(self):
        mac = {"platform": "darwin", "machine": "arm64", "mac_version": "14.4.1"}
        result = self.forecast("torch", system=mac, torch=self.torch(gpu=False))
        self.assertEqual(result["device"]["device"], "mps")
        discovery._CACHE["memo"].clear()
        result = self.forecast("torch", system=dict(mac, machine="x86_64"), torch=self.torch(gpu=False))
        self.assertEqual(result["device"]["device"], "cpu")

    def test_backend_of_any_type(self):
        """keras.json can name a backend with any JSON value (a list, a number)."""
        numpy = self.machine.library("numpy", "numpy", "2.4.6")
        for backend in (["jax"], {"a": 1}, 3, None):
            self.assertIsNone(self.forecast(backend, numpy=numpy)["device"])

    def test_warm_call_is_cached(self):
        libs = self.gpu_libs()
        first = self.forecast(**libs)
        self.assertIs(self.forecast(**libs)["device"], first["device"])


class VerifiedDevice(unittest.TestCase):
    """The names real backends list (recorded from tf.config, jax.devices(),
    kbackend's torch listing) as a device kind."""

    def test_observed_kind(self):
        cases = [("tensorflow", ["/physical_device:CPU:0"], "cpu"),
                 ("tensorflow", ["/physical_device:CPU:0", "/physical_device:GPU:0"], "cuda"),
                 ("jax", ["CpuDevice(id=0)"], "cpu"), ("jax", ["TFRT_CPU_0"], "cpu"),
                 ("jax", ["CudaDevice(id=0)", "CudaDevice(id=1)"], "cuda"), ("jax", ["cuda:0"], "cuda"),
                 ("torch", ["cpu"], "cpu"), ("torch", ["cpu", "cuda:0"], "cuda"), ("torch", ["cpu", "mps"], "mps"),
                 ("numpy", ["cpu"], None), ("jax", None, None)]
        for backend, names, kind in cases:
            self.assertEqual(devices.observed_kind(backend, names), kind, (backend, names))

    def test_compare(self):
        self.assertEqual(devices.compare({"device": "cpu"}, {"status": "ok", "backend": "jax", "agrees": True,
                                                             "devices": ["CpuDevice(id=0)"]}),
                         {"device": "cpu", "device_agrees": True})
        self.assertEqual(devices.compare({"device": "cuda"}, {"status": "ok", "backend": "jax", "agrees": True,
                                                              "devices": ["CpuDevice(id=0)"]}),
                         {"device": "cpu", "device_agrees": False, "agrees": False})
        self.assertEqual(devices.compare(None, {"status": "ok", "backend": "theano", "devices": ["cpu"]}),
                         {"device": None, "device_agrees": None})


class ChooseDevice(unittest.TestCase):
    """use_keras_backend(name, device=...) on fake installs (this machine's
    own /proc, /dev and ld.so.cache: no driver here)."""

    def installed(self, **env):
        box = Sandbox().__enter__()
        self.addCleanup(box.__exit__, None, None, None)
        make_site(box.site, {"keras": "3.15.1", "jax": "0.10.2", "jaxlib": "0.10.2", "torch": "2.14.1", "numpy": "2.4.6",
                                 "scipy": "1.17.1"})
        with open(os.path.join(box.site, "torch", "version.py"), "w") as handle:
            handle.write(TORCH_CUDA_VERSION)
        os.makedirs(os.path.join(box.site, "keras", "src", "backend", "torch"))
        with open(os.path.join(box.site, "keras", "src", "backend", "torch", "core.py"), "w") as handle:
            handle.write(KERAS_TORCH_CORE)
        for context in (isolated_path(box.site), environ(HOME=box.home, **env)):
            context.__enter__()
            self.addCleanup(context.__exit__, None, None, None)
        discovery._CACHE["key"] = None
        return box

    def test_cpu_sets_what_the_backend_reads(self):
        self.installed()
        setting.use_keras_backend("jax", device="cpu")
        self.assertEqual((os.environ["KERAS_BACKEND"], os.environ["JAX_PLATFORMS"]), ("jax", "cpu"))
        setting.use_keras_backend("torch", device="cpu")
        self.assertEqual(os.environ["KERAS_TORCH_DEVICE"], "cpu")  # the variable the installed Keras reads
        setting.use_keras_backend("numpy", device="cpu")
        self.assertEqual(os.environ["KERAS_BACKEND"], "numpy")

    def test_gpu_refused_on_a_cpu_only_build(self):
        self.installed(JAX_PLATFORMS="cpu")
        with self.assertRaises(KBackendError) as caught:
            setting.use_keras_backend("jax", device="gpu")
        self.assertIn("jax without a GPU plugin", str(caught.exception))
        self.assertNotIn("KERAS_BACKEND", os.environ)  # nothing changed
        self.assertEqual(os.environ["JAX_PLATFORMS"], "cpu")
        with self.assertRaises(KBackendError):
            setting.use_keras_backend("numpy", device="gpu")
        with self.assertRaises(KBackendError):
            setting.use_keras_backend("jax", device="tpu")

    @unittest.skipIf(os.path.exists("/proc/driver/nvidia/version"), "this machine has an NVIDIA driver")
    def test_gpu_refused_without_a_driver(self):
        self.installed()
        with self.assertRaises(KBackendError) as caught:
            setting.use_keras_backend("torch", device="gpu")
        self.assertIn("no NVIDIA driver", str(caught.exception))
        self.assertNotIn("KERAS_BACKEND", os.environ)

    def test_refused_once_the_library_is_imported(self):
        self.installed()
        sys.modules["jax"] = type(sys)("jax")
        self.addCleanup(sys.modules.pop, "jax", None)
        with self.assertRaises(BackendLockedError):
            setting.use_keras_backend("jax", device="cpu")
        self.assertNotIn("JAX_PLATFORMS", os.environ)

    def test_numpy_loaded_does_not_lock_the_numpy_backend(self):
        # reticulate loads numpy in most R sessions; the numpy backend has no
        # device variable for that import to have fixed
        self.installed()
        sys.modules["numpy"] = type(sys)("numpy")
        self.addCleanup(sys.modules.pop, "numpy", None)
        setting.use_keras_backend("numpy", device="cpu")
        self.assertEqual(os.environ["KERAS_BACKEND"], "numpy")
        with self.assertRaises(KBackendError):
            setting.use_keras_backend("numpy", device="gpu")


if __name__ == "__main__":
    unittest.main()
