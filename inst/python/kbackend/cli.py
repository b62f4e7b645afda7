"""Command line: ``python -m kbackend``.

Exit status: 0 when Keras will import with the reported backend; 1 when the
report predicts that ``import keras`` fails; 2 for a usage error; 3 when
``use`` refuses a request (nothing was changed); 4 when ``--verify`` finds
real Keras disagreeing with the prediction; 5 when kbackend itself failed.
"""

import json
import os
import sys

from . import _stdlib, importpath, info, interfaces
from ._version import __version__
from .errors import KBackendError

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    import argparse
    from typing import Any, Dict, List, Optional

EXIT_OK, EXIT_PREDICTS_FAILURE, EXIT_USAGE, EXIT_REFUSED, EXIT_MISMATCH, EXIT_INTERNAL = 0, 1, 2, 3, 4, 5

_DESCRIPTION = """\
Tell which Keras backend `import keras` will use here, why, and whether it
will work -- without importing Keras or any backend.

exit status: 0 Keras will import fine; 1 import keras would fail (the report
says why); 2 usage error; 3 `use` refused the request and changed nothing;
4 --verify found that real Keras disagrees with the prediction (a kbackend bug);
5 kbackend itself failed (a bug: please report the traceback)."""

_EPILOG = """\
examples:
  python -m kbackend                   readable report
  python -m kbackend --json            the same record as JSON
  python -m kbackend --verify          also import Keras in a child process and compare
  python -m kbackend use jax --check   would `jax` work here? (changes nothing)
  python -m kbackend use jax --device cpu --json   the variables that select jax on the CPU
  python -m kbackend use jax --persist write "backend": "jax" into keras.json
  python -m kbackend matrix            the backends that would import, as a CI job matrix
  python -m kbackend matrix --table    the same, with the reason for each that would not"""


def _parser() -> "argparse.ArgumentParser":
    with _stdlib.first():
        import argparse

        # argparse imports these on first use, after the guard would be gone:
        # gettext's translation lookup (locale) and the help layout (shutil)
        import gettext  # noqa: F401
        import locale  # noqa: F401
        import shutil  # noqa: F401

    parser = argparse.ArgumentParser(
        prog="python -m kbackend", description=_DESCRIPTION, epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print the record as JSON instead of the report")
    parser.add_argument("--with-text", action="store_true",
                        help="with --json, for the R bridge: add the report's words as the record's `text`")
    parser.add_argument("--verify", action="store_true",
                        help="also import Keras in a separate, time-limited process (against a temporary copy of "
                             "keras.json) and report its backend, import time, peak memory and devices")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="time limit for --verify (default 120)")
    parser.add_argument("--interface-json", default=None, metavar="JSON",
                        help="for the R bridge: facts about the R package that will import Keras (see "
                             "kbackend.interfaces); the answer then holds after that package has loaded")
    parser.add_argument("--version", action="version", version="kbackend " + __version__)
    commands = parser.add_subparsers(dest="command", metavar="{use,matrix}")
    use = commands.add_parser(
        "use", help="validate a backend and persist it in keras.json",
        description="Validate NAME against the installed Keras. A process cannot set its parent's "
                    "environment, so from the shell use --check, or --persist to write keras.json "
                    "(an exported KERAS_BACKEND still wins over the file).",
    )
    use.add_argument("name", help="backend name, e.g. tensorflow, jax, torch, numpy, openvino")
    use.add_argument("--persist", action="store_true", help="write the backend into keras.json (atomically)")
    use.add_argument("--check", action="store_true", help="only validate; change nothing (the default without "
                                                           "--persist: a process cannot set its parent's environment)")
    use.add_argument("--device", default=None, metavar="{cpu,gpu}",
                     help="also choose the device: validate it and print the variables that select it")
    use.add_argument("--json", action="store_true", dest="use_json", help="answer as JSON")
    use.add_argument("--interface-json", default=None, dest="use_interface_json", metavar="JSON",
                     help="as for the report")
    matrix = commands.add_parser(
        "matrix", help="the backends that would import here, as a CI job matrix",
        description='Print {"backend": [...]}: the backends `import keras` would work with here, each '
                    "judged as `use NAME --check` judges it, as JSON a CI system takes as a job matrix "
                    "([] where none would). Exits 0 whenever it answers, even with an empty list.",
    )
    matrix.add_argument("names", nargs="*", metavar="NAME",
                        help="the backends to judge (default: every backend the installed Keras knows)")
    matrix.add_argument("--table", action="store_true",
                        help="a readable table instead, with the reason for each backend that would not import")
    matrix.add_argument("--details", action="store_true",
                        help="the whole answer as JSON: every candidate with its reason, the Keras and Python")
    matrix.add_argument("--interface-json", default=None, dest="matrix_interface_json", metavar="JSON",
                        help="as for the report")
    return parser


