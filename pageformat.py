"""The page format, in one place: what the tests check and the build hooks render.

tests/ and hooks/ both import it (the repository root is on their path), so a
page, a script and a release title are read the same way by both.

- A *fence* is a fenced code block (```python title="..."```), at any indent.
- An *include* is a `--8<-- "examples/x/y.py"` line (pymdownx.snippets), with an
  optional `:section`.
- An *output block* is a ```text title="Output of examples/x/y.py"``` fence: what
  that script prints. A line `...` in it stands for any number of lines. A title
  ending "on PyTorch 2.6", "on PyTorch 2.13 and 2.14", "on PyTorch 2.6 to 2.9" or
  "on PyTorch 2.10 and later" quotes only what those releases print; one ending
  "on Python 3.11" or "on Python 3.12 and later" only what those Pythons print
  (both: "on PyTorch 2.6 to 2.9, Python 3.11").
- A *script* that pages quote and link lives in one of SCRIPT_FOLDERS: examples/
  (bound by the example contract) or tools/ (not bound by it).
- A page's *URL* is its path below docs/ without `.md` (`page_url`).
- A *notebook* is a jupytext script in NOTEBOOK_FOLDER that the build runs into a
  page of its own (`notebook_page`: its page's path and URL). Every example is also
  served as an .ipynb beside it (`notebook_file`).
- A block that shows a whole script is titled with its path
  (`title="examples/x/y.py"`); `SCRIPT_TITLE_HTML` matches that title as the build
  renders it.
- A *folded whole script* is a `??? example "The whole script: examples/x/y.py"`
  block; `FOLDED_WHOLE_SCRIPT_HTML` matches what the build makes of it.
- A script's *main guard* is its `if __name__ == "__main__":` block (`main_guard`).

`pytest tests/test_examples.py --update-outputs` rewrites output blocks through
`OutputUpdater`.
"""

import ast
import fcntl
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DOCS = ROOT / "docs"
# The folders of the scripts that pages quote and link for download.
SCRIPT_FOLDERS = ("examples", "tools")
# Notebooks: jupytext percent scripts that the build runs, each into a page.
NOTEBOOK_FOLDER = "examples/notebooks/"

FENCE = re.compile(
    r"^(?P<indent> *)(?P<ticks>`{3,}|~{3,})(?P<info>[^\n`~]*)\n"
    r"(?P<body>.*?)^(?P=indent)(?P=ticks)[ \t]*$",
    re.M | re.S,
)
INCLUDE = re.compile(r'^\s*--8<--\s+"(?P<path>[^":]+)(?::(?P<section>[\w-]+))?"\s*$')
TITLE = re.compile(r'title="(?P<title>[^"]*)"')
# One entry of a title's releases: "2.6", "2.6 to 2.9" (both included),
# "2.10 and later"; the same for Pythons: "3.11", "3.12 and later".
RELEASE_ITEM = re.compile(r"\d+\.\d+(?: to \d+\.\d+| and later)?")
_ITEMS = rf"{RELEASE_ITEM.pattern}(?:(?:, | and ){RELEASE_ITEM.pattern})*"
OUTPUT_TITLE = re.compile(
    r"^Output of (?P<script>(?:"
    + "|".join(SCRIPT_FOLDERS)
    + r")/\S+\.py)"
    + rf"(?: on PyTorch (?P<releases>{_ITEMS}))?"
    + rf"(?:(?:,| on) Python (?P<pythons>{_ITEMS}))?$"
)


def release_key(release):
    """A release or version ("2.13", "2.14.1") as a tuple that sorts as versions do."""
    return tuple(int(n) for n in re.findall(r"\d+", release))


def release_in(release, item):
    """Whether `release` ("2.8") is one that `item` ("2.6 to 2.9") names."""
    low, _, high = item.partition(" to ")
    if item.endswith(" and later"):
        return release_key(release) >= release_key(item.removesuffix(" and later"))
    return release_key(low) <= release_key(release) <= release_key(high or low)


# The title bar of a block that shows a whole script (title="examples/x/y.py"), as
# the build renders it; the script without .py.
SCRIPT_FOLDER = "(?:" + "|".join(SCRIPT_FOLDERS) + ")"  # examples or tools
SCRIPT_TITLE_HTML = re.compile(
    r'<span class="filename">(' + SCRIPT_FOLDER + r'/[^<"]+?)\.py</span>'
)

