"""Assemble the backend record: collect facts, apply the rules, explain.

``backend_info()`` is the one entry point; everything it returns is plain
JSON-compatible data (dicts, lists, strings, numbers, None) so that it
crosses to R through reticulate or ``--json`` unchanged.
"""

import os
import re
import sys

from . import (
    _stdlib,
    cache,
    deps,
    devices,
    discovery,
    interfaces,
    keras_json,
    live,
    metadata,
    problems,
    rules,
    shadows,
    startup,
    tf_keras,
)
from ._version import __version__
from .strict_json import record_json

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Mapping, Optional, Tuple

    from .record import Record

FLAVOURS = {
    "keras3": "Keras 3 (multi-backend)",
    "keras2-multibackend": "Keras 2.2-2.3 (multi-backend: tensorflow, theano, cntk)",
    "keras2-tensorflow": "Keras 2.4-2.15 (TensorFlow only)",
    "keras-legacy": "Keras before 2.2 (not supported by kbackend's rules)",
}
#: What to ``pip install`` for a missing backend library.
#: Environment variables that steer Keras or its backends.
_VARIABLE_PATTERN = re.compile(
    r"^(KERAS_.*|XLA_.*|JAX_.*|TF_USE_LEGACY_KERAS|TF_FORCE_GPU_ALLOW_GROWTH|TF_CPP_MIN_LOG_LEVEL"
    r"|TF_ENABLE_ONEDNN_OPTS|TF_XLA_FLAGS|TF_GPU_ALLOCATOR|CUDA_VISIBLE_DEVICES|HIP_VISIBLE_DEVICES"
    r"|ROCR_VISIBLE_DEVICES|PYTORCH_.*|TORCH_.*|THEANO_FLAGS|THEANORC|CNTK_.*|OPENVINO_.*|TF_CPP_.*"
    r"|PYTHONWARNINGS|PYTHONSAFEPATH)$"
)
#: Failures of Keras's own config step (keras.json, its variables), and the
#: modules that take that step (Keras 3, Keras 2.2-2.3).
_CONFIG_STAGE = ("config-unreadable", "config-invalid-field", "env-not-integer")
_CONFIG_MODULES = ("keras.src.backend.config", "keras.backend.load_backend")


def _config_ran_first(walked: "Dict[str, Any]") -> bool:
    """Whether the followed import ran Keras's config module to its end
    before meeting its failure: loaded, and not among the modules still
    importing when the failure came."""
    modules, chain = walked.get("modules") or [], walked.get("chain") or []
    return any(name in modules and name not in chain for name in _CONFIG_MODULES)


def keras_flavour(version: "Optional[str]", path: "Optional[str]") -> "Optional[str]":
    """Which Keras line a version (or, lacking one, a package layout) is."""
    return discovery.keras_flavour(version, path)


def _custom_origin(name: str) -> "Optional[str]":
    """Where a custom backend module lives: a path, or "built-in"/"frozen"
    for modules without a file; None when it cannot be found."""
    spec = discovery.find_spec_without_import(name)
    if spec is None:
        return None
    return discovery.module_location(spec) or spec.origin or "namespace"


def predict(flavour: "Optional[str]", version: "Optional[str]", environ: "Dict[str, str]",
            config: "Dict[str, Any]", libs: "Dict[str, Dict[str, Optional[str]]]") -> "Dict[str, Any]":
    """Apply the rules of the installed Keras line to the collected facts."""
    parsed = metadata.version_tuple(version)
    has_module = discovery.module_finder(libs)
    if flavour == "keras2-multibackend":
        return rules.resolve_keras2_multi(parsed, environ, config, has_module, _custom_origin)
    if flavour == "keras2-tensorflow":
        return rules.resolve_keras2_tensorflow(parsed, environ, config, has_module)
    # Keras 3 rules also describe what a fresh `pip install keras` would do.
    outcome = rules.resolve_keras3(parsed or (3, 99), environ, config, has_module)
    if flavour is None:
        outcome = dict(outcome, status="error", error="ModuleNotFoundError: No module named 'keras'",
                       cause="keras-not-installed")
    elif flavour == "keras-legacy":
        outcome = dict(outcome, status="error", error=None, cause="keras-unsupported")
    return outcome


