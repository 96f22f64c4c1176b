"""Semantic HTML (mammoth's from Word, trafilatura's from a web page, an EPUB's XHTML) as the
Markdown the normalizer reads: # headings, paragraphs, > quotes, - and 1. list items, [^n] notes,
![alt](image) figures and | table | rows, with **strong** and *emphasis*. Text is escaped, so no
character of it is read as markup; what has no place in a book is counted, never dropped unsaid."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import html as lxml_html

# Elements whose text is read as it stands, inline.
_INLINE = {"span", "font", "a", "sup", "sub", "code", "kbd", "samp", "var", "abbr", "cite", "q", "small", "big",
           "u", "ins", "mark", "time", "bdi", "bdo", "s", "del", "strike", "tt", "ruby", "rb", "rt", "rp", "label",
           "nobr", "wbr"}  # fmt: skip
_STRONG = {"strong", "b"}
_EMPHASIS = {"em", "i"}
# Containers: their children are blocks (or loose text, read as a paragraph).
_CONTAINERS = {"html", "body", "div", "section", "article", "main", "header", "footer", "aside", "figure", "center",
               "td", "th", "dl", "dd", "dt", "hgroup", "details", "summary", "tbody", "thead", "tfoot", "nav",
               "address", "doc"}  # fmt: skip
_BLOCKS = {"p", "figcaption", "caption", "li"}
_DROPPED = {"script", "style", "noscript", "template", "iframe", "object", "embed", "form", "input", "button", "title",
            "select", "textarea", "svg", "math", "video", "audio", "canvas", "map", "head", "meta", "link"}  # fmt: skip
_NOT_TEXT = {"script", "style", "noscript", "template", "head", "meta", "link", "title"}  # not counted as left out
_SPACE = re.compile(r"[ \t\r\n\f]+")
_BREAK = "\x00"  # <br> in a paragraph
_INDENT = " \u00a0\u3000"
# A line that the normalizer would read as Markdown: escaped with a backslash (markdown_seed.MD_ESCAPED).
_LINE_MARK = re.compile(r"^(?:#|>|[*+\-][ \t]|\d{1,3}[.)][ \t]|\[\^|!\[|\|)")
_INLINE_MARK = re.compile(r"([\\*]|\[(?=\^))")


@dataclass
class Markdown:
    """The Markdown of a document, the images its figures name, and what was not mapped."""

    lines: list[str] = field(default_factory=list)
    unmapped: Counter[str] = field(default_factory=Counter)  # an element or style, and how often
    dropped: Counter[str] = field(default_factory=Counter)  # removed on purpose: scripts, back-links
    notes: int = 0


@dataclass(frozen=True)
class Reading:
    """How a document's elements are read (each reader knows its own)."""

    heading_level: Callable[[lxml_html.HtmlElement], int | None] = lambda element: None
    image: Callable[[lxml_html.HtmlElement], str | None] = lambda element: None  # the image's name, if it has one
    note_ids: frozenset[str] = frozenset()  # ids of the elements that hold a note's text


def parse(markup: str | bytes) -> lxml_html.HtmlElement:
    """An HTML or XHTML document (or fragment) as a tree."""
    return lxml_html.document_fromstring(markup)


def to_markdown(root: lxml_html.HtmlElement, reading: Reading, out: Markdown | None = None) -> Markdown:
    """Append the Markdown of `root`'s blocks to `out`."""
    out = out or Markdown()
    notes = {id_: element for element in root.iter() if (id_ := element.get("id")) in reading.note_ids}
    for element in notes.values():
        if element.getparent() is not None:
            element.drop_tree()  # read where a reference to it is (note_reference)
    writer = _Writer(reading, out, notes)
    writer.blocks(root)
    for note in writer.notes.values():  # a note no text refers to: kept, as a paragraph at the end
        out.unmapped["a note no text refers to"] += 1
        writer.paragraph(writer.inline_content(note), "")
    return out


