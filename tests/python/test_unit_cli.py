"""Unit tests of the command line and of --verify's portability.

Stdlib unittest: runs on every CPython from 3.6 to 3.13 with ``python -m
unittest`` (no third-party packages), and under pytest in the main
environment, on fake installations (unit_support.py).  Real Keras is held
against the predictions in test_differential.py.
"""

import contextlib
import io
import json
import os
import sys
import unittest

import unit_support  # noqa: F401 - puts the package and the test helpers on sys.path
from kbackend import cli  # noqa: E402
from fakes import Sandbox, environ, isolated_path  # noqa: E402
from unit_support import (  # noqa: E402
    HERE, KERAS3, installed)


class CommandLine(unittest.TestCase):
    def run_cli(self, argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(argv)
        return code, out.getvalue(), err.getvalue()

    def test_json_and_exit_status(self):
        with installed(KERAS3, KERAS_BACKEND="jax"):
            code, out, _ = self.run_cli(["--json"])
            self.assertEqual((code, json.loads(out)["backend"]), (0, "jax"))
        with installed(KERAS3, KERAS_BACKEND="torch"):
            self.assertEqual(self.run_cli([])[0], cli.EXIT_PREDICTS_FAILURE)

    def test_use_answers_in_json(self):
        with installed(KERAS3):
            code, out, _ = self.run_cli(["use", "JAX", "--json"])
            self.assertEqual(code, cli.EXIT_REFUSED)
            self.assertEqual(json.loads(out)["error_class"], "InvalidBackendError")
            code, out, _ = self.run_cli(["use", "jax", "--check", "--json"])
            self.assertEqual((code, json.loads(out)["ok"]), (0, True))

    def test_internal_failure_is_exit_5_with_an_error_object(self):
        with installed(KERAS3):
            code, out, err = self.run_cli(["--json", "--interface-json", '{"name": "x"}'])
        self.assertEqual(code, cli.EXIT_INTERNAL)
        answer = json.loads(out)
        self.assertTrue(answer["internal_error"])
        self.assertTrue(answer["error"].startswith("ValueError: interface must be"))
        self.assertIn("Traceback", err)

    def test_hostile_working_directory(self):
        """Files named like the standard modules kbackend uses, and a deleted
        working directory: a report, never a crash."""
        import subprocess
        import tempfile

        python_dir = os.path.join(os.path.dirname(os.path.dirname(HERE)), "python")
        bootstrap = "import sys; sys.path.insert(0, sys.argv.pop(1)); from kbackend.cli import main; sys.exit(main(sys.argv[1:]))"
        env = dict(os.environ, PYTHONPATH=python_dir)
        with Sandbox() as box:
            # not contextlib, re or linecache: `python -m` (3.6-3.9) and `-c`
            # (3.13) may import those before any code of kbackend's runs
            for module in ("json", "math", "argparse", "traceback", "ast", "tokenize"):
                with open(os.path.join(box.root, module + ".py"), "w") as handle:
                    handle.write("raise SystemExit('shadowed {}')\n".format(module))
            for argv in ([sys.executable, "-m", "kbackend", "--json"], [sys.executable, "-m", "kbackend"],
                         [sys.executable, "-c", bootstrap, python_dir, "--json"],
                         [sys.executable, "-m", "kbackend", "--json", "--interface-json", "[]"]):
                done = subprocess.run(argv, cwd=box.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                self.assertNotIn(b"shadowed", done.stderr, argv)
                self.assertIn(done.returncode, (0, 1, 5), argv)
                if "--json" in argv:
                    json.loads(done.stdout.decode())
        gone = tempfile.mkdtemp()
        done = subprocess.run([sys.executable, "-c", "import os, subprocess, sys; os.chdir({0!r}); os.rmdir({0!r}); "
                               "sys.exit(subprocess.call([sys.executable, '-m', 'kbackend', '--json'], "
                               "stdout=subprocess.DEVNULL))".format(gone)], env=env)
        self.assertIn(done.returncode, (0, 1))

    def test_usage_errors(self):
        self.assertEqual(self.run_cli(["--no-such-flag"])[0], cli.EXIT_USAGE)
        code, out, _ = self.run_cli(["--help"])
        self.assertEqual(code, 0)
        self.assertIn("exit status", out)


class VerifyPortability(unittest.TestCase):
    """The verify child's platform branches: memory units, process groups,
    killing, exit codes.  Windows and macOS cannot run here, so their
    branches are chosen by the platform argument and checked for what they
    would do; the POSIX branch also runs for real."""

    def setUp(self):
        from kbackend import verify
        self.verify = verify

    def test_peak_memory_units_per_platform(self):
        peak = self.verify._peak_memory_mb
        self.assertEqual(peak(204800, "linux"), 200.0)  # KiB
        self.assertEqual(peak(204800, "freebsd13"), 200.0)
        self.assertEqual(peak(200 * 1024 * 1024, "darwin"), 200.0)  # bytes
        self.assertIsNone(peak(None, "win32"))  # no resource module there

    def test_child_gets_a_group_of_its_own(self):
        self.assertEqual(self.verify._own_group("posix"), {"start_new_session": True})
        flags = self.verify._own_group("nt")["creationflags"]
        self.assertEqual(flags, getattr(self.verify.subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200))

    def _child(self, running, calls):
        class Child(object):
            pid = 4242

            def poll(self):
                return None if running else -9

            def kill(self):
                calls.append("kill")
        return Child()

    @contextlib.contextmanager
    def _patched(self, module, name, replacement):
        saved = getattr(module, name, None)
        setattr(module, name, replacement)
        try:
            yield
        finally:
            if saved is None:
                delattr(module, name)
            else:
                setattr(module, name, saved)

    def test_windows_kills_the_process_tree(self):
        calls = []
        with self._patched(self.verify.subprocess, "run", lambda args, **kwargs: calls.append(args)):
            self.verify._kill_group(self._child(True, calls), "nt")
            self.assertEqual(calls, [["taskkill", "/F", "/T", "/PID", "4242"], "kill"])
            del calls[:]
            self.verify._kill_group(self._child(False, calls), "nt")  # already ended: no tree to find
            self.assertEqual(calls, [])

    def test_windows_without_taskkill_still_kills_the_child(self):
        calls = []

        def missing(args, **kwargs):
            raise FileNotFoundError(args[0])
        with self._patched(self.verify.subprocess, "run", missing):
            self.verify._kill_group(self._child(True, calls), "nt")
        self.assertEqual(calls, ["kill"])

    def test_posix_kills_the_session_even_after_the_child_ended(self):
        calls = []

        def killpg(pid, sig):
            calls.append((pid, sig))
            raise ProcessLookupError(pid)
        with self._patched(self.verify.os, "killpg", killpg):
            self.verify._kill_group(self._child(False, calls), "posix")
            self.assertEqual(calls, [(4242, self.verify.signal.SIGKILL)])
            del calls[:]
            self.verify._kill_group(self._child(True, calls), "posix")
            self.assertEqual(calls, [(4242, self.verify.signal.SIGKILL), "kill"])

    def test_how_a_child_died_in_words(self):
        death = self.verify._death
        self.assertEqual(death(-9, "posix"), "SIGKILL")
        self.assertEqual(death(3, "posix"), "exit status 3")
        self.assertEqual(death(0xC0000005, "nt"), "exit status 0xC0000005")
        self.assertEqual(death(3, "nt"), "exit status 3")
        self.assertIsNone(self.verify._signal_name(0xC0000005))

    @unittest.skipUnless(os.name == "posix", "runs the POSIX branch for real")
    def test_posix_group_is_real_and_killed(self):
        import subprocess
        code = "import sys; sys.stdout.write('up\\n'); sys.stdout.flush(); sys.stdin.read()"
        child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 **self.verify._own_group())
        try:
            self.assertEqual(child.stdout.readline(), b"up\n")
            self.assertEqual(os.getsid(child.pid), child.pid)  # a session, so a group, of its own
            self.verify._kill_group(child)
            self.assertEqual(child.wait(timeout=30), -self.verify.signal.SIGKILL)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            child.stdin.close()
            child.stdout.close()

    def test_verify_reports_memory_in_mib_and_no_raw_field(self):
        """A real child importing a stand-in keras: the raw ru_maxrss the
        child sends becomes peak_memory_mb (None where unknown)."""
        with Sandbox() as box:
            package = os.path.join(box.root, "standin", "keras")
            os.makedirs(package)
            with open(os.path.join(package, "__init__.py"), "w") as handle:
                handle.write("class backend:\n    @staticmethod\n    def backend():\n        return 'numpy'\n")
            record = {"locked": False, "config_path": os.path.join(box.root, "absent.json"), "status": "ok",
                      "backend": "numpy", "error": None}
            with isolated_path(os.path.join(box.root, "standin")), environ(HOME=box.home):
                result = self.verify.verify(record, timeout=60)
        self.assertEqual((result["status"], result["backend"], result["agrees"]), ("ok", "numpy", True))
        self.assertNotIn("ru_maxrss", result)
        if os.name == "posix":
            self.assertGreater(result["peak_memory_mb"], 1)
            self.assertLess(result["peak_memory_mb"], 4096)
        else:
            self.assertIsNone(result["peak_memory_mb"])


if __name__ == "__main__":
    unittest.main()
