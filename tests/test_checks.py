"""Each mistake a contributor can make fails with one line that says what to fix.

These tests make the mistake in a temporary page or example and check the line
that the site's own tests would print for it (see checks.py), and that
`--update-outputs` rewrites a changed message.
"""

import subprocess
from pathlib import Path

import pytest
from checks import (
    block_error,
    contract_problems,
    include_problems,
    lead_problems,
    output_mismatch,
    release_coverage_problems,
    repository_writes,
    unlinked_tools,
    unquoted_release_problems,
    untested_python_blocks,
    untitled_text_blocks,
    unused_examples,
)
from project import changed_files, release_of, run_script
from pytest_examples import find_examples

from pageformat import OutputUpdater, output_blocks, updated_quote

FENCE = "```"


@pytest.fixture
def site(tmp_path):
    """A tiny copy of the layout: docs/ and examples/ with one script."""
    (tmp_path / "docs").mkdir()
    script = tmp_path / "examples" / "topic" / "demo.py"
    script.parent.mkdir(parents=True)
    script.write_text(
        '"""Demo."""\n\n# --8<-- [start:main]\nprint("loaded: True")\n# --8<-- [end:main]\n'
    )
    return tmp_path


def said(problems, site):
    """The problems as printed for a page in the repository (paths from its root)."""
    if isinstance(problems, str):
        return problems.replace(f"{site}/", "")
    return [p.replace(f"{site}/", "") for p in problems]


def page(site, text):
    path = site / "docs" / "page.md"
    path.write_text(text)
    return path


def test_a_python_block_that_no_test_runs(site):
    md = page(site, "# Page\n\n~~~python\nprint(1)\n~~~\n")
    assert said(untested_python_blocks(md), site) == [
        "docs/page.md:3: a ~~~python block that no test runs: open it with ```python "
        '(pytest-examples runs it) or include a script with --8<-- "examples/..."'
    ]


def test_a_python_block_that_pytest_examples_runs_is_fine(site):
    md = page(site, f"# Page\n\n{FENCE}python\nprint(1)\n#> 1\n{FENCE}\n")
    assert said(untested_python_blocks(md), site) == []


def test_an_include_beside_code(site):
    inc = '--8<-- "examples/topic/demo.py"'
    md = page(
        site, f'{FENCE}python title="examples/topic/demo.py"\n{inc}\nx = 1\n{FENCE}\n'
    )
    assert said(untested_python_blocks(md), site) == [
        "docs/page.md:1: a block holds an include and other lines: keep only the "
        "--8<-- line, put the code in the script"
    ]


def test_a_broken_include(site):
    md = page(
        site,
        f'{FENCE}python title="examples/topic/demo.py"\n--8<-- "examples/topic/dmeo.py"\n{FENCE}\n'
        f'{FENCE}python title="Fragment of examples/topic/demo.py"\n'
        f'--8<-- "examples/topic/demo.py:load"\n{FENCE}\n',
    )
    assert said(include_problems(md, root=site), site) == [
        'docs/page.md:2: includes "examples/topic/dmeo.py", which does not exist: '
        "fix the path (relative to the repository)",
        'docs/page.md:5: includes "examples/topic/demo.py:load", but '
        "examples/topic/demo.py has no section 'load': mark it with "
        "# --8<-- [start:load] and # --8<-- [end:load] (lower case)",
        'docs/page.md:1: title the block title="examples/topic/dmeo.py" '
        "(it shows the whole of examples/topic/dmeo.py)",
    ]


def test_a_fragment_titled_as_the_whole_script(site):
    md = page(
        site,
        f'{FENCE}python title="examples/topic/demo.py"\n'
        f'--8<-- "examples/topic/demo.py:main"\n{FENCE}\n',
    )
    assert said(include_problems(md, root=site), site) == [
        'docs/page.md:1: title the block title="Fragment of examples/topic/demo.py" '
        "(it shows a section of examples/topic/demo.py)"
    ]


def test_an_example_that_no_page_uses(site):
    md = page(site, "# Page\n")
    assert unused_examples(["examples/topic/demo.py"], [md], root=site) == [
        'examples/topic/demo.py: no page includes it: show it on a page with --8<-- "'
        'examples/topic/demo.py", or delete it'
    ]


def test_an_example_shown_but_not_linked(site):
    md = page(
        site,
        f'{FENCE}python title="examples/topic/demo.py"\n--8<-- "examples/topic/demo.py"\n{FENCE}\n',
    )
    assert said(unused_examples(["examples/topic/demo.py"], [md], root=site), site) == [
        "docs/page.md: shows examples/topic/demo.py but does not link to it: "
        "add [download it](examples/topic/demo.py)"
    ]


