"""Unit tests of the backend start-up checks on fake library sources (stdlib unittest).

These run on every CPython from 3.6 to 3.13 with ``python -m unittest`` (no
third-party packages), and under pytest in the main environment.  Each fake
library is a small runnable copy of the real library's start-up code (JAX's
flag definitions, torch's TORCH_LOGS parser, Theano's config parser,
TensorFlow's plug-in loader, CNTK's distribution check).  The expected
answer is what a real interpreter raises when it runs that fake with the
same variables; kbackend only reads the text.
"""

import json
import os
import subprocess
import sys
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "python"))
sys.path.insert(0, HERE)

import kbackend  # noqa: E402
from kbackend import discovery, startup, startup_theano  # noqa: E402
from fakes import Sandbox, environ, isolated_path, make_site  # noqa: E402

JAX_CONFIG = '''
import enum
import os

def bool_env(varname, default):
  val = os.getenv(varname, str(default))
  val = val.lower()
  if val in ('y', 'yes', 't', 'true', 'on', '1'):
    return True
  elif val in ('n', 'no', 'f', 'false', 'off', '0'):
    return False
  else:
    raise ValueError(f"invalid truth value {val!r} for environment {varname!r}")

def int_env(varname, default):
  return int(os.getenv(varname, str(default)))

def bool_state(name, default, help='', **kwargs):
  return bool_env(name.upper(), default)

def enum_state(name, enum_values, default, help='', **kwargs):
  name = name.lower()
  default = os.getenv(name.upper(), default)
  if default not in enum_values:
    raise ValueError(f"Invalid value \\"{default}\\" for JAX flag {name}")

def optional_enum_state(name, enum_values, default, help='', **kwargs):
  name = name.lower()
  default = os.getenv(name.upper(), default)
  if default is not None and default not in enum_values:
    raise ValueError(f"Invalid value \\"{default}\\" for JAX flag {name}")

def enum_class_state(name, enum_class, default, help='', **kwargs):
  name = name.lower()
  default_str = os.getenv(name.upper(), None)
  if default_str is not None:
    try:
      default = enum_class(default_str)
    except ValueError as e:
      raise ValueError(f"Invalid value \\"{default_str}\\" for JAX flag {name}") from e

def int_state(name, default, help='', **kwargs):
  name = name.lower()
  default_env = os.getenv(name.upper())
  if default_env is not None:
    try:
      default = int(default_env)
    except ValueError:
      raise ValueError(f"Invalid value \\"{default_env}\\" for JAX flag {name}")

def float_state(name, default, help='', **kwargs):
  name = name.lower()
  default_env = os.getenv(name.upper())
  if default_env is not None:
    try:
      default = float(default_env)
    except ValueError:
      raise ValueError(f"Invalid value \\"{default_env}\\" for JAX flag {name}")

def optional_string_state(name, default, help='', **kwargs):
  return os.getenv(name.upper(), default)

class LegacyPrngKeyState(enum.Enum):
  ALLOW = 'allow'
  WARN = 'warn'
  ERROR = 'error'

serialization = bool_state(
    name='jax2tf_default_native_serialization',
    default=bool_env('JAX2TF_DEFAULT_NATIVE_SERIALIZATION', True),
    help='...')
version = int_state('jax_serialization_version', int_env('JAX_SERIALIZATION_VERSION', 0), 'x')
platforms = optional_string_state(name='jax_platforms', default=None, help='platforms')
legacy = enum_class_state(name='jax_legacy_prng_key', enum_class=LegacyPrngKeyState,
                          default=LegacyPrngKeyState.ALLOW, help='...')
prng = enum_state(
    name='jax_default_prng_impl',
    enum_values=['threefry2x32', 'rbg', 'unsafe_rbg'],
    default='threefry2x32',
    help='...')
min_time = float_state(name='jax_persistent_cache_min_compile_time_secs', default=1.0, help='...')
enable_x64 = bool_state(name='jax_enable_x64', default=False, help='Enable 64-bit types to be used')
precision = optional_enum_state(name='jax_default_matmul_precision', enum_values=['bfloat16', 'float32'],
                                default=None, help='...')
'''

