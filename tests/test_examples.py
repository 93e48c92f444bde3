"""Every script under examples/ runs on each device, and once as a plain script.

The script run also checks every output block that a page quotes from that script
(```text title="Output of examples/..."```): what the page shows is what the
installed torch prints, error messages included.
"""

import importlib.util
import os
import re
import subprocess
import sys

import pytest
from conftest import EXAMPLES, NOTEBOOKS, PAGES, ROOT, normalize

OUTPUT_BLOCK = re.compile(
    r'^(?P<indent> *)```text[^\n]*title="Output of (?P<script>examples/[^"]+\.py)"[^\n]*\n'
    r"(?P<body>.*?)^(?P=indent)```",
    re.M | re.S,
)


def quoted_outputs(script):
    """The output blocks that pages quote from `script`, as (page, text)."""
    for page in PAGES:
        for m in OUTPUT_BLOCK.finditer(page.read_text()):
            if m["script"] == script:
                body = "\n".join(
                    line.removeprefix(m["indent"]) for line in m["body"].splitlines()
                )
                yield page.relative_to(ROOT), body


def quote_pattern(quote):
    """A regex for a quoted block: each line literal, a line `...` skips lines."""
    parts = []
    for line in normalize(quote).splitlines():
        parts.append(
            r"(?:.*\n)*?" if line.strip() == "..." else re.escape(line) + r"\n"
        )
    return "".join(parts)


def load_example(script):
    name = "example_" + re.sub(r"\W", "_", script.removesuffix(".py"))
    spec = importlib.util.spec_from_file_location(name, ROOT / script)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so that torch.save can pickle its classes
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("script", EXAMPLES)
def test_example(script, device, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything written by accident lands here
    module = load_example(script)
    module.main(device=device, out_dir=tmp_path)


@pytest.mark.parametrize("script", EXAMPLES)
def test_example_as_script(script, tmp_path):
    """`python examples/....py` works, and prints what the pages quote.

    The script runs as a reader runs it by default: on the CPU of a machine
    without a GPU (CUDA hidden), so quoted messages are the same everywhere.
    """
    result = subprocess.run(
        [sys.executable, ROOT / script, "--out-dir", tmp_path / "out"],  # made by it
        cwd=tmp_path,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    printed = normalize(result.stdout) + "\n"
    for page, quote in quoted_outputs(script):
        assert re.search(quote_pattern(quote), printed), (
            f"{page} quotes output of {script} that it no longer prints:\n{quote}\n"
            f"--- it printed:\n{printed}"
        )


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_as_script(notebook, tmp_path):
    """A notebook's source is a plain script too: it runs top to bottom."""
    result = subprocess.run(
        [sys.executable, ROOT / notebook],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
