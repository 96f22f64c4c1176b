"""Markdown seeds, and documents read as Markdown (book/documents): which lines are headings and at
what level, quotes, list items, notes, figures and table rows; the images figures name."""

from __future__ import annotations

import re
import urllib.parse

from .documents import IMAGE_TYPES, image_named
from .model import Image, SeedText
from .unwrap import Line

MARKDOWN_SUFFIXES = (".md", ".markdown")
FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n---[ \t]*\n", re.S)
MD_ESCAPED = re.compile(r"^\\[#>*+\-\d\[!|]")
_MD_QUOTE = re.compile(r"^>\s?(?P<text>.*)$")
_MD_ITEM = re.compile(r"^[*+\-][ \t]+(?P<text>.+)$")
_MD_ORDERED = re.compile(r"^\d{1,3}[.)][ \t]+(?P<text>.+)$")
_MD_NOTE = re.compile(r"^\[\^(?P<label>[^\]\s]{1,20})\]:[ \t]*(?P<text>.+)$")
_MD_FIGURE = re.compile(r"^!\[(?P<text>[^\]]*)\]\((?P<label>[^)\s]+)\)$")
_MD_TABLE_ROW = re.compile(r"^\|(?P<text>.*)\|$")
MD_TABLE_RULE = re.compile(r"^\|(?:\s*:?-{3,}:?\s*\|)+$")
MD_CELL = re.compile(r"(?<!\\)\|")
MD_LEVEL = re.compile(r"^(#{1,6})[ \t]")


def markdown_block(text: str) -> tuple[str, str, str]:
    """(kind, text, label) of a Markdown line that is a quote, a list item or a footnote, else ("", text, "").
    A leading backslash escapes the mark (\\# \\> \\- \\1.), as `publish.py normalize` writes them."""
    if MD_ESCAPED.match(text):
        return "", text[1:], ""
    patterns = (
        ("note", _MD_NOTE),
        ("quote", _MD_QUOTE),
        ("item", _MD_ITEM),
        ("ordered-item", _MD_ORDERED),
        ("figure", _MD_FIGURE),
        ("table", _MD_TABLE_ROW),
    )
    for kind, pattern in patterns:
        match = pattern.match(text)
        if match:
            return kind, match["text"], match.groupdict().get("label") or ""
    return "", text, ""


def chapter_level(lines: list[Line], titled: bool = False) -> int:
    """The level of a Markdown seed's chapter headings: its highest, or the next where one heading
    alone has the highest and comes first (a document's title over its chapters), unless the seed
    is a document that names itself (`titled`: a web page, its title over its sections)."""
    levels = [len(found[1]) for line in lines if (found := MD_LEVEL.match(line.text))]
    if not levels:
        return 7
    top = min(levels)
    below = [level for level in levels if level > top]
    return min(below) if levels.count(top) == 1 and levels[0] == top and below and not titled else top


def figure_image(seed: SeedText, name: str, images: dict[str, Image]) -> Image | None:
    """The image a figure line names: the document's own, or a file beside a Markdown seed (in its
    folder or below it) that a reader can show (documents.image_named); stored once by content."""
    known = {image.name: image for image in seed.images}
    if name in known:
        image: Image | None = known[name]
    else:
        folder = seed.path.parent.resolve()
        path = (folder / urllib.parse.unquote(name)).resolve()
        media_type = IMAGE_TYPES.get(path.suffix.lower())
        if media_type is None or not path.is_relative_to(folder) or not path.is_file():
            return None
        image = image_named(path.read_bytes(), media_type)
    return None if image is None else images.setdefault(image.name, image)


def md_heading(text: str) -> bool:
    return text.startswith("#") and not MD_ESCAPED.match(text)


def md_plain(text: str) -> bool:
    """A Markdown line that continues a paragraph: not a heading, quote, list item or footnote."""
    return not (md_heading(text) or markdown_block(text)[0])


_FENCE = re.compile(r"^(`{3,}|~{3,})[^`\n]*$")
CODE_HELD = re.compile(r"```(\d+)```")  # where a fenced code block was, while the normalizer reads the rest


def set_code_apart(text: str, code: list[str]) -> str:
    """The text with each fenced code block (``` … ```) replaced by a line CODE_HELD names (and
    blank lines, so that every other line keeps its number); the blocks' text appended to `code`."""
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        closing = next(
            (j for j in range(index + 1, len(lines)) if opening and lines[j].strip().startswith(opening[1])), None
        )
        if not opening or closing is None:
            out.append(lines[index])
            index += 1
            continue
        if closing == index + 1:  # an empty block: nothing to keep
            out += ["", ""]
        else:
            code.append("\n".join(lines[index + 1 : closing]))
            out += ["", f"```{len(code) - 1}```", *[""] * (closing - index - 1)]
        index = closing + 1
    return "\n".join(out)