def _matrix(args: "argparse.Namespace") -> int:
    from . import matrix  # loaded on first use: the report does not need it

    answer = matrix.usable_keras_backends(args.names or None,
                                          _interface(args.matrix_interface_json or args.interface_json))
    if args.table:
        _print(matrix.format_table(answer))
    elif args.details:
        _print(json.dumps(answer, indent=2))
    else:
        _print(json.dumps({"backend": answer["backend"]}))
    return EXIT_OK


def _use(args: "argparse.Namespace") -> int:
    from . import setting

    as_json = args.json or args.use_json
    interface = _interface(args.use_interface_json or args.interface_json)
    try:
        persist = args.persist and not args.check
        change = setting.change_keras_backend(args.name, persist, interface, args.device, check=not persist)
    except KBackendError as exc:
        if as_json:
            print(json.dumps({"ok": False, "error_class": type(exc).__name__, "code": exc.code, "message": str(exc)}))
        else:
            print("kbackend: {}".format(exc), file=sys.stderr)
        return EXIT_REFUSED
    if as_json:
        print(json.dumps(dict(change, ok=True)))
        return EXIT_OK
    # A process cannot set its parent's environment: say what to export.
    exports = " ".join(["{}={}".format(k, v) for k, v in change["set"].items()] +
                       ["-u {}".format(k) for k in change["unset"]])
    print("kbackend: {!r} is a valid, installed backend here; to use it: env {}".format(args.name, exports))
    for note in change["notes"]:
        print("kbackend: {}".format(note["message"]))
    return EXIT_OK


def main(argv: "Optional[List[str]]" = None) -> int:
    """Run the command line; returns the exit status.

    An unexpected exception exits 5, never 1, so that callers (the R
    bridge) cannot mistake a kbackend bug for a prediction that Keras fails.
    """
    importpath.answer_for_a_fresh_process()
    try:
        return _main(argv)
    except Exception as exc:  # noqa: BLE001 - reported, with a distinct status
        with _stdlib.first():  # formatting imports more modules (linecache, tokenize, ...)
            import traceback

            text = traceback.format_exc()
        sys.stderr.write(text)
        words = sys.argv[1:] if argv is None else argv
        if "--json" in words:
            # the R bridge reads stdout: give it an error object, not silence
            _print(json.dumps({"internal_error": True, "error": "{}: {}".format(type(exc).__name__, exc),
                               "traceback": text.splitlines()[-12:]}))
        return EXIT_INTERNAL


#: The everyday invocations (a person's, a script's, the R bridge's),
#: answered without building the argparse parser: importing argparse alone
#: costs about 2 ms of a ~20 ms budget.  Each maps to (as JSON, with text).
_FAST = {(): (False, False), ("--json",): (True, False), ("--json", "--with-text"): (True, True)}


def _main(argv: "Optional[List[str]]") -> int:
    words = tuple(sys.argv[1:] if argv is None else argv)
    if words in _FAST:
        return _report(_FAST[words][0], verify=False, timeout=None, text=_FAST[words][1])
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code not in (0, None) else EXIT_OK
    if args.command == "use":
        return _use(args)
    if args.command == "matrix":
        return _matrix(args)
    return _report(args.json, args.verify, args.timeout, _interface(args.interface_json), args.with_text)


def _interface(text: "Optional[str]") -> "Optional[Dict[str, Any]]":
    """Decode --interface-json; a malformed value is a bug of the caller: exit 5."""
    if text is None:
        return None
    facts = json.loads(text)
    interfaces.parse(facts)  # raises on a malformed description
    return facts


def _report(as_json: bool, verify: bool, timeout: "Optional[float]",
            interface: "Optional[Dict[str, Any]]" = None, text: bool = False) -> int:
    """Print the record (JSON or the readable report) and map it to an exit status."""
    record = info.backend_info(verify=verify, timeout=timeout, interface=interface)
    if as_json:
        _print(info.record_json(info.with_text(record) if text else record, indent=2))
    else:
        with _stdlib.first():
            from . import report

        _print(report.format_report(record))
    if record["verify"] is not None and record["verify"]["agrees"] is False:
        return EXIT_MISMATCH
    return EXIT_OK if record["status"] == "ok" else EXIT_PREDICTS_FAILURE


def _print(text: str) -> None:
    """Print, tolerating a closed pipe (``python -m kbackend | head``) and
    text the terminal cannot encode."""
    try:
        try:
            print(text)
        except UnicodeEncodeError:
            # A name from KERAS_BACKEND or keras.json that stdout's encoding
            # cannot represent (any non-ASCII under PYTHONIOENCODING=ascii, a
            # lone surrogate from a "\ud800" escape in keras.json): show it
            # backslash-escaped instead of crashing with exit status 5.
            encoding = getattr(sys.stdout, "encoding", None) or "ascii"
            print(text.encode(encoding, "backslashreplace").decode(encoding))
        sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at devnull so the interpreter's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
