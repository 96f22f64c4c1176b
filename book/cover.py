"""The cover's design, once: the front cover laid out here, drawn by two renderers.

`front_cover` places each element of the front cover (the accent bands, the series, the title in
balanced lines broken at words, the subtitle, the rule, the creators, the publisher) in fractions
of the panel. The EPUB's cover image draws that layout with Pillow (`render_cover`, at the print
trim's proportions, 1600 px wide); the print cover's front panel is the same layout positioned
in mm (print/cover.html). A cover file named in book.yaml replaces the EPUB's image.
Pure: the same metadata and fonts give the same PNG bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from .fonts import FontFace
from .model import Metadata
from .titles import title_lines

WIDTH = 1600  # the EPUB cover's width in px; its height follows the trim
PAPER = (244, 239, 230)
INK = (38, 34, 30)
ACCENT = (140, 28, 19)  # 中国红
COLOURS = {"ink": INK, "accent": ACCENT}

MARGIN = 0.12  # of the width, on each side
BAND = 0.035  # the accent bands at the top and the bottom, of the height
LEADING = 1.3  # line height, of the type size


@dataclass(frozen=True)
class Element:
    """One element of the front cover: lines of text centred, or a rule, in fractions of the
    panel's width (x, sizes) and height (y)."""

    kind: str  # "series", "title", "subtitle", "credit", "publisher", "rule", "band"
    lines: tuple[str, ...]
    top: float  # of the height
    size: float  # type size, of the width (a rule's or band's thickness)
    colour: str  # "ink" or "accent"
    face: str  # "body" or "heading"
    width: float = 1.0  # a rule's width, of the panel's width


def front_cover(meta: Metadata, credits: list[str], aspect: float) -> tuple[Element, ...]:
    """The front cover of a panel `aspect` times as high as it is wide."""
    measure = 1 - 2 * MARGIN
    elements = [Element("band", (), 0.0, BAND, "accent", ""), Element("band", (), 1 - BAND, BAND, "accent", "")]
    top = 0.14
    if meta.series:
        series = meta.series + (f" · {meta.series_position}" if meta.series_position else "")
        top = _add(elements, Element("series", _lines(series, measure, 0.036), top, 0.036, "accent", "body"), aspect)
        top += 0.03
    top = _add(elements, Element("title", _lines(meta.title, measure, 0.085), top, 0.085, "ink", "heading"), aspect)
    if meta.subtitle:
        subtitle = _lines(meta.subtitle, measure, 0.045)
        top = _add(elements, Element("subtitle", subtitle, top + 0.02, 0.045, "ink", "body"), aspect)
    elements.append(Element("rule", (), top + 0.035, 0.005, "accent", "", width=0.15))
    shown = credits[:4]
    size = 0.038
    bottom = 0.80
    credit_top = bottom - len(shown) * size * LEADING / aspect
    for number, credit in enumerate(shown):
        line_top = credit_top + number * size * LEADING / aspect
        elements.append(Element("credit", (credit,), line_top, size, "ink", "body"))
    if meta.publisher:
        elements.append(Element("publisher", _lines(meta.publisher, measure, 0.036), 0.86, 0.036, "ink", "heading"))
    return tuple(elements)


def _lines(text: str, measure: float, size: float) -> tuple[str, ...]:
    return tuple(title_lines(text, measure / size))


def _add(elements: list[Element], element: Element, aspect: float) -> float:
    """Add a block of text; the top of what follows it."""
    elements.append(element)
    return element.top + len(element.lines) * element.size * LEADING / aspect


def cover_height(trim: tuple[float, float]) -> int:
    """The EPUB cover image's height in px: the print trim's proportions at WIDTH."""
    return round(WIDTH * trim[1] / trim[0])


def render_cover(meta: Metadata, credits: list[str], faces: dict[str, FontFace], trim: tuple[float, float]) -> bytes:
    """The front cover as PNG bytes, for the EPUB."""
    height = cover_height(trim)
    image = Image.new("RGB", (WIDTH, height), PAPER)
    draw = ImageDraw.Draw(image)
    fonts: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}
    for element in front_cover(meta, credits, height / WIDTH):
        top, colour = round(element.top * height), COLOURS[element.colour]
        if element.kind in ("band", "rule"):
            thickness = round(element.size * (height if element.kind == "band" else WIDTH))
            left = round((1 - element.width) / 2 * WIDTH)
            draw.rectangle((left, top, WIDTH - left - 1, top + thickness - 1), fill=colour)
            continue
        size = round(element.size * WIDTH)
        key = (element.face, size)
        if key not in fonts:
            fonts[key] = ImageFont.truetype(str(faces[element.face].path), size)
        font = fonts[key]
        ascent, descent = font.getmetrics()
        for number, line in enumerate(element.lines):
            width = font.getlength(line)
            # The font's ascent and descent centred in the line's height, as CSS sets a line.
            y = top + round(number * size * LEADING + (size * LEADING - ascent - descent) / 2)
            draw.text(((WIDTH - width) / 2, y), line, font=font, fill=colour, anchor="la")
    out = io.BytesIO()
    # zlib's run-length strategy (Z_RLE = 3) suits a cover of flat colour: 4 % smaller than the
    # default strategy and half the time.
    image.save(out, format="PNG", compress_level=6, compress_type=3)
    return out.getvalue()
