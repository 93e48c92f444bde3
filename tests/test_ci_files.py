"""The checks a pull request faces stay in step with what the project pins, and
the README with the project's files.

The workflows install the torch that pyproject.toml pins and run the suite; the
pre-commit hook runs the ruff version the tests run; README.md's layout names
every file of the code folders.
"""

import re
import tomllib

import yaml
from project import ROOT, matrix_pythons, matrix_releases
from ruff.__main__ import find_ruff_bin

from pageformat import fences

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
WORKFLOWS = ROOT / ".github" / "workflows"


def pinned(name):
    (spec,) = [
        d for d in PYPROJECT["project"]["dependencies"] if re.match(rf"{name}\b", d)
    ]
    return spec


def test_workflows_install_the_pinned_torch_and_run_the_tests():
    torch = pinned("torch")
    for workflow in WORKFLOWS.glob("*.yml"):
        config = yaml.safe_load(workflow.read_text())
        steps = [s for job in config["jobs"].values() for s in job.get("steps", [])]
        runs = "\n".join(s.get("run", "") for s in steps)
        if 'pip install ".' in runs or "pip install ." in runs:
            assert f"pip install {torch} " in runs, f"{workflow.name}: install {torch}"
    tests = yaml.safe_load((WORKFLOWS / "tests.yml").read_text())
    assert "pull_request" in tests[True]  # YAML reads the key `on` as True
    assert ".venv/bin/pytest" in (WORKFLOWS / "tests.yml").read_text()
    site = (WORKFLOWS / "site.yml").read_text()
    assert "mkdocs build --strict" in site and "deploy-pages" in site


def test_pre_commit_runs_the_ruff_the_tests_run():
    import subprocess

    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    (ruff,) = [r for r in config["repos"] if r["repo"].endswith("/ruff-pre-commit")]
    assert {h["id"] for h in ruff["hooks"]} == {"ruff-check", "ruff-format"}
    version = subprocess.run(
        [find_ruff_bin(), "--version"], capture_output=True, text=True
    ).stdout.split()[1]
    assert ruff["rev"] == f"v{version}", "update rev in .pre-commit-config.yaml"


def test_ci_runs_the_matrix_beyond_the_pin():
    """CI runs at least one release besides the pin, and only releases noxfile.py lists."""
    pin = pinned("torch").split("==")[1]
    ci_run = (ROOT / ".ci" / "run").read_text()
    loop = re.search(
        r"^for torch in ([\d. ]+); do\n.*matrix\(torch='\$torch'\)", ci_run, re.M
    )
    assert loop, (
        ".ci/run runs the releases in `for torch in ...; do nox -s matrix(torch='$torch')`"
    )
    nox_runs = loop[1].split()
    tests = yaml.safe_load((WORKFLOWS / "tests.yml").read_text())
    on_github = tests["jobs"]["matrix"]["strategy"]["matrix"]["torch"]
    for releases in (nox_runs, on_github):
        assert releases and pin not in releases
        assert set(releases) <= set(matrix_releases())


def test_ci_runs_the_newest_python():
    """CI runs the pin on the newest Python the project claims (the suite itself runs
    the oldest), in .ci/run and in the workflow."""
    newest = matrix_pythons()[-1]
    assert f"nox -s pythons-{newest}" in (ROOT / ".ci" / "run").read_text()
    tests = yaml.safe_load((WORKFLOWS / "tests.yml").read_text())
    assert tests["jobs"]["pythons"]["strategy"]["matrix"]["python"] == [newest]


README = ROOT / "README.md"
# The folders whose every file README.md's "How the project is laid out" names.
CODE_FOLDERS = ("tests", "hooks", "tools", "scripts", "benchmarks")


def layout_entries():
    """The paths README.md's layout names: each line's first word, after the folder
    line above it where the line is indented by two spaces."""
    text = README.read_text().split("## How the project is laid out", 1)[1]
    entries, folder = set(), ""
    for line in fences(README, text)[0].body.splitlines():
        indent = len(line) - len(line.lstrip())
        if not line.strip() or indent > 2:  # a description's next line
            continue
        name = line.split()[0]
        if indent == 0:
            folder = name if name.endswith("/") else ""
        entries.add(folder + name if indent else name)
    return entries


def test_the_readme_names_every_file_of_the_code_folders():
    entries = layout_entries()
    unnamed = []
    for top in CODE_FOLDERS:
        for path in sorted((ROOT / top).rglob("*")):
            parts = path.relative_to(ROOT).parts
            if not path.is_file() or any(p.startswith((".", "__")) for p in parts):
                continue  # caches: __pycache__/, .pytest_cache/
            # Named itself, or a folder it is in below its top folder (results/).
            names = ["/".join(parts)] + [
                "/".join(parts[:n]) + "/" for n in range(2, len(parts))
            ]
            if not entries.intersection(names):
                unnamed.append(names[0])
    assert not unnamed, (
        f"README.md's layout names none of {unnamed}: add a line for each, saying "
        "what it holds"
    )