def _config_values(config: "Dict[str, Any]") -> "Dict[str, Any]":
    document = config["value"] if isinstance(config["value"], dict) else {}
    return {key: document.get(key, default) for key, default in keras_json.DEFAULTS.items()}


def _variables(environ: "Dict[str, str]") -> "Dict[str, str]":
    return {name: environ[name] for name in sorted(environ) if _VARIABLE_PATTERN.match(name)}


def _other_module(module: str, facts: "Dict[str, Any]") -> "Dict[str, Any]":
    """KERAS_IMPLEMENTATION names some other module; never run it, only find it."""
    outcome = rules.outcome(None, "interface", "{} imports the module {!r} named by KERAS_IMPLEMENTATION".format(
        interfaces.label(facts), module))
    top = module.split(".")[0]
    missing = top if discovery.find_spec_without_import(top) is None else (
        module if discovery.find_spec_without_import(module) is None else None)
    if missing is not None:
        return rules.fail(outcome, "ModuleNotFoundError: No module named {!r}".format(missing), "keras-implementation-missing")
    return rules.fail(outcome, None, "keras-implementation-unknown")


def collect(environ: "Optional[Dict[str, str]]" = None, interface: "Any" = None) -> "Dict[str, Any]":
    """Gather every fact and build the record.  See :func:`backend_info`."""
    cache.hold()  # one look at the search path for the whole record
    try:
        return _collect(environ, interface)
    finally:
        cache.release()


def _collect(environ: "Optional[Dict[str, str]]", interface: "Any") -> "Dict[str, Any]":
    """The record, step by step: the facts, the import the interface makes,
    what makes it fail, this process's live state, the record and its
    problems."""
    facts = interfaces.parse(interface)
    libs = discovery.installed_libraries()
    applied = interfaces.apply(facts, dict(os.environ if environ is None else environ), tf_keras.imports_keras(libs))
    environ = applied["environ"]
    keras = _keras(libs)
    flavour, keras_version = keras["flavour"], keras["version"]
    home = keras_json.keras_dir(environ, tmp_fallback=flavour != "keras2-tensorflow")
    path = keras_json.config_path(home["dir"])
    config = keras_json.read_config(path)
    would_be = predict(flavour, keras_version, environ, config, libs)
    route = tf_keras.route(environ, libs, keras, would_be, config)
    would_be, target = _through_interface(would_be, route, facts, applied)
    would_be, found = _import_failures(would_be, target, libs, keras, environ)
    state = live.live_keras(target=target)
    outcome = _live_outcome(would_be, state, keras, environ, config, libs)
    record = _record(outcome, state, keras, libs, environ, home, path, config, interfaces.describe(facts, applied))
    record["tf_keras"] = tf_keras.route(environ, libs, keras, outcome, config) if state["locked"] else route
    record.update(devices.forecast(libs, environ, record["backend"], libs["keras"]["path"]))
    _add_problems(record, would_be, outcome, state, found, libs, environ)
    startup.apply(record, environ, libs)  # the backend library's own checks, after Keras's
    if facts is not None:
        _interface_checks(record, facts, applied, environ, state)
    return record


def _keras(libs: "Dict[str, Dict[str, Any]]") -> "Dict[str, Any]":
    """The installed Keras: its version, its line (flavour) and where it is."""
    keras_version = libs["keras"]["version"]
    flavour = keras_flavour(keras_version, libs["keras"]["path"])
    return {"installed": flavour is not None, "version": keras_version, "flavour": flavour,
            "description": FLAVOURS.get(flavour or "", "not installed"), "path": libs["keras"]["path"]}


