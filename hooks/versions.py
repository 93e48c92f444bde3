"""MkDocs hook: under each page's title, the torch releases its code passed on.

Read from the version matrix's records (matrix/<release>.json, written by
`nox -s matrix`): a release counts for a page when none of the page's tests failed
on it (its inline blocks, the scripts it includes) and none was left out.
"""

import json
import re
from pathlib import Path

MATRIX = Path(__file__).resolve().parent.parent / "matrix"
INCLUDE = re.compile(r'--8<--\s+"(examples/[^":]+)')


def release_key(record):
    return tuple(int(n) for n in re.findall(r"\d+", record["torch"]))


def records():
    found = [json.loads(p.read_text()) for p in MATRIX.glob("*.json")]
    return sorted(found, key=release_key, reverse=True)


def releases_for(page_path, markdown, all_records):
    """The releases whose matrix run passed every test of this page, and, apart, those
    whose run left some of its tests out (torchvision's) and passed all the rest:
    ([release], {release: [what was left out]})."""
    names = [page_path, *INCLUDE.findall(markdown)]
    passed, partly = [], {}
    for record in all_records:
        words = [w for w in record["left_out"] if any(w in name for name in names)]
        ran = [name for name in names if not any(w in name for w in words)]
        failed_tests = record.get("failed_tests")
        if failed_tests is None:  # a record without the list: any failure counts
            failed = record["failed"] > 0
        else:
            failed = any(name in test for test in failed_tests for name in ran)
        if failed:
            continue
        if not words:
            passed.append(record["torch"])
        elif any(name.startswith("examples/") for name in ran) or page_path in ran:
            partly[record["torch"]] = words
    return passed, partly


def tested_line(passed, partly):
    line = "The code on this page passed its tests with PyTorch "
    line += f"{', '.join(passed)} (on the CPU)"
    if partly:
        words = sorted({w for ws in partly.values() for w in ws})
        line += (
            f"; all but its {' and '.join(words)} examples also passed with "
            f"{', '.join(partly)}"
        )
    return f'<p class="tested-with">{line}.</p>'


def on_page_markdown(markdown, page, config, files):
    if not page.file.src_uri.endswith(".md") or page.file.generated_by:
        return markdown
    passed, partly = releases_for(f"docs/{page.file.src_uri}", markdown, records())
    if not passed or not re.search(r"^```python", markdown, re.M):
        return markdown
    line = tested_line(passed, partly)
    title = re.search(r"^# .*$", markdown, re.M)
    at = title.end() if title else 0
    return markdown[:at] + "\n\n" + line + "\n" + markdown[at:]
