"""Rendering: seed text stays text, books override templates, WeasyPrint reads only the book's files."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from book.build import build
from book.config import load_config
from book.errors import RenderError
from book.render import resolve_css_variables

from .helpers import write_book

HOSTILE = '<script>alert(1)</script> {{ 7*7 }} &amp; <img src="x"> javascript:alert(1)'


def test_seed_markup_stays_text_in_both_formats(tmp_path: Path) -> None:
    config = load_config(write_book(tmp_path, {"seed.txt": f"标题\n\n正文 {HOSTILE} 结束。\n"}))
    result = build(config, tmp_path / "dist")
    with zipfile.ZipFile(result.outputs["epub"]) as epub:
        root = ElementTree.fromstring(epub.read("EPUB/chapter-001.xhtml"))
    ns = "{http://www.w3.org/1999/xhtml}"
    assert not list(root.iter(f"{ns}script")) and not list(root.iter(f"{ns}img"))
    paragraph = next(root.iter(f"{ns}p"))
    assert "".join(paragraph.itertext()) == f"正文 {HOSTILE} 结束。"

    import subprocess

    text = subprocess.run(["pdftotext", str(result.outputs["pdf"]), "-"], capture_output=True, text=True).stdout
    assert "<script>alert(1)</script>" in text and "{{ 7*7 }}" in text and "&amp;" in text


def test_book_styles_override_project_templates(tmp_path: Path) -> None:
    config_path = write_book(tmp_path, {"seed.txt": "标题\n\n正文。\n"})
    override = tmp_path / "styles" / "epub"
    override.mkdir(parents=True)
    (override / "chapter.xhtml").write_text(
        '{% extends "epub/base.xhtml" %}{% block body %}<p class="custom">{{ chapter.title }}</p>{% endblock %}',
        encoding="utf-8",
    )
    result = build(load_config(config_path), tmp_path / "dist", ("epub",))
    with zipfile.ZipFile(result.outputs["epub"]) as epub:
        assert b'<p class="custom">' in epub.read("EPUB/chapter-001.xhtml")


def test_a_missing_template_names_the_folders_searched(tmp_path: Path) -> None:
    from book.render import load_templates, render_template

    with pytest.raises(RenderError, match=r"not found \(searched .*styles"):
        render_template(load_templates(tmp_path), "epub/nothing.xhtml")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://example.com/x.css", "../../../etc/passwd"])
def test_stylesheets_cannot_reach_outside_the_book(tmp_path: Path, url: str) -> None:
    config_path = write_book(tmp_path, {"seed.txt": "标题\n\n正文。\n"})
    (tmp_path / "styles").mkdir()
    (tmp_path / "styles" / "shared.css").write_text(
        (Path(__file__).parent.parent / "styles" / "shared.css").read_text(encoding="utf-8")
        + f'\n@import url("{url}");\nbody {{ background: url("{url}"); }}\n',
        encoding="utf-8",
    )
    with pytest.raises(RenderError, match="refused to fetch"):
        build(load_config(config_path), tmp_path / "dist", ("pdf",))
    assert not (tmp_path / "dist" / "book.pdf").exists()


def test_css_variables_are_resolved_for_old_readers() -> None:
    css = (
        ':root { --indent: 2em; /* why */ --font: "A", serif; }\np { text-indent: var(--indent); }\n'
        "h1 { font-family: var(--font); margin: var(--none, 1em); }"
    )
    resolved = resolve_css_variables(css)
    assert "text-indent: 2em;" in resolved and 'font-family: "A", serif;' in resolved and "margin: 1em;" in resolved
    assert "var(" not in resolved
