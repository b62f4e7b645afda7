"""Tally a JUnit XML report (pytest's --junitxml, testthat's JunitReporter).

    junit-tally.py REPORT             "PASSED FAILED": strict, for the lab
    junit-tally.py --skips REPORT     "PASSED FAILED SKIPPED"
    junit-tally.py --reasons REPORT   "COUNT: REASON", one line per skip reason

Strict: a test counts as failed when it failed or errored, and as passed
otherwise; a skipped test counts as failed too (the lab runs strict: a skip
there means a requirement is missing), and an expected failure (xfail,
which pytest reports as skipped with type pytest.xfail) counts as passed.
"""

import collections
import re
import sys
import xml.etree.ElementTree as ElementTree


def outcomes(path):
    """Each test's outcome: "passed", "failed" or "skipped", with the skip's reason."""
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        children = {child.tag: child for child in case}
        skipped = children.get("skipped")
        if "failure" in children or "error" in children:
            yield "failed", None
        elif skipped is not None and skipped.get("type") != "pytest.xfail":
            # testthat: "Reason: needs ... (file.R:12:3)"; pytest: the reason
            reason = re.sub(r"^Reason: ", "", skipped.get("message") or "")
            yield "skipped", re.sub(r" \((\?\?\?|'?[^()']*\.[Rr]:\d+(:\d+)?'?)\)$", "", reason)
        else:
            yield "passed", None


def main(argv):
    mode, path = (argv[0], argv[1]) if len(argv) == 2 else ("--strict", argv[0])
    results = list(outcomes(path))
    counts = collections.Counter(outcome for outcome, _ in results)
    if mode == "--strict":
        print("{} {}".format(counts["passed"], counts["failed"] + counts["skipped"]))
    elif mode == "--skips":
        print("{} {} {}".format(counts["passed"], counts["failed"], counts["skipped"]))
    elif mode == "--reasons":
        reasons = collections.Counter(reason for outcome, reason in results if outcome == "skipped")
        for reason, count in reasons.most_common():
            print("{}: {}".format(count, reason))
    else:
        sys.exit("usage: junit-tally.py [--skips|--reasons] REPORT")


if __name__ == "__main__":
    main(sys.argv[1:])