JAX_OTHER = '''
import os

def int_state(name, default, help='', **kwargs):
  name = name.lower()
  default_env = os.getenv(name.upper())
  if default_env is not None:
    try:
      default = int(default_env)
    except ValueError:
      raise ValueError(f"Invalid value \\"{default_env}\\" for JAX flag {name}")

num_cpu_devices = int_state(name="jax_num_cpu_devices", default=-1, help="...")
'''

#: A helper of jax's own tests: ``import jax`` never runs it.
JAX_TEST_UTIL = '''
import os
def bool_env(varname, default):
  raise ValueError(varname)
skip = bool_env('JAX_SKIP_SLOW_TESTS', False)
'''

TORCH_INTERNAL = '''
import importlib.util
import os
import re

LOG_ENV_VAR = "TORCH_LOGS"
aliases = {}
artifacts = {}

def register_log(setting_name, log_name):
    aliases[setting_name] = log_name

def register_artifact(setting_name, description, visible=False, off_by_default=False, log_format=None):
    artifacts[setting_name] = (description, visible)

def _gen_settings_regex():
    return re.compile(r"((\\+|-)?[\\w\\.]+,\\s*)*(\\+|-)?[\\w\\.]+?")

def _validate_settings(settings):
    return re.fullmatch(_gen_settings_regex(), settings) is not None

def help_message(verbose=False):
    def pad_to(s, length=30):
        return s + " " * (length - len(s))

    if verbose:
        printed_artifacts = artifacts
    else:
        printed_artifacts = [name for name in artifacts if artifacts[name][1]]
    if verbose:
        heading = "All registered names"
    else:
        heading = "Visible registered names (use TORCH_LOGS='+help' for full list)"
    lines = (
        ["all"]
        + sorted(aliases.keys())
        + sorted(
            [
                f"{pad_to(name)}\\t{artifacts[name][0]}"
                for name in printed_artifacts
            ]
        )
    )
    setting_info = "  " + "\\n  ".join(lines)
    examples = """
Examples:
  TORCH_LOGS="+dynamo,aot" will set the log level of TorchDynamo to
  logging.DEBUG and AOT to logging.INFO
"""
    msg = f"""
TORCH_LOGS Info
{examples}

{heading}
{setting_info}
"""
    return msg

def _invalid_settings_err_msg(settings, verbose=False):
    valid_settings = (
        ["all"]
        + list(aliases.keys())
        + list(artifacts.keys())
    )
    valid_settings = ", ".join(sorted(valid_settings))
    msg = f"""
Invalid log settings: {settings}, must be a comma separated list of fully
qualified module names, registered log names or registered artifact names.
For more info on various settings, try TORCH_LOGS="help"
Valid settings:
{valid_settings}
"""
    return msg

def _parse_log_settings(settings):
    if settings == "":
        return {}
    if settings == "help":
        raise ValueError(help_message(verbose=False))
    elif settings == "+help":
        raise ValueError(help_message(verbose=True))
    if not _validate_settings(settings):
        raise ValueError(_invalid_settings_err_msg(settings))
    settings = re.sub(r"\\s+", "", settings)
    for name in settings.split(","):
        name = name.replace("+", "").replace("-", "")
        if name == "all" or name in aliases or name in artifacts:
            continue
        if importlib.util.find_spec(name) is None:
            raise ValueError(_invalid_settings_err_msg(settings))

def _init_logs():
    setting = os.environ.get(LOG_ENV_VAR, None)
    if setting is not None:
        _parse_log_settings(setting)
'''

TORCH_REGISTRATIONS = '''
from _internal import register_artifact, register_log

DYNAMIC = ["torch.fx.experimental.symbolic_shapes"]
register_log("dynamo", ["torch._dynamo", *DYNAMIC])
register_log("aot", ["torch._functorch.aot_autograd"])
register_artifact(
    "guards",
    "This prints the guards for every compiled Dynamo frame.",
    visible=True,
)
register_artifact("graph_code", "Like `graph`, but gives you the Python code instead.")
register_artifact("perf_hints", "", off_by_default=True)
'''