# A folded whole script as the build renders it (hooks/notebooks.py has left it out
# of the search index): its opening up to the summary, the script, its content, and
# its closing tag.
FOLDED_WHOLE_SCRIPT_HTML = re.compile(
    r'(<details class="example" data-search-exclude>\s*<summary>The whole script: '
    r"(" + SCRIPT_FOLDER + r"/[^<]+?\.py)</summary>)(.*?)(</details>)",
    re.S,
)

SECTION_MARK = re.compile(r"#\s*--8<--\s*\[(?P<end>start|end):(?P<name>[^\]]+)\]")


SNIPPETS = DOCS / "snippets"  # Markdown pieces that pages include, not pages


def pages():
    """Every Markdown page of the site, in a stable order."""
    return sorted(p for p in DOCS.rglob("*.md") if SNIPPETS not in p.parents)


def page_url(page, docs=DOCS):
    """A page's address below the site's root, from its path under `docs` (the
    site's docs/ folder, or a copy's): docs/devices.md: "devices/";
    docs/index.md: ""."""
    path = Path(page).resolve().relative_to(Path(docs).resolve())
    path = path.with_suffix("").as_posix()
    return "" if path == "index" else path.removesuffix("/index") + "/"


def notebook_page(script):
    """The page the build makes of a notebook script, below docs/, and its URL:
    examples/notebooks/x.py: ("examples/notebooks/x.md", "examples/notebooks/x/")."""
    stem = script.removesuffix(".py")
    return f"{stem}.md", f"{stem}/"


def notebook_file(script):
    """The .ipynb the build serves beside an example script (a notebook's holds the
    build's outputs): examples/x/y.py: examples/x/y.ipynb."""
    return script.removesuffix(".py") + ".ipynb"


def rel(path):
    """A path as the tests print it: relative to the repository."""
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Place:
    """A line of a page, as the tests print it: docs/page.md:12."""

    page: Path
    line: int  # 1-based

    @property
    def where(self):
        return f"{rel(self.page)}:{self.line}"


@dataclass(frozen=True)
class Fence(Place):
    """A fenced block of a page (its line: the opening fence's)."""

    indent: str
    ticks: str  # the fence itself: ``` or ~~~ (or longer)
    info: str  # what follows the backticks: language and options
    body: str  # the block's text, its indent removed
    start: int  # offsets of the body in the page's text
    end: int

    @property
    def lang(self):
        return self.info.strip().split(" ")[0].lower() if self.info.strip() else ""

    @property
    def title(self):
        m = TITLE.search(self.info)
        return m["title"] if m else None


def fences(page, text=None):
    """The fenced blocks of a page, in order."""
    text = page.read_text() if text is None else text
    found = []
    for m in FENCE.finditer(text):
        indent = m["indent"]
        body = "\n".join(line.removeprefix(indent) for line in m["body"].splitlines())
        found.append(
            Fence(
                page=page,
                line=text.count("\n", 0, m.start()) + 1,
                indent=indent,
                ticks=m["ticks"],
                info=m["info"],
                body=body,
                start=m.start("body"),
                end=m.end("body"),
            )
        )
    return found


@dataclass(frozen=True)
class Include(Place):
    path: str  # relative to the repository, as written
    section: str | None


def includes(page, text=None):
    """Every `--8<--` include line of a page."""
    text = page.read_text() if text is None else text
    return [
        Include(page, n, m["path"], m["section"])
        for n, line in enumerate(text.splitlines(), 1)
        if (m := INCLUDE.match(line))
    ]


@dataclass(frozen=True)
class OutputBlock:
    fence: Fence
    script: str  # examples/x/y.py
    # The torch releases ("2.6", "2.6 to 2.9", "2.10 and later") whose output this
    # is, from a title ending "on PyTorch 2.6 to 2.9 and 2.13"; empty: every release.
    releases: tuple[str, ...] = ()
    # The same for Pythons ("3.11", "3.12 and later"), from "on Python 3.12 and later".
    pythons: tuple[str, ...] = ()

    @property
    def text(self):
        return self.fence.body

    def applies_to(self, release, python=None):
        """Whether the block quotes what `release` ("2.13") prints, on `python`
        ("3.12"; None: on any Python)."""
        return title_names(self.releases, release) and (
            python is None or title_names(self.pythons, python)
        )


def title_names(items, version):
    """Whether a title's `items` ("2.6 to 2.9", ...; none: every one) name `version`."""
    return not items or any(release_in(version, item) for item in items)


