"""The print PDF in pieces (#7): chapters laid out in parallel processes and assembled give the pages
of a single-pass render; the cache reuses unchanged chapters and drops what a change affects."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pikepdf
import pytest

from book.build import build
from book.config import load_config
from book.errors import RenderError
from book.fonts import DEFAULT_FACES
from book.model import PdfProfile
from book.pieces import PieceCache, file_digest, fingerprint
from book.printing import LayOut, PrintJob

from .helpers import assert_epubcheck_clean, tool, write_book

NUMERALS = "一二三四五六七八九十"


def _twelve_chapters() -> dict[str, str]:
    """Twelve seeds, one chapter each (split: seeds), of different lengths (some end on a recto,
    some on a verso); the fifth has a section heading (a second-level bookmark)."""
    seeds = {}
    for number in range(1, 13):
        name = NUMERALS[number - 1] if number <= 10 else "十" + NUMERALS[number - 11]
        sentence = f"这是第{name}章的第{{}}段，讲述一段往事，天色已晚，众人各自散去。"
        paragraphs = [sentence.format(k) * (3 + number % 4) for k in range(1, 4 + (number * 7) % 11)]
        if number == 5:
            paragraphs.insert(2, "## 小节标题")
        seeds[f"{number:02d}.md"] = f"# 第{name}章 往事之{name}\n\n" + "\n\n".join(paragraphs) + "\n"
    return seeds


BOOK = "split: seeds\ntitle: 十二章\nauthors: [测试者]\n"


@pytest.fixture(scope="module")
def twelve(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The 12-chapter book built three ways: in one pass, in pieces by 2 processes, and by 1."""
    folder = tmp_path_factory.mktemp("twelve")
    config = load_config(write_book(folder, _twelve_chapters(), BOOK))
    single = build(config, folder / "single", ("epub", "pdf"))
    assert single.laid_out is None  # a small book: printed in one pass
    two = build(config, folder / "two", ("epub", "pdf"), jobs=2, cache=False)
    one = build(config, folder / "one", ("pdf",), jobs=1, cache=False)
    assert two.laid_out == one.laid_out == 12
    return {
        "single": single.outputs["pdf"],
        "two": two.outputs["pdf"],
        "one": one.outputs["pdf"],
        "epub": two.outputs["epub"],
        "single epub": single.outputs["epub"],
    }


def _page_texts(path: Path) -> list[str]:
    """The whole text of each page, as pdftotext lays it out: running heads, folios, contents numbers."""
    out = subprocess.run([tool("pdftotext"), "-layout", str(path), "-"], capture_output=True, text=True, check=True)
    return out.stdout.split("\f")[:-1]


def _bookmarks(path: Path) -> list[tuple[int, str, int, float]]:
    """(depth, title, page index, top) of every bookmark, in order."""
    found = []
    with pikepdf.open(path) as pdf:
        pages = {page.objgen: index for index, page in enumerate(pdf.pages)}

        def walk(items: list[pikepdf.OutlineItem], depth: int) -> None:
            for item in items:
                target = item.destination
                found.append((depth, item.title, pages[target[0].objgen], float(target[3])))
                walk(item.children, depth + 1)

        with pdf.open_outline() as outline:
            walk(outline.root, 0)
    return found


def test_pieces_print_the_pages_of_a_single_pass(twelve: dict[str, Path]) -> None:
    single, pieces = _page_texts(twelve["single"]), _page_texts(twelve["two"])
    assert len(single) == len(pieces) and len(pieces) % 2 == 0
    for number, (expected, got) in enumerate(zip(single, pieces, strict=True), start=1):
        assert got == expected, f"page {number} differs"  # folios, running heads, contents numbers, text
    openings = [i for i, text in enumerate(pieces, start=1) if "往事之" in text and "第" in text.split("\n")[0]]
    assert openings and all(page % 2 == 1 for page in openings)  # every chapter opens on a recto
    assert "目录" in pieces[2] and "·" in pieces[2]


