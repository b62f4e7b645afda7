"""The CLI's readable report, pinned as approved text (tests/python/approved/).

A fixed record (the one R's snapshot tests render: tests/testthat/
helper-reports.R) is rendered by ``kbackend.report.format_report``; the
output must equal the approved file.  To approve a change of wording, delete
the file and run this test once: it writes the new text and fails, so the
change is seen and committed on purpose.
"""

import json
import os

import pytest

from kbackend import report

HERE = os.path.dirname(os.path.abspath(__file__))
APPROVED = os.path.join(HERE, "approved")

RECORD = {
    "kbackend_version": "0.1.0", "backend": "jax", "status": "ok", "error": None, "source": "environment",
    "reason": "KERAS_BACKEND is set to 'jax'", "locked": False, "locked_by": [],
    "keras_home": "/h/.keras", "keras_home_source": "home", "config_path": "/h/.keras/keras.json",
    "config_file": {"exists": False, "type": None, "parses": None, "error": None, "backend": None},
    "config": {"floatx": "float32", "epsilon": 1e-07, "image_data_format": "channels_last"},
    "keras": {"installed": True, "version": "3.15.1", "flavour": "keras3", "description": "Keras 3 (multi-backend)",
              "path": "/site/keras"},
    "installed": {"keras": "3.15.1", "tensorflow": "2.21.0", "jax": "0.10.2", "torch": None},
    "tf_keras": {"routes_to": "keras", "version": "3.15.1", "backend": "jax", "status": "ok", "error": None,
                 "reason": "r"},
    "variables": {"KERAS_BACKEND": "jax"},
    "python": {"executable": "/venv/bin/python", "version": "3.11.7", "implementation": "cpython"},
    "interface": None, "problems": [], "verify": None,
    "device": {"device": "cpu", "reason": "a CPU-only build of jax (jaxlib 0.10.2, no GPU plugin)",
               "warning": None, "variables": {}},
    "devices": {},
}
FAILING = dict(RECORD, backend="theano", status="error", error="ValueError: Unable to import backend : x",
               locked=True, locked_by=["keras"],
               problems=[{"code": "bad", "message": "theano is gone", "fix": "use jax"}])
VERIFIED = dict(RECORD, verify={
    "status": "timeout", "backend": None, "error": "no answer within 2 s; the import was stopped", "agrees": None,
    "devices": None, "devices_error": None, "import_seconds": None, "stderr_tail": ["stuck here"]})


@pytest.mark.parametrize("name, record", [("ok", RECORD), ("failing", FAILING), ("verify-timeout", VERIFIED)])
def test_report_matches_the_approved_text(name, record):
    path = os.path.join(APPROVED, "report-{}.txt".format(name))
    text = report.format_report(json.loads(json.dumps(record))) + "\n"
    if not os.path.exists(path):
        with open(path, "w") as handle:
            handle.write(text)
        pytest.fail("no approved text yet: wrote {}; read it, then commit it".format(path))
    with open(path) as handle:
        assert text == handle.read()