def test_a_text_block_without_its_script(site):
    md = page(site, f"{FENCE}text\nloaded: True\n{FENCE}\n")
    assert said(untitled_text_blocks(md, ["examples/topic/demo.py"]), site) == [
        "docs/page.md:1: a text block is printed output: title it "
        'title="Output of examples/<script>.py"'
    ]


def test_an_example_that_writes_into_the_repository(site):
    subprocess.run(["git", "init", "-q"], cwd=site, check=True)
    script = site / "examples" / "topic" / "writes.py"
    script.write_text(
        "from pathlib import Path\n\n(Path(__file__).parent / 'model.pt').write_text('x')\n"
    )
    before = changed_files(site)
    assert run_script(script, cwd=site / "docs").returncode == 0
    assert repository_writes(
        "test_example[writes.py]", before, changed_files(site)
    ) == (
        "test_example[writes.py] wrote into the repository (examples/topic/model.pt): "
        "write into out_dir (the --out-dir option) instead"
    )


QUOTE = "Weights only load failed. Old wording.\n...\nloaded: True"
PRINTED = "header\nWeights only load failed. New wording!\nmore\nlines\nloaded: True\n"


def test_an_output_block_that_no_longer_matches(site):
    md = page(
        site,
        f'{FENCE}text title="Output of examples/topic/demo.py"\n{QUOTE}\n{FENCE}\n',
    )
    (block,) = output_blocks(md)
    assert said(output_mismatch(block, PRINTED), site) == (
        "docs/page.md:1: the output block no longer matches what examples/topic/demo.py "
        "prints: run `pytest tests/test_examples.py -k examples/topic/demo.py --update-outputs`"
    )


def test_update_outputs_rewrites_a_changed_message_keeping_gaps(site):
    assert updated_quote(QUOTE, PRINTED) == (
        "Weights only load failed. New wording!\n...\nloaded: True"
    )
    md = page(
        site,
        "# Page\n\n!!! note\n\n"
        f'    {FENCE}text title="Output of examples/topic/demo.py"\n'
        + "".join(f"    {line}\n" for line in QUOTE.splitlines())
        + f"    {FENCE}\n\nAfter.\n",
    )
    (block,) = output_blocks(md)
    OutputUpdater().rewrite(block, PRINTED)
    assert Path(md).read_text() == (
        "# Page\n\n!!! note\n\n"
        f'    {FENCE}text title="Output of examples/topic/demo.py"\n'
        "    Weights only load failed. New wording!\n    ...\n    loaded: True\n"
        f"    {FENCE}\n\nAfter.\n"
    )
    (block,) = output_blocks(md)
    assert output_mismatch(block, PRINTED) is None


def test_an_inline_block_that_raises(site, eval_example):
    md = page(site, "# Page\n\n```python\nx = 1\nraise ValueError('no file')\n```\n")
    (block,) = find_examples(md)
    with pytest.raises(ValueError) as raised:
        eval_example.run(block)
    assert said(block_error(block, raised.value), site) == (
        "docs/page.md:3: the block raised\n  at docs/page.md:5\nValueError: no file"
    )


def per_release(site, *releases):
    """A page quoting demo.py once per entry of `releases` ("2.13 and 2.14")."""
    blocks = "".join(
        f'{FENCE}text title="Output of examples/topic/demo.py on PyTorch {r}"\n'
        f"loaded: True\n{FENCE}\n\n"
        for r in releases
    )
    return output_blocks(page(site, blocks))


def test_output_quoted_per_release():
    assert release_of("2.6.0+cu124") == "2.6"
    assert release_of("2.14.1") == "2.14"


def test_a_release_with_no_quote_of_its_own(site):
    blocks = per_release(site, "2.13 and 2.14", "2.6")
    assert [b.releases for b in blocks] == [("2.13", "2.14"), ("2.6",)]
    assert unquoted_release_problems(blocks, "2.6") == []
    assert said(unquoted_release_problems(blocks, "2.15"), site) == [
        "docs/page.md: quotes examples/topic/demo.py on PyTorch 2.6, 2.13, 2.14 but not "
        'on 2.15: add a block titled "Output of examples/topic/demo.py on PyTorch 2.15", '
        "or add the release to the title of the block that matches"
    ]


def test_a_matrix_release_that_a_page_quotes_for_none(site):
    blocks = per_release(site, "2.6, 2.13 and 2.14")
    assert release_coverage_problems(blocks, ["2.14", "2.13", "2.6"]) == []
    assert said(release_coverage_problems(blocks, ["2.14", "2.10"]), site) == [
        "docs/page.md: quotes examples/topic/demo.py per release but for none of 2.10 "
        "(noxfile.py RELEASES): quote what it prints too"
    ]


