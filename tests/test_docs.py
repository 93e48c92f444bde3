"""The pages: every Python block tested, every example used and linked.

- A Python block on a page is either an include of a script under examples/
  (run by test_examples.py) or a self-contained block run here by
  pytest-examples, its printed output checked against its `#>` comments.
- Every example script is included by some page, and that page links to it.
- An include block is titled with its script, "Fragment of ..." for a section.
- A `text` block is printed output, quoted from a named example script
  (checked in test_examples.py), so error messages on the site are real.
- The quoted outputs per release cover every release of the matrix.

The whole site (the strict build, search, lint) is checked in test_site.py.
"""

import os
import re

import pytest
from checks import (
    block_error,
    fail_on,
    include_problems,
    lead_problems,
    release_coverage_problems,
    unlinked_tools,
    untested_python_blocks,
    untitled_text_blocks,
    unused_examples,
)
from project import (
    EXAMPLES,
    NOTEBOOKS,
    RELEASE,
    ROOT,
    TOOLS,
    matrix_pythons,
    matrix_releases,
    release_of,
    restored_process_state,
)
from pytest_examples import CodeExample, EvalExample, find_examples

from pageformat import output_blocks, pages, rel, release_key

# A block that starts by refusing older releases: on those it must stop there.
NEEDS_RELEASE = re.compile(
    r'^assert torch\.__version__ >= "(?P<release>\d+\.\d+)"', re.M
)

PAGES = pages()
BLOCKS = list(find_examples(*PAGES))
INLINE = [b for b in BLOCKS if "--8<--" not in b.source]


def needed_release(block):
    """The release a block asserts it needs (`assert torch.__version__ >= "2.10"`)."""
    m = NEEDS_RELEASE.search(block.source)
    return m["release"] if m else "0.0"


def test_what_a_block_changes_in_the_process_is_put_back():
    """What restored_process puts back after each inline block, changed as
    DeepSpeed's ZeRO-3 block changes it, and more."""
    import torch

    linear = torch.nn.functional.linear
    dtype, grad = torch.get_default_dtype(), torch.is_grad_enabled()
    with restored_process_state():
        os.environ["RESTORED_PROCESS_CHECK"] = "1"
        torch.nn.functional.linear = print  # as ZeRO-3 puts zero3_linear_wrap
        torch.nn.functional.added_by_a_block = print
        torch.set_default_dtype(torch.float64)
        torch.set_grad_enabled(not grad)
    assert "RESTORED_PROCESS_CHECK" not in os.environ
    assert torch.nn.functional.linear is linear
    assert not hasattr(torch.nn.functional, "added_by_a_block")
    assert (torch.get_default_dtype(), torch.is_grad_enabled()) == (dtype, grad)


@pytest.mark.parametrize("block", INLINE, ids=str)
def test_inline_block(
    block: CodeExample,
    eval_example: EvalExample,
    tmp_path,
    monkeypatch,
    repository_guard,
    restored_process,
):
    """Self-contained blocks run as pasted into an empty file, output checked."""
    if "title=" in block.prefix:
        pytest.fail(
            f"{rel(block.path)}:{block.start_line}: an inline block has no title "
            "(a title names a script): remove it, or include the script",
            pytrace=False,
        )
    monkeypatch.chdir(tmp_path)
    eval_example.set_config(line_length=88, target_version="py310", quotes="double")
    if eval_example.update_examples:
        eval_example.format(block)
        eval_example.run_print_update(block)
    elif release_key(RELEASE) < release_key(needed_release(block)):
        # The block refuses to run on an older torch: check that it does.
        try:
            eval_example.run(block)
        except AssertionError:
            return
        except Exception as error:
            problem = block_error(block, error)
        else:
            problem = f"{rel(block.path)}:{block.start_line}: ran on torch {RELEASE}"
        pytest.fail(
            f"{problem}, but it says it needs {needed_release(block)}", pytrace=False
        )
    else:
        eval_example.lint(block)
        try:
            eval_example.run_print_check(block)
        except Exception as error:
            problem = block_error(block, error)
        else:
            return
        # Failed outside the except clause, so that pytest's report does not walk
        # the block's traceback as this failure's context.
        pytest.fail(problem, pytrace=False)


@pytest.mark.parametrize("page", PAGES, ids=rel)
def test_every_python_block_is_tested(page):
    """A Python block is an include of a script, or a block pytest-examples runs."""
    fail_on(untested_python_blocks(page))


@pytest.mark.parametrize("page", PAGES, ids=rel)
def test_page_leads_with_a_block_that_runs_pasted_alone(page):
    """The first Python block answers and runs alone (exceptions: checks.py)."""
    fail_on(lead_problems(page))


@pytest.mark.parametrize("page", PAGES, ids=rel)
def test_includes_resolve_and_are_titled(page):
    """Each include names a script (and section) that exists; its block's title
    names the script, "Fragment of" for a section, so a reader knows before copying
    whether the block runs alone."""
    fail_on(include_problems(page))


def test_every_example_is_used_and_linked():
    nav = (ROOT / "mkdocs.yml").read_text()
    fail_on(
        unused_examples(EXAMPLES + NOTEBOOKS, PAGES, nav=nav)
        + unlinked_tools(TOOLS, PAGES)
    )


@pytest.mark.parametrize("page", PAGES, ids=rel)
def test_text_blocks_are_quoted_output(page):
    """Every ```text block names the example (or tool) whose output it is."""
    fail_on(untitled_text_blocks(page, EXAMPLES + TOOLS))


def test_output_quoted_per_release_covers_every_release_of_the_matrix():
    """Where a page quotes a script per release, each release the matrix runs has its
    quote, so no release of the matrix meets a page without one."""
    blocks = [b for page in PAGES for b in output_blocks(page)]
    releases = [release_of(v) for v in matrix_releases()]
    fail_on(release_coverage_problems(blocks, releases))


def test_output_quoted_per_python_covers_every_python_of_the_matrix():
    """Where a page quotes a script per Python, each Python the project runs on has
    its quote."""
    blocks = [b for page in PAGES for b in output_blocks(page)]
    fail_on(release_coverage_problems(blocks, matrix_pythons(), per="Python"))
