"""MkDocs hook: on the long pages, each folded whole script loads when it is opened.

A `??? example "The whole script: examples/...py"` block (or tools/...py) holds a
highlighted script of 10 to 30 KB. On a page of many entries (Troubleshooting: one
per message) they made most of its weight, for code that a visitor opens for one
entry at most. On the pages in LAZY_PAGES, the block's content is written to a
file of its own beside the page (`whole-script-<path>.html`) and the block keeps a
link to the script, which docs/javascripts/pages.js replaces with that content when
the block is opened.
Headings, anchors and the rest of each entry stay on the page.
"""

import sys
from pathlib import Path

# The page format lives in pageformat.py, at the repository's root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pageformat import FOLDED_WHOLE_SCRIPT_HTML  # noqa: E402

LAZY_PAGES = {"troubleshooting.md"}
_fragments = {}  # page's source path -> {file name: html}


def fragment_name(script):
    return "whole-script-" + script.removesuffix(".py").replace("/", "-") + ".html"


def on_page_content(html, page, config, files):
    if page.file.src_uri not in LAZY_PAGES:
        return html
    up = "../" * page.url.count("/")
    found = _fragments[page.file.src_uri] = {}

    def fold(m):
        opening, script, body, closing = m.groups()
        name = fragment_name(script)
        found[name] = body
        opening = opening.replace(
            "data-search-exclude>", f'data-search-exclude data-script="{name}">', 1
        )
        link = f'<p><a href="{up}{script}">{script}</a></p>'
        return f"{opening}\n{link}\n{closing}"

    return FOLDED_WHOLE_SCRIPT_HTML.sub(fold, html)


def on_post_page(output, page, config):
    folder = Path(config["site_dir"]) / Path(page.file.dest_uri).parent
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in _fragments.pop(page.file.src_uri, {}).items():
        (folder / name).write_text(body, encoding="utf-8")
    return output
