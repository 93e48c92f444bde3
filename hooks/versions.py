"""MkDocs hook: under each page's title, the torch releases its code passed on.

Read from the version matrix's records (matrix/<release>.json, written by
`nox -s matrix`): a release counts for a page when none of the page's tests failed
on it (its inline blocks, the scripts it includes) and none was left out.

A record of the GPU run (matrix/<release>-cuda.json, written by
`scripts/gpu_run.py run`) has "devices": ["cpu", "cuda"]: its release counts for
the CPU as any other, and for the GPU too where none of the page's tests failed
on cuda. The line names a GPU only for the releases a GPU run was seen on.
"""

import json
import re
from pathlib import Path

MATRIX = Path(__file__).resolve().parent.parent / "matrix"
INCLUDE = re.compile(r'--8<--\s+"(examples/[^":]+)')
# The device in a test's id: "test_example[cuda-examples/...]"; none: it ran as it
# was (the inline blocks, which pick the GPU themselves where there is one).
DEVICE = re.compile(r"\[(cpu|cuda|mps)[-\]]")


def device_of(test):
    if "test_gpu_only" in test:
        return "cuda"
    m = DEVICE.search(test)
    return m[1] if m else None


def release_key(record):
    return tuple(int(n) for n in re.findall(r"\d+", record["torch"]))


def records():
    found = [json.loads(p.read_text()) for p in MATRIX.glob("*.json")]
    return sorted(found, key=release_key, reverse=True)


def page_failed(record, names, device):
    """Whether a test of these names failed in the record on `device` (or on any)."""
    failed_tests = record.get("failed_tests")
    if failed_tests is None:  # a record without the list: any failure counts
        return record["failed"] > 0
    return any(
        name in test
        for test in failed_tests
        if device_of(test) in (None, device)
        for name in names
    )


def releases_for(page_path, markdown, all_records):
    """The releases whose matrix run passed every test of this page, and, apart, those
    whose run left some of its tests out (torchvision's) and passed all the rest:
    ([release], {release: [what was left out]})."""
    names = [page_path, *INCLUDE.findall(markdown)]
    passed, partly = [], {}
    for record in all_records:
        words = [w for w in record["left_out"] if any(w in name for name in names)]
        ran = [name for name in names if not any(w in name for w in words)]
        if page_failed(record, ran, "cpu"):
            continue
        if not words:
            if record["torch"] not in passed:
                passed.append(record["torch"])
        elif any(name.startswith("examples/") for name in ran) or page_path in ran:
            partly[record["torch"]] = words
    return passed, partly


def gpu_releases_for(page_path, markdown, all_records):
    """The releases whose GPU run passed every test of this page on cuda:
    ([release], [the GPUs' names])."""
    names = [page_path, *INCLUDE.findall(markdown)]
    passed, gpus = [], []
    for record in all_records:
        if "cuda" not in record.get("devices", ["cpu"]):
            continue
        if any(w in name for w in record["left_out"] for name in names):
            continue
        if page_failed(record, names, "cuda"):
            continue
        if record["torch"] not in passed:
            passed.append(record["torch"])
        if record.get("gpu") and record["gpu"] not in gpus:
            gpus.append(record["gpu"])
    return passed, gpus


def tested_line(passed, partly, gpu=(), gpus=()):
    line = "The code on this page passed its tests with PyTorch "
    line += f"{', '.join(passed)} (on the CPU)"
    if gpu:
        line += f", and with {', '.join(gpu)} on a GPU"
        line += f" ({', '.join(gpus)})" if gpus else ""
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
    path, found = f"docs/{page.file.src_uri}", records()
    passed, partly = releases_for(path, markdown, found)
    if not passed or not re.search(r"^```python", markdown, re.M):
        return markdown
    line = tested_line(passed, partly, *gpu_releases_for(path, markdown, found))
    title = re.search(r"^# .*$", markdown, re.M)
    at = title.end() if title else 0
    return markdown[:at] + "\n\n" + line + "\n" + markdown[at:]
