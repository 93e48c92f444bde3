"""The pages: every Python block tested, every example used, the site builds.

- A Python block on a page is either an include of a script under examples/
  (run by test_examples.py) or a self-contained block run here by
  pytest-examples, its printed output checked against its `#>` comments.
- Every example script is included by some page, and that page links to it.
- An include block is titled with its script, "Fragment of ..." for a section.
- A `text` block is printed output, quoted from a named example script
  (checked in test_examples.py), so error messages on the site are real.
- `mkdocs build --strict` passes with link and anchor validation; notebook
  pages are executed; each troubleshooting message is in the search index
  under its own entry.
- Examples, tests and benchmarks pass ruff's lint and format checks.
"""

import html
import json
import re
import subprocess

import nbformat
import pytest
from checks import (
    block_error,
    fail_on,
    include_problems,
    lead_problems,
    release_coverage_problems,
    untested_python_blocks,
    untitled_text_blocks,
    unused_examples,
)
from pages import output_blocks, pages, rel
from project import (
    EXAMPLES,
    NOTEBOOKS,
    RELEASE,
    ROOT,
    matrix_releases,
    release_key,
    release_of,
    run_script,
)
from pytest_examples import CodeExample, EvalExample, find_examples

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


@pytest.mark.parametrize("block", INLINE, ids=str)
def test_inline_block(
    block: CodeExample,
    eval_example: EvalExample,
    tmp_path,
    monkeypatch,
    repository_guard,
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
    fail_on(unused_examples(EXAMPLES + NOTEBOOKS, PAGES, nav=nav))


@pytest.mark.parametrize("page", PAGES, ids=rel)
def test_text_blocks_are_quoted_output(page):
    """Every ```text block names the example whose output it is."""
    fail_on(untitled_text_blocks(page, EXAMPLES))


def test_output_quoted_per_release_covers_every_release_of_the_matrix():
    """Where a page quotes a script per release, each release the matrix runs has its
    quote, so no release of the matrix meets a page without one."""
    blocks = [b for page in PAGES for b in output_blocks(page)]
    releases = [release_of(v) for v in matrix_releases()]
    fail_on(release_coverage_problems(blocks, releases))


@pytest.mark.xdist_group("site")
def test_mkdocs_build_strict(site):
    for page in PAGES:
        assert page.read_text().strip(), f"{rel(page)} is empty"
        html = site / page.relative_to(ROOT / "docs").with_suffix("") / "index.html"
        if page.stem == "index":
            html = site / "index.html"
        text = html.read_text()
        assert "--8<--" not in text, f"{page}: an include was not expanded"
        edit = f"/edit/main/{rel(page)}"  # Material's "Edit this page" link
        assert edit in text, f"{rel(page)}: no link to edit it ({edit})"
        for script in re.findall(
            r'<span class="filename">(examples/[^ <]+)\.py ', text
        ):
            for kind in (".py", ".ipynb"):  # both downloads in the block's title
                assert re.search(rf'href="[./]*{script}{kind}" download', text), script


@pytest.mark.xdist_group("site")
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_pages_are_executed(notebook, site):
    """The build ran every cell of each notebook page: their outputs are on it."""
    stem = notebook.removesuffix(".py")
    page = (site / stem / "index.html").read_text()
    assert page.count('<span class="filename">Output</span>') >= 3, "no cell outputs"
    assert "Traceback" not in page
    assert (site / notebook).is_file()  # offered for download beside the page
    executed = nbformat.read(site / f"{stem}.ipynb", as_version=4)
    assert sum(len(c.get("outputs", [])) for c in executed.cells) >= 3


@pytest.mark.xdist_group("site")
def test_every_example_is_also_a_notebook(site, tmp_path):
    """Each script is served as .py and .ipynb, whose cells run in order.

    (The build itself runs the notebook pages in a Jupyter kernel.)"""
    for script in EXAMPLES:
        notebook = nbformat.read(site / script.replace(".py", ".ipynb"), as_version=4)
        nbformat.validate(notebook)
        kinds = [c.cell_type for c in notebook.cells]
        assert kinds == ["markdown", "code", "code"], (script, kinds)
        compile("\n".join(c.source for c in notebook.cells[1:]), script, "exec")
    # The quickstart notebook's code cells, run in order as Jupyter runs them.
    quickstart = "examples/quickstart/save_and_load.py"
    notebook = nbformat.read(site / quickstart.replace(".py", ".ipynb"), as_version=4)
    code = tmp_path / "cells.py"
    code.write_text(
        "\n\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    )
    run = run_script(code, cwd=tmp_path, env={"CUDA_VISIBLE_DEVICES": ""})
    assert run.returncode == 0, run.stderr
    printed = run.stdout
    assert "same outputs: True" in printed, printed


@pytest.mark.xdist_group("site")
def test_search_finds_each_error_in_its_troubleshooting_entry(site):
    """A message pasted into the site's search is indexed under its own entry.

    Each troubleshooting entry (a `## ` heading) is one search section; its
    first quoted output line must be in that section's indexed text.
    """
    index = json.loads((site / "search" / "search_index.json").read_text())
    indexed = [
        html.unescape(re.sub(r"<[^>]+>", "", doc["text"]))
        for doc in index["docs"]
        if doc["location"].startswith("troubleshooting/#")
    ]
    entries = re.split(
        r"^## ", (ROOT / "docs" / "troubleshooting.md").read_text(), flags=re.M
    )[1:]
    assert len(indexed) == len(entries)
    checked = 0
    for entry, text in zip(entries, indexed, strict=True):
        quote = re.search(r'```text title="Output of [^"]+"\n(.*?)\n', entry)
        if quote:
            assert quote[1] in text, (
                f"search does not index {quote[1]!r} under ## {entry.splitlines()[0]}"
            )
            checked += 1
    assert checked >= 12


def test_lint_and_format():
    """Examples and tests pass ruff's lint and format checks."""
    from ruff.__main__ import find_ruff_bin

    ruff = find_ruff_bin()
    paths = [
        p
        for p in (
            "examples",
            "tests",
            "benchmarks",
            "scripts",
            "data",
            "hooks",
            "tools",
        )
        if (ROOT / p).is_dir()
    ]
    check = subprocess.run(
        [ruff, "check", *paths], cwd=ROOT, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run(
        [ruff, "format", "--check", "--diff", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


@pytest.mark.xdist_group("site")
def test_pages_show_the_releases_their_code_passed_on(site):
    """Under each title, the releases from the matrix's records (matrix/*.json)."""
    records = [json.loads(p.read_text()) for p in (ROOT / "matrix").glob("*.json")]
    pinned = re.search(r'"torch==([^"]+)"', (ROOT / "pyproject.toml").read_text())[1]
    assert pinned in {r["torch"] for r in records}, "run `nox -s matrix` for the pin"
    line = re.compile(
        r'<p class="tested-with">[^<]*PyTorch ([^<(]+) \(on the CPU[^)]*\)'
    )
    shown, partly = {}, {}
    for page in PAGES:
        if not re.search(r"^```python", page.read_text(), re.M):
            continue
        path = page.relative_to(ROOT / "docs").with_suffix("")
        html = site / ("" if path.name == "index" else path) / "index.html"
        m = line.search(html.read_text())
        assert m, f"{rel(page)}: no line saying which releases its code passed on"
        shown[rel(page)] = m[1].split(", ")
        assert pinned in shown[rel(page)], rel(page)
        rest = re.search(
            r"all but its [^<]* examples also passed with ([^<]+)\.<", html.read_text()
        )
        partly[rel(page)] = rest[1].split(", ") if rest else []
    # A release on which a page's tests were left out is not shown for it.
    for record in records:
        for word in record["left_out"]:
            for page, releases in shown.items():
                if word in page:
                    assert record["torch"] not in releases, (page, record["torch"])
    # ...and a page with other tests too (troubleshooting quotes torchvision's
    # errors among many) names the releases that passed the rest.
    troubleshooting = "docs/troubleshooting.md"
    for record in records:
        if "torchvision" in record["left_out"] and not record["failed"]:
            assert record["torch"] in partly[troubleshooting], record["torch"]
            assert record["torch"] not in shown[troubleshooting], record["torch"]
