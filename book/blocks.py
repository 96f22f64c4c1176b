"""A chapter's blocks as HTML elements for the templates: escaped text with its inline markup
(emphasis, notes), print's CJK spacing spans, page markers, verse set a couplet a line."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import markupsafe

from .model import TABLE_CELL, Chapter, PageStart, block_id
from .rules import load_rules
from .text import plan_cjk_spacing, verse_lines
from .titles import title_lines

_NAME_SEPARATOR = re.compile(r"(?<=[_\-./])(?=\w)")
ZERO_WIDTH_SPACE = "\u200b"


def name_breaks(title: str) -> str:
    """A title that is a file name (`classic_hongloumeng_pg2-4264`) may break after its separators
    only, so that a line never ends inside one of its words."""
    return _NAME_SEPARATOR.sub(ZERO_WIDTH_SPACE, title) if "_" in title or "-" in title else title


def title_spans(title: str, width: float) -> markupsafe.Markup:
    """A title in balanced lines broken at words (titles.title_lines) for a measure of `width` ems:
    each line an inline block, so that a line breaks only between them (and a narrow screen may
    still break inside one)."""
    lines = title_lines(title, width)
    span = markupsafe.Markup('<span class="title-line">{}</span>')
    return markupsafe.Markup("").join(span.format(name_breaks(line)) for line in lines)


NO_BREAK = "\u2060"  # WORD JOINER


def cjk_spacing(text: str) -> markupsafe.Markup:
    """Text for print with spans that the stylesheet sets tighter or wider (text.plan_cjk_spacing);
    every character is escaped and kept, so the PDF's text is the text."""
    parts = []
    units = load_rules().number_units
    segments = plan_cjk_spacing(text)
    for i, (segment, role) in enumerate(segments):
        if segment[-1].isdigit() and i + 1 < len(segments) and segments[i + 1][0][0] in units:
            # A word joiner (UAX #14 WJ: no break either side; drawn as nothing) keeps a number
            # on its unit's line (11月, 2日): at the span's end, the unit's box starts with the unit.
            segment += NO_BREAK
        escaped = markupsafe.escape(segment)
        parts.append(markupsafe.Markup(f'<span class="{role}">{escaped}</span>') if role else escaped)
    return markupsafe.Markup("").join(parts)


_INLINE = re.compile(
    r"\\(?P<escaped>[\\*\[|])|\*\*(?P<strong>.+?)(?<!\\)\*\*|\*(?P<em>[^*\s][^*]*?)(?<!\\)\*|\[\^(?P<note>[^\]\s]{1,20})\]"
)
_ESCAPED = re.compile(r"\\([\\*\[|])")
PAGE_MARKER = '<span epub:type="pagebreak" role="doc-pagebreak" id="page-{label}" aria-label="{label}"></span>'


def rich_text(text: str, *, markdown: bool, spacing: bool, chapter: int) -> markupsafe.Markup:
    """A block's text as escaped HTML: in Markdown blocks **strong**, *emphasis* and footnote references
    [^1] become elements; for print, CJK spacing spans are added (cjk_spacing)."""
    plain = cjk_spacing if spacing else markupsafe.escape
    if not markdown:
        return markupsafe.Markup(plain(text))
    parts, position = [], 0
    for match in _INLINE.finditer(text):
        parts.append(plain(text[position : match.start()]))
        if match["escaped"] is not None:  # \* is an asterisk of the text (documents/markdown.py)
            parts.append(plain(match["escaped"]))
        elif match["strong"] is not None:
            parts.append(markupsafe.Markup("<strong>{}</strong>").format(plain(_unescaped(match["strong"]))))
        elif match["em"] is not None:
            parts.append(markupsafe.Markup("<em>{}</em>").format(plain(_unescaped(match["em"]))))
        else:
            label = markupsafe.escape(match["note"])
            parts.append(
                markupsafe.Markup(
                    f'<a class="noteref" epub:type="noteref" role="doc-noteref" id="noteref-{chapter}-{label}" '
                    f'href="#note-{chapter}-{label}">{label}</a>'
                )
            )
        position = match.end()
    parts.append(plain(text[position:]))
    return markupsafe.Markup("").join(parts)