def test_pieces_keep_bookmarks_labels_and_boxes(twelve: dict[str, Path]) -> None:
    assert _bookmarks(twelve["two"]) == _bookmarks(twelve["single"])
    assert len(_bookmarks(twelve["two"])) == 13  # twelve chapters and the section of the fifth
    with pikepdf.open(twelve["single"]) as single, pikepdf.open(twelve["two"]) as pieces:
        assert repr(pieces.Root.PageLabels) == repr(single.Root.PageLabels)
        assert repr(pieces.Root.OutputIntents[0].OutputConditionIdentifier) == repr(
            single.Root.OutputIntents[0].OutputConditionIdentifier
        )
        for a, b in zip(single.pages, pieces.pages, strict=True):
            for box in ("/MediaBox", "/TrimBox", "/BleedBox"):
                assert [float(v) for v in a[box]] == [float(v) for v in b[box]]


def test_pieces_embed_each_face_once(twelve: dict[str, Path]) -> None:
    fonts = subprocess.run([tool("pdffonts"), str(twelve["two"])], capture_output=True, text=True, check=True)
    rows = fonts.stdout.splitlines()[2:]
    assert len(rows) == 2, fonts.stdout  # Book Serif and Book Sans, once each
    assert all(" yes yes yes " in row for row in rows)
    assert twelve["two"].stat().st_size <= 1.3 * twelve["single"].stat().st_size
    check = subprocess.run([tool("qpdf"), "--check", str(twelve["two"])], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_pieces_are_the_same_bytes_with_any_number_of_processes(twelve: dict[str, Path]) -> None:
    assert twelve["one"].read_bytes() == twelve["two"].read_bytes()


def _page_list(epub: Path) -> list[str]:
    with zipfile.ZipFile(epub) as archive:
        nav = archive.read("EPUB/nav.xhtml").decode()
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', nav.split('epub:type="page-list"')[1])


@pytest.mark.java
def test_page_list_of_a_book_printed_in_pieces(twelve: dict[str, Path]) -> None:
    assert_epubcheck_clean(twelve["epub"])
    pieces = _page_list(twelve["epub"])
    assert pieces == _page_list(twelve["single epub"])  # the same printed pages, marked at the same places
    assert len(pieces) > 12


def test_cache_reuses_unchanged_chapters(tmp_path: Path) -> None:
    config_path = write_book(tmp_path, _twelve_chapters(), BOOK)
    config = load_config(config_path)
    cold = build(config, tmp_path / "dist", ("pdf",), jobs=2)
    assert cold.laid_out == 12
    again = build(config, tmp_path / "dist", ("pdf",), jobs=2)
    assert again.laid_out == 0
    assert again.outputs["pdf"].read_bytes() == (tmp_path / "dist" / "book.pdf").read_bytes()
    # One word of chapter 7 changes: chapter 7 alone is laid out again; its page count is the same.
    seed = tmp_path / "07.md"
    seed.write_text(seed.read_text(encoding="utf-8").replace("第2段", "第二段"), encoding="utf-8")
    edited = build(config, tmp_path / "dist", ("pdf",), jobs=2)
    assert edited.laid_out == 1
    fresh = build(config, tmp_path / "fresh", ("pdf",), jobs=2, cache=False)
    assert edited.outputs["pdf"].read_bytes() == fresh.outputs["pdf"].read_bytes()
    # A change to the CSS (a book's own print.css) affects every chapter.
    styles = tmp_path / "styles" / "print"
    styles.mkdir(parents=True)
    css = (Path(__file__).resolve().parent.parent / "styles" / "print" / "print.css").read_text(encoding="utf-8")
    (styles / "print.css").write_text(css + "\np { letter-spacing: 0.01em; }\n", encoding="utf-8")
    config_path.write_text(config_path.read_text(encoding="utf-8") + "styles: styles\n", encoding="utf-8")
    restyled = build(load_config(config_path), tmp_path / "dist", ("pdf",), jobs=2)
    assert restyled.laid_out == 12


def test_the_process_forked_at_the_start_and_its_twin_lay_out_a_long_book(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    from book import build as build_module
    from book import printing
    from book.alongside import can_fork

    if not can_fork():
        pytest.skip("no fork here: the rebuild lays out its chapter in this process")
    # The twelve chapters count as a long book (printed in pieces) without --jobs, as 红楼梦 does.
    monkeypatch.setattr(build_module, "PIECES_FROM_CHARACTERS", 1000)
    where = tmp_path / "laid-out-in"
    writer = printing._writer

    def noted(job: PrintJob) -> object:  # inherited by the forked process, not by spawned workers
        with where.open("a") as file:
            file.write(f"{os.getpid()}\n")
        return writer(job)

    monkeypatch.setattr(printing, "_writer", noted)
    handle, laid_out_by = printing.handle, tmp_path / "laid-out-by"

    def handled(writer: object, pending: dict[int, object], message: object) -> object:
        if isinstance(message, LayOut):  # inherited by the forked process and its twin, not by spawned workers
            with laid_out_by.open("a") as file:
                file.write(f"{os.getpid()}\n")
        return handle(writer, pending, message)  # type: ignore[arg-type]

    monkeypatch.setattr(printing, "handle", handled)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # all cores (no --jobs): two workers
    config = load_config(write_book(tmp_path, _twelve_chapters(), BOOK))
    cold = build(config, tmp_path / "dist", ("pdf",), jobs=None)
    assert cold.laid_out == 12
    # Two workers on two cores: the process forked at the start (it made the only writer), and
    # its twin, forked from it with the writer made. Twelve chapters and the front matter.
    workers = laid_out_by.read_text().split()
    assert len(workers) == 13 and len(set(workers)) == 2, workers
    assert len(where.read_text().split()) == 1 and str(os.getpid()) not in workers
    seed = tmp_path / "07.md"
    seed.write_text(seed.read_text(encoding="utf-8").replace("第2段", "第二段"), encoding="utf-8")
    where.unlink(missing_ok=True)
    edited = build(config, tmp_path / "dist", ("pdf",))
    assert edited.laid_out == 1
    pids = where.read_text().split()
    assert len(pids) == 1 and int(pids[0]) != os.getpid()  # the forked process, WeasyPrint loaded
    fresh = build(config, tmp_path / "fresh", ("pdf",), jobs=1, cache=False)
    assert edited.outputs["pdf"].read_bytes() == fresh.outputs["pdf"].read_bytes()
    twins = build(config, tmp_path / "twins", ("pdf",), cache=False)
    assert twins.outputs["pdf"].read_bytes() == fresh.outputs["pdf"].read_bytes()


def test_a_font_change_changes_every_key(tmp_path: Path) -> None:
    face = tmp_path / DEFAULT_FACES[0].path.name
    shutil.copy(DEFAULT_FACES[0].path, face)
    profile = PdfProfile("print", "PDF/X-4", 3, 10, True, True)
    job = PrintJob(("p { color: black; }",), "file:///", (tmp_path,), profile, "urn:x", (face,))
    before = fingerprint(job)
    data = bytearray(face.read_bytes())
    data[-1] ^= 1
    face.write_bytes(bytes(data))
    assert fingerprint(job) != before
    assert fingerprint(dataclasses.replace(job, stylesheets=("p { color: red; }",))) != before


def test_the_cache_keeps_a_files_digest_until_the_file_changes(tmp_path: Path) -> None:
    face = tmp_path / "face.otf"
    face.write_bytes(b"a" * 1000)
    hour_ago = time.time_ns() - 3600 * 10**9
    os.utime(face, ns=(hour_ago, hour_ago))
    first = PieceCache(tmp_path / "cache").digest(face)
    assert first == file_digest(face)
    face.write_bytes(b"b" * 1000)  # the same size, the same time: the kept digest is taken
    os.utime(face, ns=(hour_ago, hour_ago))
    assert PieceCache(tmp_path / "cache").digest(face) == first
    os.utime(face, ns=(hour_ago + 1, hour_ago + 1))  # a changed file has a new time
    assert PieceCache(tmp_path / "cache").digest(face) == file_digest(face) != first
    face.write_bytes(b"c" * 1000)  # changed just now: hashed, and not kept
    assert PieceCache(tmp_path / "cache").digest(face) == file_digest(face)
    kept = json.loads((tmp_path / "cache" / "digests.json").read_text(encoding="utf-8"))
    assert kept[str(face)][2] != file_digest(face).hex()


def test_an_error_in_a_worker_names_its_cause(tmp_path: Path) -> None:
    config_path = write_book(tmp_path, _twelve_chapters(), BOOK + "styles: styles\n")
    styles = tmp_path / "styles" / "print"
    styles.mkdir(parents=True)
    css = (Path(__file__).resolve().parent.parent / "styles" / "print" / "print.css").read_text(encoding="utf-8")
    (styles / "print.css").write_text(css + '\n.chapter { background: url("file:///etc/passwd"); }\n', encoding="utf-8")
    with pytest.raises(RenderError, match="refused to fetch file:///etc/passwd"):
        build(load_config(config_path), tmp_path / "dist", ("pdf",), jobs=2, cache=False)
    assert not (tmp_path / "dist" / "book.pdf").exists()


@pytest.mark.parametrize("which", ["forked process", "its twin"])
def test_a_worker_killed_mid_book_stops_the_build_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    import signal

    from book import build as build_module
    from book import printing
    from book.alongside import can_fork
    from book.errors import BookError

    if not can_fork():
        pytest.skip("no fork here: no forked workers")
    monkeypatch.setattr(build_module, "PIECES_FROM_CHARACTERS", 1000)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    command = os.getpid()
    handle = printing.handle

    def killed(writer: object, pending: dict[int, object], message: object) -> object:
        # Inherited by the forked process and its twin; the twin is the forked process's child.
        twin = os.getppid() != command
        if os.getpid() != command and isinstance(message, LayOut) and twin == (which == "its twin"):
            os.kill(os.getpid(), signal.SIGKILL)  # killed with its messages unread
        return handle(writer, pending, message)  # type: ignore[arg-type]

    config = load_config(write_book(tmp_path, _twelve_chapters(), BOOK))
    first = build(config, tmp_path / "dist", ("pdf",), jobs=1, cache=False)
    before = first.outputs["pdf"].read_bytes()
    monkeypatch.setattr(printing, "handle", killed)
    with pytest.raises(BookError, match="stopped"):
        build(config, tmp_path / "dist", ("pdf",), cache=False)
    assert first.outputs["pdf"].read_bytes() == before  # the last good PDF is kept


def _piece_pdf(path: Path, label: str, pages: int) -> Path:
    """A PDF whose pages inherit their media box and resources from its page tree, each page's
    content naming it. Written by hand: qpdf would write the inherited attributes into each page."""
    kids = " ".join(f"{4 + 2 * n} 0 R" for n in range(pages))
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} /MediaBox [0 0 200 300] /Resources << /ProcSet [/PDF] >> >>",
        f"<< /Title ({label}) >>",  # the document information, as WeasyPrint's pieces have
    ]
    for number in range(pages):
        content = f"% {label} {number}"
        objects += [f"<< /Type /Page /Parent 2 0 R /Contents {5 + 2 * number} 0 R >>"]
        objects += [f"<< /Length {len(content)} >>\nstream\n{content}\nendstream"]
    data, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(data))
        data += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(data)
    data += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    data += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    data += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 3 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(data))
    return path


def test_the_assembled_pages_keep_their_order_and_what_they_inherit(tmp_path: Path) -> None:
    """The chapters in their order whatever order they come in, after the front matter; each page
    with the media box and resources it inherited from its piece's page tree (the book's has none)."""
    from book.assemble import Assembly, Piece

    front, first, second = (
        Piece(_piece_pdf(tmp_path / f"{label}.pdf", label, pages), {})
        for label, pages in (("front", 2), ("first", 3), ("second", 1))
    )
    with Assembly() as book:
        book.add(1, second)
        book.add(0, first)
        assert book.finish(tmp_path / "book.pdf", front) == 6
    with pikepdf.open(tmp_path / "book.pdf") as pdf:
        contents = [page.obj.Contents.read_bytes().decode() for page in pdf.pages]
        assert contents == ["% front 0", "% front 1", "% first 0", "% first 1", "% first 2", "% second 0"]
        assert "/MediaBox" not in pdf.Root.Pages and "/Resources" not in pdf.Root.Pages
        for page in pdf.pages:
            assert list(page.obj.MediaBox) == [0, 0, 200, 300]
            assert page.obj.Resources.ProcSet == [pikepdf.Name.PDF]
            assert page.obj.Parent == pdf.Root.Pages