def test_an_example_without_the_standard_entry_point():
    source = '"""Demo."""\n\n\ndef main(out_dir=None):\n    pass\n'
    assert contract_problems("examples/topic/demo.py", source) == [
        'examples/topic/demo.py: lacks main(device="cpu", out_dir=None) (it has '
        'main(out_dir)), an `if __name__ == "__main__":` block: copy the frame of '
        "examples/save/state_dict.py (or make the page with `python scripts/new_page.py`)"
    ]
    frame = Path("examples/save/state_dict.py").resolve()
    assert contract_problems("examples/save/state_dict.py", frame.read_text()) == []


def test_a_page_that_leads_with_a_fragment(site):
    md = page(
        site,
        f'# Page\n\n{FENCE}python title="Fragment of examples/topic/demo.py"\n'
        f'--8<-- "examples/topic/demo.py:main"\n{FENCE}\n',
    )
    assert said(lead_problems(md, root=site), site) == [
        "docs/page.md:3: the page leads with a fragment, which does not run pasted "
        "alone: lead with a short inline block or a whole short script"
    ]


def test_release_ranges_in_a_title(site):
    blocks = per_release(site, "2.6 to 2.9 and 2.11", "2.10, 2.12 and later")
    assert [b.releases for b in blocks] == [
        ("2.6 to 2.9", "2.11"),
        ("2.10", "2.12 and later"),
    ]
    first, second = blocks
    assert [
        r for r in ("2.5", "2.6", "2.8", "2.9", "2.10", "2.11") if first.applies_to(r)
    ] == ["2.6", "2.8", "2.9", "2.11"]
    assert [
        r for r in ("2.10", "2.11", "2.12", "2.15", "3.0") if second.applies_to(r)
    ] == ["2.10", "2.12", "2.15", "3.0"]
    assert (
        release_coverage_problems(blocks, ["2.6", "2.7", "2.10", "2.11", "2.15"]) == []
    )


def test_a_tool_that_no_page_links(site):
    md = page(site, "# Page\n\nRun [the inspector](tools/inspect.py) on your file.\n")
    assert unlinked_tools(["tools/inspect.py"], [md], root=site) == []
    other = page(site, "# Page\n\nNo link here.\n")
    assert said(unlinked_tools(["tools/inspect.py"], [other], root=site), site) == [
        "tools/inspect.py: no page links it for download: add "
        "[download it](tools/inspect.py) to the page that quotes its output"
    ]


def test_deepspeed_accelerator_log_lines_are_not_output():
    from pageformat import normalize

    printed = (
        "['config.json', 'model.pt']\n"
        "[2026-12-07 05:10:38,269] [WARNING] [real_accelerator.py:213:get_accelerator] "
        "Setting accelerator to CPU. If you have GPU or other accelerator, we were "
        "unable to detect it.\n"
        "\x1b[1mdone\x1b[0m  \n"
    )
    assert normalize(printed) == "['config.json', 'model.pt']\ndone"


def test_output_quoted_per_python(site):
    md = page(
        site,
        f'{FENCE}text title="Output of examples/topic/demo.py on Python 3.11"\n'
        f"loaded: (built-in)\n{FENCE}\n\n"
        f'{FENCE}text title="Output of examples/topic/demo.py on PyTorch 2.6 to 2.9, '
        f'Python 3.12 and later"\nloaded: loader\n{FENCE}\n',
    )
    old, new = output_blocks(md)
    assert (old.releases, old.pythons) == ((), ("3.11",))
    assert (new.releases, new.pythons) == (("2.6 to 2.9",), ("3.12 and later",))
    assert old.applies_to("2.14", "3.11") and not old.applies_to("2.14", "3.13")
    assert new.applies_to("2.8", "3.13") and not new.applies_to("2.14", "3.13")
    assert old.applies_to("2.14") and new.applies_to("2.8")  # on any Python
    blocks = [old, new]
    assert unquoted_release_problems(blocks, "3.12", per="Python") == []
    assert said(unquoted_release_problems([new], "3.11", per="Python"), site) == [
        "docs/page.md: quotes examples/topic/demo.py on Python 3.12 and later but not "
        'on 3.11: add a block titled "Output of examples/topic/demo.py on Python '
        '3.11", or add the Python to the title of the block that matches'
    ]
    assert release_coverage_problems(blocks, ["3.11", "3.12", "3.13"], "Python") == []
    assert said(release_coverage_problems([old], ["3.11", "3.13"], "Python"), site) == [
        "docs/page.md: quotes examples/topic/demo.py per Python but for none of 3.13 "
        "(the pin's Python and noxfile.py PYTHONS): quote what it prints too"
    ]
