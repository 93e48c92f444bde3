"""The checks a page and an example face, each problem said in one line.

Each function returns a list of problems, one line each: where it is, what is
wrong, and how to fix it. The tests in test_docs.py and test_examples.py run
them on the site; test_checks.py proves each one catches its mistake.
"""

import ast
import re
from pathlib import Path

import pytest

from pageformat import (
    INCLUDE,
    NOTEBOOK_FOLDER,
    ROOT,
    fences,
    includes,
    main_guard,
    normalize,
    notebook_page,
    output_blocks,
    quote_matches,
    rel,
    release_key,
    sections,
    title_names,
)

PYTHON_LANGS = re.compile(r"^\{?\s*\.?(py|python|python3|py3|pycon|ipython|ipython3)\b")


def fail_on(problems):
    """Fail the test with the problems' lines, when there are any (no traceback)."""
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def python_fences(page, text=None):
    """Fences whose language is Python, however it is spelled."""
    return [f for f in fences(page, text) if PYTHON_LANGS.match(f.info.strip().lower())]


def untested_python_blocks(page, text=None):
    """Python blocks that no test runs: neither an include nor a block pytest-examples runs."""
    from pytest_examples import find_examples

    run_by_pytest_examples = {
        ex.start_line for ex in find_examples(page) if "--8<--" not in ex.source
    }
    problems = []
    for fence in python_fences(page, text):
        lines = [line for line in fence.body.splitlines() if line.strip()]
        if lines and all(INCLUDE.match(line) for line in lines):
            continue
        if any(INCLUDE.match(line) for line in lines):
            problems.append(
                f"{fence.where}: a block holds an include and other lines: "
                "keep only the --8<-- line, put the code in the script"
            )
        elif fence.line not in run_by_pytest_examples:
            problems.append(
                f"{fence.where}: a {fence.ticks}{fence.info.strip()} block that no test runs: "
                'open it with ```python (pytest-examples runs it) or include a script with --8<-- "examples/..."'
            )
    return problems


def include_problems(page, text=None, root=ROOT):
    """Includes that point at no file or no section, or are titled wrongly."""
    problems = []
    for inc in includes(page, text):
        path = Path(root) / inc.path
        if not path.is_file():
            problems.append(
                f'{inc.where}: includes "{inc.path}", which does not exist: fix the path '
                "(relative to the repository)"
            )
        elif inc.section and inc.section not in sections(path.read_text()):
            problems.append(
                f'{inc.where}: includes "{inc.path}:{inc.section}", but {inc.path} has no '
                f"section {inc.section!r}: mark it with # --8<-- [start:{inc.section}] and "
                f"# --8<-- [end:{inc.section}] (lower case)"
            )
    for fence in python_fences(page, text):
        found = [
            INCLUDE.match(line) for line in fence.body.splitlines() if line.strip()
        ]
        if not found or not all(found):
            continue
        fragment = any(m["section"] for m in found)
        expected = ("Fragment of " if fragment else "") + found[0]["path"]
        if fence.title != expected:
            problems.append(
                f'{fence.where}: title the block title="{expected}" '
                f"(it shows {'a section' if fragment else 'the whole'} of {found[0]['path']})"
            )
    return problems


def untitled_text_blocks(page, examples, text=None):
    """`text` blocks that do not name the example whose output they are."""
    problems = []
    named = {b.fence.start: b for b in output_blocks(page, text)}
    for fence in fences(page, text):
        if fence.lang != "text":
            continue
        block = named.get(fence.start)
        if block is None:
            problems.append(
                f"{fence.where}: a text block is printed output: title it "
                'title="Output of examples/<script>.py"'
            )
        elif block.script not in examples:
            problems.append(f"{fence.where}: no such script {block.script}")
    return problems


