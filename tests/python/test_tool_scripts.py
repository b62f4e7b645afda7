"""The set-up and test scripts never pipe into a reader that stops early.

Every script under tools/ and .ci/ runs with ``set -o pipefail``.  A pipe
into ``grep -q``, ``grep -l``, ``grep -m N`` or ``head`` closes once it has
what it wants; whatever still writes into it then dies of SIGPIPE (Python raises
BrokenPipeError), and pipefail makes the whole pipeline fail although the
text was there.  Whether the writer is still writing is a race: with
PYTHONUNBUFFERED set, a tally of skip reasons piped into ``grep -q`` failed
a whole ``make test`` run that had passed every test.  The scripts read such
output into a variable first and search that.
"""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPTS = sorted(ROOT.joinpath("tools").glob("*.sh")) + [ROOT / ".ci" / "run"]

# a single "|" (not "||"), then a command that may stop reading early: head,
# or grep with, among its options, one that stops at the first match(es)
EARLY_READER = re.compile(
    r"(?<!\|)\|(?!\|)\s*(head\b|grep\s+(-\S+\s+)*?(-\w*[qml]\w*\b|--(quiet|silent|max-count|files-with-matches)))")


def early_readers(text):
    """(line number, line) for each line that pipes into an early reader."""
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split(" #", 1)[0]
        if not code.lstrip().startswith("#") and EARLY_READER.search(code):
            yield number, line.strip()


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_pipe_into_a_reader_that_stops_early(script):
    text = script.read_text()
    assert "pipefail" in text, "{} does not set pipefail; this test assumes it does".format(script)
    assert list(early_readers(text)) == []


@pytest.mark.parametrize(
    "line",
    [
        '  if ! skip_reasons "$name" | grep -qF "$expected"; then',
        "R --version | head -n 1",
        "dpkg-query -W pkg | grep -q 'ok'",
        "x=$(dpkg -L pkg | grep -m1 so)",
        "tar -xzOf t | grep --quiet jax",
        "tally | grep -E -q 'a|b'",
        "tally | grep -l x",
    ],
)
def test_the_scan_finds_each_early_reader(line):
    assert list(early_readers(line)) == [(1, line.strip())]


@pytest.mark.parametrize(
    "line",
    [
        'grep -qF "$expected" <<<"$reasons"',
        "tar -xzOf t | grep '#&gt; jax' >/dev/null",
        "[ -x x ] || grep -q y file",
        "tally | grep -E --line-buffered x",
        "tally | grep -c x",
        "# piped into grep -q, the tally would be cut off",
        "sed 's/^/x /' <<<\"$reasons\"",
    ],
)
def test_the_scan_leaves_readers_that_read_everything(line):
    assert list(early_readers(line)) == []
