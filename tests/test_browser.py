"""The built site in a real browser: Chromium, driven by Playwright, over HTTP.

The site is served from 127.0.0.1 by a small static server that compresses text
with gzip, as static hosts do. Checked on every page: it loads with no console
error and no failed request or request to another host; axe-core finds no moderate,
serious or critical accessibility violation, light and dark; it transfers under 1 MB; a screenshot in light
and in dark is kept (build/screenshots/), and its figures (build/pages/*.json,
summed up at the end of the run). Every internal link and anchor of the built HTML
resolves. And what a
visitor does: search for `map_location`, paste every error message that
Troubleshooting quotes (as the visitor's own run prints it) into the search box,
open a folded whole script, switch linked tabs, and copy a code block whose text
then runs in an empty directory.

Debian's chromium is what runs it (`apt-get install chromium`; see README.md).
Without it these tests skip locally and fail on CI.
"""

import functools
import gzip
import http.server
import io
import json
import os
import re
import shutil
import threading
from html import unescape
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urldefrag, urlparse

import pytest
from project import NOTEBOOKS, ROOT, run_script

from pageformat import DOCS, SECTION_MARK, notebook_page, page_url, pages

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "build"
pytestmark = [
    pytest.mark.browser,
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


def serve(site):
    """Serve a built site on a free port, in a thread, as a host does (gzip): the
    server and its address."""
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(site))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_port}/"


@pytest.fixture(scope="module")
def server(site):
    httpd, url = serve(site)
    yield url
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


def page_urls():
    """Every page of the site, as its path below the site's root."""
    urls = [page_url(page) for page in pages()]
    return urls + [notebook_page(n)[1] for n in NOTEBOOKS]


PAGE_URLS = page_urls()


def visit(browser, url, screenshot, color_scheme=None):
    """Load `url` in a fresh browser context (in `color_scheme`, "dark" or the
    default light): what it requested, failed and logged, what it transferred
    (everything it loads, cache empty) and that once uncompressed, and axe-core's
    violations. A full-page screenshot is kept in `screenshot`."""
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, color_scheme=color_scheme
    )
    page = context.new_page()
    seen = SimpleNamespace(requests=[], failed=[], errors=[])
    sizes, responses = [], []
    page.on("request", lambda r: seen.requests.append(r.url))
    page.on("requestfailed", lambda r: seen.failed.append(f"{r.url} ({r.failure})"))
    page.on("console", lambda m: m.type == "error" and seen.errors.append(m.text))
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    page.on("requestfinished", lambda r: sizes.append(r.sizes()))
    page.on("response", lambda r: responses.append(r))
    page.goto(url, wait_until="networkidle")
    if color_scheme == "dark":
        page.wait_for_function("document.body.dataset.mdColorScheme === 'slate'")
    seen.transferred = sum(
        s["responseBodySize"] + s["responseHeadersSize"] for s in sizes
    )
    seen.loaded = len(sizes)
    seen.decoded = sum(len(r.body()) for r in responses if r.status == 200)
    seen.violations = Axe().run(page).response["violations"]
    # JPEG: a long page's full-page PNG took 2.5 times as long to encode
    page.screenshot(path=screenshot, full_page=True, type="jpeg", quality=80)
    context.close()
    return seen


@pytest.mark.parametrize("path", PAGE_URLS, ids=lambda p: "/" + p)
def test_page_in_the_browser(path, server, browser):
    """The page loads with no console error, no failed request and none to another
    host; axe-core finds no moderate, serious or critical violation (light and
    dark); it transfers under 1 MB, and is under 1 MB once uncompressed. Its
    screenshots (light, dark) and figures are kept in build/."""
    name = (path.strip("/") or "index").replace("/", "-")
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    light = visit(browser, server + path, shots / f"{name}-light.jpg")
    dark = visit(browser, server + path, shots / f"{name}-dark.jpg", "dark")
    violations = light.violations + dark.violations

    figures = {  # what a first visit transfers: the page and all it loads
        "path": "/" + path,
        "transferred": light.transferred,
        "decoded": light.decoded,  # the same bytes once uncompressed
        "requests": light.loaded,
        "axe": {v["id"]: [v["impact"], len(v["nodes"])] for v in violations},
    }
    (ARTIFACTS / "pages").mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "pages" / f"{name}.json").write_text(json.dumps(figures, indent=1))

    problems = [
        f"request to another host: {u}"
        for u in light.requests + dark.requests
        if not u.startswith(server)
    ]
    problems += [f"failed request: {u}" for u in light.failed + dark.failed]
    problems += [f"console error: {e}" for e in light.errors + dark.errors]
    problems += [
        f"axe: {v['id']} ({v['impact']}, {len(v['nodes'])} elements): {v['help']}"
        for v in violations
        if v["impact"] in ("moderate", "serious", "critical")
    ]
    if light.transferred >= LIMIT:
        problems.append(f"transfers {light.transferred:,} bytes, over {LIMIT:,}")
    if light.decoded >= LIMIT:
        problems.append(f"is {light.decoded:,} bytes uncompressed, over {LIMIT:,}")
    assert not problems, f"/{path}:\n" + "\n".join(problems)