def _through_interface(would_be: "Dict[str, Any]", route: "Dict[str, Any]", facts: "Optional[Dict[str, Any]]",
                       applied: "Dict[str, Any]") -> "Tuple[Dict[str, Any], str]":
    """The outcome of the import an R interface makes (tf.keras routed by
    ``route``, or another module named by KERAS_IMPLEMENTATION), and the
    module whose live state decides: ``(outcome, target)``."""
    module = applied["module"]
    if module == "keras" or facts is None:  # only an interface imports another module
        target = "keras"
    elif module in interfaces.TF_KERAS_MODULES:
        # R imports the module: the import system's answer, not the attribute's
        through = route["module"] if module == "tensorflow.keras" else route
        would_be = tf_keras.outcome_through(would_be, through, facts, module)
        target = tf_keras.live_target(through)
    else:
        would_be = _other_module(module, facts)
        target = "keras"
    if facts is not None and facts["name"] == "keras3":
        would_be = _credit_keras3(would_be, applied["steps"], facts)
    return would_be, target


def _import_failures(would_be: "Dict[str, Any]", target: str, libs: "Dict[str, Dict[str, Any]]",
                     keras: "Dict[str, Any]", environ: "Dict[str, str]") -> "Tuple[Dict[str, Any], Dict[str, Any]]":
    """What else makes ``import keras`` fail before the backend is used:
    broken installs, shadowing files, the module graph followed.  Returns
    the outcome and what was found (``shadowing``, ``installs``,
    ``walked``) for the problems."""
    flavour, version = keras["flavour"], metadata.version_tuple(keras["version"])
    shadowing = shadows.find(libs, flavour, version, would_be["backend"]) if target == "keras" else []
    needed = list(shadows.needed_libraries(flavour, version, would_be["backend"]))
    installs = cache.memo("installs", (flavour, tuple(needed), sys.executable),
                          lambda: deps.check(libs, flavour, needed, sys.executable)) \
        if target == "keras" and flavour else {"error": None, "problems": []}
    if installs["error"] and (would_be["status"] == "ok" or would_be["cause"] in ("backend-invalid",
                                                                                  "backend-not-installed")):
        would_be = rules.fail(dict(would_be), installs["error"], "install-broken")
    import_fails = would_be["status"] == "error"
    shadow_error = shadows.first_failure(shadowing, import_fails=import_fails)
    walked = shadows.graph(libs, would_be["backend"], environ) if target == "keras" and flavour \
        and shadows.unusual(libs, shadowing) else None
    graph_error = shadows.graph_failure(walked, import_fails) if walked else None
    if walked and graph_error is not None and would_be["cause"] in _CONFIG_STAGE and _config_ran_first(walked):
        graph_error = None  # Keras read its config before the walk's failure: that failure comes first
    if graph_error is not None:
        would_be = rules.fail(dict(would_be), graph_error, "module-shadowed" if shadowing else "install-broken")
    elif shadow_error is not None:
        would_be = rules.fail(dict(would_be), shadow_error, "module-shadowed")
    return would_be, {"shadowing": shadowing, "installs": installs, "walked": walked}


def _live_outcome(would_be: "Dict[str, Any]", state: "Dict[str, Any]", keras: "Dict[str, Any]",
                  environ: "Dict[str, str]", config: "Dict[str, Any]", libs: "Dict[str, Dict[str, Any]]"
                  ) -> "Dict[str, Any]":
    """The outcome in this process: the predicted one, unless Keras is
    already imported here (its backend is fixed) or its import failed (a
    retry keeps the backend it chose)."""
    outcome = dict(would_be)
    if state["failed_import"]:
        outcome = _retry(state, keras["flavour"], keras["version"], environ, config, libs)
    elif state["locked"]:
        outcome.update(backend=state["backend"], source="imported", status="ok", error=None,
                       reason="Keras is already imported in this process ({} holds {!r})".format(
                           state["module"], state["backend"]))
    return outcome