class _Writer:
    def __init__(self, reading: Reading, out: Markdown, notes: dict[str, lxml_html.HtmlElement]) -> None:
        self.reading, self.out, self.notes = reading, out, notes
        self.pending: list[str] = []  # note definitions for after the block that refers to them

    def blocks(self, element: lxml_html.HtmlElement, quote: str = "") -> None:
        loose: list[str] = []  # inline content between blocks
        if element.text and element.text.strip():
            loose.append(escaped(element.text))
        for child in element:
            tag = _tag(child)
            if tag is None:  # a comment or a processing instruction
                pass
            elif (
                tag in _INLINE
                or tag in _STRONG
                or tag in _EMPHASIS
                or tag == "br"
                or (tag == "img" and self.reading.image(child) is None)
            ):
                loose.append(self.inline(child))
            else:
                self.paragraph("".join(loose), quote)
                loose = []
                self.block(child, tag, quote)
            if child.tail and child.tail.strip():
                loose.append(escaped(child.tail))
        self.paragraph("".join(loose), quote)

    def block(self, element: lxml_html.HtmlElement, tag: str, quote: str) -> None:
        level = self.reading.heading_level(element)
        if level is None and re.fullmatch(r"h[1-6]", tag):
            level = int(tag[1])
        if level is not None:
            title = _SPACE.sub(" ", element.text_content()).strip()
            if title:
                self.line(f"{'#' * level} {title}", quote)
            return
        if tag == "img":
            self.figure(element, quote)
        elif tag in _DROPPED:
            if tag not in _NOT_TEXT:
                self.out.dropped[tag] += 1
        elif tag == "blockquote":
            self.blocks(element, quote + "> ")
        elif tag in ("ul", "ol", "menu"):
            for number, item in enumerate((c for c in element if _tag(c) == "li"), start=1):
                marker = f"{number}. " if tag == "ol" else "- "
                self.paragraph(self.inline_content(item), quote, marker)
                for nested in item.iter("img"):
                    self.figure(nested, quote)
        elif tag == "table":
            self.table(element, quote)
        elif tag == "pre":  # code: its lines as they are, in a fence the normalizer leaves alone
            lines = element.text_content().strip("\n").replace("```", "\u200b```").split("\n")
            if any(line.strip() for line in lines):
                self.out.lines += ["```", *lines, "```", ""]
        elif tag == "hr":
            self.out.dropped["hr"] += 1
        elif tag in _BLOCKS:
            images = [image for image in element.iter("img") if self.reading.image(image) is not None]
            self.paragraph(self.inline_content(element), quote)
            for image in images:
                self.figure(image, quote)
        elif tag in _CONTAINERS:
            self.blocks(element, quote)
        else:
            self.out.unmapped[f"<{tag}>"] += 1
            self.blocks(element, quote)

    def figure(self, element: lxml_html.HtmlElement, quote: str) -> None:
        name = self.reading.image(element)
        alt = _SPACE.sub(" ", element.get("alt") or "").strip()
        if name is None:
            self.out.dropped["image not in the seed"] += 1
            return
        self.line(f"![{alt.replace(']', '')}]({name})", quote)

    def table(self, element: lxml_html.HtmlElement, quote: str) -> None:
        for row in element.iter("tr"):
            cells = [self.inline_content(cell).replace("|", "\\|") for cell in row if _tag(cell) in ("td", "th")]
            if any(cell.strip() for cell in cells):
                self.line("| " + " | ".join(cell.strip() for cell in cells) + " |", quote)
        self.line("", "")

    def inline_content(self, element: lxml_html.HtmlElement) -> str:
        parts = [escaped(element.text or "")]
        for child in element:
            if _tag(child) in ("ul", "ol", "table"):  # a list inside an item: its text runs on
                parts.append(escaped(child.text_content()))
            elif _tag(child) == "img" and self.reading.image(child) is not None:
                pass  # a figure after the paragraph
            elif _tag(child) in _DROPPED:
                self.out.dropped[str(_tag(child))] += 1
            else:
                parts.append(self.inline(child))
            parts.append(escaped(child.tail or ""))
        return "".join(parts)

    def inline(self, element: lxml_html.HtmlElement) -> str:
        tag = _tag(element)
        if tag == "br":  # a line break inside a paragraph: the lines are paragraphs of the book
            return _BREAK
        if tag == "a" and (href := element.get("href") or "").startswith("#"):
            target = href[1:]
            if target in self.notes:
                return self.note_reference(self.notes.pop(target))
            if element.get("id") is None and not re.sub(r"[↑^\s\u21a9]", "", element.text_content()):
                self.out.dropped["note back-link"] += 1
                return ""
        if tag in _DROPPED:
            self.out.dropped[str(tag)] += 1
            return ""
        text = self.inline_content(element)
        if tag in _STRONG and text.strip():
            return f"**{text}**"
        if tag in _EMPHASIS and text.strip():
            return f"*{text}*"
        if tag == "img":
            return ""
        if tag not in _INLINE and tag not in _STRONG and tag not in _EMPHASIS:
            self.out.unmapped[f"<{tag}>"] += 1
        return text

    def note_reference(self, note: lxml_html.HtmlElement) -> str:
        self.out.notes += 1
        label = str(self.out.notes)
        body = self.inline_content(note) if _tag(note) in ("p", "li") and not note.findall(".//p") else ""
        if not body:
            body = " ".join(self.inline_content(p) for p in note.iter("p")) or escaped(note.text_content())
        body = re.sub(r"\s*[↑\u21a9]\s*$", "", _SPACE.sub(" ", body)).strip()
        self.pending.append(f"[^{label}]: {body}")
        return f"[^{label}]"

    def paragraph(self, text: str, quote: str, marker: str = "") -> None:
        for number, piece in enumerate(text.split(_BREAK)):
            piece = _SPACE.sub(" ", piece).strip(_INDENT)  # an indent is the stylesheet's (clreq), not text
            if piece.strip():
                lead = marker if number == 0 else "  " * bool(marker)  # a list item's next line stays in it
                if not lead.strip() and _LINE_MARK.match(piece):
                    piece = "\\" + piece
                self.line(f"{lead}{piece}", quote)
        for note in self.pending:
            self.line(note, "")
        self.pending = []

    def line(self, text: str, quote: str) -> None:
        if text or (self.out.lines and self.out.lines[-1]):
            self.out.lines.append(f"{quote}{text}")
            if text:
                self.out.lines.append("")


def escaped(text: str) -> str:
    """Text as Markdown that reads back as the same text: \\ and * escaped, and [ before ^."""
    return _INLINE_MARK.sub(r"\\\1", text)


def _tag(element: object) -> str | None:
    tag = getattr(element, "tag", None)
    if not isinstance(tag, str):
        return None
    return tag.rsplit("}", 1)[-1].split(":")[-1].lower()