def output_blocks(page, text=None):
    """The `text` blocks titled "Output of examples/...py" on a page."""
    blocks = []
    for fence in fences(page, text):
        title = fence.title or ""
        m = OUTPUT_TITLE.match(title)
        if fence.lang == "text" and m:
            releases = RELEASE_ITEM.findall(m["releases"] or "")
            pythons = RELEASE_ITEM.findall(m["pythons"] or "")
            blocks.append(
                OutputBlock(fence, m["script"], tuple(releases), tuple(pythons))
            )
    return blocks


def included_scripts(page, text=None):
    """The scripts (`.py`) a page includes, each once, in order."""
    return list(
        dict.fromkeys(i.path for i in includes(page, text) if i.path.endswith(".py"))
    )


def main_guard(tree):
    """A script's `if __name__ == "__main__":` block, from its parsed module; None."""
    return next(
        (
            n
            for n in tree.body
            if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)
        ),
        None,
    )


def sections(script_text):
    """The names of the `# --8<-- [start:name]` sections of a script."""
    starts, ends = set(), set()
    for m in SECTION_MARK.finditer(script_text):
        (starts if m["end"] == "start" else ends).add(m["name"])
    return starts & ends


# Output as printed, compared with a page's quote.

ANSI = re.compile(r"\x1b\[[0-9;]*m")


# The line DeepSpeed logs when transformers or accelerate import it, where it is
# installed and finds no GPU: not the script's output, and absent where it is not.
DEEPSPEED_LOG = re.compile(
    r"^\[[\d-]+ [\d:,]+\] \[(?:INFO|WARNING)\] \[real_accelerator\.py:\d+:"
)


def normalize(text):
    """Text as compared with a page's quote: no ANSI codes, no trailing spaces, no
    DeepSpeed accelerator log line."""
    return "\n".join(
        line.rstrip()
        for line in ANSI.sub("", text).splitlines()
        if not DEEPSPEED_LOG.match(line)
    )


def quote_pattern(quote):
    """A regex for a quoted block: each line literal, a line `...` skips lines."""
    parts = []
    for line in normalize(quote).splitlines():
        parts.append(
            r"(?:.*\n)*?" if line.strip() == "..." else re.escape(line) + r"\n"
        )
    return "".join(parts)


def quote_matches(quote, printed):
    """Whether `printed` (normalized, ending in a newline) shows what `quote` quotes."""
    return re.search(quote_pattern(quote), printed) is not None


def updated_quote(quote, printed):
    """`quote` rewritten from what a script prints now, its `...` lines kept.

    The quote is cut at its `...` lines into runs of literal lines. Each run is
    replaced by the run of as many printed lines that matches it best (an exact
    match first, else the most similar text), searching after the previous one.
    """
    import difflib

    lines = normalize(printed).splitlines()
    runs, run = [], []
    for line in quote.splitlines():
        if line.strip() == "...":
            runs.append(run)
            runs.append(None)  # a gap
            run = []
        else:
            run.append(line)
    runs.append(run)

    out, pos = [], 0
    for run in runs:
        if run is None:
            out.append("...")
            continue
        if not run:
            continue
        k = len(run)
        best, best_score = None, -1.0
        for i in range(pos, max(pos, len(lines) - k) + 1):
            window = lines[i : i + k]
            if len(window) < k:
                break
            if window == [normalize(x) for x in run]:
                best, best_score = i, float("inf")
                break
            score = sum(
                difflib.SequenceMatcher(None, a, b).ratio()
                for a, b in zip(run, window, strict=True)
            )
            if score > best_score:
                best, best_score = i, score
        if best is None:  # the script prints fewer lines than the quote has
            out.extend(run)
            continue
        out.extend(lines[best : best + k])
        pos = best + k
    return "\n".join(out)


class OutputUpdater:
    """Rewrites an output block in its page, in place (safe across xdist workers)."""

    def __init__(self):
        self.rewritten = []

    def rewrite(self, block, printed):
        page = block.fence.page
        with open(page, "r+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            text = f.read()
            for fence in fences(page, text):
                same = (fence.info, fence.body) == (block.fence.info, block.fence.body)
                if same and fence.start == block.fence.start:
                    break
            else:  # the page changed since it was read: find the block again
                found = [
                    b.fence
                    for b in output_blocks(page, text)
                    if (b.fence.info, b.fence.body)
                    == (block.fence.info, block.fence.body)
                ]
                if not found:
                    raise RuntimeError(f"{block.fence.where}: block not found again")
                fence = found[0]
            new = updated_quote(block.text, printed)
            indented = "\n".join(
                fence.indent + line if line else line for line in new.splitlines()
            )
            text = text[: fence.start] + indented + "\n" + text[fence.end :]
            f.seek(0)
            f.write(text)
            f.truncate()
        self.rewritten.append(block.fence.where)
