"""The tests' fixtures (device, site, update_outputs, repository_guard,
restored_process) and options.

The lists of examples and the ways to run them live in project.py, the page
format in pageformat.py (at the repository's root), the checks in checks.py.
"""

import json
import os
import tempfile

import pytest
from checks import repository_writes
from project import ROOT, build_site, changed_files, restored_process_state

from pageformat import OutputUpdater

# Keras examples run on the torch backend; keep Keras's config file out of $HOME.
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="keras-home-"))
# The test workers share the machine's cores: torch runs each example on one thread,
# as torchrun runs each rank (more threads than cores only wait for each other).
os.environ.setdefault("OMP_NUM_THREADS", "1")

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
    result = build_site(site_dir)
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


@pytest.fixture(scope="session")
def update_outputs(request):
    """An OutputUpdater with --update-outputs, else None."""
    return OutputUpdater() if request.config.getoption("--update-outputs") else None


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


@pytest.fixture
def restored_process():
    """What an inline block changes in the test process is put back after it
    (project.restored_process_state says what)."""
    with restored_process_state():
        yield
