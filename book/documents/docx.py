"""Word documents (.docx) through mammoth, which reads Word's styles by name into semantic HTML.

Word stores a style's built-in English name (heading 1, Subtitle) even where its ID is localized
(a Chinese Word's `1`, `af`), and a style named in Chinese (标题 1) is mapped as its English twin.
Headings numbered by hand in the Subtitle style (2.1, 2.1.1) take their level from the number. A
paragraph style mammoth cannot map is reported once, its paragraphs read as body text."""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree

from ..errors import SourceError
from ..model import DocumentMetadata, Finding, Image, SeedText
from . import counted, image_named
from .markdown import Markdown, Reading, parse, to_markdown

STYLE_MAP = "\n".join(
    [
        *(f"p[style-name='{name} {n}'] => h{n}:fresh" for n in range(1, 7) for name in ("heading", "Heading", "标题")),
        "p[style-name='Title'] => h1.title:fresh",
        "p[style-name='标题'] => h1.title:fresh",
        "p[style-name='Subtitle'] => p.subtitle:fresh",
        "p[style-name='副标题'] => p.subtitle:fresh",
        "p[style-name='Quote'] => blockquote > p:fresh",
        "p[style-name='Intense Quote'] => blockquote > p:fresh",
        "p[style-name='引用'] => blockquote > p:fresh",
        "p[style-name='明显引用'] => blockquote > p:fresh",
        "p[style-name='List Paragraph'] => p:fresh",
        "p[style-name='列出段落'] => p:fresh",
        "p[style-name='列出段落1'] => p:fresh",
        "p[style-name='HTML Preformatted'] => pre:separator('\\n')",
        "p[style-name='HTML 预设格式'] => pre:separator('\\n')",
        "p[style-name='Normal Indent'] => p:fresh",
        "p[style-name='正文缩进'] => p:fresh",
        "p[style-name='Caption'] => p:fresh",
        "p[style-name='题注'] => p:fresh",
    ]
)
_UNRECOGNISED = re.compile(r"Unrecognised (paragraph|run) style: (?P<name>.*?) \(Style ID: (?P<id>.*?)\)")
_HAND_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)*)\.?\s")
_SENTENCE_END = re.compile("[。！？.!?]$")
_CORE = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an encrypted .docx, or a .doc, is an OLE compound file