def _unescaped(text: str) -> str:
    return _ESCAPED.sub(r"\1", text)


def block_elements(
    chapter: Chapter,
    number: int,
    *,
    spacing: bool,
    pages: dict[int, list[PageStart]] | None = None,
    print_ids: bool = False,
    image_url: Callable[[str], str] = lambda name: f"images/{name}",
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """A chapter's blocks as HTML elements (p, h3, blockquote, ul, ol) and its footnotes.

    `pages` puts page-break markers where printed pages begin (EPUB); `print_ids` adds the
    data-block attributes the PDF writer reads back to find where pages begin."""
    elements: list[dict[str, Any]] = []
    notes: list[dict[str, object]] = []
    tags = {"heading": "h3", "paragraph": "p", "quote": "blockquote"}
    for index, block in enumerate(chapter.blocks):
        starts = (pages or {}).get(index, [])
        if block.markdown and starts:  # a marker never splits Markdown emphasis: it goes before the block
            starts = [dataclasses.replace(s, offset=0) for s in starts]
        html = markupsafe.Markup("").join(
            markupsafe.Markup(PAGE_MARKER.format(label=segment["page"]))
            if segment["page"]
            else rich_text(segment["text"], markdown=block.markdown, spacing=spacing, chapter=number)
            for segment in _segments(block.text, starts)
        )
        attributes = f' data-block="{block_id(number, index)}"' if print_ids else ""
        if block.kind == "note":
            notes.append(
                {
                    "id": f"note-{number}-{block.label}",
                    "label": block.label,
                    "html": html,
                    "ref": f"noteref-{number}-{block.label}",
                    "attributes": attributes,
                }
            )
        elif block.kind in ("item", "ordered-item"):
            tag = "ul" if block.kind == "item" else "ol"
            if not elements or elements[-1]["tag"] != tag:
                elements.append({"tag": tag, "items": [], "attributes": ""})
            elements[-1]["items"].append({"html": html, "attributes": attributes})
        elif block.kind == "figure":
            alt = markupsafe.escape(block.text)
            image = markupsafe.Markup(f'<img src="{markupsafe.escape(image_url(block.label))}" alt="{alt}"/>')
            elements.append({"tag": "figure", "html": image, "attributes": attributes})
        elif block.kind == "code":  # its lines as they are: no spacing spans, no marks changed
            elements.append({"tag": "pre", "html": markupsafe.escape(block.text), "attributes": attributes})
        elif block.kind == "table":
            rows = (
                markupsafe.Markup("<tr>{}</tr>").format(
                    markupsafe.Markup("").join(
                        markupsafe.Markup("<td>{}</td>").format(
                            rich_text(cell, markdown=True, spacing=spacing, chapter=number)
                        )
                        for cell in row.split(TABLE_CELL)
                    )
                )
                for row in block.text.split("\n")
            )
            html = markupsafe.Markup("<tbody>{}</tbody>").format(markupsafe.Markup("").join(rows))
            elements.append({"tag": "table", "html": html, "attributes": attributes})
        elif block.kind == "paragraph" and not starts and (lines := verse_lines(block.text)):
            # Verse: a couplet a line, the lines set flush left as a block (styles: p.verse)
            couplets = (rich_text(line, markdown=block.markdown, spacing=spacing, chapter=number) for line in lines)
            html = markupsafe.Markup("<br/>").join(couplets)
            elements.append({"tag": "p", "html": html, "attributes": attributes, "class": "verse"})
        else:
            inner = markupsafe.Markup(f"<p>{html}</p>") if block.kind == "quote" else html
            elements.append({"tag": tags[block.kind], "html": inner, "attributes": attributes})
    return elements, notes


def _segments(text: str, starts: list[PageStart]) -> list[dict[str, Any]]:
    """The text cut where printed pages begin: text segments and page markers, in order."""
    segments: list[dict[str, Any]] = []
    position = 0
    for start in sorted(starts, key=lambda s: s.offset):
        offset = min(max(start.offset, position), len(text))
        if offset > position:
            segments.append({"text": text[position:offset], "page": None})
        segments.append({"text": "", "page": start.label})
        position = offset
    if position < len(text) or not segments:
        segments.append({"text": text[position:], "page": None})
    return segments
