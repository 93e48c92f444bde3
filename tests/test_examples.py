"""Every script under examples/ runs pasted alone: `python script.py --device D`.

Each example is copied alone into an empty folder and run there, once per device:
on the CPU always, on CUDA and on Apple's MPS when present. The CPU run is the run
a reader gets by default (CUDA hidden), and checks every output block that a page quotes from the script
(```text title="Output of examples/..."```): what the page shows is what the
installed torch prints, error messages included; a block titled "... on PyTorch
2.6" is checked only on that release. `--update-outputs` rewrites
those blocks from what the scripts print now instead of failing.
"""

import functools
import shutil
from pathlib import Path

import pytest
from checks import (
    contract_problems,
    fail_on,
    output_mismatch,
    unquoted_release_problems,
)
from project import (
    EXAMPLES,
    GPU_FILES,
    NEEDS_GPU_FILES,
    NEEDS_TOOLS,
    NOTEBOOKS,
    PYTHON,
    RELEASE,
    ROOT,
    run_script,
)

from pageformat import output_blocks, pages


@functools.cache
def quoted_outputs():
    """Every output block on the pages, by the script it quotes (pages read once)."""
    by_script = {}
    for page in pages():
        for block in output_blocks(page):
            by_script.setdefault(block.script, []).append(block)
    return by_script


def run_example(script, device, tmp_path):
    """Run the script as a reader who pasted it alone into an empty folder would."""
    pasted = tmp_path / "pasted" / Path(script).name
    pasted.parent.mkdir()
    shutil.copy(ROOT / script, pasted)
    for tool in NEEDS_TOOLS.get(script, []):  # downloaded beside it, as a reader does
        shutil.copy(ROOT / tool, pasted.parent)
    args = ["--device", device, "--out-dir", tmp_path / "out"]
    if script in NEEDS_GPU_FILES:  # a file a reader downloads, named by --checkpoint
        args += ["--checkpoint", GPU_FILES / NEEDS_GPU_FILES[script][0]]
    env = {"CUDA_VISIBLE_DEVICES": ""} if device == "cpu" else {}
    result = run_script(pasted, args, cwd=tmp_path, env=env)
    if result.returncode != 0:
        pytest.fail(
            f"{script} --device {device} exited with {result.returncode}: "
            f"run it with `python {script} --device {device}`\n{result.stderr}",
            pytrace=False,
        )
    return result.stdout  # compared after normalize() by output_mismatch


@pytest.mark.parametrize("script", EXAMPLES)
def test_example(script, device, tmp_path, update_outputs, repository_guard):
    """The script runs on `device`, asserts its page's claims, prints its quotes."""
    printed = run_example(script, device, tmp_path)
    if device != "cpu":
        return
    quoted = quoted_outputs().get(script, [])
    fail_on(unquoted_release_problems(quoted, RELEASE))
    fail_on(unquoted_release_problems(quoted, PYTHON, per="Python"))
    for block in (b for b in quoted if b.applies_to(RELEASE, PYTHON)):
        problem = output_mismatch(block, printed)
        if problem and update_outputs is not None:
            update_outputs.rewrite(block, printed)
        elif problem:
            pytest.fail(
                f"{problem}\n--- quoted:\n{block.text}\n--- printed:\n{printed}",
                pytrace=False,
            )


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_as_script(notebook, tmp_path, repository_guard):
    """A notebook's source is a plain script too: it runs top to bottom."""
    result = run_script(notebook, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", EXAMPLES + NOTEBOOKS)
def test_example_contract(script):
    """Every example has the standard entry point and options (exceptions: checks.py)."""
    fail_on(contract_problems(script, (ROOT / script).read_text()))
