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
    """The releases whose matrix run passed every test of this page."""
    names = [page_path, *INCLUDE.findall(markdown)]
    passed = []
    for record in all_records:
        left_out = any(word in name for word in record["left_out"] for name in names)
        failed_tests = record.get("failed_tests")
        if failed_tests is None:  # a record without the list: any failure counts
            failed = record["failed"] > 0
        else:
            failed = any(name in test for test in failed_tests for name in names)
        if not (left_out or failed):
            passed.append(record["torch"])
    return passed


def on_page_markdown(markdown, page, config, files):
    if not page.file.src_uri.endswith(".md") or page.file.generated_by:
        return markdown
    tested = releases_for(f"docs/{page.file.src_uri}", markdown, records())
    if not tested or not re.search(r"^```python", markdown, re.M):
        return markdown
    line = (
        f'<p class="tested-with">The code on this page passed its tests with PyTorch '
        f"{', '.join(tested)} (on the CPU).</p>"
    )
    title = re.search(r"^# .*$", markdown, re.M)
    at = title.end() if title else 0
    return markdown[:at] + "\n\n" + line + "\n" + markdown[at:]
