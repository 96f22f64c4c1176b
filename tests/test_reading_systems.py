"""The EPUB in a real reading-system engine: epub.js (npm `epubjs`, the engine of many web and
hybrid readers) in headless Chromium, driven by Playwright. A horizontal book and a vertical zh-TW
book are opened from their .epub files; every spine item is displayed; the contents navigate; the
pages show text set in the book's own embedded faces; no console error. Screenshots of each
displayed item go to build/test-artefacts/reading-systems/."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from book.build import build
from book.config import load_config

from .helpers import ROOT, write_book
from .test_reading import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NODE_MODULES = ROOT / "build" / "node" / "node_modules"
ENGINE = (NODE_MODULES / "jszip" / "dist" / "jszip.min.js", NODE_MODULES / "epubjs" / "dist" / "epub.min.js")
ARTEFACTS = ROOT / "build" / "test-artefacts" / "reading-systems"

READER = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><script src="jszip.min.js"></script><script src="epub.min.js"></script>
<style>body { margin: 0 } #area { width: 600px; height: 800px }</style></head>
<body><div id="area"></div></body></html>
"""

# Run in the page: open the book (spine and contents), show one item and say what it shows.
OPEN = """async (name) => {
  window.book = ePub(name);
  window.rendition = book.renderTo("area", {width: 600, height: 800, spread: "none", flow: "paginated"});
  await book.ready;
  const navigation = await book.loaded.navigation;
  return {spine: book.spine.spineItems.map(s => s.href), toc: navigation.toc.map(e => e.href)};
}"""
SHOW = """async (href) => {
  await rendition.display(href);
  const doc = rendition.getContents()[0].document;
  await doc.fonts.ready;
  const first = doc.querySelector("p, h1, h2") || doc.body;
  return {
    href: rendition.currentLocation().start.href,
    text: doc.body.innerText.replace(/\\s+/g, "").length,
    loaded: Array.from(doc.fonts).filter(f => f.status === "loaded").map(f => f.family.replace(/"/g, "")),
    family: doc.defaultView.getComputedStyle(first).fontFamily,
    writingMode: doc.defaultView.getComputedStyle(doc.body).writingMode,
    images: Array.from(doc.querySelectorAll("img, image")).filter(i => (i.naturalWidth || 1) > 0).length,
  };
}"""


@pytest.fixture(scope="module")
def engine() -> tuple[Path, Path]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian package chromium; `make test` installs it)")
    missing = [path for path in ENGINE if not path.is_file()]
    if missing:
        pytest.skip(f"epub.js is not installed ({missing[0]}; `make test` installs it with npm)")
    return ENGINE


@pytest.fixture(scope="module")
def page(engine: tuple[Path, Path]) -> Iterator[object]:
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def served(tmp_path: Path, engine: tuple[Path, Path]) -> Iterator[tuple[str, Path]]:
    """A folder served on localhost with the reader page and epub.js: (its URL, the folder)."""
    folder = tmp_path / "www"
    folder.mkdir()
    for path in engine:
        shutil.copy(path, folder / path.name)
    (folder / "index.html").write_text(READER, encoding="utf-8")
    (folder / "favicon.ico").write_bytes(b"")  # what a browser asks every site for
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/", folder
    server.shutdown()
    server.server_close()
    thread.join()  # no thread left behind: later tests fork


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("name", "extra"),
    [("horizontal", ""), ("vertical", "language: zh-TW\nconvert: s2tw\nepub: {writing_mode: vertical-rl}\n")],
)
def test_epub_js_reads_every_chapter_in_the_book_s_own_faces(
    page, served: tuple[str, Path], tmp_path: Path, name: str, extra: str
) -> None:
    url, folder = served
    seed = (ROOT / "seeds").glob("*.txt").__next__()
    config = load_config(write_book(tmp_path / name, {seed.name: seed.read_bytes()}, extra))
    epub = build(config, tmp_path / name / "dist", ("epub",)).outputs["epub"]
    shutil.copy(epub, folder / "book.epub")

    tab = page.new_page(viewport={"width": 600, "height": 800})
    errors: list[str] = []
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("response", lambda response: errors.append(response.url) if response.status >= 400 else None)
    tab.goto(url)
    book = tab.evaluate(OPEN, "book.epub")
    shots = ARTEFACTS / name
    shots.mkdir(parents=True, exist_ok=True)
    items = []
    for number, href in enumerate(book["spine"], start=1):
        items.append(tab.evaluate(SHOW, href))
        tab.screenshot(path=str(shots / f"{number:02d}-{Path(href).stem}.png"))
    reached = [(entry.split("#")[0], tab.evaluate(SHOW, entry)["href"]) for entry in book["toc"]]
    tab.close()

    assert errors == [], errors
    assert len(items) >= 5 and all(item["text"] > 0 or item["images"] for item in items), items  # the cover: an image
    expected = "vertical-rl" if name == "vertical" else "horizontal-tb"
    for item in (item for item in items if item["text"]):
        assert {"Book Serif", "Book Sans"} & set(item["loaded"]), item  # the embedded faces loaded
        assert item["family"].split(",")[0].strip("\"' ") in ("Book Serif", "Book Sans"), item
        assert item["writingMode"] == expected, item
    assert len(book["toc"]) >= 4
    assert all(start.endswith(entry) or entry.endswith(start) for entry, start in reached), reached
    assert len(list(shots.glob("*.png"))) == len(items)
