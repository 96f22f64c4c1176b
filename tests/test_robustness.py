"""Hostile and broken input: text stays text, the renderer stays in the book, bad input gets one clear
line and changes nothing, an interrupted build leaves the last good outputs, and fuzzed text never
breaks the pipeline."""

from __future__ import annotations

import multiprocessing
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from book.build import build
from book.config import load_config
from book.errors import ConfigError, OutputError, RenderError

from .helpers import ROOT, assert_epubcheck_clean, run_publish, write_book

XHTML = "{http://www.w3.org/1999/xhtml}"
PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    "&amp; &lt;b&gt; &#x4e2d; &nbsp;",
    "{{ 7*7 }} {{ config }}",
    "{% raw %}x{% endraw %} {# comment #}",
    "<style>body{display:none}</style>",
    '<a href="javascript:alert(1)">link</a> javascript:alert(1)',
    "]]> <![CDATA[ x ]]> <?xml version='1.0'?>",
]


@pytest.fixture(scope="module")
def hostile_book(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("hostile")
    lines = ["书名", ""] + [f"第{i}段 {payload} 结束。\n" for i, payload in enumerate(PAYLOADS, start=1)]
    config = load_config(write_book(folder, {"seed.txt": "\n".join(lines)}))
    return build(config, folder / "dist")


def test_markup_in_seeds_stays_text_in_the_epub(hostile_book) -> None:
    with zipfile.ZipFile(hostile_book.outputs["epub"]) as epub:
        root = ElementTree.fromstring(epub.read("EPUB/chapter-001.xhtml"))
    for tag in ("script", "img", "style", "a"):
        assert not list(root.iter(XHTML + tag)), f"a <{tag}> element came from the seed"
    texts = ["".join(p.itertext()) for p in root.iter(XHTML + "p")]
    assert texts == [f"第{i}段 {payload} 结束。" for i, payload in enumerate(PAYLOADS, start=1)]


def test_markup_in_seeds_stays_text_in_the_pdf(hostile_book) -> None:
    text = subprocess.run(["pdftotext", str(hostile_book.outputs["pdf"]), "-"], capture_output=True, text=True).stdout
    flat = "".join(text.split())
    for payload in PAYLOADS:
        assert "".join(payload.split()) in flat, payload


@pytest.mark.java
def test_a_hostile_sample_passes_epubcheck(hostile_book) -> None:
    assert_epubcheck_clean(hostile_book.outputs["epub"])


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "../../../../etc/passwd",
        "http://127.0.0.1:9/x.css",
        "https://example.com/font.otf",
        "data:text/html,<h1>x</h1>",
        "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>",
    ],
)
def test_the_renderer_reads_only_the_books_files(tmp_path: Path, url: str) -> None:
    config_path = write_book(tmp_path, {"seed.txt": "标题\n\n正文。\n"})
    (tmp_path / "styles" / "print").mkdir(parents=True)
    css = (ROOT / "styles" / "print" / "print.css").read_text(encoding="utf-8")
    (tmp_path / "styles" / "print" / "print.css").write_text(
        css + f'\nbody {{ background: url("{url}"); }}\n', encoding="utf-8"
    )
    with pytest.raises(RenderError, match="refused to fetch"):
        build(load_config(config_path), tmp_path / "dist", ("pdf",))
    assert list((tmp_path / "dist").iterdir()) == []


def test_book_files_outside_the_book_folder_are_refused(tmp_path: Path) -> None:
    config_path = write_book(
        tmp_path / "book",
        {"seed.txt": "正文。\n"},
        "cover: ../secret.png\nbackmatter: [{title: 后记, file: /etc/hostname}]\n",
    )
    with pytest.raises(ConfigError) as error:
        load_config(config_path)
    assert "cover: '../secret.png' is outside" in str(error.value) and "backmatter" in str(error.value)


