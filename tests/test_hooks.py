"""The build hooks, on tiny inputs: hooks/versions.py's line of tested releases
from tiny records, hooks/notebooks.py's notebooks, pages and download links from
tiny scripts and HTML, hooks/folded_scripts.py's folded scripts from tiny HTML, and
the page format they read (pageformat.py)."""

from types import SimpleNamespace

import nbformat
import pytest
from project import load_script

from pageformat import DOCS, included_scripts, page_url

versions = load_script("hooks/versions.py")
notebooks = load_script("hooks/notebooks.py")
folded_scripts = load_script("hooks/folded_scripts.py")


def record(torch, python, failed_tests=()):
    return {
        "torch": torch,
        "python": python,
        "left_out": [],
        "ran": ["examples/load/eval_mode.py", "examples/save/state_dict.py"],
        "failed": len(failed_tests),
        "failed_tests": list(failed_tests),
    }


def test_the_line_names_the_pythons_that_ran_the_pin():
    failed_on_312 = [
        "tests.test_examples::test_example[cpu-examples/save/state_dict.py]"
    ]
    found = [
        record("2.14.1", "3.11.7"),
        record("2.6.0", "3.11.7"),
        record("2.14.1", "3.10.13"),
        record("2.14.1", "3.12.1", failed_on_312),
        record("2.14.1", "3.13.0"),
    ]
    python, main, others = versions.by_python(found)
    assert python == "3.11" and len(main) == 2 and len(others) == 3
    markdown = '# T\n\n```python\n--8<-- "examples/save/state_dict.py"\n```\n'
    page = "docs/save.md"
    passed, partly = versions.releases_for(page, markdown, main)
    pythons = versions.pythons_for(page, markdown, others)
    assert passed == ["2.14.1", "2.6.0"] and pythons == {"2.14.1": ["3.10", "3.13"]}
    assert versions.tested_line(passed, partly, python=python, pythons=pythons) == (
        '<p class="tested-with">The code on this page passed its tests with PyTorch '
        "2.14.1, 2.6.0 (on the CPU, Python 3.11), with PyTorch 2.14.1 on Python 3.10 "
        "and 3.13.</p>"
    )
    # Another page, whose tests passed everywhere, names all three.
    other = '# T\n\n```python\n--8<-- "examples/load/eval_mode.py"\n```\n'
    assert versions.pythons_for("docs/load.md", other, others) == {
        "2.14.1": ["3.10", "3.12", "3.13"]
    }
    assert versions.joined(["3.10", "3.12", "3.13"]) == "3.10, 3.12 and 3.13"


def test_a_record_that_did_not_run_a_script_vouches_for_nothing():
    markdown = '# T\n\n```python\n--8<-- "examples/peft/adapter.py"\n```\n'
    old = record("2.6.0", "3.11.7")  # written before examples/peft/adapter.py existed
    assert versions.releases_for("docs/peft.md", markdown, [old]) == ([], {})
    del old["ran"]  # a record from before the list
    assert versions.releases_for("docs/peft.md", markdown, [old]) == ([], {})


def test_a_page_is_read_for_the_scripts_it_includes():
    markdown = (
        '```python title="examples/save/state_dict.py"\n'
        '--8<-- "examples/save/state_dict.py"\n```\n\n'
        '    ```python title="Fragment of tools/inspect.py"\n'
        '    --8<-- "tools/inspect.py:load"\n    ```\n\n'
        '--8<-- "docs/snippets/weights-only-false.md"\n'
        '--8<-- "examples/save/state_dict.py"\n'
    )
    assert included_scripts("docs/save.md", markdown) == [
        "examples/save/state_dict.py",
        "tools/inspect.py",
    ]
    assert page_url(DOCS / "index.md") == ""
    assert page_url(DOCS / "save.md") == "save/"
    assert page_url(DOCS / "topic" / "index.md") == "topic/"
    copy = (
        DOCS.parent / "copy" / "docs"
    )  # a copy of the site, as the scaffold test makes
    assert page_url(copy / "topic" / "page.md", copy) == "topic/page/"


SCRIPT = '''"""Save a model.

The whole state dict, then load it.
"""

import torch


def main(device="cpu", out_dir=None):
    print("saved")


if __name__ == "__main__":
    main()
'''


def test_a_script_becomes_a_notebook_that_calls_main():
    notebook = notebooks.script_to_notebook(SCRIPT)
    nbformat.validate(notebook)
    docstring, code, call = (c.source for c in notebook.cells)
    assert docstring == "# Save a model.\n\nThe whole state dict, then load it."
    assert code.startswith("import torch") and code.endswith('print("saved")')
    assert "__main__" not in code
    assert call == 'main(device="cuda" if torch.cuda.is_available() else "cpu")'


