"""Every scenario, in every real Keras environment: prediction == Keras.

For each row of tests/scenarios.json and each environment, run
``python -m kbackend --json`` and then real ``import keras`` (or
``tf.keras``) in fresh subprocesses with the same environment, HOME and
files, and require the same backend, or the same exception.
"""

import pytest

from conftest import ENVIRONMENTS, FLAVOURS, THEANO_DIR, env_python, kbackend_json, oracle
import scenario as scenario_table

SCENARIOS = scenario_table.load()


def _predicted(record, mode):
    if mode == "keras":
        return {"status": record["status"], "backend": record["backend"], "error": record["error"],
                "version": record["keras"]["version"]}
    route = record["tf_keras"]["module"] if mode == "tensorflow.keras" else record["tf_keras"]
    package = {"tensorflow.python.keras": "tensorflow"}.get(route["routes_to"], route["routes_to"])
    return {"status": route["status"], "backend": route["backend"], "error": route["error"],
            "version": route["version"], "package": package}


def assert_agrees(predicted, actual, context, compare="message"):
    """Same backend when Keras works; same exception (class and message) when it fails.

    ``compare="class"``: only the exception class is predictable (a user's
    file decides the message, and kbackend never runs it)."""
    detail = "{}\npredicted: {}\nkeras:     {}".format(context, predicted, actual)
    if actual["status"] == "hang":
        assert predicted["status"] == "error" and predicted["error"].startswith("Hang"), detail
    elif actual["status"] == "ok":
        assert predicted["status"] == "ok", detail
        assert predicted["backend"] == actual["backend"], detail
        if predicted["version"] is not None:
            assert predicted["version"] == actual["version"], detail
        if "package" in actual:
            assert predicted["package"] == actual["package"], detail
    else:
        assert predicted["status"] == "error", detail
        assert predicted["error"].split(":")[0] == actual["error"].split(":")[0], detail
        if compare != "class":
            assert predicted["error"] == actual["error"], detail


@pytest.mark.parametrize("environment", sorted(ENVIRONMENTS))
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_prediction_matches_real_keras(scenario, environment, tmp_path):
    python = env_python(environment)
    mode = scenario.get("oracle", "keras")
    timeout = scenario.get("timeout", 300)
    overlay = scenario_table.materialize(scenario, str(tmp_path), THEANO_DIR)
    # kbackend first: it writes nothing, while Keras writes keras.json on import.
    record = kbackend_json(python, overlay)
    assert record["keras"]["flavour"] == FLAVOURS[environment], record["keras"]
    actual = oracle(python, overlay, mode, timeout)
    context = "scenario {} ({}) in {}; Keras stderr tail:\n{}".format(
        scenario["id"], scenario["about"], environment, actual.get("stderr", "")[-800:])
    assert_agrees(_predicted(record, mode), actual, context, scenario.get("compare", "message"))
