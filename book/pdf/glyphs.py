"""glyphs: lines drawn from the glyphs Pango already shaped, the justification as character spacing.

draw_line and show_run are compiled loops (book/_speedups.c) where they were built; their Python
twins here give the same bytes and run where they were not (BOOK_PURE_PYTHON=1 in CI).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import pydyf
import weasyprint.draw
import weasyprint.pdf
import weasyprint.pdf.fonts
from weasyprint.formatting_structure import boxes
from weasyprint.matrix import Matrix
from weasyprint.pdf.stream import Stream
from weasyprint.text.ffi import FROM_UNITS, TO_UNITS, ffi, pango

from ..compiled import compiled
from .options import current_options
from .paragraph import LineLayout, Shaped, fonts_held, hold_fonts
from .runs import python_runs
from .side import SideTable

_original_draw_text = weasyprint.draw.draw_text
# A standalone line's operators as shown on a page (by its layout): a leader's dots are copies of one box.
_SHOWN: SideTable[tuple[object, list[object]]] = SideTable()
# A standalone line's glyphs (by its layout), for its style and text.
_STANDALONE: SideTable[tuple[object, tuple[object, ...], LineLayout | None]] = SideTable()
# The fonts of a page's lines (by its stream).
_PAGE_FONTS: SideTable[dict[int, _PageFont]] = SideTable()
_EMPTY_GLYPH, _UNKNOWN_GLYPH = pango.PANGO_GLYPH_EMPTY, pango.PANGO_GLYPH_UNKNOWN_FLAG
_GLYPH_HIGH_BYTE = 3 if sys.byteorder == "little" else 0


def draw_text(stream: Stream, textbox: boxes.TextBox, offset_x: float, text_overflow: str, block_ellipsis: str) -> None:
    """draw_text, which draws a line from glyphs already shaped.

    WeasyPrint sets up a new layout for every text box it draws, sets and shapes the text again
    (with the justification's letter-spacing), and then reads the glyphs one by one through cffi.
    A line of a paragraph laid out at once has its glyphs in the paragraph's layout: it is drawn
    from them in one call (_speedups.draw_line, or its twin _python_draw_line), the justification
    added as Pango adds letter-spacing. A line WeasyPrint laid out itself is set up once for all
    the boxes that share its layout (_standalone_line). The glyphs are shown where Pango placed
    them (_show_glyphs)."""
    style = textbox.style
    if (
        not current_options().glyph_drawing
        or text_overflow == "ellipsis"
        or block_ellipsis != "none"
        or style["visibility"] != "visible"
        or style["text_decoration_line"] != "none"
    ):
        return _original_draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis)
    shown = bool(textbox.text.strip()) and style["font_size"] >= 1e-6  # as draw_first_line
    layout = textbox.pango_layout
    x, y = textbox.position_x, textbox.position_y + textbox.baseline
    if shown and isinstance(layout, LineLayout):  # a line of a paragraph laid out at once
        fonts = _page_fonts(stream)
        spacing = layout.justification_spacing if current_options().cjk_justification else 0
        arguments = (stream, layout, style["color"], spacing, x, y, fonts, _measure_glyph)
        draw = _compiled_draw_line or _python_draw_line
        drawn = draw(*arguments)
        while drawn is not None and drawn is not False:
            if drawn is True:  # see _speedups.draw_line
                drawn = _python_draw_line(*arguments)
            else:  # the font at this address: added to the page's
                _page_font(stream, layout, fonts, drawn)
                drawn = draw(*arguments)
        if drawn is False:  # see _runs_to_draw
            return _original_draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis)
        return None
    if shown:
        layout = _standalone_line(textbox)
    # A standalone line's glyphs shown on this page before (a leader's dots are copies of one box):
    # the same operators again.
    shown_before = _SHOWN.get(layout) or (None, None)
    replay = shown_before[1] if shown_before[0] is stream else None
    runs: list[_Run] | None = []
    if shown:
        runs = None if layout is None else [] if replay else _runs_to_draw(stream, layout, _page_fonts(stream))
    if runs is None:  # see _runs_to_draw; or right-to-left text: WeasyPrint's own way
        return _original_draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis)
    stream.set_color(style["color"])
    stream.begin_text()
    if shown:
        stream.set_text_matrix(*Matrix(d=-1, e=x, f=y).values)
        if replay:
            stream.stream.extend(replay)
        else:
            start = len(stream.stream)
            _show_glyphs(
                stream, layout, runs, layout.justification_spacing if current_options().cjk_justification else 0
            )
            _SHOWN.set(layout, (stream, stream.stream[start:]))
    stream.end_text()
    return None


def _python_draw_line(
    stream: Stream,
    layout: LineLayout,
    color: object,
    spacing: float,
    x: float,
    y: float,
    fonts: dict[int, _PageFont],
    measure: Callable[..., int],
) -> bool | None:
    """Draw a line taken from a paragraph's layout, a text object of its glyphs from (x, y),
    justified by `spacing` (points); False, with nothing written, where WeasyPrint must draw it
    (see _runs_to_draw). `measure`: _measure_glyph, or a stand-in. (Compiled:
    _speedups.draw_line, which returns what this does, or the address of a font to add.)"""
    runs = _runs_to_draw(stream, layout, fonts)
    if runs is None:
        return False
    stream.set_color(color)
    stream.begin_text()
    stream.set_text_matrix(*Matrix(d=-1, e=x, f=y).values)
    _show_glyphs(stream, layout, runs, spacing, measure)
    stream.end_text()
    return None


def _standalone_line(textbox: boxes.TextBox) -> LineLayout | None:
    """The glyphs of a text box that WeasyPrint laid out itself (a heading, a contents entry), set
    up as draw_text sets them up, once for all the boxes that share its layout; None for
    right-to-left text.

    A leader is one text box copied once per dot (layout/leader.py): a contents page had 1,444 boxes
    to draw, each set up and shaped again. The glyphs are taken with the justification's
    letter-spacing that Pango added, so none is added when they are shown."""
    layout = textbox.pango_layout
    key = (layout.text, layout.justification_spacing)
    known = _STANDALONE.get(layout)
    if known is not None and known[0] is textbox.style and known[1] == key:
        return known[2]
    layout.reactivate(textbox.style)
    try:
        pango.pango_layout_set_single_paragraph_mode(layout.layout, True)
        first_line, _ = layout.get_first_line()
        run, right_to_left = first_line.runs, False
        while run != ffi.NULL:
            right_to_left |= bool(run.data.item.analysis.level % 2)  # as draw_first_line reads it
            run = run.next
        line = None
        if not right_to_left:
            line = LineLayout.__new__(LineLayout)
            line.shaped = Shaped(layout.text.encode(), 0, b"", (0.0, 0.0), fonts_held(textbox.style))
            line.runs = python_runs(first_line)
            hold_fonts(line.shaped.fonts, (run[0] for run in line.runs))
            line.justification_spacing = 0
            if current_options().cjk_justification and layout.justification_spacing:
                line.spaced_by = int(layout.justification_spacing * TO_UNITS)
    finally:
        layout.deactivate()
    _STANDALONE.set(layout, (textbox.style, key, line))
    return line


_Run = tuple[object, object, float, dict[int, int], int, int, bytes, bytes]


class _PageFont(NamedTuple):
    """A font of a page's lines (_PAGE_FONTS, by the address of its Pango font). The page
    holds it: no other font takes its address. _speedups.draw_line reads its fields in this order."""

    font: weasyprint.pdf.fonts.Font
    pango_font: Any
    font_size: float
    measured: dict[int, int]  # the widths measured in this process (_MEASURED), of its face at its size
    held: object  # the reference that holds the Pango font (Shaped.fonts)
    drawable: bool  # not a colour or bitmap font: its glyphs are drawn here
    widths: dict[int, int]  # the font's widths and texts, noted as the page uses its glyphs
    to_unicode: dict[int, str]
    key: tuple[str, float]  # as stream.set_font_size notes the font set
    set_font: bytes  # the Tf operator that sets it
    to_em: float  # Pango units to thousandths of an em
    to_units: float  # and back

    @classmethod
    def of(
        cls, font: weasyprint.pdf.fonts.Font, pango_font: Any, size: float, held: object, drawable: bool
    ) -> _PageFont:
        """The page's font `font` (its Pango font held by `held`) at `size`."""
        return cls(
            font,
            pango_font,
            size,
            _MEASURED.setdefault((font.hash, size), {}),
            held,
            drawable,
            font.widths,
            font.to_unicode,
            (font.hash, size),
            b"/" + pydyf._to_bytes(font.hash) + b" " + pydyf._to_bytes(size) + b" Tf",  # pydyf's set_font_size
            1000 * FROM_UNITS / size,  # as _show_glyphs
            size * TO_UNITS / 1000,
        )


def _page_fonts(stream: Stream) -> dict[int, _PageFont]:
    """The fonts of the page that `stream` draws, by their Pango font's address."""
    fonts = _PAGE_FONTS.get(stream)
    return _PAGE_FONTS.set(stream, {}) if fonts is None else fonts


def _page_font(stream: Stream, layout: LineLayout, fonts: dict[int, _PageFont], address: int) -> _PageFont:
    """The font at `address`, of a run of `layout`, added to the page's `fonts`.

    stream.add_font describes and hashes the Pango font on every call: a page's fonts are known
    by their address."""
    pango_font, held = layout.shaped.fonts[address]
    font, font_size = stream.add_font(pango_font)
    drawable = not (font.svg or font.png or font.colr or font.bitmap)
    fonts[address] = known = _PageFont.of(font, pango_font, font_size, held, drawable)
    return known


def _runs_to_draw(stream: Stream, layout: LineLayout, fonts: dict[int, _PageFont]) -> list[_Run] | None:
    """The line's runs: (font, Pango font, font size, the widths measured in the face at that
    size, item offset and length, PangoGlyphInfos and clusters as Pango stores them), or None if
    WeasyPrint must draw the line (colour or bitmap fonts, glyphs that no font has). `fonts`: the
    page's."""
    runs = []
    for address, offset, length, glyphs, clusters in layout.runs:
        if (known := fonts.get(address)) is None:
            known = _page_font(stream, layout, fonts, address)
        if not known.drawable:
            return None
        # A glyph no font has is PANGO_GLYPH_UNKNOWN_FLAG (0x10000000) with the character
        # (pango-glyph.h): the only glyph values from the flag up, the only ones whose high byte is
        # 0x10 or more. The glyph is the first 32 bits of each 20-byte PangoGlyphInfo.
        if glyphs and max(glyphs[_GLYPH_HIGH_BYTE::20]) >= _UNKNOWN_GLYPH >> 24:
            return None
        runs.append((known.font, known.pango_font, known.font_size, known.measured, offset, length, glyphs, clusters))
    return runs


def _show_glyphs(
    stream: Stream, layout: LineLayout, runs: list[_Run], spacing: float, measure: Callable[..., int] | None = None
) -> None:
    """Show the glyphs of a line where Pango placed them, the justification as character spacing.

    Pango letter-spacing (pango-layout.c, shape_run and adjust_line_letter_spacing; glyphitem.c,
    pango_glyph_item_letter_space) gives every cluster of a spaced run `left` before it (added to
    its first glyph's width and x offset) and `right` after it (added to its last glyph's width),
    except before the line's first cluster and after its last. The spaced runs are the CJK runs
    of set_text_with_cjk_spacing. So every glyph of a justified CJK line is `left + right` after
    the one before it: that is the PDF's character spacing (Tc, PDF 32000-1 §9.3.2), set once for
    the line, and a glyph is shown without an adjustment where the font's width and the spacing
    place it. Elsewhere an adjustment moves it to Pango's position, in whole thousandths of an
    em, the remainder carried to the next glyph, so that no error adds up along the line.
    (WeasyPrint's draw_first_line writes two adjustments a glyph, the second cut to a whole
    thousandth: in 红楼梦's first ten chapters its characters stood up to 0.26 pt left of these,
    and its justified lines ended short of the measure by amounts that varied from line to line.)"""
    units = int(spacing * TO_UNITS) if spacing else 0
    left = units // 2
    if units and units & (TO_UNITS - 1) == 0:
        left = (left + 512) & ~1023  # PANGO_UNITS_ROUND, Pango's hinting of whole-point spacing
    right = units - left
    character_spacing = b""
    if units or layout.spaced_by:
        character_spacing = pydyf._to_bytes((units or layout.spaced_by) * FROM_UNITS)
        stream.stream.append(character_spacing + b" Tc")
    tc = float(character_spacing or 0) * TO_UNITS  # as written: the positions follow it exactly
    encoded, spaced = layout.shaped.encoded, layout.shaped.spaced
    previous_font = None
    # The text operand being built, [<glyphs>adjustment<glyphs>…] without its closing ">"; empty
    # while it shows no glyph.
    parts: list[str] = []
    # In Pango units from the line's start: Pango's pen, and where the PDF shows the next glyph.
    pen = at = 0.0
    last_run = len(runs) - 1
    for number, run in enumerate(runs):
        font, pango_font, font_size, measured, item_offset, item_length, glyph_infos, glyph_clusters = run
        if pango_font != previous_font:
            previous_font = pango_font
            if parts:
                stream.show_text("".join(parts) + ">")
            parts = []
            stream.set_font_size(font.hash, font_size)  # type: ignore[attr-defined]
        to_em = 1000 * FROM_UNITS / font_size  # Pango units to thousandths of an em
        to_units = font_size * TO_UNITS / 1000
        widths, to_unicode = font.widths, font.to_unicode  # type: ignore[attr-defined]
        last = len(glyph_clusters) // 4 - 1 if number == last_run else -1  # the line's last glyph
        measure_run = functools.partial(measure or _measure_glyph, stream, pango_font, font_size, measured, widths)
        if _show_run is not None:
            shown = _show_run(
                glyph_infos, glyph_clusters, spaced, encoded, item_offset, item_length, units, left, right,
                not number, last, to_em, to_units, tc, widths, measured, measure_run, to_unicode, pen, at, bool(parts),
            )  # fmt: skip
            if shown is not None:
                text, pen, at = shown
                if text:  # not a run of empty glyphs only
                    parts.append(text)
                continue
        infos = memoryview(glyph_infos).cast("i").tolist()
        clusters = memoryview(glyph_clusters).cast("i").tolist()
        count = len(clusters)
        advances: dict[int, float] = {}  # each glyph's advance in the PDF, in Pango units
        glyphs = zip(
            range(count),
            infos[0::5],
            infos[1::5],
            infos[2::5],
            infos[3::5],
            clusters,
            [-1, *clusters[:-1]],
            [*clusters[1:], item_length],
            strict=True,
        )
        for i, glyph_id, width, x_offset, y_offset, cluster, cluster_before, cluster_end in glyphs:
            if units and spaced[item_offset + cluster]:
                if cluster_before != cluster and (number or i):  # the line's first: no left
                    width += left
                    x_offset += left
                if cluster_end != cluster and i != last:  # the line's last: no right
                    width += right
            if glyph_id == _EMPTY_GLYPH:
                pen += width
                continue
            if glyph_id not in to_unicode:  # as WeasyPrint: a cluster's text goes to its last glyph
                to_unicode[glyph_id] = encoded[item_offset + cluster : item_offset + cluster_end].decode()
            if (adjustment := round((at - pen - x_offset) * to_em)) != 0:
                at -= adjustment * to_units
            if y_offset:  # raised or lowered: shown on its own
                if parts:
                    stream.show_text("".join(parts) + ">")
                stream.set_text_rise(-y_offset * FROM_UNITS)
                stream.show_text(f"{adjustment}<{glyph_id:04x}>" if adjustment else f"<{glyph_id:04x}>")
                stream.set_text_rise(0)
                parts = []
            elif not adjustment:
                parts.append(f"{glyph_id:04x}" if parts else f"<{glyph_id:04x}")
            else:
                parts.append(f">{adjustment}<{glyph_id:04x}" if parts else f"{adjustment}<{glyph_id:04x}")
            if (advance := advances.get(glyph_id)) is None:
                logical_width = widths.get(glyph_id)
                if logical_width is None:
                    logical_width = measure_run(glyph_id)
                advance = advances[glyph_id] = logical_width * to_units + tc
            at += advance
            pen += width
    if parts:
        stream.show_text("".join(parts) + ">")
    if character_spacing:
        stream.stream.append(b"0 Tc")  # the text state outlives the text object


def _measure_glyph(
    stream: Stream, pango_font: Any, font_size: float, measured: dict[int, int], widths: dict[int, int], glyph: int
) -> int:
    """A glyph's width in thousandths of an em, as WeasyPrint measures it for the W array, noted in
    the font's widths (those of the glyphs this piece uses)."""
    if (width := measured.get(glyph)) is None:
        pango.pango_font_get_glyph_extents(pango_font, glyph, stream.ink_rect, stream.logical_rect)
        width = measured[glyph] = round(stream.logical_rect.width * 1000 * FROM_UNITS / font_size)
    widths[glyph] = width
    return width


# The widths measured in this process, by face (WeasyPrint's font hash, from its description) and
# size: each piece is a document of its own, with fonts of its own, and a chapter measured again
# the 1,500 glyphs or so that the chapters before it had measured.
_MEASURED: dict[tuple[str, float], dict[int, int]] = {}


# The loop over a run's glyphs compiled (book/_speedups.c, built by `pip install`): the same
# arithmetic and text as the loop above, which shows the runs it hands back, and every run where
# it was not built.
_show_run = compiled("show_run")

# A line of a paragraph drawn in C where it was compiled: its colour to the end of its text object
# in one call, the same bytes as _python_draw_line.
_compiled_draw_line = compiled("draw_line")
