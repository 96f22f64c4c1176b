"""publish.py watch and serve: rebuild when the seeds, the config, the styles or the fonts change;
serve a preview of the EPUB's chapters and the PDF on 127.0.0.1 that reloads after each rebuild."""

from __future__ import annotations

import html
import json
import os
import shutil
import threading
import time
import zipfile
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

from .config import load_config
from .errors import BookError
from .fonts import FONTS_DIR
from .render import DEFAULT_STYLES

POLL_MS = 700


class Preview:
    """The latest build of a book: its version (one more per rebuild), its files, or its error."""

    def __init__(
        self, config_path: Path, formats: tuple[str, ...], log: Callable[[str], None], jobs: int | None = None
    ) -> None:
        self.config_path = config_path.resolve()
        self.formats = formats
        # The print PDF always in pieces, so that a rebuild lays out only the chapters that changed
        # (build/cache); one changed chapter is laid out in this process, more in `jobs` processes.
        self.jobs = jobs or os.cpu_count() or 1
        self.log = log
        self.version = 0
        self.error = ""
        self.chapters: list[tuple[str, str]] = []  # (file in the EPUB, title)
        self.folder = self.config_path.parent / "build" / "preview"
        self.pdf: Path | None = None
        self.fonts: list[str] = []  # the font files of the EPUB, which set the preview's headings
        self.page_count = 0
        self.lock = threading.Lock()

    def watched(self) -> list[Path]:
        """What a change to triggers a rebuild: the config, the seeds' folders, the styles and the fonts."""
        paths = {self.config_path, DEFAULT_STYLES, FONTS_DIR}
        try:
            config = load_config(self.config_path)
            paths |= {seed.parent for seed in config.seeds}
            if config.styles:
                paths.add(config.styles)
        except BookError:
            pass
        return sorted(p for p in paths if p.exists())

    def rebuild(self) -> None:
        """Build the book; on success publish its chapters, on failure keep the last good ones and the error."""
        from .build import build

        start = time.perf_counter()
        try:
            config = load_config(self.config_path)
            result = build(config, config.root / "dist", self.formats, jobs=self.jobs)
        except BookError as exc:
            with self.lock:
                self.error, self.version = str(exc), self.version + 1
            self.log(f"error: {exc}")
            return
        target = self.folder / str(self.version + 1)
        with zipfile.ZipFile(result.outputs["epub"]) as epub:
            epub.extractall(target)
        with self.lock:
            old = self.folder / str(self.version)
            self.chapters = [
                (f"EPUB/chapter-{n:03d}.xhtml", c.title) for n, c in enumerate(result.manuscript.chapters, start=1)
            ]
            # The book's own faces, as the EPUB embeds them, set the preview's headings too: a machine
            # without CJK fonts would show the chapters' titles as boxes.
            self.fonts = sorted(p.name for p in (target / "EPUB" / "fonts").glob("*") if p.is_file())
            self.pdf, self.error, self.version = result.outputs.get("pdf"), "", self.version + 1
            self.page_count = result.pages
        shutil.rmtree(old, ignore_errors=True)
        laid_out = (
            f", {result.laid_out} of {len(result.manuscript.chapters)} chapters laid out"
            if result.laid_out is not None
            else ""
        )
        self.log(f"rebuilt 《{result.manuscript.metadata.title}》 in {time.perf_counter() - start:.1f} s{laid_out}")

    def watch(self, stop: threading.Event) -> None:
        """Rebuild after every change until `stop` is set; errors are reported, never fatal."""
        import watchfiles

        for changes in watchfiles.watch(*self.watched(), stop_event=stop, debounce=300, ignore_permission_denied=True):
            if all("/build/" in path or "/dist/" in path for _, path in changes):
                continue  # our own outputs
            self.rebuild()

    def page_image(self, version: str, number: int) -> bytes | None:
        """Page `number` of the PDF as a PNG, rendered on first request (pdfium) and kept with its build."""
        cache = self.folder / version / "pages" / f"{number}.png"
        if not cache.is_file():
            if version != str(self.version) or not self.pdf or not 1 <= number <= self.page_count:
                return None
            import pypdfium2

            document = pypdfium2.PdfDocument(self.pdf)
            try:
                image = document[number - 1].render(scale=1.5).to_pil()
            finally:
                document.close()
            cache.parent.mkdir(parents=True, exist_ok=True)
            image.save(cache)
        return cache.read_bytes()

    def index(self) -> str:
        with self.lock:
            version, error, chapters, pdf = self.version, self.error, list(self.chapters), self.pdf
            fonts = list(self.fonts)
        faces = "".join(
            f'@font-face{{font-family:"Book {i}";src:url("/v{version}/EPUB/fonts/{html.escape(name)}")}}'
            for i, name in enumerate(fonts)
        )
        families = ",".join([*(f'"Book {i}"' for i in range(len(fonts))), "sans-serif"])
        pages = "".join(
            f'<img loading="lazy" alt="第{n}页" src="/v{version}/page/{n}.png">' for n in range(1, self.page_count + 1)
        )
        items = "\n".join(
            f'<section><h2>{html.escape(title)}</h2><iframe src="/v{version}/{name}" title="{html.escape(title)}">'
            f"</iframe></section>"
            for name, title in chapters
        )
        banner = f'<p class="error">{html.escape(error)}</p>' if error else ""
        pdf_link = f'<p><a href="/book.pdf?v={version}">PDF</a></p><div class="pages">{pages}</div>' if pdf else ""
        return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>预览</title>
