"""MkDocs hook: under each page's title, the torch releases its code passed on.

Read from the version matrix's records (matrix/<release>.json, written by
`nox -s matrix`): a release counts for a page when every script the page includes
ran on it (the record's "ran"), none of the page's tests failed (its inline blocks,
the scripts it includes) and none was left out.

Every release runs on one Python (3.11); records of the pin on other Pythons
(matrix/<release>-py<python>.json, written by `nox -s pythons`) add "with PyTorch
2.14.1 on Python 3.12 and 3.13", naming only the Pythons on which none of the
page's tests failed.

A record of the GPU run (matrix/<release>-cuda.json, written by
`scripts/gpu_run.py run`) has "devices": ["cpu", "cuda"]: its release counts for
the CPU as any other, and for the GPU too where none of the page's tests failed
on cuda. The line names a GPU only for the releases a GPU run was seen on.
"""

import json
import re
import sys
from collections import Counter
from pathlib import Path

# The page format lives in pageformat.py, at the repository's root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pageformat import included_scripts, release_key  # noqa: E402

MATRIX = Path(__file__).resolve().parent.parent / "matrix"
# The device in a test's id: "test_example[cuda-examples/...]"; none: it ran as it
# was (the inline blocks, which pick the GPU themselves where there is one).
DEVICE = re.compile(r"\[(cpu|cuda|mps)[-\]]")


def device_of(test):
    if "test_gpu_only" in test:
        return "cuda"
    m = DEVICE.search(test)
    return m[1] if m else None


def record_key(record):
    """A matrix record's place in order: its torch release, as versions sort."""
    return release_key(record["torch"])


def records():
    found = [json.loads(p.read_text()) for p in MATRIX.glob("*.json")]
    return sorted(found, key=record_key, reverse=True)


def python_of(record):
    """The Python a record ran on, as "3.11" (records before Pythons were: "")."""
    m = re.match(r"\d+\.\d+", record.get("python", ""))
    return m[0] if m else ""


def by_python(all_records):
    """The records of the Python that runs every release (the most common one), and
    those of the other Pythons, which run the pin: (main Python, main, others). A GPU
    run's record stays with the main ones, whatever its Python."""
    counts = Counter(python_of(r) for r in all_records if "devices" not in r)
    main = counts.most_common(1)[0][0] if counts else ""

    def is_main(record):
        return python_of(record) == main or "devices" in record

    return (
        main,
        [r for r in all_records if is_main(r)],
        [r for r in all_records if not is_main(r)],
    )


def not_run(record, names):
    """Whether a script of these names is missing from the record's run (a record
    written before the script existed): such a record says nothing about the page."""
    if "ran" not in record:  # a record from before the list: it vouches for nothing
        return True
    return any(n.startswith("examples/") and n not in record["ran"] for n in names)


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
    names = [page_path, *included_scripts(page_path, markdown)]
    passed, partly = [], {}
    for record in all_records:
        words = [w for w in record["left_out"] if any(w in name for name in names)]
        ran = [name for name in names if not any(w in name for w in words)]
        if not_run(record, ran) or page_failed(record, ran, "cpu"):
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
    names = [page_path, *included_scripts(page_path, markdown)]
    passed, gpus = [], []
    for record in all_records:
        if "cuda" not in record.get("devices", ["cpu"]):
            continue
        if any(w in name for w in record["left_out"] for name in names):
            continue
        if not_run(record, names) or page_failed(record, names, "cuda"):
            continue
        if record["torch"] not in passed:
            passed.append(record["torch"])
        if record.get("gpu") and record["gpu"] not in gpus:
            gpus.append(record["gpu"])
    return passed, gpus


def pythons_for(page_path, markdown, other_records):
    """The other Pythons on which every test of this page passed: {torch: [python]}."""
    found = {}
    for record in other_records:
        passed, _ = releases_for(page_path, markdown, [record])
        if passed:
            found.setdefault(record["torch"], []).append(python_of(record))
    return {
        torch: sorted(pythons, key=lambda p: tuple(map(int, p.split("."))))
        for torch, pythons in found.items()
    }


def joined(words):
    return (
        " and ".join(words)
        if len(words) < 3
        else f"{', '.join(words[:-1])} and {words[-1]}"
    )


def tested_line(passed, partly, gpu=(), gpus=(), python="", pythons=None):
    line = "The code on this page passed its tests with PyTorch "
    line += f"{', '.join(passed)} (on the CPU{f', Python {python}' if python else ''})"
    for torch, others in (pythons or {}).items():
        line += f", with PyTorch {torch} on Python {joined(others)}"
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
    path = f"docs/{page.file.src_uri}"
    python, found, other_pythons = by_python(records())
    passed, partly = releases_for(path, markdown, found)
    if not passed or not re.search(r"^```python", markdown, re.M):
        return markdown
    line = tested_line(
        passed,
        partly,
        *gpu_releases_for(path, markdown, found),
        python=python,
        pythons=pythons_for(path, markdown, other_pythons),
    )
    title = re.search(r"^# .*$", markdown, re.M)
    at = title.end() if title else 0
    return markdown[:at] + "\n\n" + line + "\n" + markdown[at:]