THEANO_CONFIGPARSER = '''
import os
import shlex

THEANO_FLAGS = os.getenv("THEANO_FLAGS", "")

def parse_config_string(config_string, issue_warnings=True):
    config_dict = {}
    my_splitter = shlex.shlex(config_string, posix=True)
    my_splitter.whitespace = ','
    my_splitter.whitespace_split = True
    for kv_pair in my_splitter:
        kv_pair = kv_pair.strip()
        if not kv_pair:
            continue
        kv_tuple = kv_pair.split('=', 1)
        if len(kv_tuple) == 2:
            k, v = kv_tuple
            config_dict[k] = v
    return config_dict

THEANO_FLAGS_DICT = parse_config_string(THEANO_FLAGS, issue_warnings=True)


def AddConfigVar(name, doc, configparam, in_c_key=True):
    configparam.fullname = name
    if name in THEANO_FLAGS_DICT:
        configparam.filter(THEANO_FLAGS_DICT[name])


class ConfigParam(object):
    def __init__(self, default, filter=None, allow_override=True):
        self.default = default
        self.filter = filter


class EnumStr(ConfigParam):
    def __init__(self, default, *options, **kwargs):
        self.default = default
        self.all = (default,) + options
        convert = kwargs.get("convert", None)

        def filter(val):
            if convert:
                val = convert(val)
            if val in self.all:
                return val
            else:
                raise ValueError((
                    'Invalid value ("%s") for configuration variable "%s". '
                    'Valid options are %s'
                    % (val, self.fullname, self.all)))
        super(EnumStr, self).__init__(default, filter)


class TypedParam(ConfigParam):
    def __init__(self, default, mytype, is_valid=None, allow_override=True):
        def filter(val):
            cast_val = mytype(val)
            if callable(is_valid):
                if is_valid(cast_val):
                    return cast_val
                else:
                    raise ValueError(
                        'Invalid value (%s) for configuration variable '
                        '"%s".'
                        % (val, self.fullname), val)
            return cast_val
        super(TypedParam, self).__init__(default, filter)


def IntParam(default, is_valid=None, allow_override=True):
    return TypedParam(default, int, is_valid, allow_override=allow_override)


def BoolParam(default, is_valid=None, allow_override=True):
    def booltype(s):
        if s in ['False', 'false', '0', False]:
            return False
        elif s in ['True', 'true', '1', True]:
            return True

    def is_valid_bool(s):
        return s in ['False', 'false', '0', 'True', 'true', '1', False, True]

    if is_valid is None:
        is_valid = is_valid_bool
    return TypedParam(default, booltype, is_valid, allow_override=allow_override)
'''

THEANO_CONFIGDEFAULTS = '''
from configparser_fake import AddConfigVar, BoolParam, ConfigParam, EnumStr, IntParam


def floatX_convert(s):
    if s == "32":
        return "float32"
    elif s == "64":
        return "float64"
    elif s == "16":
        return "float16"
    else:
        return s

AddConfigVar('floatX',
             "Default floating-point precision for python casts.",
             EnumStr('float64', 'float32', 'float16',
                     convert=floatX_convert,),
             in_c_key=True
             )


class DeviceParam(ConfigParam):
    def __init__(self, default, *options, **kwargs):
        self.default = default

        def filter(val):
            if (val == self.default or
                val.startswith('opencl') or
                    val.startswith('cuda')):
                return val
            elif val.startswith('gpu'):
                raise ValueError(
                    'You are tring to use the old GPU back-end. '
                    'It was removed from Theano. Use device=cuda* now. '
                    'See https://github.com/Theano/Theano/wiki/Converting-to-the-new-gpu-back-end%28gpuarray%29 '
                    'for more information.')
            else:
                raise ValueError(('Invalid value ("%s") for configuration '
                                  'variable "%s". Valid options start with '
                                  'one of "cpu", "opencl" or "cuda".'
                                  % (val, self.fullname)))
        super(DeviceParam, self).__init__(default, filter)

AddConfigVar(
    'device',
    "Default device for computations.",
    DeviceParam('cpu', allow_override=False),
    in_c_key=False)

AddConfigVar('print_active_device', "Print active device.", BoolParam(True, allow_override=False), in_c_key=False)
AddConfigVar('openmp_elemwise_minsize', "Minimum size.", IntParam(200000), in_c_key=False)
'''

