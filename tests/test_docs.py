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
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, NOTEBOOKS, PAGES, ROOT
from pytest_examples import CodeExample, EvalExample, find_examples

INCLUDE = re.compile(r'^\s*--8<--\s+"(?P<path>[^":]+)(?::(?P<section>[\w-]+))?"\s*$')
FENCE = re.compile(
    r"^(?P<indent> *)(?P<ticks>`{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)(?P=ticks)[ \t]*$",
    re.M | re.S,
)

BLOCKS = list(find_examples(*PAGES))
INLINE = [b for b in BLOCKS if "--8<--" not in b.source]


def includes(page):
    return [m["path"] for m in map(INCLUDE.match, page.read_text().splitlines()) if m]


@pytest.mark.parametrize("block", INLINE, ids=str)
def test_inline_block(
    block: CodeExample, eval_example: EvalExample, tmp_path, monkeypatch
):
    """Self-contained blocks run as pasted into an empty file, output checked."""
    assert "title=" not in block.prefix, (
        "a title names a script: inline blocks have none"
    )
    monkeypatch.chdir(tmp_path)
    eval_example.set_config(line_length=88, target_version="py310", quotes="double")
    if eval_example.update_examples:
        eval_example.format(block)
        eval_example.run_print_update(block)
    else:
        eval_example.lint(block)
        eval_example.run_print_check(block)


@pytest.mark.parametrize("block", [b for b in BLOCKS if b not in INLINE], ids=str)
def test_include_block_holds_only_includes(block):
    """A block with an include holds nothing else: no untested lines beside it.

    Its title names the script, and says "Fragment of" when it shows only a
    section of it, so a reader knows before copying whether the block runs alone.
    """
    lines = [line for line in block.source.splitlines() if line.strip()]
    includes = [INCLUDE.match(line) for line in lines]
    assert all(includes), block.source
    title = re.search(r'title="([^"]*)"', block.prefix)
    fragment = any(m["section"] for m in includes)
    expected = ("Fragment of " if fragment else "") + includes[0]["path"]
    # (pytest-examples lower-cases a block's prefix)
    assert title and title[1] == expected.lower(), f'expected title="{expected}"'


@pytest.mark.parametrize("script", EXAMPLES)
def test_every_example_is_used_and_linked(script):
    pages = [p for p in PAGES if script in includes(p)]
    assert pages, f"no page includes {script}"
    for page in pages:
        depth = len(page.relative_to(ROOT / "docs").parts) - 1
        link = "../" * depth + script
        assert f"]({link})" in page.read_text(), (
            f"{page.relative_to(ROOT)} shows {script} but does not link to it: ]({link})"
        )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_text_blocks_are_quoted_output(page):
    """Every ```text block names the example whose output it is."""
    for m in FENCE.finditer(page.read_text()):
        info = m["info"].strip()
        if info.split(" ")[0] == "text":
            assert re.search(r'title="Output of examples/[^"]+\.py"', info), (
                f"{page.relative_to(ROOT)}: a text block without "
                f'title="Output of examples/...py":\n{m["body"]}'
            )
            script = re.search(r"examples/[^\"]+\.py", info)[0]
            assert script in EXAMPLES, (
                f"{page.relative_to(ROOT)}: no such script {script}"
            )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built as `mkdocs build --strict` builds it (links and anchors checked)."""
    site_dir = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", site_dir],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return site_dir


def test_mkdocs_build_strict(site):
    for page in PAGES:
        assert page.read_text().strip(), f"{page} is empty"
        html = site / page.relative_to(ROOT / "docs").with_suffix("") / "index.html"
        if page.stem == "index":
            html = site / "index.html"
        assert "--8<--" not in html.read_text(), f"{page}: an include was not expanded"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_pages_are_executed(notebook, site):
    """The build ran every cell of each notebook page (allow_errors is off)."""
    page = (site / notebook.removesuffix(".py") / "index.html").read_text()
    assert page.count("jp-OutputArea-output") >= 3, "no cell outputs on the page"
    assert "Traceback" not in page
    source = Path(notebook).name  # offered for download beside the page
    assert f'href="{source}"' in page
    assert (site / notebook.removesuffix(".py") / source).is_file()


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
    paths = [p for p in ("examples", "tests", "benchmarks") if (ROOT / p).is_dir()]
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
