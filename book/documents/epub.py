"""EPUB seeds, read with ebooklib: the spine's documents in order, their headings, notes and images,
and the metadata that fills what book.yaml leaves empty (a print edition of an e-book).

Headings are <h1>–<h6> where the book has them. An EPUB exported from a word processor (LibreOffice's
libepubgen) has none: its headings are paragraphs told apart only by their CSS font size, so a
paragraph set larger than the body text is a heading, its level by its size among the headings'."""

from __future__ import annotations

import functools
import posixpath
import re
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ..errors import SourceError
from ..model import DocumentMetadata, Finding, Image, SeedText
from . import counted, image_named
from .markdown import Markdown, Reading, parse, to_markdown

DEFAULT_SIZE = 12.0  # pt: CSS's medium (16 px), the size of text no rule sizes
_UNITS = {"pt": 1.0, "px": 0.75, "pc": 12.0, "in": 72.0, "mm": 72 / 25.4, "cm": 72 / 2.54}
_RELATIVE = {"em": 1.0, "rem": 1.0, "%": 0.01}
_NOTE_TYPES = re.compile(r"\b(?:footnote|endnote|rearnote|note)\b")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
_SENTENCE_END = re.compile("[。！？；]$")
# An article of a law run into the paragraph before it: …的除外。第五百二十一条　…
_ARTICLE = re.compile("^第[零〇一二三四五六七八九十百千]+条[\u3000 ]")
_RUN_IN_ARTICLE = re.compile("(?<=[。；：”])[ \u3000]*(?=第[零〇一二三四五六七八九十百千]+条[\u3000 ])")
_RUN_IN_INDENT = re.compile("(?<=[。；！？”])[ ]*\u3000\u3000(?=\\S)")


def read_epub(path: Path) -> SeedText:
    """An EPUB's spine as a Markdown seed, with its images and metadata."""
    from ebooklib import epub

    source = path.name
    try:
        book = epub.read_epub(str(path), options={"ignore_ncx": True})
    except (zipfile.BadZipFile, KeyError, epub.EpubException, OSError, ValueError) as exc:
        raise SourceError(
            f"is not a readable EPUB ({exc})", where=str(path), fix="check the file, or export the EPUB again"
        ) from exc
    findings = [Finding("encoding", "read as an EPUB (ebooklib): its spine in order", source)]
    sizes = _class_sizes("\n".join(i.get_content().decode("utf-8", "replace") for i in _of_type(book, "text/css")))
    documents = []
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or item.media_type != "application/xhtml+xml" or "nav" in (item.properties or []):
            continue
        documents.append((item.get_name(), parse(item.get_content())))
    levels = _heading_sizes(documents, sizes)
    images: dict[str, Image] = {}
    out = Markdown()
    for name, root in documents:
        notes = frozenset(
            element.get("id")
            for element in root.iter()
            if element.get("id")
            and (_NOTE_TYPES.search(element.get("epub:type") or "") or "doc-footnote" in (element.get("role") or ""))
            and element.tag in ("aside", "li", "div", "section", "p")
        )
        reading = Reading(
            heading_level=functools.partial(_level, sizes=sizes, levels=levels),
            image=functools.partial(_image, book, name, images=images),
            note_ids=notes,
        )
        to_markdown(root, reading, out)
    lines, split = _split_run_in_paragraphs(out.lines)
    findings += [Finding("paragraph-split", f"a paragraph run into the one before it: {a}…", source) for a in split]
    findings += counted("removed", out.dropped, source, "{what} left out: {count}")
    findings += counted("unmapped", out.unmapped, source, "{what} has no mapping: {count} read as text")
    metadata, said = _metadata(book, source)
    findings += said
    if not any(line.strip() for line in lines):
        raise SourceError("has no text in its spine", where=str(path), fix="name an EPUB with text in `seeds`")
    return SeedText(path, "\n".join(lines), "epub", tuple(findings), True, tuple(images.values()), metadata)


def _of_type(book: Any, media_type: str) -> list[Any]:
    return [item for item in book.get_items() if item.media_type == media_type]


def _class_sizes(css: str) -> dict[str, float]:
    """The font size in points that each class selector (.para4, p.title) sets."""
    import tinycss2

    found: dict[str, float] = {}
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type != "qualified-rule":
            continue
        selector = tinycss2.serialize(rule.prelude).strip()
        classes = re.findall(r"\.([\w-]+)\s*(?:,|$)", selector)
        for declaration in tinycss2.parse_declaration_list(rule.content, skip_comments=True, skip_whitespace=True):
            if declaration.type == "declaration" and declaration.lower_name == "font-size":
                size = _points(tinycss2.serialize(declaration.value).strip())
                if size is not None:
                    found.update(dict.fromkeys(classes, size))
    return found