ID = re.compile(r'\sid="([^"]+)"')
HREF = re.compile(r'<a\s[^>]*?href="([^"]+)"')


def test_every_internal_link_and_anchor_resolves(site):
    """In the built HTML: every link to the site reaches a file, every #anchor an id."""
    site = Path(site)
    # 404.html is served at any address, so its links are absolute: left out.
    htmls = {h: h.read_text() for h in site.rglob("*.html") if h.name != "404.html"}
    ids = {h: set(ID.findall(text)) for h, text in htmls.items()}
    broken = []
    for html, text in htmls.items():
        for href in HREF.findall(text):
            href = unescape(href)
            if urlparse(href).scheme or href.startswith(("mailto:", "javascript:")):
                continue
            url, fragment = urldefrag(href)
            target = (html.parent / unquote(url)).resolve() if url else html
            if target.is_dir():
                target = target / "index.html"
            where = f"/{html.relative_to(site).parent.as_posix()}/: {href}"
            if not target.exists():
                broken.append(f"{where}: not found")
            elif fragment and target.suffix == ".html":
                if unquote(fragment) not in ids[target]:
                    broken.append(f"{where}: no element with id {fragment!r}")
    assert not broken, "\n".join(broken)


def open_page(browser, server, path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    context.add_init_script(COUNT_ANSWERS)
    page = context.new_page()
    page.goto(server + path, wait_until="networkidle")
    return page


def search(page, text):
    """Type `text` into the site's search box; each result's links, best first.

    A result is a page: its first link goes to the page, the next ones to its
    sections, the best match first.
    """
    box = page.locator("input.md-search__input")
    box.click()
    box.press_sequentially(text)  # typed, as a visitor types or pastes
    # Material searches at each key: read the results of the whole text, once the
    # worker has answered every query it was asked.
    page.wait_for_function(
        "window.searchesAsked > 0 && window.searchesAnswered === window.searchesAsked"
    )
    page.wait_for_selector(".md-search-result__item")
    return page.eval_on_selector_all(
        ".md-search-result__item",
        "items => items.map(i => [...i.querySelectorAll('a')].map(a => a.href))",
    )


def test_search_finds_the_gpu_page_and_a_pasted_error(browser, server):
    page = open_page(browser, server, "")
    results = search(page, "map_location")
    assert any("/devices/" in links[0] for links in results[:3]), results[:3]

    page = open_page(browser, server, "")
    message = (
        "Attempting to deserialize object on a CUDA device but "
        "torch.cuda.is_available() is False"
    )
    (page_link, best_section, *_), *_ = search(page, message)
    assert "/troubleshooting/" in page_link
    assert best_section.endswith("#attempting-to-deserialize-object-on-a-cuda-device")
    # Following the result lands on the entry: its heading on screen, and marked.
    page.locator(f'.md-search-result__link[href="{best_section}"]').click()
    heading = page.locator("h2#attempting-to-deserialize-object-on-a-cuda-device")
    page.wait_for_url("**#attempting-to-deserialize-object-on-a-cuda-device")
    top = heading.evaluate("h => h.getBoundingClientRect().top")
    assert 0 <= top < 300, f"the entry's heading is {top}px from the top"
    assert heading.evaluate("h => getComputedStyle(h).borderLeftStyle") == "solid"
    page.context.close()


# Questions as a visitor types them, and the page that answers each.
TYPED_QUESTIONS = {
    "load gpu model on cpu": "/devices/",
    "save optimizer state": "/checkpoints/",
    "resume training": "/checkpoints/",
    "why is my checkpoint so big": "/checkpoint-size/",
    "is it safe to load a downloaded checkpoint": "/safety/",
    "what is in this checkpoint file": "/inspect/",
    # and questions that no page title mirrors
    "convert pytorch_model.bin to safetensors": "/hugging-face/",
    "load a model without its class": "/why-the-class/",
    "move a checkpoint from gpu to cpu": "/devices/",
    "save a lora adapter": "/peft/",
    "deepspeed checkpoint to one file": "/deepspeed/",
    "resume the trainer from a checkpoint": "/trainer/",
    "save the best model": "/checkpoints/",
    "torch.load weights_only": "/safety/",
    "save model": "/save/",
}


def test_typed_questions_find_their_page(browser, server):
    page = open_page(browser, server, "")
    missed = []
    for question, expected in TYPED_QUESTIONS.items():
        page.locator("input.md-search__input").fill("")
        results = search(page, question)
        top = [links[0] for links in results[:3]]
        if not any(expected in link for link in top):
            missed.append(f"{question!r}: expected {expected} in the top 3, got {top}")
    page.context.close()
    assert not missed, "\n".join(missed)


# What the search sends the worker for a query: javascripts/search.js's plainWords.
REWRITTEN = {
    "": "",
    "to": "to",  # the start of "torch": a stop word still typed is a prefix
    "torch 2.6": "torch^4 2.6^4 2.6",  # a typed version is kept
    "doesn't load": "doesn^4 load^4 load",  # the "t" after an apostrophe is no word
    "café": "café^4 café",
    'Missing key(s) in state_dict: "fc1.weight", "fc1.bias".': (
        "text:Missing^1 text:key^1 text:state_dict^1 text:fc1^1"
    ),
    # in a message, numbers are the visitor's own
    "RuntimeError: expected size 1024 but got 512": (
        "text:RuntimeError^1 text:expected^1 text:size^1"
    ),
}


def test_search_rewrites_each_query(browser, server):
    page = open_page(browser, server, "")
    got = {q: page.evaluate("q => window.searchPlainWords(q)", q) for q in REWRITTEN}
    page.context.close()
    assert got == REWRITTEN


def test_switching_a_tab_switches_the_linked_tabs(browser, server):
    page = open_page(browser, server, "keras/")
    sets = page.locator(".tabbed-set")
    assert sets.count() >= 2, "the page needs two tab sets with the same labels"
    sets.first.locator(".tabbed-labels label", has_text="Keras").click()
    chosen = page.eval_on_selector_all(
        ".tabbed-set",
        """sets => sets.map(set => {
            const input = set.querySelector(':scope > input:checked');
            return set.querySelector(`label[for="${input.id}"]`).textContent.trim();
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
    block.locator('button[data-md-type="copy"]').click()
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
    code = [  # the script as the page shows it: without its section marks
        line
        for line in (ROOT / script).read_text().splitlines()
        if not SECTION_MARK.search(line)
    ]
    assert text.rstrip("\n") == "\n".join(code)
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


# Pasting an error message into the search box. Each Troubleshooting entry quotes a
# message; a visitor's own run prints it with other names, shapes and paths. REWRITES
# turn the quoted message into such a run's (applied in order, each where it matches).
REWRITES = [
    # the visitor's classes, not the examples'
    (r"\bMyModel\w*", "ResNet"),
    (r"\bPlainGPT2\b", "LlamaForCausalLM"),
    # their layers: other key names, in quotes or not
    (r"\bfc1\b", "encoder.layers.0"),
    (r"\bfc2\b", "classifier"),
    (r"\bfc3\b", "head.proj"),
    # their shapes and counts
    (r"torch\.Size\(\[([\d, ]*)\]\)", lambda m: f"torch.Size([{bigger(m[1])}])"),
    (r"\b(tensor [ab]) \((\d+)\)", lambda m: f"{m[1]} ({int(m[2]) * 16})"),
    (r"\bgot 10 instead\b", "got 37 instead"),
    (
        r"\bversion (\d+), but the maximum supported version for reading is (\d+)",
        lambda m: (
            f"version {int(m[1]) + 2}, but the maximum supported version for reading is {int(m[2]) + 2}"
        ),
    ),
    (r"\bdata/1\b", "data/57"),
    (r"\bdevice cpu!", "device cuda:0!"),
    # their files and folders
    (r"\b(my-gpt2|tiny-gpt2)\b", "/home/you/runs/llama-7b"),
    (r"\bmodel-00002-of-00003\b", "model-00004-of-00008"),
    (r"'models'", "'utils'"),
    (
        r"<module '__main__' \(built-in\)>",
        "<module '__main__' from '/home/you/predict.py'>",
    ),
]
LABEL = re.compile(
    r"^[\w.=, -]+: (?=\w+(?:Error|Exception|Warning)\b)"
)  # "strict=True: "


def bigger(numbers):
    return ", ".join(str(int(n) * 2 + 1) for n in numbers.split(", ") if n)


def as_printed(message):
    """The message as the visitor's own run prints it."""
    for pattern, replacement in REWRITES:
        message = re.sub(pattern, replacement, message)
    return message


def quoted_messages():
    """Each Troubleshooting entry's heading, and the messages a visitor pastes from
    its first quoted output (and from the blocks that quote the same script on other
    Pythons): the whole message (its first line and the indented lines
    under it, as one line), its last line alone when it has several, and the block's
    last exception line (a traceback's last line) when that is another."""
    text = (DOCS / "troubleshooting.md").read_text()
    entries = []
    for entry in re.split(r"\n(?=## )", text)[1:]:
        quoted = OUTPUT.findall(entry)
        if not quoted:
            continue
        first_script, _, first = quoted[0]
        pastes = message_pastes(first.splitlines())
        for script, python, block in quoted[1:]:
            if script == first_script and python:  # what another Python prints
                pastes += message_pastes(block.splitlines())
        if pastes:
            entries.append((entry.splitlines()[0][3:], [as_printed(p) for p in pastes]))
    return entries


# A quoted output: its script, the Pythons its title names (if any), its text.
OUTPUT = re.compile(
    r'```text title="Output of (\S+?)(?: on PyTorch [^",]+)?(?:(?:,| on) Python ([^"]+))?"'
    r"\n(.*?)\n```",
    re.S,
)


def message_pastes(lines):
    """What a visitor pastes from one quoted output (see quoted_messages); none
    when it is not a message (what a script printed)."""
    if not MESSAGE.search(lines[0]):
        return []
    message = [LABEL.sub("", lines[0])]
    for line in lines[1:5]:  # the indented lines right under it
        if line == "...":  # lines the page leaves out: the message goes on
            continue
        if not line.startswith("\t"):
            break
        message.append(line.strip())
    pastes = [" ".join(message)] + ([message[-1]] if len(message) > 1 else [])
    # the last line of a traceback, when the block quotes one
    last = [LABEL.sub("", line) for line in lines if EXCEPTION.match(line.strip())]
    if last and last[-1] not in message:
        pastes.append(last[-1])
    return pastes


# Pastes that do not yet find their entry in the first three: (heading, which paste,
# counted from 0 in the order quoted_messages gives them). A paste not listed here that
# misses fails the test.
KNOWN_MISSES = {
    # the last line alone: the keys it lists are the visitor's, and the words left
    # ("Unexpected key(s) in state_dict") begin several entries' messages; the whole
    # message, with its Missing line, finds the entry
    ('Error(s) in loading state_dict for Sequential: Missing key(s): "0.weight"', 1),
}
# Entries whose message is word for word another's, whichever library loaded the
# file: a paste that finds either has found its answer (each links to the other).
SAME_MESSAGE = {
    "size mismatch for fc.weight: timm's load_checkpoint into a model with another head": (
        "size mismatch for fc.weight: a torchvision model with a new head"
    ),
}
EXCEPTION = re.compile(r"^(?:[\w.=, -]+: )?\w+(?:Error|Exception): ")
MESSAGE = re.compile(r"\w(Error|Exception|Warning|Keys)\b")
H2 = re.compile(r'<h2 id="([^"]+)">')


def paste(page, text):
    """Paste `text` into the search box (Ctrl+V, as a visitor does); each result's
    links, as `ranked` orders them."""
    box = page.locator("input.md-search__input")
    box.fill("")
    box.press("End")  # an empty search clears the last results, so none is read twice
    page.wait_for_function(
        """() => !document.querySelector('.md-search-result__item')
            && !/No matching/.test(document.querySelector('.md-search-result__meta').textContent)"""
    )
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    before = page.evaluate("window.searchesAnswered")
    box.press("Control+v")
    page.wait_for_function(f"window.searchesAnswered > {before}")
    page.wait_for_function(
        """() => document.querySelector('.md-search-result__item')
            || /No matching/.test(document.querySelector('.md-search-result__meta').textContent)"""
    )
    return ranked(page.eval_on_selector_all(".md-search-result__item", LINKS))


LINKS = "items => items.map(i => [...i.querySelectorAll('a')].map(a => a.href))"
COUNT_ANSWERS = """
window.searchesAnswered = 0;
window.searchesAsked = 0;
const post = Worker.prototype.postMessage;
Worker.prototype.postMessage = function (...args) {
  if (args[0] && args[0].type === 2) window.searchesAsked++;
  if (!this.counted) {
    this.counted = true;
    this.addEventListener("message", e => e.data.type === 3 && window.searchesAnswered++);
  }
  return post.apply(this, args);
};
"""


def ranked(items):
    """The results in the order shown, one per section (a page's own link only when
    none of its sections matched), as paths below the site, without ?h=."""
    links = []
    for page_link, *sections in items:
        links += sections or [page_link]
    return [re.sub(r"\?h=[^#]*", "", link) for link in links]


def troubleshooting_anchors(site):
    """Each heading of docs/troubleshooting.md, and its id on the built page."""
    ids = H2.findall((Path(site) / "troubleshooting" / "index.html").read_text())
    headings = re.findall(r"^## (.*)$", (DOCS / "troubleshooting.md").read_text(), re.M)
    assert len(ids) == len(headings), "the built page's h2s do not match the headings"
    return dict(zip(headings, ids, strict=True))


def page_to_paste_into(browser, server):
    """The home page, its clipboard allowed, its search box focused, the search
    worker's answers counted (see paste)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    context.add_init_script(COUNT_ANSWERS)
    page = context.new_page()
    page.goto(server, wait_until="networkidle")
    page.locator("input.md-search__input").click()
    return page


def test_a_pasted_message_finds_its_entry(browser, server, site):
    """Every message Troubleshooting quotes, as the visitor's own run prints it,
    pasted whole into the search box: its entry is among the first three results."""
    anchors = troubleshooting_anchors(site)
    page = page_to_paste_into(browser, server)
    failures, known = [], []
    for heading, pastes in quoted_messages():
        expected = f"{server}troubleshooting/#{anchors[heading]}"
        same = SAME_MESSAGE.get(heading)
        also = f"{server}troubleshooting/#{anchors[same]}" if same else expected
        for which, text in enumerate(pastes):
            results = paste(page, text)
            found = expected in results[:3] or also in results[:3]
            if (heading, which) in KNOWN_MISSES:
                known.append(((heading, which), found))
            elif not found:
                got = (
                    "\n    ".join(r.removeprefix(server) for r in results[:3])
                    or "nothing"
                )
                failures.append(
                    f"pasted: {text}\n  got:\n    {got}\n"
                    f"  expected: {expected.removeprefix(server)}"
                )
    page.context.close()
    assert not failures, f"{len(failures)} pasted messages:\n" + "\n".join(failures)
    # a known miss that now finds its entry, or that no longer exists, is taken out
    assert sorted(key for key, found in known if not found) == sorted(KNOWN_MISSES)


def test_a_folded_whole_script_loads_when_opened(browser, server):
    """On Troubleshooting, a whole script is fetched when its block is opened, with
    its copy button, and the clipboard then holds the script."""
    page = open_page(browser, server, "troubleshooting/")
    details = page.locator("details[data-script]").first
    assert details.locator("pre").count() == 0, "the script came with the page"
    script = details.locator("summary").inner_text().split(": ", 1)[1].strip()
    details.locator("summary").click()
    block = details.locator(".highlight")
    block.wait_for()
    code = [
        line
        for line in (ROOT / script).read_text().splitlines()
        if not SECTION_MARK.search(line)
    ]
    assert copied(page, block).rstrip("\n") == "\n".join(code)
    page.context.close()
