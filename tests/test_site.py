"""The whole site: the strict build, what the build hooks add, search, and lint.

- `mkdocs build --strict` passes with link and anchor validation; every page is
  rendered with its includes expanded, its edit link, and the .py and .ipynb
  downloads in the title of each block that shows a whole script.
- Notebook pages are executed; every example is also served as a notebook.
- Each troubleshooting message is in the search index under its own entry.
- Under each title, the releases the page's code passed on (hooks/versions.py).
- Examples, tests, benchmarks, scripts, hooks, tools and pageformat.py pass
  ruff's lint and format checks.
"""

import html
import json
import re
import subprocess
from pathlib import Path

import nbformat
import pytest
from project import EXAMPLES, NOTEBOOKS, ROOT, run_script

from pageformat import notebook_file, notebook_page, page_url, pages, rel

PAGES = pages()


@pytest.mark.xdist_group("site")
def test_mkdocs_build_strict(site):
    for page in PAGES:
        assert page.read_text().strip(), f"{rel(page)} is empty"
        text = (site / page_url(page) / "index.html").read_text()
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
    _, url = notebook_page(notebook)
    page = (site / url / "index.html").read_text()
    assert page.count('<span class="filename">Output</span>') >= 3, "no cell outputs"
    assert "Traceback" not in page
    assert (site / notebook).is_file()  # offered for download beside the page
    executed = nbformat.read(site / notebook_file(notebook), as_version=4)
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
            "pageformat.py",
        )
        if (ROOT / p).exists()
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
        html = site / page_url(page) / "index.html"
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
    for record in records:  # (a record that lists no scripts vouches for nothing)
        if (
            "torchvision" in record["left_out"]
            and not record["failed"]
            and "ran" in record
        ):
            assert record["torch"] in partly[troubleshooting], record["torch"]
            assert record["torch"] not in shown[troubleshooting], record["torch"]


def test_the_inspector_links_to_the_published_site():
    """tools/inspect_checkpoint.py travels as one file, so it names the site's address
    itself: the same as mkdocs.yml's site_url."""
    mkdocs = (ROOT / "mkdocs.yml").read_text()
    site_url = re.search(r'^site_url: !ENV \[SITE_URL, "([^"]+)"\]$', mkdocs, re.M)
    assert site_url, 'mkdocs.yml: site_url: !ENV [SITE_URL, "https://..."]'
    tool = (ROOT / "tools" / "inspect_checkpoint.py").read_text()
    assert f'SITE = "{site_url[1]}"' in tool, "set SITE to mkdocs.yml's site_url"


def test_search_rewrites_queries_into_the_words_the_index_holds():
    """javascripts/search.js splits a query as the index is split (mkdocs.yml's
    separator) and leaves out the index's stop words (Material's lunr list)."""
    material = pytest.importorskip("material")  # where the site is built

    script = (ROOT / "docs" / "javascripts" / "search.js").read_text()
    separator = re.search(
        r"^\s+separator: '(.*)'$", (ROOT / "mkdocs.yml").read_text(), re.M
    )
    assert re.search(r"const SEPARATOR = /(.*)/;", script)[1] == separator[1].replace(
        "''", "'"
    )
    words = re.search(r"const STOP_WORDS = new Set\(\s*\((.*?)\)\.split", script, re.S)[
        1
    ]
    stop_words = "".join(re.findall(r'"([^"]*)"', words)).split()
    workers = Path(material.__file__).parent / "templates/assets/javascripts/workers"
    (worker,) = workers.glob("search.*.min.js")
    lunr = re.search(r"generateStopWordFilter\(\[([^\]]*)\]\)", worker.read_text())[1]
    assert stop_words == re.findall(r'"([^"]*)"', lunr)
