"""The EPUB as a reader's engine shows it: a chapter opened in headless Chromium (Debian's), driven by
Playwright. The embedded font must load and set every glyph of the chapter; a screenshot goes to build/."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from book.build import BuildResult
from book.config import Config

from .helpers import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium")
# As root and offline: no sandbox, and none of Chromium's background connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian package chromium; `make test` installs it)")
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_chapter_is_set_in_the_embedded_fonts(browser, seed_book: tuple[Config, BuildResult], tmp_path: Path) -> None:
    with zipfile.ZipFile(seed_book[1].outputs["epub"]) as epub:
        epub.extractall(tmp_path)
    chapter = tmp_path / "EPUB" / "chapter-002.xhtml"
    page = browser.new_page(viewport={"width": 480, "height": 800})
    page.goto(chapter.as_uri())
    page.evaluate("document.fonts.ready.then(() => true)")
    loaded = page.evaluate("Array.from(document.fonts).filter(f => f.status === 'loaded').map(f => f.family)")
    assert {"Book Serif", "Book Sans"} <= {family.strip('"') for family in loaded}

    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    nodes = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": "h2, p"})["nodeIds"]
    assert len(nodes) == 7  # the heading and six paragraphs
    for node in nodes:
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        fallback = [f for f in fonts if not f["isCustomFont"]]
        assert fonts and not fallback, f"glyphs set in a fallback font: {fallback}"

    shots = ROOT / "build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "chapter-002.png"), full_page=True)
    assert (shots / "chapter-002.png").stat().st_size > 10_000
    page.close()


# A font configuration with no CJK font: DejaVu (Latin, Greek, Cyrillic) only, as on a reader or a
# machine without CJK fonts. Any character the book's embedded faces do not set shows as a box.
_NO_CJK_FONTS = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{cache}</cachedir></fontconfig>
"""


def test_every_character_of_every_document_is_drawn_by_an_embedded_face(browser, tmp_path: Path) -> None:
    """Every text node of every XHTML document (the copyright page's labels, strong and em, the
    contents, the notes) is set by the book's embedded faces in a browser with no CJK font at all:
    the heading face's subset held only the headings' characters, and the rest were boxes
    (issue #26, item 4). Chromium says which font set each node (CDP CSS.getPlatformFontsForNode)."""
    from book.build import build
    from book.config import load_config

    from .helpers import MARKDOWN, write_book

    extra = "authors: [{name: 王小明, role: 作者}]\npublisher: 测试出版社\nisbn: '9787020002207'\n"
    result = build(load_config(write_book(tmp_path / "book", {"book.md": MARKDOWN}, extra)), tmp_path / "dist")
    with zipfile.ZipFile(result.outputs["epub"]) as epub:
        epub.extractall(tmp_path / "epub")
    documents = sorted((tmp_path / "epub" / "EPUB").glob("*.xhtml"))
    config = tmp_path / "fonts.conf"
    config.write_text(_NO_CJK_FONTS.format(cache=tmp_path / "fc-cache"), encoding="utf-8")
    checked = 0
    # A second Chromium of the same driver (one Playwright per process), with the bare font configuration.
    environment = {"FONTCONFIG_FILE": str(config), "HOME": str(tmp_path)}
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=environment)
    page = chromium.new_page(viewport={"width": 480, "height": 800})
    for document in documents:
        page.goto(document.as_uri())
        page.evaluate("document.fonts.ready.then(() => true)")
        cdp = page.context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]
        for node_id, text in _elements_with_text(root):
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node_id})["fonts"]
            system = [f["familyName"] for f in fonts if not f["isCustomFont"]]
            assert not system, f"{document.name}: {text!r} set in {system}"
            checked += 1
        cdp.detach()
    chromium.close()
    assert checked > 30 and len(documents) >= 5


def _elements_with_text(node: dict) -> list[tuple[int, str]]:
    """(node id, text) of each element with a text node of its own that is not white space."""
    found = []
    for child in node.get("children", []):
        if (
            child["nodeType"] == 3
            and child["nodeValue"].strip()
            and node["nodeName"] not in ("STYLE", "SCRIPT", "TITLE")
        ):
            found.append((node["nodeId"], child["nodeValue"].strip()))
            break
    for child in node.get("children", []):
        if child["nodeType"] == 1:
            found += _elements_with_text(child)
    return found


def test_serve_previews_and_reloads_after_an_edit(browser, tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    from .helpers import run_publish

    assert run_publish("init", str(tmp_path / "book"), "-q").returncode == 0
    server = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "publish.py"),
            "serve",
            str(tmp_path / "book" / "book.yaml"),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url, log = "", []
        while not url.startswith("preview: "):
            url = server.stdout.readline()
            assert url or server.poll() is None, server.stderr.read()
            log.append(url)
        page = browser.new_page()
        page.goto(url.split()[1])
        frame = page.frame_locator("iframe").last
        assert "英文单词如" in frame.locator("body").inner_text()
        # The preview's own headings are set in the book's embedded faces, not the machine's.
        loaded = page.evaluate(
            "async () => { await document.fonts.ready; await document.fonts.load('16px \"Book 0\"', '第一章');"
            " return [...document.fonts].filter(f => f.status == 'loaded').map(f => f.family); }"
        )
        assert any("Book" in family for family in loaded), loaded
        assert "Book 0" in page.evaluate("getComputedStyle(document.querySelector('h2')).fontFamily")
        page.locator(".pages img").first.scroll_into_view_if_needed()
        page.wait_for_function("document.querySelector('.pages img').naturalWidth > 100")
        assert page.locator(".pages img").count() >= 4  # the PDF's pages, as images
        seed = tmp_path / "book" / "seeds" / "sample.txt"
        seed.write_text(seed.read_text(encoding="utf-8") + "\n编辑之后出现的新段落。\n", encoding="utf-8")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if "编辑之后出现的新段落" in page.frame_locator("iframe").last.locator("body").inner_text(timeout=2000):
                    break
            except Exception:  # the page reloads under our feet: try again
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the edit did not appear in the preview")
        page.close()
        # The log: the first build laid out every chapter; the rebuild after the edit, the edited
        # chapter only (the others came from build/cache).
        while sum("laid out" in line for line in log) < 2:
            log.append(server.stdout.readline())
            assert log[-1], server.stderr.read()
        builds = re.findall(r"(\d+) of (\d+) chapters laid out", "".join(log))
        assert builds[0][0] == builds[0][1] and builds[1][0] == "1", builds
    finally:
        server.terminate()
        server.wait(timeout=30)