def test_a_script_without_main_guard_is_one_code_cell():
    notebook = notebooks.script_to_notebook("x = 1\nprint(x)\n")
    assert [c.cell_type for c in notebook.cells] == ["markdown", "code"]
    assert notebook.cells[1].source == "x = 1\nprint(x)"


def executed(*cells):
    return nbformat.v4.new_notebook(cells=list(cells))


def code_cell(source, *outputs):
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = list(outputs)
    return cell


def test_an_executed_notebook_becomes_a_page():
    notebook = executed(
        nbformat.v4.new_markdown_cell("# Title"),
        code_cell(
            "print(1)", nbformat.v4.new_output("stream", name="stdout", text="1\n")
        ),
        code_cell(
            "s = '```'", nbformat.v4.new_output("execute_result", {"text/plain": "2"})
        ),
        code_cell("   "),
    )
    assert notebooks.notebook_to_markdown(notebook, "n.py") == (
        "# Title\n\n"
        "```python\nprint(1)\n```\n\n"
        '```text title="Output"\n1\n```\n\n'
        "````python\ns = '```'\n````\n\n"
        '```text title="Output"\n2\n```\n'
    )


def test_a_cell_that_raised_fails_the_page():
    error = nbformat.v4.new_output("error", ename="KeyError", evalue="'x'")
    with pytest.raises(RuntimeError, match=r"n\.py: a cell raised KeyError: 'x'"):
        notebooks.notebook_to_markdown(executed(code_cell("d['x']", error)), "n.py")


def test_a_whole_script_title_links_its_downloads():
    html = (
        '<details class="example"><span class="filename">examples/a/b.py</span>'
        '<span class="filename">tools/inspect.py</span>'
        '<span class="filename">Output</span></details>'
    )
    out = notebooks.on_page_content(html, SimpleNamespace(url="topic/page/"), {}, [])
    assert out == (
        '<details class="example" data-search-exclude>'
        '<span class="filename">examples/a/b.py '
        '<a class="download" href="../../examples/a/b.py" download>.py</a> '
        '<a class="download" href="../../examples/a/b.ipynb" download>.ipynb</a>'
        "</span>"
        '<span class="filename">tools/inspect.py '
        '<a class="download" href="../../tools/inspect.py" download>.py</a></span>'
        '<span class="filename">Output</span></details>'
    )


def folded(script, body):
    """A folded whole script as the build renders it."""
    return (
        '<details class="example" data-search-exclude>\n'
        f"<summary>The whole script: {script}</summary>{body}</details>"
    )


def built_page(src_uri):
    url = src_uri.removesuffix(".md") + "/"
    return SimpleNamespace(
        file=SimpleNamespace(src_uri=src_uri, dest_uri=url + "index.html"), url=url
    )


def test_a_folded_script_on_a_long_page_moves_to_a_file_beside_it(tmp_path):
    page = built_page("troubleshooting.md")
    html = "<h2>KeyError</h2>" + folded("examples/a/b.py", "<pre>code</pre>")
    html += folded("tools/inspect.py", "<pre>tool</pre>")
    out = folded_scripts.on_page_content(html, page, {}, [])
    assert out == (
        "<h2>KeyError</h2>"
        '<details class="example" data-search-exclude '
        'data-script="whole-script-examples-a-b.html">\n'
        "<summary>The whole script: examples/a/b.py</summary>\n"
        '<p><a href="../examples/a/b.py">examples/a/b.py</a></p>\n</details>'
        '<details class="example" data-search-exclude '
        'data-script="whole-script-tools-inspect.html">\n'
        "<summary>The whole script: tools/inspect.py</summary>\n"
        '<p><a href="../tools/inspect.py">tools/inspect.py</a></p>\n</details>'
    )
    assert folded_scripts.on_post_page(out, page, {"site_dir": tmp_path}) == out
    folder = tmp_path / "troubleshooting"
    assert sorted(p.name for p in folder.iterdir()) == [
        "whole-script-examples-a-b.html",
        "whole-script-tools-inspect.html",
    ]
    assert (folder / "whole-script-examples-a-b.html").read_text() == "<pre>code</pre>"


def test_other_pages_and_other_folded_blocks_are_left_whole(tmp_path):
    html = folded("examples/a/b.py", "<pre>code</pre>")
    other = built_page("save.md")
    assert folded_scripts.on_page_content(html, other, {}, []) == html
    note = html.replace("The whole script: examples/a/b.py", "Why it fails")
    lazy = built_page("troubleshooting.md")
    assert folded_scripts.on_page_content(note, lazy, {}, []) == note
    for page in (other, lazy):
        folded_scripts.on_post_page("", page, {"site_dir": tmp_path})
    assert not any(tmp_path.rglob("*.html"))