def _record(outcome: "Dict[str, Any]", state: "Dict[str, Any]", keras: "Dict[str, Any]",
            libs: "Dict[str, Dict[str, Any]]", environ: "Dict[str, str]", home: "Dict[str, Any]", path: str,
            config: "Dict[str, Any]", interface: "Any") -> "Dict[str, Any]":
    """The record's fields, in the order they are reported; ``tf_keras``,
    the devices and ``problems`` are filled in afterwards."""
    return {
        "kbackend_version": __version__,
        "backend": outcome["backend"],
        "status": outcome["status"],
        "error": outcome["error"],
        "source": outcome["source"],
        "reason": outcome["reason"],
        "locked": state["locked"],
        "locked_by": state["locked_by"],
        "keras_home": home["dir"],
        "keras_home_source": home["source"],
        "config_path": path,
        "config_file": {
            "exists": config["exists"],
            "type": config["type"],
            "parses": config["parses"],
            "error": config["error"],
            "backend": keras_json.config_backend(config["value"]),
        },
        "config": _config_values(config),
        "keras": keras,
        "installed": {name: lib["version"] for name, lib in libs.items()},
        "tf_keras": None,
        "variables": _variables(environ),
        "python": {
            "executable": sys.executable,
            "version": "{}.{}.{}".format(*sys.version_info[:3]),
            "implementation": sys.implementation.name,
        },
        "interface": interface,
        "problems": [],
        "verify": None,
    }


def _add_problems(record: "Dict[str, Any]", would_be: "Dict[str, Any]", outcome: "Dict[str, Any]",
                  state: "Dict[str, Any]", found: "Dict[str, Any]", libs: "Dict[str, Dict[str, Any]]",
                  environ: "Dict[str, str]") -> None:
    """Fill ``problems``: the catalogue's for the record, then those of a
    failed import kept in this process, the shadows, the installs and the
    module graph (the last three only while Keras is not imported)."""
    record["problems"] = problems.collect(record, environ, would_be)
    if state["failed_import"]:
        record["problems"][:0] = [problems.problem(
            "failed-import-cached",
            "import keras already failed in this process, after choosing the {!r} backend; Python keeps that "
            "choice ({}), so a retry uses it{}.".format(
                state["backend"], state["module"], " and fails again" if outcome["status"] == "error" else ""),
            "Restart Python to choose the backend again (fix what failed first).")] + (
            problems.for_error(record, outcome["cause"]) if outcome["status"] == "error" else [])
    if found["shadowing"] and not state["locked"]:
        record["problems"][:0] = shadows.problems(found["shadowing"])
    if not state["locked"]:
        record["problems"].extend(found["installs"]["problems"])
        if found["walked"]:
            record["problems"].extend(shadows.graph_problems(found["walked"], libs))
            record["problems"].extend(deps.loaded_requirements(found["walked"]["tops"], sys.executable))


def _interface_checks(record: "Dict[str, Any]", facts: "Dict[str, Any]", applied: "Dict[str, Any]",
                      environ: "Dict[str, str]", state: "Dict[str, Any]") -> None:
    """What the R interface's own load adds: its problems, a theano compile
    failure, and its say on the final answer."""
    with _stdlib.first():  # only R asks about interfaces
        from . import interface_problems

    record["problems"].extend(interface_problems.problems(record, facts, applied, environ))
    compile_failure = None if state["locked"] else interface_problems.theano_compile_failure(record, environ)
    if compile_failure is not None and record["status"] == "ok":
        record.update(status="error", error=compile_failure["error"])
        record["problems"].insert(0, compile_failure["problem"])
    interface_problems.settle(record, facts, environ, state)


def _retry(state: "Dict[str, Any]", flavour: "Optional[str]", version: "Optional[str]",
           environ: "Dict[str, str]", config: "Dict[str, Any]", libs: "Dict[str, Dict[str, Any]]") -> "Dict[str, Any]":
    """After a failed ``import keras`` in this process: what a retry does.

    The config module stays cached with the backend it chose, so a retry
    keeps that backend whatever the environment says now, and fails again
    for the same reason unless that was fixed (a library installed since).
    """
    retry = predict(flavour, version, dict(environ, KERAS_BACKEND=state["backend"]), config, libs)
    why = ("an earlier import keras failed in this process after choosing {!r} ({} keeps it), so a retry "
           "uses {!r} whatever the environment says now".format(state["backend"], state["module"], state["backend"]))
    return dict(retry, backend=state["backend"], source="imported", reason=why)


