"""The words of a backend report, and the plain-text report built from them.

Display is kept apart from collection (``info.py``): the record is data.
:func:`phrases` words each of its facts once -- the backend's outcome,
keras.json's state, the verify verdict, ... -- and every renderer lays these
phrases out: :func:`format_report` here (``python -m kbackend``), and R's
``format()`` and ``knit_print()``, which receive them with the record (as
its ``text`` attribute) instead of wording the facts a second time.  ASCII
only, so the report prints on any terminal and locale.
"""

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List, Mapping, Optional

_HOME_SOURCES = {"KERAS_HOME": "KERAS_HOME", "home": "the home directory", "tmp": "/tmp (the home is not writable)"}
_VERIFY_FAILURES = {"timeout": "timed out", "crashed": "crashed"}


def _config_state(config: "Dict[str, Any]") -> str:
    if not config["exists"]:
        return "missing: Keras writes a default one on import"
    if config["type"] != "file":
        return "exists but is a {}".format(config["type"])
    if config["parses"] is False:
        return "exists, NOT valid JSON: Keras ignores it ({})".format(config["error"])
    if config["parses"] is None:
        return "exists, unreadable ({})".format(config["error"])
    if config["backend"] is None:
        return "exists, valid JSON, no backend key"
    return "exists, valid JSON, backend {!r}".format(config["backend"])


def _tf_keras(route: "Dict[str, Any]") -> str:
    if route["routes_to"] is None:
        return "unavailable: {} ({})".format(route["error"], route["reason"])
    target = "{} {}".format(route["routes_to"], route["version"] or "").strip()
    outcome = "backend {}".format(route["backend"]) if route["status"] == "ok" else "FAILS: {}".format(route["error"])
    return "routes to {}, {} ({})".format(target, outcome, route["reason"])


def _verify(record: "Mapping[str, Any]") -> "Dict[str, Optional[str]]":
    result = record["verify"]
    if not result:
        return {}
    if result["status"] == "not-run":
        return {"verify": "not run: {}".format(result["reason"]), "verify_kind": "not-run"}
    predicted = record["backend"] if record["status"] == "ok" else "import fails: {}".format(record["error"])
    if result["agrees"] is None:
        kind = "inconclusive"
        verdict = "INCONCLUSIVE: the import {}, so nothing confirms or contradicts the prediction ({})".format(
            _VERIFY_FAILURES.get(result["status"], result["status"]), predicted)
    elif result["agrees"]:
        kind, verdict = "agrees", "AGREES with the prediction ({})".format(predicted)
    else:
        kind = "disagrees"
        verdict = ("DISAGREES with the prediction ({}): this is a kbackend bug. Trust what Keras says, and please "
                   "report it.".format(predicted))
    says = result["backend"] if result["status"] == "ok" else "{}: {}".format(result["status"], result["error"])
    phrases = {"verify": "Keras imported in a child process", "verify_kind": kind, "verify_says": says,
               "verify_verdict": verdict}  # type: Dict[str, Optional[str]]
    if result.get("import_seconds") is not None:
        phrases["verify_import"] = "{:.2f} s, peak memory {} MiB".format(result["import_seconds"],
                                                                          result.get("peak_memory_mb"))
    if result.get("devices") is not None or result.get("devices_error"):
        phrases["verify_devices"] = ", ".join(result["devices"] or []) or result.get("devices_error")
    return phrases


def phrases(record: "Mapping[str, Any]") -> "Dict[str, Optional[str]]":
    """Each fact of ``record`` worded once, for every renderer: a dict of
    plain, unstyled strings (None where the record has nothing to say)."""
    keras = record["keras"]
    installed = record["installed"]
    device = record.get("device") or {}
    words = {
        "backend": record["backend"] if isinstance(record["backend"], str) else "no backend",
        "outcome": "ok" if record["status"] == "ok" else "import keras would FAIL: {}".format(record["error"]),
        "source": "{}: {}".format(record["source"], record["reason"]),
        "locked": "YES: Keras is already imported here ({}), so the backend can no longer change in this "
                  "process".format(", ".join(record["locked_by"]) or "keras") if record["locked"]
                  else "no (Keras is not imported in this process)",
        "keras": "{}: {}".format(keras["version"], keras["description"]) if keras["installed"] else "not installed",
        "keras_json": "{} ({})".format(record["config_path"], _config_state(record["config_file"])),
        "keras_home": "{} (from {})".format(record["keras_home"], _HOME_SOURCES.get(record["keras_home_source"], "?")),
        "tf_keras": _tf_keras(record["tf_keras"]),
        "python": "{} ({} {})".format(record["python"]["executable"], record["python"]["implementation"],
                                      record["python"]["version"]),
        "device": "{} ({})".format(device["device"], device["reason"]) if device.get("device") else None,
        "device_warning": "it will print: {}".format(device["warning"]) if device.get("warning") else None,
        "installed": ", ".join("{} {}".format(name, version) for name, version in installed.items() if version)
                     or "none of the packages kbackend looks for",
        "not_installed": ", ".join(name for name, version in installed.items() if not version) or None,
        "variables": ", ".join("{}={}".format(name, value) for name, value in record["variables"].items()) or None,
    }  # type: Dict[str, Optional[str]]
    words.update(_verify(record))
    return words


def format_report(record: "Mapping[str, Any]") -> str:
    """The report ``python -m kbackend`` prints."""
    words = phrases(record)
    rows = [
        ("Backend", "{}  ({})".format(words["backend"], words["outcome"])),
        ("Source", words["source"]),
        ("Locked", words["locked"]),
        ("Keras", words["keras"]),
        ("keras.json", words["keras_json"]),
        ("Keras home", words["keras_home"]),
        ("tf.keras", words["tf_keras"]),
        ("Python", words["python"]),
        ("Device", words["device"]),
        ("", words["device_warning"]),
        ("Installed", words["installed"]),
        ("Missing", words["not_installed"]),
        ("Variables", words["variables"] or "none set"),
    ]
    lines = ["kbackend {} -- Keras backend report".format(record["kbackend_version"]), ""]
    lines += _rows(rows)
    if words.get("verify"):
        lines += ["", "Verify: {}".format(words["verify"])]
        lines += _rows([("Keras says", words.get("verify_says")), ("Verdict", words.get("verify_verdict")),
                        ("Import", words.get("verify_import")), ("Devices", words.get("verify_devices"))])
        lines += ["  stderr | " + line for line in (record["verify"] or {}).get("stderr_tail") or []]
    lines += ["", "Problems"] + (_problem_lines(record["problems"]) or ["  none"])
    return "\n".join(lines)


def _rows(rows: "List[Any]") -> "List[str]":
    return ["  {:<11} {}".format(label, value) for label, value in rows if value is not None]


def _problem_lines(problems: "List[Dict[str, str]]") -> "List[str]":
    lines: "List[str]" = []
    for problem in problems:
        lines.append("  [{}] {}".format(problem["code"], problem["message"]))
        lines.append("      fix: {}".format(problem["fix"]))
    return lines
