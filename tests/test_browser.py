"""The built site in a real browser: Chromium, driven by Playwright, over HTTP.

The site is served from 127.0.0.1 by a small static server that compresses text
with gzip, as static hosts do. Checked on every page: it loads with no console
error and no failed request or request to another host; axe-core finds no serious
or critical accessibility violation; every internal link and anchor resolves; a
screenshot in light and in dark is kept (build/screenshots/); its transferred
bytes are reported (build/page-weight.json), the heaviest under 1 MB. And what a
visitor does: search for `map_location` and for a pasted error message, switch
linked tabs, and copy a code block whose text then runs in an empty directory.

Debian's chromium is what runs it (`apt-get install chromium`; see README.md).
Without it these tests skip locally and fail on CI.
"""

import functools
import gzip
import http.server
import io
import json
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest
from project import ROOT, run_script

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "build"
pytestmark = [
    pytest.mark.xdist_group("site"),
    pytest.mark.skipif(
        not CHROMIUM and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (apt-get install chromium)",
    ),
]
LIMIT = 1_000_000  # bytes a page may transfer, everything it loads included
COMPRESSED = (".html", ".css", ".js", ".json", ".svg", ".xml", ".py", ".md", ".txt")


class Handler(http.server.SimpleHTTPRequestHandler):
    """Static files, gzip-compressed for clients that accept it."""

    def log_message(self, *args):
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not self.path.split("?")[0].endswith("/"):
                return super().send_head()  # redirects /page to /page/
            path = path / "index.html"
        gzip_ok = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (gzip_ok and path.suffix in COMPRESSED and path.is_file()):
            return super().send_head()
        body = gzip.compress(path.read_bytes())
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


