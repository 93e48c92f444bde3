"""The version matrix: the examples and the pages' blocks on each torch release.

    pip install ".[test]"                # nox comes with the test extras
    nox -s matrix                        # every release below, one after the other
    nox -s "matrix(torch='2.13.0')"      # one release
    nox -R -s "matrix(torch='2.6.0')" -- -k save_entire  # a few tests, no record

Each session makes its own virtual environment with that torch and everything else
pyproject.toml pins, runs the example scripts (with their quoted outputs) and the
pages' inline blocks (and builds the site, which runs the notebook page), and
writes what passed to matrix/<release>.json. The browser tests run in the main
suite only: the pages they check do not change with torch.
"""

import json
import platform
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import nox
import tomllib

nox.options.default_venv_backend = "venv"

# Each release, with what must come with it. torchvision's wheels import only beside
# the torch they were built for (0.29.1 with 2.14.1 here); elsewhere its pages are
# left out of the run, and the record says so.
RELEASES = {
    "2.15.0": [],  # the newest; no torchvision for it yet
    "2.14.1": ["torchvision==0.29.1"],
    "2.13.0": [],
    "2.10.0": [],  # the oldest the site trusts with others' files (CVE-2026-24747)
    "2.6.0": [],  # the oldest the site names: weights_only=True became the default
}
PINNED_TOGETHER = re.compile(r"(torch|torchvision)\b")


@nox.session
@nox.parametrize("torch", list(RELEASES))
def matrix(session, torch):
    project = tomllib.loads(Path("pyproject.toml").read_text())["project"]
    others = [d for d in project["dependencies"] if not PINNED_TOGETHER.match(d)]
    tests = project["optional-dependencies"]["test"]
    session.install(f"torch=={torch}", *RELEASES[torch], *others, *tests)

    if session.posargs:  # a few tests by hand (`-- -k name`): no record
        session.run(
            "pytest", "tests/test_examples.py", "tests/test_docs.py", *session.posargs
        )
        return

    report = Path("build") / f"matrix-{torch}.xml"
    report.parent.mkdir(exist_ok=True)
    left_out = [] if RELEASES[torch] else ["torchvision"]
    args = ["tests/test_examples.py", "tests/test_docs.py", "-m", "not browser"]
    args += ["-p", "no:cacheprovider", f"--junitxml={report}"]
    if left_out:
        args += ["-k", " and ".join(f"not {name}" for name in left_out)]
    session.run("pytest", *args, success_codes=[0, 1])  # failures: recorded below

    suite = ET.parse(report).getroot().find("testsuite")
    failed_tests = sorted(
        f"{case.get('classname')}::{case.get('name')}"
        for case in suite.iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    )
    counts = {k: int(suite.get(k)) for k in ("tests", "failures", "errors", "skipped")}
    record = {
        "torch": torch,
        "python": platform.python_version(),
        "date": date.today().isoformat(),
        "passed": counts["tests"]
        - sum(counts[k] for k in ("failures", "errors", "skipped")),
        "failed": counts["failures"] + counts["errors"],
        "skipped": counts["skipped"],
        "seconds": round(float(suite.get("time"))),
        "left_out": left_out,
        "failed_tests": failed_tests,
    }
    Path("matrix").mkdir(exist_ok=True)
    Path("matrix", f"{torch}.json").write_text(json.dumps(record, indent=2) + "\n")
    session.log(f"torch {torch}: {record}")
    if record["failed"]:
        session.error(f"torch {torch}: {record['failed']} failed")