TF_LOAD_LIBRARY = '''
import errno
import os


def load_pluggable_device_library(library_location):
  if os.path.exists(library_location):
    pass
  else:
    raise OSError(
        errno.ENOENT,
        'The file or folder to load pluggable device libraries from does not '
        'exist.', library_location)
'''

TF_INIT = '''
import os as _os
from tensorflow.python.framework import load_library as _ll

if (_os.getenv("TF_USE_MODULAR_FILESYSTEM", "0") == "true" or
    _os.getenv("TF_USE_MODULAR_FILESYSTEM", "0") == "1"):
  import tensorflow_io_gcs_filesystem as _tensorflow_io_gcs_filesystem

if _os.getenv("TF_PLUGGABLE_DEVICE_LIBRARY_PATH", ""):
  _ll.load_pluggable_device_library(
      _os.getenv("TF_PLUGGABLE_DEVICE_LIBRARY_PATH")
  )
'''

CNTK_INIT = '''
import linecache
import platform
import warnings


def cntk_check_distro_info():
    __OS_RELEASE_FILE__ = '/etc/os-release'
    __LSB_RELEASE_FILE__ = '/etc/lsb-release'
    __my_distro__ = linecache.getline(__OS_RELEASE_FILE__, 3)[3:-1]
    __my_distro_ver__ = linecache.getline(__OS_RELEASE_FILE__, 6)[12:-2]
    if not __my_distro__:
        __my_distro__ = linecache.getline(__LSB_RELEASE_FILE__, 1)[11:-1]
        __my_distro_ver__ = linecache.getline(__LSB_RELEASE_FILE__, 2)[16:-1]
    __my_distro__ = __my_distro__.lower()
    __my_distro_ver__ = __my_distro_ver__.lower()
    if __my_distro__ != 'ubuntu' or __my_distro_ver__ != '16.04':
        warnings.warn('Unsupported Linux distribution (%s-%s). CNTK supports Ubuntu 16.04 and above, only.' % (__my_distro__, __my_distro_ver__))
'''

#: Theano's filter_compiledir, as in theano/configdefaults.py.
FILTER_COMPILEDIR = '''
import errno, os
def filter_compiledir(path):
    path = os.path.expanduser(path)
    path = os.path.realpath(path)
    if os.access(path, os.F_OK):  # Do it exist?
        if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
            raise ValueError(
                "compiledir '%s' exists but you don't have read, write"
                " or listing permissions." % path)
    else:
        try:
            os.makedirs(path, 0o770)  # read-write-execute for user and group
        except OSError as e:
            if e.errno != errno.EEXIST:
                raise ValueError(
                    "Unable to create the compiledir directory"
                    " '%s'. Check the permissions." % path)
'''

#: Theano's short_platform, as in theano/configdefaults.py (docstring left out).
SHORT_PLATFORM = '''
def short_platform(r=None, p=None):
    import platform
    if r is None:
        r = platform.release()
    if p is None:
        p = platform.platform()
    sp = r.split('-')
    if len(sp) < 2:
        return p

    # For the split before the first -, we remove all learning digit:
    kernel_version = sp[0].split('.')
    if len(kernel_version) <= 2:
        # kernel version should always have at least 3 number.
        # If not, it use another semantic, so don't change it.
        return p
    sp[0] = '.'.join(kernel_version[:2])

    # For the split after the first -, we remove leading non-digit value.
    rest = sp[1].split('.')
    while len(rest):
        if rest[0].isdigit():
            del rest[0]
        else:
            break
    sp[1] = '.'.join(rest)

    # For sp[2:], we don't change anything.
    sr = '-'.join(sp)
    p = p.replace(r, sr)

    return p
'''

