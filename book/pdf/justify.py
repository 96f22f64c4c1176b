"""justify: CJK inter-character justification for WeasyPrint (CSS Text 3 `text-justify:
inter-character`, clreq "Line Adjustment"), and clreq's punctuation width adjustment.

Shaped to be proposed upstream as it stands (docs/upstream.md): each function replaces or wraps
one WeasyPrint 70 function, named in its docstring, and is tested on small documents by box
geometry (tests/test_justify.py).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator

from weasyprint.formatting_structure import boxes
from weasyprint.layout import LayoutContext, inline
from weasyprint.text.ffi import TO_UNITS, ffi, pango
from weasyprint.text.line_break import Layout

from ..text import DASH, ELLIPSIS, halt_positions
from .options import current_options

# Inter-character justification (clreq "Line Adjustment"; CSS Text 3 `text-justify: inter-character`).
#
# WeasyPrint 70 justifies only at spaces (layout/inline.py: count_expandable_spaces counts the
# spaces of a line, add_word_spacing widens the boxes, and text/line_break.py Layout.set_text
# turns the spacing into Pango letter-spacing on each space when the text is drawn). Chinese
# lines have no spaces, so they stayed ragged. This extension makes every CJK character an
# expansion opportunity too: Pango gives a character with letter-spacing s half of s on each
# side, except at the ends of the text box, so a box whose CJK characters get s grows by
# s × (their count − half of the first and half of the last, when those are CJK). The counting
# function below says exactly that, so the boxes' widths and the drawn glyphs agree.
# The text itself is never changed.

CJK_JUSTIFIABLE = re.compile(
    "[\u2014\u2018\u2019\u201c\u201d\u2026\u00b7\u3000-\u303f\u3040-\u30ff\u3100-\u312f"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f]"
)
_CJK_RUN = re.compile(CJK_JUSTIFIABLE.pattern + "+")
_NOT_CJK_JUSTIFIABLE = re.compile("[^" + CJK_JUSTIFIABLE.pattern[1:])
_DASH_RUN = re.compile("\u2014+")
_spaces_only_count = inline.count_expandable_spaces
_original_set_text = Layout.set_text


# `——` and `……` are one glyph in Noto CJK (a ligature): a run of either mark counts once.
_LIGATED_MARKS = (DASH[0], ELLIPSIS[0])
_LIGATED_RUN = re.compile("|".join(f"{mark}+" for mark in _LIGATED_MARKS))
NO_BREAK_SPACE = "\u00a0"


def spaces_and_ligatures(text: str) -> tuple[int, bool]:
    """The spaces of `text` (WeasyPrint's expansion opportunities), and whether it has a mark that
    ligates."""
    return text.count(" ") + text.count(NO_BREAK_SPACE), any(mark in text for mark in _LIGATED_MARKS)


def count_expansion_opportunities(box: boxes.Box) -> float:
    """Spaces (WeasyPrint's own opportunities) plus the CJK characters' share, in units of spacing.

    `——` and `……` are one glyph in Noto CJK (a ligature), and Pango spaces a cluster once, so
    each such run counts as one character."""
    if isinstance(box, boxes.TextBox):
        text = box.text
        spaces, ligatures = spaces_and_ligatures(text)
        if not current_options().cjk_justification or not text:
            return spaces
        folded = _LIGATED_RUN.sub(DASH[0], text) if ligatures else text
        count: float = len(folded) - len(_NOT_CJK_JUSTIFIABLE.findall(folded))  # the others are fewer: faster
        if count:  # the first and the last character get half their share (no spacing outside the box)
            count -= (CJK_JUSTIFIABLE.match(folded[0]) is not None) / 2 + (
                CJK_JUSTIFIABLE.match(folded[-1]) is not None
            ) / 2
        return spaces + count
    if isinstance(box, boxes.LineBox | boxes.InlineBox):
        return sum(count_expansion_opportunities(child) for child in box.children)
    return 0


def set_text_with_cjk_spacing(self: Layout, text: str, justify: bool = False) -> None:
    """Layout.set_text, plus clreq's punctuation width adjustment on the marks that meet another
    (text.halt_positions) and, when justified text is drawn, letter-spacing on the CJK characters.

    The marks are adjusted here, as the text is shaped, rather than by a span with OpenType halt
    around each one: a span cuts the line into three boxes that WeasyPrint lays out and draws one
    by one. A mark's neighbour may be just past the text: when WeasyPrint sets a line cut from the
    text it set before, that text gives the next character."""
    previous = getattr(self, "text", None)
    _original_set_text(self, text, justify)
    if previous != text:  # the same text again is the line being drawn: its neighbour is known
        self.following = previous[len(text) : len(text) + 1] if previous and previous.startswith(text) else ""
    halts = [i for i in halt_positions(self.text + self.following) if i < len(self.text)]
    if squeezed := getattr(self, "squeezed", ()):  # single marks a line squeezes to fit (inline_fit)
        halts = sorted({*halts, *squeezed})
    # A dash (——) stays with the character before it: it may not begin a line (clreq line-start
    # prohibition), while UAX #14, which Pango follows, allows a break before it.
    dashes = [(run.start() - 1, run.end()) for run in _DASH_RUN.finditer(self.text) if run.start() > 0]
    spacing = justify and current_options().cjk_justification and self.justification_spacing
    if not (halts or dashes or spacing) or not self.text:
        return
    attributes = pango.pango_layout_get_attributes(self.layout)
    if attributes == ffi.NULL:
        attributes = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)
    # Pango applies every font-features attribute that covers a character (they never override
    # each other), so halt adds to the features of the text's style.
    for start, end in byte_ranges(self.text, [(i, i + 1) for i in halts]):
        attribute = pango.pango_attr_font_features_new(b"halt 1")
        attribute.start_index, attribute.end_index = start, end
        pango.pango_attr_list_insert(attributes, attribute)
    for start, end in byte_ranges(self.text, dashes):
        attribute = pango.pango_attr_allow_breaks_new(False)  # no break inside the range
        attribute.start_index, attribute.end_index = start, end
        pango.pango_attr_list_insert(attributes, attribute)
    if spacing:
        letter_spacing = self.style["letter_spacing"]
        units = int((self.justification_spacing + (0 if letter_spacing == "normal" else letter_spacing)) * TO_UNITS)
        # One attribute per run of CJK characters (Pango would merge per-character ones into the
        # same runs: pango_attr_list_change joins equal adjacent attributes).
        runs = [run.span() for run in _CJK_RUN.finditer(self.text)]
        for start, end in byte_ranges(self.text, runs):
            attribute = pango.pango_attr_letter_spacing_new(units)
            attribute.start_index, attribute.end_index = start, end
            pango.pango_attr_list_change(attributes, attribute)
    pango.pango_layout_set_attributes(self.layout, attributes)


def byte_ranges(text: str, spans: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Character spans of `text` (in order) as UTF-8 byte spans, as Pango indexes text."""
    byte, position = 0, 0
    for start, end in spans:
        byte += len(text[position:start].encode())
        length = len(text[start:end].encode())
        yield byte, byte + length
        byte, position = byte + length, end


_original_add_word_spacing = inline.add_word_spacing


def add_word_spacing(context: LayoutContext, box: boxes.Box, justification_spacing: float, x_advance: float) -> float:
    """add_word_spacing, which for a text box keeps the line it laid out, with the spacing set.

    WeasyPrint makes a new Layout of the text for every justified line (a Pango context, a font
    description, the text set) only to keep it, unused, until the line is drawn, when it is set
    up again. The copy keeps the text and the character after it (halt at the line's end)."""
    if not isinstance(box, boxes.TextBox) or getattr(box, "pango_layout", None) is None:
        return _original_add_word_spacing(context, box, justification_spacing, x_advance)
    box.justification_spacing = justification_spacing
    box.position_x += x_advance
    if count := count_expansion_opportunities(box):
        layout = copy.copy(box.pango_layout)  # laid out and deactivated: no Pango objects to share
        layout.justification_spacing = justification_spacing
        box.pango_layout = layout
        box.width += justification_spacing * count
        x_advance += justification_spacing * count
    return x_advance


# A byte of UTF-8 begins a character unless it is a continuation byte (0x80–0xBF).
_CHARACTER_STARTS = bytes(0 if 0x80 <= b < 0xC0 else 1 for b in range(256))


def cjk_character_starts(text: str) -> bytes:
    """For each UTF-8 byte of `text`, 1 where a character that justification spaces begins."""
    flags = bytearray(len(text.encode()))
    byte = position = 0
    for run in _CJK_RUN.finditer(text):
        byte += len(text[position : run.start()].encode())
        encoded = run[0].encode()
        flags[byte : byte + len(encoded)] = encoded.translate(_CHARACTER_STARTS)
        byte, position = byte + len(encoded), run.end()
    return bytes(flags)


_original_text_align = inline.text_align


def text_align(context: LayoutContext, line: boxes.LineBox, available_width: float, last: bool) -> float:
    """text_align, after removing the ¼-em Han/Latin gaps that fall at the line's ends.

    clreq "Mixed Text Composition": the gap is between Han and Latin text, never at a line's
    start or end: a justified line would stop short of the edge, and any line (a paragraph's
    last, a line set flush left) would start a quarter em in.
    """
    if current_options().cjk_justification:
        line.width -= _trim_edge_margins(line)
    return _original_text_align(context, line, available_width, last)


def _trim_edge_margins(line: boxes.LineBox) -> float:
    children = [child for child in line.children if child.is_in_normal_flow()]
    gained = 0.0
    if children and isinstance(children[-1], boxes.InlineBox) and children[-1].margin_right:
        gained += children[-1].margin_right
        children[-1].margin_right = 0
    if children and isinstance(children[0], boxes.InlineBox) and children[0].margin_left:
        margin, first = children[0].margin_left, children[0]
        first.margin_left = 0
        for child in children:
            child.translate(-margin, 0)
        first.position_x += margin  # its margin box still starts at the line's start
        gained += margin
    return gained