def _credit_keras3(outcome: "Dict[str, Any]", steps: "List[Dict[str, Any]]", facts: "Dict[str, Any]") -> "Dict[str, Any]":
    """Say that keras3's load step, not the user, chose KERAS_BACKEND."""
    step = next((s for s in steps if s["variable"] == "KERAS_BACKEND"), None)
    if step is None or outcome["source"] != "environment":
        return outcome
    reason = "{} sets KERAS_BACKEND={!r} when it loads ({})".format(interfaces.label(facts), step["value"], step["reason"])
    return dict(outcome, source="interface" if step["given"] is None else "environment", reason=reason)


def backend_info(verify: bool = False, timeout: "Optional[float]" = None,
                 interface: "Optional[Dict[str, Any]]" = None) -> "Record":
    """Which Keras backend is (or will be) used in this process, why, and whether it works.

    Reads ``os.environ``, keras.json, installed distribution metadata and
    ``sys.modules``; imports nothing from Keras or any backend, and never a
    module named by the environment or keras.json.

    With ``verify=True`` it also imports Keras in a separate process (with
    a time limit, ``timeout`` seconds, default 120) against a temporary copy
    of keras.json, and fills ``verify`` with what Keras itself reported:
    backend, import time, peak memory, devices.  A disagreement with the
    prediction is added to ``problems`` as a kbackend bug.

    ``interface`` is for the R bridge: the facts about the R package that
    will import Keras (keras3, the legacy keras package), whose load step
    changes the environment and the module imported (see
    :mod:`kbackend.interfaces`).  The answer is then the one that holds after
    that package has loaded.

    Returns a plain dict (see the README for every field), e.g.::

        >>> import kbackend
        >>> info = kbackend.backend_info()
        >>> info["backend"], info["source"], info["status"]
        ('tensorflow', 'default', 'ok')
        >>> kbackend.backend_info(verify=True)["verify"]["devices"]
        ['/physical_device:CPU:0']
    """
    record = collect(interface=interface)
    if verify:
        with _stdlib.first():  # subprocess machinery only when asked
            from . import kerasr
            from . import verify as verifying

        applied = interfaces.apply(interfaces.parse(interface), dict(os.environ),
                                   tf_keras.imports_keras(discovery.installed_libraries()))
        load = (record.get("interface") or {}).get("load") or {}
        then = kerasr.SUBMODULES if load.get("outcome") in ("connects", "fails") else ()
        record["verify"] = verifying.verify(record, timeout, environ=applied["environ"], module=applied["module"],
                                            then=then)
        if record["verify"]["agrees"] is False:
            record["problems"].insert(0, verifying.mismatch_problem(record, record["verify"]))
    # built step by step as a plain dict; its shape is record.Record (held
    # equal to a real record and to the README by test_unit_record.py)
    return record  # type: ignore[return-value]


def backend_info_json(verify: bool = False, timeout: "Optional[float]" = None,
                      interface: "Optional[Dict[str, Any]]" = None, text: bool = False) -> str:
    """:func:`backend_info` as strict JSON text, the form the R bridge parses;
    with ``text``, the record also carries ``text``: the report's words
    (:func:`kbackend.report.phrases`), which R's renderers lay out.

        >>> import json, kbackend
        >>> json.loads(kbackend.backend_info_json())["source"]
        'default'
    """
    return record_json(with_text(backend_info(verify, timeout, interface)) if text else
                       backend_info(verify, timeout, interface))


def with_text(record: "Mapping[str, Any]") -> "Dict[str, Any]":
    """``record`` and its words, as the R bridge reads them."""
    from . import report  # only the renderers need it

    return dict(record, text=report.phrases(record))
