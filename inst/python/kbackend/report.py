"""Render a backend record as a plain-text report for people.

Display is kept apart from collection (``info.py``): the record is data, this
is one view of it.  ASCII only, so it prints on any terminal and locale.
"""

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, List

_HOME_SOURCES = {"KERAS_HOME": "KERAS_HOME", "home": "home directory", "tmp": "/tmp fallback (home not writable)"}


def _config_state(record: "Dict[str, Any]") -> str:
    config = record["config_file"]
    if not config["exists"]:
        return "missing (Keras writes a default one on import)"
    if config["type"] != "file":
        return "exists but is a {}".format(config["type"])
    if config["parses"] is False:
        return "exists, NOT valid JSON: Keras ignores it ({})".format(config["error"])
    if config["parses"] is None:
        return "exists, unreadable ({})".format(config["error"])
    if config["backend"] is None:
        return "exists, valid JSON, no backend key"
    return "exists, valid JSON, backend {!r}".format(config["backend"])


def _backend_line(record: "Dict[str, Any]") -> str:
    if record["status"] == "ok":
        return "{}  (ok)".format(record["backend"])
    return "{!r}  -- import keras would FAIL: {}".format(record["backend"], record["error"])


def _tf_keras_line(route: "Dict[str, Any]") -> str:
    if route["routes_to"] is None:
        return "unavailable: {} ({})".format(route["error"], route["reason"])
    target = "{} {}".format(route["routes_to"], route["version"] or "").strip()
    outcome = route["backend"] if route["status"] == "ok" else "FAILS: {}".format(route["error"])
    return "{} -> {}  ({})".format(target, outcome, route["reason"])


def format_report(record: "Dict[str, Any]") -> str:
    """The report ``python -m kbackend`` prints."""
    keras = record["keras"]
    python = record["python"]
    if keras["installed"]:
        keras_line = "{} -- {}".format(keras["version"], keras["description"])
    else:
        keras_line = "not installed"
    locked = "no (Keras not imported in this process)"
    if record["locked"]:
        locked = "YES: Keras is already imported here ({})".format(", ".join(record["locked_by"]) or "keras")
    rows = [
        ("Backend", _backend_line(record)),
        ("Source", "{}: {}".format(record["source"], record["reason"])),
        ("Locked", locked),
        ("Keras", keras_line),
        ("keras.json", "{}  [{}]".format(record["config_path"], _config_state(record))),
        ("Keras home", "{}  (from {})".format(record["keras_home"], _HOME_SOURCES.get(record["keras_home_source"], "?"))),
        ("tf.keras", _tf_keras_line(record["tf_keras"])),
        ("Python", "{} ({} {})".format(python["executable"], python["implementation"], python["version"])),
    ]
    lines = ["kbackend {} -- Keras backend report".format(record["kbackend_version"]), ""]
    lines += ["  {:<11} {}".format(label, value) for label, value in rows]
    lines += ["", "Installed"]
    lines += ["  {:<11} {}".format(name, version or "-") for name, version in record["installed"].items()]
    lines += ["", "Variables"]
    lines += ["  {}={}".format(name, value) for name, value in record["variables"].items()] or ["  (none set)"]
    if record.get("verify"):
        lines += ["", "Verified by importing Keras in a child process"] + _verify_lines(record["verify"])
    lines += ["", "Problems"] + (_problem_lines(record["problems"]) or ["  none"])
    return "\n".join(lines)


def _verify_lines(result: "Dict[str, Any]") -> "List[str]":
    if result["status"] == "not-run":
        return ["  not run: {}".format(result["reason"])]
    if result["agrees"] is None:
        verdict = "INCONCLUSIVE: the import {}, so nothing confirms or contradicts the prediction".format(
            "timed out" if result["status"] == "timeout" else "crashed")
    else:
        verdict = "AGREES with the prediction" if result["agrees"] else "DISAGREES with the prediction: kbackend bug"
    outcome = result["backend"] if result["status"] == "ok" else "{}: {}".format(result["status"], result["error"])
    rows = [("Keras says", outcome), ("Verdict", verdict)]
    if result.get("import_seconds") is not None:
        rows.append(("Import", "{:.2f} s, peak memory {} MiB".format(result["import_seconds"], result.get("peak_memory_mb"))))
    if result.get("devices") is not None or result.get("devices_error"):
        rows.append(("Devices", ", ".join(result["devices"] or []) or result.get("devices_error")))
    lines = ["  {:<11} {}".format(label, value) for label, value in rows]
    lines += ["  stderr | " + line for line in result.get("stderr_tail") or []]
    return lines


def _problem_lines(problems: "List[Dict[str, str]]") -> "List[str]":
    lines: "List[str]" = []
    for problem in problems:
        lines.append("  [{}] {}".format(problem["code"], problem["message"]))
        lines.append("      fix: {}".format(problem["fix"]))
    return lines