<style>{faces}body{{font-family:{families};margin:1em}}iframe{{width:100%;height:70vh;border:1px solid #ccc}}
.error{{color:#b00;white-space:pre-wrap}}
.pages img{{height:300px;margin:4px;border:1px solid #ccc}}</style></head><body data-version="{version}">
{banner}{pdf_link}{items}
<script>
setInterval(async () => {{
  const r = await fetch("/version"); const v = (await r.json()).version;
  if (v != {version}) location.reload();
}}, {POLL_MS});
</script></body></html>"""


def handler_for(preview: Preview) -> type[BaseHTTPRequestHandler]:
    """A request handler serving the preview's files only: the index, /version, /vN/… and /book.pdf."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = unquote(urlparse(self.path).path)
            if path == "/":
                self._send(200, "text/html; charset=utf-8", preview.index().encode())
            elif path == "/version":
                body = json.dumps({"version": preview.version, "error": preview.error}).encode()
                self._send(200, "application/json", body)
            elif path == "/book.pdf" and preview.pdf and preview.pdf.is_file():
                self._send(200, "application/pdf", preview.pdf.read_bytes())
            elif path.startswith("/v") and "/page/" in path and path.endswith(".png"):
                version, _, number = path[2:-4].partition("/page/")
                image = preview.page_image(version, int(number)) if number.isdigit() else None
                if image:
                    self._send(200, "image/png", image)
                else:
                    self._send(404, "text/plain", b"not found")
            elif path.startswith("/v"):
                version, _, rest = path[2:].partition("/")
                root = (preview.folder / version).resolve()
                file = (root / rest).resolve()
                if version.isdigit() and file.is_relative_to(root) and file.is_file():
                    types = {
                        ".xhtml": "application/xhtml+xml",
                        ".css": "text/css",
                        ".otf": "font/otf",
                        ".png": "image/png",
                        ".jpg": "image/jpeg",
                    }
                    self._send(200, types.get(file.suffix, "application/octet-stream"), file.read_bytes())
                else:
                    self._send(404, "text/plain", b"not found")
            else:
                self._send(404, "text/plain", b"not found")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:  # quiet: the rebuilds are what the user reads
            return

    return Handler


def serve(preview: Preview, port: int, ready: Callable[[str], None]) -> None:
    """Build, then serve the preview on 127.0.0.1 and rebuild on changes until interrupted."""
    preview.rebuild()
    stop = threading.Event()
    watcher = threading.Thread(target=preview.watch, args=(stop,), daemon=True)
    watcher.start()
    server = ThreadingHTTPServer(("127.0.0.1", port), handler_for(preview))
    ready(f"http://127.0.0.1:{server.server_address[1]}/")
    try:
        server.serve_forever()
    finally:
        stop.set()
        server.server_close()