def unused_examples(examples, pages, root=ROOT, nav=""):
    """Examples that no page includes, or that a page shows without linking."""
    problems = []
    for script in examples:
        showing = [p for p in pages if script in {i.path for i in includes(p)}]
        in_nav = script in nav or notebook_page(script)[0] in nav
        if not showing and not in_nav:
            problems.append(
                f'{script}: no page includes it: show it on a page with --8<-- "{script}", '
                "or delete it"
            )
        for page in showing:
            depth = len(page.relative_to(Path(root) / "docs").parts) - 1
            link = "../" * depth + script
            if f"]({link})" not in page.read_text():
                problems.append(
                    f"{rel(page)}: shows {script} but does not link to it: add [download it]({link})"
                )
    return problems


def unlinked_tools(tools, pages, root=ROOT):
    """Tools (tools/*.py) that no page links for download. A tool is not shown whole
    on a page, as an example is: its page quotes its output and links it."""
    problems = []
    for tool in tools:
        linked = any(
            f"]({'../' * (len(p.relative_to(Path(root) / 'docs').parts) - 1)}{tool})"
            in p.read_text()
            for p in pages
        )
        if not linked:
            problems.append(
                f"{tool}: no page links it for download: add [download it]({tool}) "
                "to the page that quotes its output"
            )
    return problems


def output_mismatch(block, printed):
    """One line when the output block no longer matches what its script printed."""
    if quote_matches(block.text, normalize(printed) + "\n"):
        return None
    return (
        f"{block.fence.where}: the output block no longer matches what {block.script} "
        f"prints: run `pytest tests/test_examples.py -k {block.script} --update-outputs`"
    )


def block_error(block, error) -> str:
    """The error a block raised, with the block's own lines: pytest's traceback of
    a frame pytest-examples compiled can raise StopIteration on Python 3.11 and end
    the whole run (an INTERNALERROR), so it is not asked for."""
    lines = [f"{rel(block.path)}:{block.start_line}: the block raised"]
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == str(block.path):
            lines.append(f"  at {rel(block.path)}:{tb.tb_lineno}")
        tb = tb.tb_next
    lines.append(f"{type(error).__name__}: {error}")
    return "\n".join(lines)


# What a title can quote a script per ("on PyTorch 2.6", "on Python 3.11"): the
# block's field, what one is called, and where the list that must be covered lives.
PER = {
    "PyTorch": ("releases", "release", "noxfile.py RELEASES"),
    "Python": ("pythons", "Python", "the pin's Python and noxfile.py PYTHONS"),
}


def _tagged_sets(blocks, field="releases"):
    """A script's output blocks tagged per release (or per Python: `field`), grouped
    by the page that shows them."""
    sets = {}
    for block in blocks:
        if getattr(block, field):
            sets.setdefault((block.fence.page, block.script), []).append(block)
    return sets


def unquoted_release_problems(blocks, release, per="PyTorch"):
    """One line per page that quotes a script per release (or per Python: `per`)
    but not for `release` (or that Python)."""
    field, noun, _ = PER[per]
    problems = []
    for (page, script), tagged in _tagged_sets(blocks, field).items():
        if not any(_covers(b, field, release) for b in tagged):
            named = sorted(
                {r for b in tagged for r in getattr(b, field)},
                key=lambda r: release_key(r.split()[0]),
            )
            problems.append(
                f"{rel(page)}: quotes {script} on {per} {', '.join(named)} but not on "
                f'{release}: add a block titled "Output of {script} on {per} {release}", '
                f"or add the {noun} to the title of the block that matches"
            )
    return problems


def release_coverage_problems(blocks, releases, per="PyTorch"):
    """One line per page whose per-release (or per-Python: `per`) quotes of a script
    leave out a release the matrix runs (or a Python it runs)."""
    field, noun, where = PER[per]
    problems = []
    for (page, script), tagged in _tagged_sets(blocks, field).items():
        missing = [r for r in releases if not any(_covers(b, field, r) for b in tagged)]
        if missing:
            problems.append(
                f"{rel(page)}: quotes {script} per {noun} but for none of "
                f"{', '.join(missing)} ({where}): quote what "
                f"{'they print' if len(missing) > 1 else 'it prints'} too"
            )
    return problems


def _covers(block, field, version):
    """Whether a block's releases (or its Pythons: `field`) name `version`."""
    return title_names(getattr(block, field), version)


