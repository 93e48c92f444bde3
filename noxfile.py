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
import re
import tomllib
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"

# Each release, with what must come with it. torchvision's wheels import only beside
# the torch they were built for (0.29.1 with 2.14.1 here); elsewhere its pages are
# left out of the run, and the record says so.
RELEASES = {
    "2.15.0": [],  # the newest; no torchvision for it yet
    "2.14.1": ["torchvision==0.29.1"],  # the pin
    "2.13.0": [],
    "2.12.1": [],
    "2.11.0": [],
    "2.10.0": [],  # the oldest the site trusts with others' files (CVE-2026-24747)
    "2.9.1": [],
    "2.8.0": [],
    "2.7.1": [],
    "2.6.0": [],  # the oldest the site names: weights_only=True became the default
}
# Libraries that have no release for some torch: not installed there, and the tests
# whose names hold their name are left out of the run (the record says so). timm needs
# torchvision, which has no release for torch 2.15 yet.
# On 2.13.0 pip takes the CPU build of torch that lies on this machine's disk, beside
# which PyPI's torchvision does not import (and transformers, which imports it when
# installed, then fails too).
WITHOUT = {"2.15.0": ["timm"], "2.13.0": ["timm"]}
# Every release runs on the Python of the machine (3.11 on CI); the pin also runs on
# each other Python that pyproject.toml's requires-python admits and torch ships for.
PYTHONS = ["3.12", "3.13"]
PINNED_TOGETHER = re.compile(r"(torch|torchvision)\b")


@nox.session
@nox.parametrize("torch", list(RELEASES))
def matrix(session, torch):
    """Every release of RELEASES, on the Python that runs nox."""
    run_and_record(session, torch, Path("matrix", f"{torch}.json"))


@nox.session(python=PYTHONS)
def pythons(session):
    """The pinned torch on each other Python: matrix/<torch>-py<python>.json."""
    (torch,) = [t for t, extra in RELEASES.items() if extra]  # the pin
    record = Path("matrix", f"{torch}-py{session.python}.json")
    run_and_record(session, torch, record)


def run_and_record(session, torch, record_path):
    """Install `torch` with the rest of pyproject.toml's pins, run the examples and the
    pages' blocks, and write what passed to `record_path`."""
    install(session, torch)

    if session.posargs:  # a few tests by hand (`-- -k name`): no record
        session.run(
            "pytest",
            "tests/test_examples.py",
            "tests/test_docs.py",
            "tests/test_site.py",
            *session.posargs,
        )
        return

    report = Path("build") / f"{record_path.stem}.xml"
    report.parent.mkdir(exist_ok=True)
    left_out = ([] if RELEASES[torch] else ["torchvision"]) + WITHOUT.get(torch, [])
    args = ["tests/test_examples.py", "tests/test_docs.py", "tests/test_site.py"]
    args += ["-m", "not browser"]
    args += ["-p", "no:cacheprovider", f"--junitxml={report}"]
    # What the pages say of the records is checked by the main suite, once the
    # records are written: not while one is being made.
    args += [
        "--deselect",
        "tests/test_site.py::test_pages_show_the_releases_their_code_passed_on",
    ]
    if left_out:
        args += ["-k", " and ".join(f"not {name}" for name in left_out)]
    session.run("pytest", *args, success_codes=[0, 1])  # failures: recorded below

    if not report.exists():  # --install-only: nothing ran
        return
    record = read_report(report)
    write_record(session, torch, record, left_out, record_path)


def install(session, torch):
    """`torch`, what must come with it, and the rest of pyproject.toml's pins (the
    libraries that have no release for it left out)."""
    project = tomllib.loads(Path("pyproject.toml").read_text())["project"]
    without = WITHOUT.get(torch, [])
    others = [
        d
        for d in project["dependencies"]
        if not PINNED_TOGETHER.match(d) and re.match(r"[\w-]+", d)[0] not in without
    ]
    tests = project["optional-dependencies"]["test"]
    if session.venv_backend == "none":
        # `nox --no-venv` with .venv/bin first on PATH: the project's own environment,
        # which must hold this release (the pin's record, with no second install).
        found = session.run(
            "python", "-c", "import torch; print(torch.__version__)", silent=True
        ).strip()
        if found.split("+")[0] != torch:
            session.error(f"--no-venv runs torch {found}, not {torch}")
    else:
        session.install(f"torch=={torch}", *RELEASES[torch], *others, *tests)


def write_record(session, torch, record, left_out, record_path):
    """Write a run's record (`record`: read_report's counts) to `record_path`, with
    the release, the Python and the date; a failed test fails the session."""
    python = session.run(
        "python",
        "-c",
        "import platform; print(platform.python_version())",
        silent=True,
    ).strip()
    record = {
        "torch": torch,
        "python": python,
        "date": date.today().isoformat(),
        **record,
        "left_out": left_out,
    }
    record["ran"] = record.pop("ran")
    record["failed_tests"] = record.pop("failed_tests")
    record_path.parent.mkdir(exist_ok=True)
    record_path.write_text(json.dumps(record, indent=2) + "\n")
    session.log(f"torch {torch}, Python {python}: {record}")
    if record["failed"]:
        session.error(f"torch {torch}, Python {python}: {record['failed']} failed")


# The scripts and pages a test's name holds: "test_example[cpu-examples/x/y.py]".
TESTED = re.compile(r"(?:examples|docs|tools)/[\w./-]+?\.(?:py|md)")


def read_report(report):
    """Counts, the scripts and pages that ran, and failed test names, from a pytest
    junit XML report."""
    suite = ET.parse(report).getroot().find("testsuite")
    ran = sorted(
        {
            name
            for case in suite.iter("testcase")
            if case.find("skipped") is None
            for name in TESTED.findall(case.get("name"))
        }
    )
    failed_tests = sorted(
        f"{case.get('classname')}::{case.get('name')}"
        for case in suite.iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    )
    counts = {k: int(suite.get(k)) for k in ("tests", "failures", "errors", "skipped")}
    return {
        "passed": counts["tests"]
        - sum(counts[k] for k in ("failures", "errors", "skipped")),
        "failed": counts["failures"] + counts["errors"],
        "skipped": counts["skipped"],
        "seconds": round(float(suite.get("time"))),
        "ran": ran,
        "failed_tests": failed_tests,
    }
