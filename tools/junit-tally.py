"""Print "PASSED FAILED" from a JUnit XML report (pytest's --junitxml).

A test counts as failed when it failed or errored, and as passed otherwise;
a skipped test counts as failed too (the lab runs strict: a skip there
means a requirement is missing), and an expected failure (xfail, which
pytest reports as skipped with type pytest.xfail) counts as passed.
"""

import sys
import xml.etree.ElementTree as ElementTree


def tally(path):
    passed = failed = 0
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        outcomes = {child.tag: child for child in case}
        skipped = outcomes.get("skipped")
        if "failure" in outcomes or "error" in outcomes:
            failed += 1
        elif skipped is not None and skipped.get("type") != "pytest.xfail":
            failed += 1
        else:
            passed += 1
    return passed, failed


if __name__ == "__main__":
    print("{} {}".format(*tally(sys.argv[1])))