def read_docx(path: Path) -> SeedText:
    """A Word document as a Markdown seed, with its images and core properties."""
    import mammoth

    source = path.name
    data = path.read_bytes()
    if data.startswith(_OLE):
        raise SourceError(
            "is password-protected or an old Word 97–2003 .doc file, not a .docx",
            where=str(path),
            fix="remove the password in Word (File → Info → Protect Document), or save it as .docx",
        )
    images: dict[str, Image] = {}

    unreadable: Counter[str] = Counter()

    def convert_image(image: object) -> dict[str, str]:
        with image.open() as stream:  # type: ignore[attr-defined]
            found = image_named(stream.read(), image.content_type)  # type: ignore[attr-defined]
        if found is None:  # EMF, a broken file: no <img> (markdown.py counts it as left out)
            unreadable[image.content_type or "unknown"] += 1  # type: ignore[attr-defined]
            return {"alt": image.alt_text or ""}  # type: ignore[attr-defined]
        images[found.name] = found
        return {"src": found.name, "alt": image.alt_text or ""}  # type: ignore[attr-defined]

    try:
        with zipfile.ZipFile(path) as archive:
            core = archive.read("docProps/core.xml") if "docProps/core.xml" in archive.namelist() else b""
            margins = sum(1 for name in archive.namelist() if re.fullmatch(r"word/(header|footer)\d*\.xml", name))
        with path.open("rb") as stream:
            result = mammoth.convert_to_html(
                stream, style_map=STYLE_MAP, convert_image=mammoth.images.img_element(convert_image)
            )
    except (zipfile.BadZipFile, KeyError, ValueError, ElementTree.ParseError) as exc:
        fix = "open it in Word and save it again as .docx"
        raise SourceError(f"is not a readable Word document ({exc})", where=str(path), fix=fix) from exc
    findings = [Finding("encoding", "read as a Word document (mammoth)", source)]
    unmapped: Counter[str] = Counter()
    for message in result.messages:
        if found := _UNRECOGNISED.match(message.message):
            unmapped[f"Word {found[1]} style {found['name']} (ID {found['id']})"] += 1
        else:
            findings.append(Finding("document", f"Word: {message.message}", source))
    root = parse(result.value or "<p></p>")
    title = _title_line(root)
    # mammoth sets footnotes and endnotes after the text (<li id="footnote-1">), each referred to by
    # <a href="#footnote-1">: they become the chapter's notes, after the paragraph that refers to them.
    notes = frozenset(
        id_ for element in root.iter("li") if re.fullmatch(r"(?:foot|end)note-\d+", id_ := element.get("id") or "")
    )
    reading = Reading(heading_level=_heading_level, image=lambda img: _known(img, images), note_ids=notes)
    markdown = to_markdown(root, reading)
    if undescribed := sum(1 for line in markdown.lines if line.startswith("![]")):
        message = f"{undescribed} picture(s) without alt text: shown as decorative; describe them in Word (Alt Text)"
        findings.append(Finding("document", message, source))
    # mammoth warns once a style: one finding each, its paragraphs kept as body text
    findings += counted("style-unmapped", unmapped, source, "{what} has no mapping: its paragraphs are read as text")
    findings += _markdown_findings(markdown, source)
    findings += counted("removed", unreadable, source, "picture(s) in {what}, which no reader shows, left out: {count}")
    if margins:
        findings.append(Finding("document", f"{margins} page header(s) and footer(s) of Word left out", source))
    metadata = _core_properties(core)
    if title:
        findings.append(Finding("title", "the document's title line is the book's title", source, 0, title))
        metadata = DocumentMetadata(title, metadata.creators, description=metadata.description)
    text = "\n".join(markdown.lines)
    if not text.strip():
        raise SourceError("has no text", where=str(path), fix="name a Word document with text in `seeds`")
    return SeedText(path, text, "docx", tuple(findings), True, tuple(images.values()), metadata)


def _known(element: object, images: dict[str, Image]) -> str | None:
    name = getattr(element, "get", lambda key: None)("src")
    return name if name in images else None


def _heading_level(element: object) -> int | None:
    """A Subtitle paragraph heads a section: its level from its typed number (2.1 → 2, 2.1.1 → 3)."""
    if "subtitle" not in (element.get("class") or "").split():  # type: ignore[attr-defined]
        return None
    number = _HAND_NUMBER.match(element.text_content())  # type: ignore[attr-defined]
    return min(6, max(2, number[1].count(".") + 1)) if number else 2


def _title_line(root: object) -> str:
    """The document's title line: a lone short paragraph before the first heading (set by direct
    formatting, as in a Chinese template), taken out of the text; else ""."""
    body = root.find("body")  # type: ignore[attr-defined]
    if body is not None and len(body) and body[0].tag == "h1" and "title" in (body[0].get("class") or ""):
        title = body[0].text_content().strip()  # the Title style
        body[0].drop_tree()
        return title
    if body is None or len(body) < 2 or body[0].tag != "p" or not re.fullmatch(r"h[1-6]", body[1].tag):
        return ""
    text = body[0].text_content().strip()
    if not text or len(text) > 40 or _SENTENCE_END.search(text) or body[0].find(".//img") is not None:
        return ""
    body[0].drop_tree()
    return text


def _core_properties(core: bytes) -> DocumentMetadata:
    if not core:
        return DocumentMetadata()
    root = ElementTree.fromstring(core)
    title = (root.findtext("dc:title", "", _CORE) or "").strip()
    creator = (root.findtext("dc:creator", "", _CORE) or "").strip()
    description = (root.findtext("dc:description", "", _CORE) or "").strip()
    return DocumentMetadata(title, (creator,) if creator else (), description=description)


def _markdown_findings(markdown: Markdown, source: str) -> list[Finding]:
    findings = counted("unmapped", markdown.unmapped, source, "{what} has no mapping: {count} read as text")
    findings += counted("removed", markdown.dropped, source, "{what} left out: {count}")
    return findings
