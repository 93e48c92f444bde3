"""How well the site's search answers error messages pasted from real reports.

Each message in benchmarks/search_messages.json was copied from a user's report (its
source is beside it), with that user's own class names, keys, shapes and paths, and
names the Troubleshooting entry that answers it. The script serves a built site,
pastes each message into the search box in Chromium (as tests/test_browser.py does),
and records whether the entry is among the first three results, and how long the
search took from the paste to the results shown.

    mkdocs build -d /tmp/site
    python benchmarks/search_pastes.py /tmp/site --out benchmarks/results/search.json \
        --markdown benchmarks/results/search.md

Give `--label` to tell runs apart (a site built from another commit, for instance).
It needs Chromium (Debian's `chromium`) and the test extras (playwright).
"""

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from test_browser import (  # noqa: E402  (the tests' own serving and pasting)
    page_to_paste_into,
    paste,
    serve,
    troubleshooting_anchors,
)

MESSAGES = ROOT / "benchmarks" / "search_messages.json"


def read_messages(path, headings):
    """The messages: a JSON list of {"message", "source", "entry"}, each entry one
    of `headings` (docs/troubleshooting.md's). ValueError says what is wrong."""
    try:
        messages = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    if not isinstance(messages, list):
        raise ValueError(f"{path} holds no list of messages")
    for number, item in enumerate(messages, 1):
        if not isinstance(item, dict) or not {"message", "entry"} <= set(item):
            raise ValueError(f'{path}: message {number} has no "message" or "entry"')
        if item["entry"] not in headings:
            raise ValueError(
                f"{path}: message {number} names an entry that docs/troubleshooting.md "
                f"does not have: {item['entry']!r}"
            )
    return messages


def run(site, ids, messages):
    """Paste each message; one row per message (`ids`: each entry's anchor)."""
    from playwright.sync_api import sync_playwright

    _, url = serve(site)
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu"],
        )
        page = page_to_paste_into(browser, url)
        paste(page, "warm up")  # the index is loaded by the first search
        for item in messages:
            expected = f"{url}troubleshooting/#{ids[item['entry']]}"
            start = time.perf_counter()
            results = paste(page, item["message"])
            seconds = time.perf_counter() - start
            rank = results.index(expected) + 1 if expected in results else None
            rows.append(
                {
                    "entry": item["entry"],
                    "message": item["message"],
                    "found": expected in results[:3],
                    "rank": rank,
                    "top3": [r.removeprefix(url) for r in results[:3]],
                    "seconds": round(seconds, 3),
                }
            )
        browser.close()
    return rows


def summary(rows, label):
    found = sum(r["found"] for r in rows)
    median_ms = statistics.median(r["seconds"] for r in rows) * 1000
    return {
        "label": label,
        "messages": len(rows),
        "found_in_top3": found,
        "median_ms": round(median_ms),
    }


def markdown(result):
    s = result["summary"]
    lines = [
        f"{s['found_in_top3']} of {s['messages']} messages found their entry in the "
        f"first three results ({s['label']}); median time from the paste to the "
        f"results: {s['median_ms']} ms.",
        "",
        "| entry | rank | message |",
        "|---|---|---|",
    ]
    for r in result["rows"]:
        message = r["message"][:70].replace("|", "\\|")
        lines.append(f"| {r['entry'][:50]} | {r['rank'] or '-'} | `{message}` |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("site", help="a built site (mkdocs build -d DIR)")
    parser.add_argument("--messages", default=MESSAGES, help="the messages (JSON)")
    parser.add_argument("--label", default="this site", help="names the run")
    parser.add_argument("--out", help="write every row as JSON")
    parser.add_argument("--markdown", help="write the table as Markdown")
    args = parser.parse_args()
    if not (Path(args.site) / "troubleshooting" / "index.html").exists():
        parser.error(f"{args.site} is not a built site (no troubleshooting/index.html)")
    if shutil.which("chromium") is None:
        parser.error("it needs Debian's chromium (apt-get install chromium)")
    try:
        ids = troubleshooting_anchors(args.site)
    except AssertionError:
        parser.error(f"{args.site} was built from another docs/troubleshooting.md")
    try:
        messages = read_messages(args.messages, ids)
    except ValueError as error:
        parser.error(str(error))
    rows = run(args.site, ids, messages)
    result = {"summary": summary(rows, args.label), "rows": rows}
    for row in rows:
        if not row["found"]:
            print(f"not in the top 3: {row['entry']}\n  {row['message'][:100]}")
    print(json.dumps(result["summary"]))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    if args.markdown:
        Path(args.markdown).write_text(markdown(result))


if __name__ == "__main__":
    main()