@pytest.fixture(scope="module")
def server(site):
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(site))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        pytest.fail("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def site_pages(site):
    """Every page of the built site, as a path below the site's root."""
    pages = []
    for html in sorted(Path(site).rglob("index.html")):
        path = html.parent.relative_to(site).as_posix()
        pages.append("" if path == "." else path + "/")
    return pages


@pytest.fixture(scope="module")
def visits(site, server, browser):
    """Each page visited once in a fresh context: requests, errors and sizes."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    shots = ARTIFACTS / "screenshots"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    results = {}
    for path in site_pages(site):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        record = {"requests": [], "failed": [], "errors": [], "bytes": 0, "decoded": 0}
        page.on("request", lambda r, rec=record: rec["requests"].append(r.url))
        page.on(
            "requestfailed",
            lambda r, rec=record: rec["failed"].append(f"{r.url} ({r.failure})"),
        )
        page.on(
            "console",
            lambda m, rec=record: m.type == "error" and rec["errors"].append(m.text),
        )
        page.on("pageerror", lambda e, rec=record: rec["errors"].append(str(e)))

        def finished(request, rec=record):
            sizes = request.sizes()
            rec["bytes"] += sizes["responseBodySize"] + sizes["responseHeadersSize"]
            response = request.response()
            if response is not None:
                try:
                    rec["decoded"] += len(response.body())
                except Exception:  # a redirect has no body
                    pass

        page.on("requestfinished", finished)
        page.goto(server + path, wait_until="networkidle")
        record["links"] = page.eval_on_selector_all(
            "a[href]", "els => els.map(e => e.href)"
        )
        record["ids"] = page.eval_on_selector_all("[id]", "els => els.map(e => e.id)")
        violations = axe.run(page).response["violations"]
        record["axe"] = [
            {"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"])}
            for v in violations
        ]
        name = (path.strip("/") or "index").replace("/", "-")
        page.screenshot(path=shots / f"{name}-light.png", full_page=True)
        page.emulate_media(color_scheme="dark")
        page.evaluate("localStorage.clear()")
        page.reload(wait_until="networkidle")
        page.screenshot(path=shots / f"{name}-dark.png", full_page=True)
        context.close()
        results[path] = record
    weights = {
        p: {"transferred": r["bytes"], "decoded": r["decoded"]}
        for p, r in results.items()
    }
    (ARTIFACTS / "page-weight.json").write_text(json.dumps(weights, indent=2) + "\n")
    return results


def test_every_page_loads_with_no_error_and_no_outside_request(visits, server):
    assert len(visits) >= 20
    problems = []
    for path, record in visits.items():
        outside = [u for u in record["requests"] if not u.startswith(server)]
        problems += [f"/{path}: request to another host: {u}" for u in outside]
        problems += [f"/{path}: failed request: {u}" for u in record["failed"]]
        problems += [f"/{path}: console error: {e}" for e in record["errors"]]
    assert not problems, "\n".join(problems)


def test_no_serious_or_critical_accessibility_violation(visits):
    found = [
        f"/{path}: {v['id']} ({v['impact']}, {v['nodes']} elements)"
        for path, record in visits.items()
        for v in record["axe"]
        if v["impact"] in ("serious", "critical")
    ]
    counts = {}
    for record in visits.values():
        for v in record["axe"]:
            counts[v["impact"]] = counts.get(v["impact"], 0) + v["nodes"]
    print("axe violations by impact (elements):", counts)
    assert not found, "\n".join(found)


def test_every_internal_link_and_anchor_resolves(visits, server, site):
    pages = {server + path: record for path, record in visits.items()}
    broken = []
    for path, record in visits.items():
        for href in record["links"]:
            url, fragment = urldefrag(href)
            if not url.startswith(server):
                continue
            if url in pages:
                if fragment and unquote(fragment) not in pages[url]["ids"]:
                    broken.append(f"/{path}: {href}: no element with id {fragment!r}")
            elif not (Path(site) / unquote(urlparse(url).path).lstrip("/")).exists():
                broken.append(f"/{path}: {href}: not found")
    assert not broken, "\n".join(broken)


def test_the_heaviest_page_transfers_under_1_mb(visits):
    weights = sorted((r["bytes"], p) for p, r in visits.items())
    for size, path in weights:
        print(f"{size:>9,} bytes  /{path}")
    heaviest, path = weights[-1]
    assert heaviest < LIMIT, f"/{path} transfers {heaviest:,} bytes"


def open_page(browser, server, path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page = context.new_page()
    page.goto(server + path, wait_until="networkidle")
    return page


def search(page, text):
    """Type `text` into the site's search box; the result links, best first."""
    page.keyboard.press("/")  # Material's shortcut to the search box
    box = page.locator("input.md-search__input")
    box.fill(text)
    page.wait_for_selector(".md-search-result__item")
    return page.eval_on_selector_all(
        ".md-search-result__item a", "els => els.map(e => e.getAttribute('href'))"
    )


def test_search_finds_the_gpu_page_and_a_pasted_error(browser, server):
    page = open_page(browser, server, "")
    links = search(page, "map_location")
    assert any(link.startswith("devices/") for link in links[:5]), links[:5]

    page = open_page(browser, server, "")
    message = (
        "Attempting to deserialize object on a CUDA device but "
        "torch.cuda.is_available() is False"
    )
    links = search(page, message)
    assert "#attempting-to-deserialize-object-on-a-cuda-device" in links[0], links[:5]
    page.context.close()


def test_switching_a_tab_switches_the_linked_tabs(browser, server):
    page = open_page(browser, server, "keras/")
    sets = page.locator(".tabbed-set")
    assert sets.count() >= 2, "the page needs two tab sets with the same labels"
    sets.first.locator("label", has_text="Keras").click()
    chosen = page.eval_on_selector_all(
        ".tabbed-set",
        """sets => sets.map(set => {
            const input = set.querySelector(':scope > input:checked');
            return set.querySelector(`label[for="${input.id}"]`).innerText.trim();
        })""",
    )
    assert chosen == ["Keras"] * len(chosen), chosen
    page.context.close()


def copied(page, block):
    """Click a code block's copy button; what the clipboard then holds."""
    details = block.locator("xpath=ancestor::details")
    if details.count():
        details.first.evaluate("d => d.open = true")
    block.hover()
    block.locator("button.md-clipboard").click()
    return page.evaluate("navigator.clipboard.readText()")


@pytest.mark.parametrize(
    ("path", "script"),
    [
        ("", "examples/quickstart/save_and_load.py"),
        ("save/", "examples/save/state_dict.py"),
    ],
)
def test_copy_button_copies_the_example_and_it_runs(
    browser, server, tmp_path, path, script
):
    page = open_page(browser, server, path)
    block = page.locator(
        ".highlight", has=page.locator(f'span.filename:text-is("{script}")')
    )
    text = copied(page, block.first)
    assert text.rstrip("\n") == (ROOT / script).read_text().rstrip("\n")
    pasted = tmp_path / "pasted.py"
    pasted.write_text(text)
    run = run_script(pasted, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    page.context.close()


def test_copy_button_of_an_inline_block_copies_code_that_runs(
    browser, server, tmp_path
):
    page = open_page(browser, server, "checkpoint-size/")
    block = page.locator(".md-content .highlight:not(:has(span.filename))").first
    text = copied(page, block)
    assert "torch.save" in text
    (tmp_path / "pasted.py").write_text(text)
    run = run_script(tmp_path / "pasted.py", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    page.context.close()