#: Runs a fake library's start-up in a fresh interpreter; prints its exception as kbackend reports one.
RUNNER = '''
import json, sys
try:
    exec(sys.argv[1])
    print(json.dumps(None))
except BaseException as exc:
    print(json.dumps("{}: {}".format(type(exc).__name__, exc) if str(exc) else type(exc).__name__))
'''


def write(path, text):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory)
    with open(path, "w") as handle:
        handle.write(textwrap.dedent(text))


def real(code, env, cwd=None, path=()):
    """What a real interpreter raises running ``code`` (None: nothing)."""
    full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    full.update(env)
    if path:
        full["PYTHONPATH"] = os.pathsep.join(path)
    done = subprocess.run([sys.executable, "-c", RUNNER, code], env=full, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


class Libraries(unittest.TestCase):
    """A fake site with each library's start-up sources."""

    def setUp(self):
        self.box = Sandbox().__enter__()
        self.addCleanup(self.box.__exit__, None, None, None)
        site = self.box.site
        make_site(site, {"keras": "3.15.1", "jax": "0.10.2", "jaxlib": "0.10.2", "torch": "2.13.0",
                         "tensorflow": "2.21.0", "numpy": "2.4.0", "theano": "1.0.5", "cntk": "2.7"})
        write(os.path.join(site, "jax", "_src", "config.py"), JAX_CONFIG)
        write(os.path.join(site, "jax", "_src", "xla_bridge.py"), JAX_OTHER)
        write(os.path.join(site, "jax", "_src", "test_util.py"), JAX_TEST_UTIL)
        write(os.path.join(site, "torch", "_logging", "_internal.py"), TORCH_INTERNAL)
        write(os.path.join(site, "torch", "_logging", "_registrations.py"), TORCH_REGISTRATIONS)
        write(os.path.join(site, "theano", "configparser_fake.py"), THEANO_CONFIGPARSER)
        write(os.path.join(site, "theano", "configdefaults.py"), THEANO_CONFIGDEFAULTS)
        write(os.path.join(site, "tensorflow", "__init__.py"), TF_INIT)
        write(os.path.join(site, "tensorflow", "python", "framework", "load_library.py"), TF_LOAD_LIBRARY)
        write(os.path.join(site, "tensorflow", "python", "pywrap_tensorflow_internal.py"), "import imp\n")
        write(os.path.join(site, "cntk", "cntk_py_init.py"), CNTK_INIT)
        write(os.path.join(site, "keras", "src", "callbacks", "orbax_checkpoint.py"), "try:\n    import jax\n"
                                                                                       "except ImportError:\n    pass\n")
        self.paths = {name: os.path.join(site, name) for name in ("keras", "jax", "torch", "tensorflow", "theano", "cntk")}

    def predict(self, library, env, warnoptions=()):
        checks = startup._checks()
        return checks[library](self.paths[library], env, tuple(warnoptions), self.box.home)

    # -- jax

    def real_jax(self, env):
        source = os.path.join(self.paths["jax"], "_src")
        return real("import runpy\nfor n in ('config.py', 'xla_bridge.py'):\n    runpy.run_path({!r} + '/' + n)".format(
            source), env)

    def test_jax_against_running_its_flag_definitions(self):
        cases = [{"JAX_ENABLE_X64": "enabled"}, {"JAX_ENABLE_X64": "TRUE"}, {"JAX_ENABLE_X64": "0"},
                 {"JAX2TF_DEFAULT_NATIVE_SERIALIZATION": "sometimes"}, {"JAX_SERIALIZATION_VERSION": "v2"},
                 {"JAX_DEFAULT_PRNG_IMPL": "mt19937"}, {"JAX_DEFAULT_PRNG_IMPL": "rbg"},
                 {"JAX_LEGACY_PRNG_KEY": "loud"}, {"JAX_LEGACY_PRNG_KEY": "warn"},
                 {"JAX_DEFAULT_MATMUL_PRECISION": "extreme"}, {"JAX_DEFAULT_MATMUL_PRECISION": "float32"},
                 {"JAX_NUM_CPU_DEVICES": "four"}, {"JAX_NUM_CPU_DEVICES": " 4 "},
                 {"JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "soon"},
                 {"JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "1e-3"},
                 {"JAX_SKIP_SLOW_TESTS": "nope"}, {"JAX_NOT_A_FLAG": "x"},
                 # the first definition met decides, not the variable's name
                 {"JAX_NUM_CPU_DEVICES": "x", "JAX_ENABLE_X64": "maybe", "JAX_DEFAULT_PRNG_IMPL": "bad"}]
        for env in cases:
            with self.subTest(env=env):
                self.assertEqual(self.predict("jax", env)["error"], self.real_jax(env))

    def test_jax_platforms_is_lazy(self):
        found = self.predict("jax", {"JAX_PLATFORMS": "cuda"})
        self.assertIsNone(found["error"])
        self.assertEqual(self.real_jax({"JAX_PLATFORMS": "cuda"}), None)
        self.assertEqual([p["code"] for p in found["problems"]], ["backend-first-use"])
        self.assertEqual(self.predict("jax", {"JAX_PLATFORMS": "cpu"})["problems"], [])

    # -- torch

    def real_torch(self, env):
        directory = os.path.join(self.paths["torch"], "_logging")
        return real("import _internal, _registrations\n_internal._init_logs()", env, path=(directory,))

    def test_torch_logs_against_running_its_parser(self):
        for value in ("dynamoo", "+dynamo,guards", "+dynamo, guards,-aot", "all", "+dynamo,,guards", "dyn amo",
                      "json", "json.decoder", "nosuchmodule", "help", "+help", "graph_code", "-perf_hints", ""):
            with self.subTest(TORCH_LOGS=value):
                self.assertEqual(self.predict("torch", {"TORCH_LOGS": value})["error"],
                                 self.real_torch({"TORCH_LOGS": value}))

    def test_torch_logs_dotted_name_of_a_missing_package(self):
        # find_spec imports the parent first: Python's own message
        self.assertEqual(self.predict("torch", {"TORCH_LOGS": "nosuchpkg.sub"})["error"],
                         real("import importlib.util\nimportlib.util.find_spec('nosuchpkg.sub')", {}))

    # -- theano

    def real_theano(self, env):
        return real("import configdefaults", env, path=(self.paths["theano"],))

    def test_theano_flags_against_running_its_config(self):
        for flags in ("device=gpu", "device=gpu0", "device=cuda0", "device=opencl0:0", "device=cpu", "device=tpu",
                      "floatX=float128", "floatX=32", "floatX=16", "floatX=half", "device=gpu,floatX=half",
                      "print_active_device=yes", "print_active_device=False", "openmp_elemwise_minsize=big",
                      "openmp_elemwise_minsize=7", "device='gpu", "unknown=1,floatX=float64", "device"):
            env = {"THEANO_FLAGS": flags + ",base_compiledir=" + os.path.join(self.box.root, "theano")}
            with self.subTest(THEANO_FLAGS=flags):
                self.assertEqual(self.predict("theano", env)["error"], self.real_theano(env))

    def test_theanorc_values_and_errors(self):
        rc = os.path.join(self.box.home, ".theanorc")
        write(rc, "device = gpu\n")  # no [global] header: configparser's own error
        self.assertEqual(self.predict("theano", {})["error"],
                         real("import configparser\nconfigparser.RawConfigParser().read([{!r}])".format(rc), {}))
        write(rc, "[global]\nDevice = gpu\n")  # option names are not case-sensitive in the file
        self.assertEqual(self.predict("theano", {})["error"], self.real_theano({"THEANO_FLAGS": "device=gpu"}))
        self.assertIsNone(self.predict("theano", {"THEANO_FLAGS": "device=cpu"})["error"])  # the variable wins
        other = os.path.join(self.box.root, "rc")
        write(other, "[global]\nfloatX = float80\n")
        self.assertEqual(self.predict("theano", {"THEANORC": other})["error"],
                         self.real_theano({"THEANO_FLAGS": "floatX=float80"}))

    def test_theano_compiledir_not_creatable(self):
        # under a regular file nobody, root included, can create a folder
        blocker = os.path.join(self.box.root, "afile")
        write(blocker, "x")
        env = {"THEANO_FLAGS": "base_compiledir=" + os.path.join(blocker, "theano")}
        found = self.predict("theano", env)
        compiledir = startup_theano._compiledir({}, os.path.join(blocker, "theano"))
        self.assertEqual(found["error"], real(FILTER_COMPILEDIR + "\nfilter_compiledir({!r})".format(compiledir), {}))
        self.assertEqual(found["problems"][0]["code"], "backend-startup")

    def test_theano_compiledir_format_and_explicit_dir(self):
        flags = {"compiledir_format": "cd_%(python_version)s (x)"}
        self.assertEqual(startup_theano._compiledir(flags, "/base"),
                         os.path.join("/base", "cd_{}.{}.{}_x_".format(*sys.version_info[:3])))
        self.assertEqual(startup_theano._compiledir({"compiledir": "/some/where"}, "/base"), "/some/where")
        for release, full in (("4.15.0-112-generic", "Linux-4.15.0-112-generic-x86_64-with-glibc2.27"),
                              ("2.6.32-504.el6.x86_64", "Linux-2.6.32-504.el6.x86_64-x86_64-with-redhat-6.6-Santiago"),
                              ("6.18", "Linux-6.18-x86_64"), ("5.10-fc-v857", "Linux-5.10-fc-v857-x86_64")):
            theano_says = real(SHORT_PLATFORM + "\nraise SystemExit(short_platform({!r}, {!r}))".format(release, full), {})
            self.assertEqual("SystemExit: " + startup_theano._short_platform(release, full), theano_says)

    def test_theano_compiledir_writable(self):
        self.assertIsNone(self.predict("theano", {})["error"])

    # -- tensorflow

    def real_tensorflow(self, env):
        loader = os.path.join(self.paths["tensorflow"], "python", "framework", "load_library.py")
        return real("import runpy, os\nlibrary = runpy.run_path({!r})\nif os.getenv('TF_PLUGGABLE_DEVICE_LIBRARY_PATH'):\n"
                    "    library['load_pluggable_device_library'](os.getenv('TF_PLUGGABLE_DEVICE_LIBRARY_PATH'))\n"
                    "if os.getenv('TF_USE_MODULAR_FILESYSTEM') in ('1', 'true'):\n"
                    "    import tensorflow_io_gcs_filesystem".format(loader), env)

    def test_tensorflow_plugin_variables_against_running_its_loader(self):
        for env in ({"TF_PLUGGABLE_DEVICE_LIBRARY_PATH": "/nonexistent/libplugin.so"},
                    {"TF_PLUGGABLE_DEVICE_LIBRARY_PATH": self.box.home},
                    {"TF_PLUGGABLE_DEVICE_LIBRARY_PATH": ""},
                    {"TF_USE_MODULAR_FILESYSTEM": "1"}, {"TF_USE_MODULAR_FILESYSTEM": "True"}):
            with self.subTest(env=env), isolated_path(self.box.site):
                self.assertEqual(self.predict("tensorflow", env)["error"], self.real_tensorflow(env))

    # -- PYTHONWARNINGS

    def test_imp_deprecation_under_warnings_as_errors(self):
        for option in ("error", "error::DeprecationWarning", "error::UserWarning", "error,ignore::DeprecationWarning",
                       "error::Warning", "error:the imp module", "error:other text", "ignore,error"):
            with self.subTest(option=option):
                actual = real("import imp", {"PYTHONWARNINGS": option})
                if actual is not None and actual.startswith("ModuleNotFoundError"):
                    actual = None  # Python 3.12+ has no imp: no TensorFlow 1.x there either
                self.assertEqual(self.predict("tensorflow", {}, [option])["error"], actual)

    def test_cntk_distribution_warning_under_warnings_as_errors(self):
        runnable = os.path.join(self.box.root, "runnable")  # the fake site's cntk/__init__ refuses imports
        write(os.path.join(runnable, "cntk", "__init__.py"), "")
        write(os.path.join(runnable, "cntk", "cntk_py_init.py"), CNTK_INIT)
        for option in ("error", "error::UserWarning", "error::DeprecationWarning", "error,ignore::UserWarning",
                       "error::UserWarning:cntk.cntk_py_init", "error::UserWarning:other"):
            with self.subTest(option=option):
                actual = real("import cntk.cntk_py_init as c\nc.cntk_check_distro_info()",
                              {"PYTHONWARNINGS": option}, path=(runnable,))
                if sys.platform.startswith("linux"):
                    self.assertEqual(self.predict("cntk", {}, [option])["error"], actual)

    def test_warnings_as_errors_without_a_known_emitter(self):
        paths = {"jax": self.paths["jax"]}  # no TensorFlow 1.x, no CNTK: nothing known warns
        found = startup.check("keras3", "jax", {}, paths, ("error",), self.box.home)
        self.assertIsNone(found["error"])
        self.assertEqual([p["code"] for p in found["problems"]], ["warnings-as-errors"])
        self.assertEqual(startup.check("keras3", "jax", {}, paths, ("ignore::DeprecationWarning",),
                                       self.box.home)["problems"], [])

    # -- order and plumbing

    def test_import_order(self):
        self.assertEqual(startup.imports("keras3", "torch", self.paths), ["torch", "jax"])
        self.assertEqual(startup.imports("keras3", "jax", self.paths), ["jax"])
        self.assertEqual(startup.imports("keras2-multibackend", "theano", self.paths), ["theano", "tensorflow"])
        self.assertEqual(startup.imports("keras2-multibackend", "cntk", self.paths), ["cntk", "tensorflow"])
        self.assertEqual(startup.imports("keras2-tensorflow", "tensorflow", self.paths), ["tensorflow"])
        without = dict(self.paths)
        del without["jax"]
        self.assertEqual(startup.imports("keras3", "torch", without), ["torch"])

    def test_through_backend_info(self):
        with isolated_path(self.box.site), environ(HOME=self.box.home, KERAS_BACKEND="torch", JAX_ENABLE_X64="enabled"):
            record = kbackend.backend_info()
        self.assertEqual(record["status"], "error")
        self.assertEqual(record["error"], self.real_jax({"JAX_ENABLE_X64": "enabled"}))
        self.assertEqual(record["problems"][0]["code"], "backend-startup")
        with isolated_path(self.box.site), environ(HOME=self.box.home, KERAS_BACKEND="torch", TORCH_LOGS="dynamoo",
                                                   JAX_ENABLE_X64="enabled"):
            record = kbackend.backend_info()
        self.assertEqual(record["error"], self.real_torch({"TORCH_LOGS": "dynamoo"}))  # torch loads first

    def test_backend_named_by_any_json_value(self):
        # keras.json may hold a list as the backend; Keras fails on it first, and kbackend must not crash
        record = {"keras": {"flavour": "keras2-multibackend"}, "backend": ["jax"], "locked": False,
                  "status": "error", "error": "AssertionError", "reason": "keras.json", "problems": []}
        with isolated_path(self.box.site):
            startup.apply(record, {"THEANO_FLAGS": "device=gpu", "HOME": self.box.home}, discovery.installed_libraries())
        self.assertEqual((record["status"], record["error"]), ("error", "AssertionError"))

    def test_keras_checks_come_first(self):
        with isolated_path(self.box.site), environ(HOME=self.box.home, KERAS_BACKEND="nope", JAX_ENABLE_X64="enabled"):
            record = kbackend.backend_info()
        self.assertEqual(record["status"], "error")
        self.assertFalse(record["error"].startswith("ValueError: invalid truth value"), record["error"])

    def test_nothing_read_without_the_variables(self):
        calls = []
        original = startup.check

        def counting(*args):
            calls.append(args)
            return original(*args)

        startup.check = counting
        try:
            with isolated_path(self.box.site), environ(HOME=self.box.home, KERAS_BACKEND="jax", KERAS_HOME=self.box.home):
                discovery._CACHE["key"] = None
                record = kbackend.backend_info()
        finally:
            startup.check = original
        self.assertEqual(calls, [])
        self.assertEqual(record["status"], "ok")


if __name__ == "__main__":
    unittest.main()
