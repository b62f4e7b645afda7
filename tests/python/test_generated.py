"""Generated environments, each checked against real Keras.

tests/python/generator.py draws each case blind from a seed and an index
(installation, placement of Keras and its backends, interpreter flags, the
working directory, variables of Keras and of each backend library,
keras.json, home permissions), builds it from the lab's real installations
and compares ``python -m kbackend --json`` with a real ``import keras`` run
with the same interpreter, flags, working directory and environment.

Two sets run here: a bounded sample (``KBACKEND_GENERATED_TEST`` cases of
the fixed seed, spread over the five installations; sized for ``make
test``), and every disagreement ever found, kept in
tests/generated-cases.json.  A kept case marked ``known_miss`` is an
expected failure (strict: when kbackend starts to agree, the mark must go;
``generator.py refresh`` re-marks them).  ``make fuzz-keras`` is the long
mode.
"""

import json
import os

import generator
import pytest
from conftest import env_python
from test_differential import assert_agrees

SAMPLE = int(os.environ.get("KBACKEND_GENERATED_TEST", "100"))
SEED = os.environ.get("KBACKEND_GENERATED_SEED", generator.DEFAULT_SEED)
KEPT = generator.load_cases()["cases"]
_BY_SPEC = {generator.canonical(case["spec"]): case for case in KEPT}


def _param(spec, ident):
    case = _BY_SPEC.get(generator.canonical(spec))
    marks = []
    if case and case.get("known_miss"):
        marks.append(pytest.mark.xfail(strict=True, reason="{} ({}): {}".format(
            case.get("mechanism"), case["id"], case["known_miss"])))
    return pytest.param(spec, id=ident, marks=marks)


def _params():
    params, seen = [], set()
    for index in range(SAMPLE):
        spec = generator.draw(SEED, index)
        seen.add(generator.canonical(spec))
        params.append(_param(spec, "sample-{}-{}".format(index, spec["install"])))
    for case in KEPT:
        if generator.canonical(case["spec"]) not in seen:
            params.append(_param(case["spec"], "kept-{}-{}".format(case["id"], case["spec"]["install"])))
    return params


@pytest.mark.parametrize("spec", _params())
def test_generated_environment_matches_real_keras(spec, tmp_path):
    env_python(spec["install"])  # the installation it is built from; strict mode fails if absent
    built = generator.build(spec, str(tmp_path))
    try:
        record = generator.predict(built)
        actual = generator.ask_keras(built)
    finally:
        generator.release(built)
    replay = "replay: .venv/bin/python tests/python/generator.py replay '{}'".format(json.dumps(spec))
    assert not record.get("internal_error"), "kbackend failed: {}\n{}".format(record.get("error"), replay)
    assert actual["status"] != "no-answer", "the interpreter gave no answer: {}\n{}".format(actual, replay)
    context = "{}\nKeras stderr tail:\n{}".format(replay, actual.get("stderr", "")[-800:])
    assert_agrees(generator.predicted_view(record, built.mode), actual, context, built.compare)


def test_the_sample_covers_every_installation_and_dimension():
    """The make-test sample (drawn blind: ``draw`` never runs kbackend)
    spreads over the five installations and reaches every dimension; a spec
    replays to itself (it is the whole case)."""
    specs = [generator.draw(SEED, index) for index in range(max(SAMPLE, 40))]
    assert {spec["install"] for spec in specs} == set(generator.INSTALLS)
    assert generator.draw(SEED, 7) == specs[7] and json.loads(json.dumps(specs[7])) == specs[7]
    reached = set()
    for spec in specs:
        reached.update(generator.perturbed(spec))
    assert reached == set(generator.DIMENSIONS)


def test_kept_cases_replay_to_the_same_identity():
    """Every kept case is a complete spec whose id is its content's hash."""
    for case in KEPT:
        assert case["id"] == generator.spec_id(case["spec"]), case["id"]
        assert case["spec"]["install"] in generator.INSTALLS