def repository_writes(who, before, after):
    """One line when files in the repository appeared or changed during a run."""
    new = sorted(after - before)
    if not new:
        return None
    names = ", ".join(line[3:] for line in new)
    return (
        f"{who} wrote into the repository ({names}): write into out_dir "
        "(the --out-dir option) instead"
    )


# The example contract: what every script under examples/ has, so that the tests,
# the scaffold and a reader can run any of them the same way.
CONTRACT = (
    'a module docstring, main(device="cpu", out_dir=None), and an '
    '`if __name__ == "__main__":` block whose argparse has --device and --out-dir'
)
# Scripts exempt from the contract, each with the reason.
CONTRACT_EXCEPTIONS = {
    NOTEBOOK_FOLDER: "notebooks are jupytext percent scripts, run top to bottom "
    "by the site's build; they pick the device themselves",
}


def contract_problems(script, source):
    """What `script` (its path as shown, and its text) lacks of the example contract."""
    if any(script.startswith(prefix) for prefix in CONTRACT_EXCEPTIONS):
        return []
    tree = ast.parse(source)
    lacks = [] if ast.get_docstring(tree) else ["a module docstring"]
    lacks += main_lacks(tree) + guard_lacks(tree)
    if not lacks:
        return []
    return [
        f"{script}: lacks {', '.join(lacks)}: copy the frame of "
        "examples/save/state_dict.py (or make the page with `python scripts/new_page.py`)"
    ]


def main_lacks(tree):
    """What a script's `main` lacks of `main(device="cpu", out_dir=None)`."""
    main = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"),
        None,
    )
    if main is None:
        return ['main(device="cpu", out_dir=None)']
    args = main.args
    names = [a.arg for a in args.args]
    defaults = dict(
        zip(names[len(names) - len(args.defaults) :], args.defaults, strict=True)
    )
    given = [ast.unparse(defaults[n]) if n in defaults else "" for n in names[:2]]
    if names[:2] != ["device", "out_dir"] or given != ["'cpu'", "None"]:
        return [f'main(device="cpu", out_dir=None) (it has main({", ".join(names)}))']
    return []


def guard_lacks(tree):
    """What a script's `if __name__ == "__main__":` block lacks: the block itself,
    or its --device and --out-dir options."""
    guard = main_guard(tree)
    if guard is None:
        return ['an `if __name__ == "__main__":` block']
    options = {
        c.args[0].value
        for c in ast.walk(guard)
        if isinstance(c, ast.Call)
        and getattr(c.func, "attr", "") == "add_argument"
        and c.args
        and isinstance(c.args[0], ast.Constant)
    }
    return [f"the {o} option" for o in ("--device", "--out-dir") if o not in options]


LEAD_MAX_LINES = 60  # a whole script longer than this cannot lead a page
# Pages that lead with something other than a block that answers: each with the reason.
LEAD_EXCEPTIONS = {
    "docs/troubleshooting.md": "a list of messages: each entry leads with its message",
    "docs/inspect.md": "a tool's page: it leads with the shell command and its output",
}


def lead_problems(page, root=ROOT, text=None):
    """The page's first Python block must run when pasted alone, and be short."""
    if rel(page) in LEAD_EXCEPTIONS:
        return []
    blocks = python_fences(page, text)
    if not blocks:
        return []
    lead = blocks[0]
    found = [INCLUDE.match(line) for line in lead.body.splitlines() if line.strip()]
    if not (found and all(found)):
        return []  # an inline block: pytest-examples runs it as pasted
    if any(m["section"] for m in found):
        return [
            f"{lead.where}: the page leads with a fragment, which does not run pasted "
            "alone: lead with a short inline block or a whole short script"
        ]
    lines = len((Path(root) / found[0]["path"]).read_text().splitlines())
    if lines > LEAD_MAX_LINES:
        return [
            f"{lead.where}: the page leads with a {lines}-line script: lead with the "
            "shortest block that answers (an inline block), the whole script below it"
        ]
    return []