def _points(value: str) -> float | None:
    match = re.fullmatch(r"([\d.]+)\s*([a-z%]*)", value.lower())
    if not match:
        return None
    number, unit = float(match[1]), match[2]
    if unit in _UNITS:
        return number * _UNITS[unit]
    if unit in _RELATIVE:
        return number * _RELATIVE[unit] * DEFAULT_SIZE
    return None


def _size(element: object, sizes: dict[str, float]) -> float:
    """The size a paragraph's text is set in: its class's, or that of the spans that hold all its text."""
    own = [sizes[c] for c in (element.get("class") or "").split() if c in sizes]  # type: ignore[attr-defined]
    spans = [
        max((sizes[c] for c in (span.get("class") or "").split() if c in sizes), default=0.0)
        for span in element.iter("span")  # type: ignore[attr-defined]
        if (span.text or "").strip()
    ]
    if spans and all(spans) and len(set(spans)) == 1:
        return spans[0]
    return own[-1] if own else DEFAULT_SIZE


def _heading_sizes(documents: list[tuple[str, object]], sizes: dict[str, float]) -> dict[float, int]:
    """The sizes that set headings, largest first, each with its level; {} where the book has
    <h1>–<h6> or sets no paragraph larger than its body text."""
    if any(root.find(f".//h{n}") is not None for _, root in documents for n in range(1, 7)):  # type: ignore[attr-defined]
        return {}
    text: Counter[float] = Counter()
    for _, root in documents:
        for paragraph in root.iter("p"):  # type: ignore[attr-defined]
            text[_size(paragraph, sizes)] += len(paragraph.text_content().strip())
    if not text:
        return {}
    body = text.most_common(1)[0][0]
    larger = sorted((size for size in text if size > body * 1.1), reverse=True)
    return {size: level for level, size in enumerate(larger, start=1) if level <= 6}


def _level(element: object, sizes: dict[str, float], levels: dict[float, int]) -> int | None:
    if not levels or element.tag != "p":  # type: ignore[attr-defined]
        return None
    text = element.text_content().strip()  # type: ignore[attr-defined]
    if not text or len(text) > 60 or _SENTENCE_END.search(text):
        return None
    return levels.get(_size(element, sizes))


def _image(book: Any, document: str, element: Any, images: dict[str, Image]) -> str | None:
    src = unquote((element.get("src") or "").split("#")[0])
    if not src or re.match(r"^[a-z]+:", src, re.I):
        return None
    item = book.get_item_with_href(posixpath.normpath(posixpath.join(posixpath.dirname(document), src)))
    if item is None or not item.media_type.startswith("image/"):
        return None
    image = image_named(item.get_content(), item.media_type)
    if image is None:
        return None
    images[image.name] = image
    return image.name


def _split_run_in_paragraphs(lines: list[str]) -> tuple[list[str], list[str]]:
    """Paragraphs run together in export: where a paragraph holds a sentence's end then a
    paragraph's indent (。 　　债权人…), or, in a law whose articles open paragraphs, an
    article's number (…的除外。第五百二十一条　…), it is split there; the pieces' openings are returned."""
    articles = sum(1 for line in lines if _ARTICLE.match(line)) >= 20
    out: list[str] = []
    split: list[str] = []
    for line in lines:
        parts = [line] if line.startswith("#") else _RUN_IN_INDENT.split(line)
        if articles:
            parts = [piece for part in parts for piece in _RUN_IN_ARTICLE.split(part)]
        split += [part[:12] for part in parts[1:]]
        out += [piece for part in parts for piece in (part, "")] if len(parts) > 1 else parts
    return out, split


def _metadata(book: object, source: str) -> tuple[DocumentMetadata, list[Finding]]:
    def first(name: str) -> str:
        values = book.get_metadata("DC", name)  # type: ignore[attr-defined]
        return str(values[0][0]).strip() if values else ""

    creators = tuple(str(value).strip() for value, _ in book.get_metadata("DC", "creator"))  # type: ignore[attr-defined]
    language = first("language")
    findings = []
    if language and not _LANGUAGE_TAG.match(language):
        message = f"the EPUB's language {language} is no language tag (BCP 47): the text decides"
        findings.append(Finding("metadata", message, source))
        language = ""
    date = first("date")[:10] if re.match(r"\d{4}-\d{2}-\d{2}", first("date")) else ""
    metadata = DocumentMetadata(first("title"), creators, first("publisher"), first("description"), language, date)
    return metadata, findings