@pytest.mark.java
def test_xml_unsafe_characters_are_removed_and_counted(tmp_path: Path) -> None:
    text = "标题\n\n控制\x07字符\x1b，私用\ue001区，非字符\ufffe，孤立方向\u202e控制。\n\n成对\u2067方向\u2069保留。\n"
    config = load_config(write_book(tmp_path, {"seed.txt": text}))
    result = build(config, tmp_path / "dist", ("epub",))
    removed = result.manuscript.findings_of("invalid-char")
    assert sum(int(f.message.split()[0]) for f in removed) == 4
    # A private-use character stands for a character no font has: set as the geta mark 〓, reported.
    assert [f.message.split(",")[0] for f in result.manuscript.findings_of("private-use")] == [
        "1 private-use character(s)"
    ]
    paragraphs = [b.text for c in result.manuscript.chapters for b in c.blocks]
    assert paragraphs == ["控制字符，私用〓区，非字符，孤立方向控制。", "成对\u2067方向\u2069保留。"]
    assert_epubcheck_clean(result.outputs["epub"])


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    """name → (publish.py arguments, what the one-line error must say)."""
    cases = {}

    def book(name: str, files: dict[str, bytes], extra: str = "") -> Path:
        folder = tmp_path / name
        folder.mkdir()
        for file, content in files.items():
            (folder / file).write_bytes(content)
        (folder / "book.yaml").write_text(f"seeds: [{next(iter(files), 'seed.txt')}]\n{extra}", encoding="utf-8")
        return folder / "book.yaml"

    png = b"\x89PNG\r\n\x1a\n" + bytes(200)
    cases["png"] = ([str(book("png", {"seed.txt": png}))], "binary file (PNG image)")
    cases["zip"] = ([str(book("zip", {"seed.txt": b"PK\x03\x04" + bytes(100)}))], "binary file (zip archive")
    noise = "Café crème brûlée à la carte. ".encode("latin-1") * 40  # Latin-1: no Chinese encoding fits
    cases["undetectable"] = ([str(book("noise", {"seed.txt": noise}))], "no Chinese encoding")
    (tmp_path / "folder-seed" / "seed.txt").mkdir(parents=True)
    (tmp_path / "folder-seed" / "book.yaml").write_text("seeds: [seed.txt]\n", encoding="utf-8")
    cases["directory"] = ([str(tmp_path / "folder-seed" / "book.yaml")], "is a folder")
    huge = book("huge", {"seed.txt": b""})
    with open(huge.parent / "seed.txt", "wb") as handle:
        handle.truncate(100 * 2**20)  # 100 MiB, sparse
    cases["100 MB"] = ([str(huge)], "a seed may be at most 64 MiB")
    cases["1 MB line"] = ([str(book("line", {"seed.txt": "字".encode() * (2**20 // 3 + 1)}))], "at most 100,000")
    cases["wrong types"] = (
        [str(book("types", {"seed.txt": "正文。".encode()}, "title: [1, 2]\nembed_fonts: 3\n"))],
        "title: must be text",
    )
    dist_file = book("distfile", {"seed.txt": "正文。".encode()})
    (dist_file.parent / "dist").write_text("not a folder", encoding="utf-8")
    cases["unwritable dist"] = ([str(dist_file)], "cannot write to the output folder")
    return cases


def test_bad_input_one_clear_line_nonzero_exit(tmp_path: Path) -> None:
    for name, (args, expected) in _bad_inputs(tmp_path).items():
        result = run_publish(*args)
        assert result.returncode != 0, name
        lines = result.stderr.strip().splitlines()
        assert lines and lines[0].startswith("error: ") and expected in result.stderr, (name, result.stderr)
        assert "Traceback" not in result.stderr, name


def test_missing_and_corrupt_fonts_are_clear_errors(tmp_path: Path) -> None:
    from book.fonts import FontFace, check_fonts

    missing = FontFace("Book Serif", tmp_path / "gone.otf", 400, "body")
    with pytest.raises(ConfigError, match="font file is missing"):
        check_fonts((missing,))
    corrupt = tmp_path / "corrupt.otf"
    corrupt.write_bytes(b"OTTO" + bytes(64))
    with pytest.raises(ConfigError, match="font file is corrupt"):
        check_fonts((FontFace("Book Serif", corrupt, 400, "body"),))


@pytest.mark.parametrize("signum,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_an_interrupted_build_keeps_the_last_good_outputs(tmp_path: Path, signum: int, code: int) -> None:
    paragraphs = (ROOT / "seeds" / "000_2eace880ba59814b.txt").read_text(encoding="utf-8").split("\n\n")[4:30]
    text = "长书\n\n" + "\n\n".join(f"第{n}章　标题\n\n" + "\n\n".join(paragraphs) for n in range(1, 25))
    config = write_book(tmp_path, {"seed.txt": text})
    dist = tmp_path / "dist"
    dist.mkdir()
    for name in ("book.epub", "book.pdf"):
        (dist / name).write_bytes(b"last good " + name.encode())
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "publish.py"), str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list(dist.glob("*.part")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)  # inside the PDF's layout
    assert process.poll() is None, "the build ended before it could be interrupted"
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert sorted(p.name for p in dist.iterdir()) == ["book.epub", "book.pdf"], "a temporary file was left"
    assert (dist / "book.pdf").read_bytes() == b"last good book.pdf"
    assert (dist / "book.epub").read_bytes() == b"last good book.epub"


def test_the_pdf_printed_alongside_is_the_one_printed_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(ROOT / "book.yaml")
    alongside = build(config, tmp_path / "alongside")
    assert "write pdf (alongside)" in alongside.seconds, "the PDF was not printed in a second process"
    monkeypatch.setattr("book.build.print_ahead", lambda *_: None)
    alone = build(config, tmp_path / "alone")
    assert "write pdf" in alone.seconds
    for name in ("luosong-zhanyi.epub", "luosong-zhanyi.pdf"):
        assert (tmp_path / "alongside" / name).read_bytes() == (tmp_path / "alone" / name).read_bytes(), name


def _last_good(dist: Path) -> None:
    dist.mkdir()
    for name in ("luosong-zhanyi.epub", "luosong-zhanyi.pdf"):
        (dist / name).write_bytes(b"last good")


def test_an_epub_failing_while_the_pdf_prints_fails_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(*_: object) -> None:
        raise OutputError("no space left on the device", where="cover.png")

    monkeypatch.setattr("book.build._cover_image", no_space)
    _last_good(tmp_path / "dist")
    with pytest.raises(OutputError, match=r"cover\.png: no space left"):
        build(load_config(ROOT / "book.yaml"), tmp_path / "dist")
    assert sorted(p.read_bytes() for p in (tmp_path / "dist").iterdir()) == [b"last good"] * 2
    assert not multiprocessing.active_children(), "the process printing the PDF was left running"


def test_a_pdf_failing_in_the_second_process_fails_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*_: object, **__: object) -> None:
        raise RenderError("refused to read http://example.org/font.otf")

    monkeypatch.setattr("book.pdf.writer.write_pdf", refused)  # the forked process runs the module as it is
    _last_good(tmp_path / "dist")
    with pytest.raises(RenderError, match="refused"):
        build(load_config(ROOT / "book.yaml"), tmp_path / "dist")
    assert sorted(p.read_bytes() for p in (tmp_path / "dist").iterdir()) == [b"last good"] * 2
    assert not multiprocessing.active_children(), "the process printing the PDF was left running"


TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=300) | st.lists(
    st.sampled_from(
        [
            "中文",
            "第一章",
            "\n\n",
            "\n",
            "<b>",
            "&",
            "{{",
            "}}",
            "\x00",
            "\ud800",
            "\ue000",
            "\u202e",
            "\ufffe",
            "𠀀",
            "。”",
            "“",
            "——",
            "……",
            "# 标题",
            "> 引",
            "- 项",
            "[^1]",
            "**",
            " ",
        ]
    ),
    max_size=60,
).map("".join)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(text=TEXT, markdown=st.booleans())
def test_fuzzed_text_never_breaks_the_pipeline(tmp_path: Path, text: str, markdown: bool) -> None:
    from book.fonts import DEFAULT_FACES
    from book.model import SeedText
    from book.normalize import normalize
    from book.render import load_templates, render_epub

    config = load_config(write_book(tmp_path, {"seed.txt": "x"}))
    seed = SeedText(tmp_path / ("seed.md" if markdown else "seed.txt"), text, "utf-8")
    # Every text of these pieces is valid (no line is too long): it normalizes and renders, with
    # no error; a text with any letter in it makes a chapter.
    manuscript = normalize([seed], config)
    # A tag's letters are no text (HTML left in a .txt seed is read as markup); a line that only
    # web cruft could be (`中文 - 项`) is removed, and reported: the build then stops with an error.
    if any(ch.isalnum() for ch in re.sub(r"</?[A-Za-z][^<>]*>", "", text)):
        assert manuscript.chapters or manuscript.findings_of("removed"), text
    if not manuscript.chapters:
        return
    rendition = render_epub(manuscript, load_templates(None), DEFAULT_FACES, cover="images/cover.png")
    for document in (*rendition.documents, rendition.nav):
        ElementTree.fromstring(document.content.encode("utf-8"))  # every XHTML document parses


def test_an_interrupt_while_a_module_loads_at_first_use_comes_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from book.assemble import _loaded_when_used

    # pikepdf is loaded at its first use; an interrupt inside its extension's initialization came
    # out as an ImportError. Here the module interrupts itself while it loads.
    (tmp_path / "interrupted_while_loading.py").write_text(
        "import os, signal\nos.kill(os.getpid(), signal.SIGINT)\nloaded = True\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = _loaded_when_used("interrupted_while_loading")
    try:
        with pytest.raises(KeyboardInterrupt):
            module.loaded  # noqa: B018  # the first use loads it
        assert sys.modules["interrupted_while_loading"].loaded  # loaded whole, then interrupted
    finally:
        sys.modules.pop("interrupted_while_loading", None)
