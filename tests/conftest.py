"""Shared test set-up: the device fixture, and `--update-outputs`.

The lists of examples and pages live in project.py and pages.py.
"""

import fcntl
import json
import os
import subprocess
import sys
import tempfile

import pytest
from checks import repository_writes
from pages import fences, output_blocks
from project import ROOT

# Keras examples run on the torch backend; keep Keras's config file out of $HOME.
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="keras-home-"))

DEVICES = ["cpu", "cuda", "mps"]


def device_available(device):
    """Whether this machine has `device` (torch is imported on first use only)."""
    import torch

    if device == "cuda":
        return torch.cuda.is_available()
    if device == "mps":
        return torch.backends.mps.is_available()
    return True


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The site, built once as `mkdocs build --strict` builds it (links and anchors checked).

    Tests that use it carry `@pytest.mark.xdist_group("site")`, so that one worker
    builds it once for all of them.
    """
    site_dir = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", site_dir],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # Material's end-of-life notice
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return site_dir


@pytest.fixture(params=DEVICES)
def device(request):
    """Every example runs on the CPU, on an NVIDIA GPU and on Apple's MPS when present."""
    if not device_available(request.param):
        names = {"cuda": "CUDA", "mps": "MPS (Apple silicon)"}
        pytest.skip(f"{names[request.param]} is not available")
    return request.param


@pytest.fixture(scope="session", autouse=True)
def start_the_example_runner():
    """Start run_script's server (it imports torch) while the first tests run."""
    import threading

    from project import start_runner

    threading.Thread(target=start_runner, daemon=True).start()


def pytest_addoption(parser):
    parser.addoption(
        "--update-outputs",
        action="store_true",
        help="rewrite each output block that no longer matches from what its script "
        "prints now (keeping its `...` lines), instead of failing",
    )


class OutputUpdater:
    """Rewrites an output block in its page, in place (safe across xdist workers)."""

    def __init__(self):
        self.rewritten = []

    def rewrite(self, block, printed):
        from pages import updated_quote

        page = block.fence.page
        with open(page, "r+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            text = f.read()
            for fence in fences(page, text):
                same = (fence.info, fence.body) == (block.fence.info, block.fence.body)
                if same and fence.start == block.fence.start:
                    break
            else:  # the page changed since it was read: find the block again
                found = [
                    b.fence
                    for b in output_blocks(page, text)
                    if (b.fence.info, b.fence.body)
                    == (block.fence.info, block.fence.body)
                ]
                if not found:
                    raise RuntimeError(f"{block.fence.where}: block not found again")
                fence = found[0]
            new = updated_quote(block.text, printed)
            indented = "\n".join(
                fence.indent + line if line else line for line in new.splitlines()
            )
            text = text[: fence.start] + indented + "\n" + text[fence.end :]
            f.seek(0)
            f.write(text)
            f.truncate()
        self.rewritten.append(block.fence.where)


@pytest.fixture(scope="session")
def update_outputs(request):
    """An OutputUpdater with --update-outputs, else None."""
    return OutputUpdater() if request.config.getoption("--update-outputs") else None


def changed_files(root=ROOT):
    """Files that differ from git's index or are new (ignored files aside)."""
    result = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:  # not a git checkout: nothing to compare
        return set()
    return set(result.stdout.splitlines())


@pytest.fixture
def repository_guard(request):
    """Fails a test during which a file in the repository appeared or changed."""
    if request.config.getoption("--update-outputs"):
        yield
        return
    before = changed_files()
    yield
    problem = repository_writes(request.node.name, before, changed_files())
    if problem:
        pytest.fail(problem, pytrace=False)


def pytest_terminal_summary(terminalreporter):
    """The browser tests' figures: each page's weight, axe's findings by impact."""
    figures = sorted((ROOT / "build" / "pages").glob("*.json"))
    if not figures or not any(
        r.nodeid.startswith("tests/test_browser.py")
        for r in terminalreporter.stats.get("passed", [])
        + terminalreporter.stats.get("failed", [])
    ):
        return
    pages = [json.loads(f.read_text()) for f in figures]
    impacts = {}
    for page in pages:
        for impact, nodes in page["axe"].values():
            impacts[impact] = impacts.get(impact, 0) + nodes
    terminalreporter.section("pages in the browser")
    for page in sorted(pages, key=lambda p: -p["transferred"]):
        terminalreporter.write_line(
            f"{page['transferred']:>10,} bytes ({page['decoded']:>9,} uncompressed)"
            f"  {page['requests']:>2} requests  {page['path']}"
        )
    terminalreporter.write_line(
        f"{len(pages)} pages; axe findings by impact (elements): {impacts or 'none'}"
    )
