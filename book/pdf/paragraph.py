"""paragraph: a paragraph of plain text laid out at once in one Pango layout, its lines noted.

WeasyPrint finds each line on its own, shaping the text from the line's start again; here the
lines of a paragraph are read from one layout (with the C loop paragraph_lines where it was
built, else its Python twin), and lines.py hands them to WeasyPrint.
"""

from __future__ import annotations

import itertools
import re
import weakref
from collections.abc import Iterable
from typing import Any, NamedTuple

from weasyprint.formatting_structure import boxes
from weasyprint.layout import LayoutContext
from weasyprint.text import line_break
from weasyprint.text.ffi import FROM_UNITS, TO_UNITS, ffi, gobject, pango
from weasyprint.text.line_break import Layout

from ..compiled import compiled
from ..text import HAN, halt_positions, squeezable_marks
from .breaking import advances, beside_quote, break_mask, choose_breaks, quote_breaks
from .justify import CJK_JUSTIFIABLE, byte_ranges, cjk_character_starts, spaces_and_ligatures
from .options import current_options
from .runs import GlyphRun, char_widths, python_runs, text_line_breaks
from .side import SideTable

# Lines of a paragraph from one layout. WeasyPrint finds each line of a paragraph on its own:
# it sets and shapes the text from the line's start (two lines of it, see split_first_line),
# takes the first line and throws the rest away, so every character is shaped two or three times.
# A paragraph of Chinese is one unbroken text: its lines are laid out in one Pango layout of the
# available width (the first line shorter by the indent), and each is read from it when
# WeasyPrint asks for it, then drawn from its glyphs (draw_text). A line is taken from the layout
# only where WeasyPrint would have kept Pango's break as it is: none of the spaces and breaks
# WeasyPrint handles itself in the text (_PLAIN_TEXT), and the line ends on a CJK character or
# ends the text. Anything else is left to WeasyPrint.

# Characters WeasyPrint handles itself when it breaks lines: collapsible and no-break spaces (it
# trims and justifies them), line and paragraph separators, soft hyphens, zero-width spaces.
# The ideographic space U+3000 is none of these: a CJK character like any other.
_PLAIN_TEXT = re.compile("[^ \t\n\r\f\v\x85\xa0\xad\u200b\u2028\u2029]+")
_HAN = re.compile(HAN)
# The characters that advance 1 em (or half, a halted mark) without being shaped: Han and
# full-width marks. Runs of any others (_OTHER_RUN) are shaped once per style (_run_widths).
_EM_WIDE = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff5e\u2014\u2026\u201c\u201d\u2018\u2019"
# By text box: its paragraph's layout from one start and width; whether its text is plain (for
# that text). By style: whether it is plain.
_PARAGRAPHS: SideTable[_Paragraph] = SideTable()
_PLAIN_TEXTS: SideTable[tuple[str, bool]] = SideTable()
_PLAIN_STYLES: SideTable[bool] = SideTable()
_STYLE_KEYS: SideTable[tuple[object, ...]] = SideTable()  # _style_key
_STRUTS: SideTable[tuple[float, float]] = SideTable()  # _strut
_HALTS_PER_LAYOUT = 24


class Line(NamedTuple):
    """A line of a paragraph laid out at once: where it ends and its metrics, in points. (A named
    tuple: one is made for each line of a book, and a frozen dataclass sets each field through
    object.__setattr__.)"""

    end: int  # in UTF-8 bytes from the start of the text box
    resume_at: int | None
    width: float
    height: float
    baseline: float
    direction: int
    shaped: Shaped
    runs: tuple[GlyphRun, ...]  # its glyphs, as Pango shaped them in the paragraph's layout
    opportunities: float | None  # for justification (_opportunities); None: counted from its text


class Shaped(NamedTuple):
    """The text of a paragraph's layout, for the lines taken from it."""

    encoded: bytes
    start: int  # where its text begins in the text box's, in UTF-8 bytes
    spaced: bytes  # 1 at the first byte of each CJK character, which justification spaces
    strut: tuple[float, float]  # the line-height and baseline of the text's style
    # The fonts of its lines' runs by address: the PangoFont * and a reference that holds it (no
    # other font takes its address while a line is kept): fonts_held
    fonts: dict[int, tuple[object, object]]


class LineLayout(Layout):
    """The layout of a line taken from a paragraph's layout: drawn from its glyphs (draw_text),
    without setting and shaping the line's text again. Set up again, it is the line's own layout."""

    shaped: Shaped
    runs: tuple[GlyphRun, ...]
    opportunities: float | None  # Line.opportunities
    spaced_by = 0  # the CJK letter-spacing already in the glyphs' widths, in Pango units (_standalone_line)


class _Paragraph(NamedTuple):
    """The lines of a text box's text from one start on, laid out at one width."""

    text: str
    width: float
    start: int  # in UTF-8 bytes
    first_width: float  # the width of the line at `start`
    lines: dict[int, Line | None]  # by start, in UTF-8 bytes; None: left to WeasyPrint
    # The breaks chosen for the rest of the paragraph from its window's start on, as character
    # indices of the text box's text: the next window takes its own from them. None: Pango's.
    fitted: tuple[int, ...] | None = None
    fitted_from: int = -1  # the character the breaks were chosen from
    squeezed: tuple[int, ...] = ()  # the marks those lines set in half width to fit, as character indices


def _opportunities(shaped: Shaped, start: int, end: int) -> float | None:
    """count_expansion_opportunities for the text box of a line of `shaped` (bytes `start` to
    `end` of its text), its CJK characters counted by the layout's flags, without matching the
    text; None where a mark ligates (see count_expansion_opportunities)."""
    text = shaped.encoded[start:end].decode()
    spaces, ligatures = spaces_and_ligatures(text)
    if not text or ligatures:
        return None
    count: float = shaped.spaced.count(1, start, end)
    if count:  # the first and the last character get half their share
        count -= shaped.spaced[start] / 2 + (CJK_JUSTIFIABLE.match(text[-1]) is not None) / 2
    return spaces + count


def paragraph_line(
    context: LayoutContext, box: boxes.TextBox, width: float | None, skip: int, line_width: float | None
) -> Line | None:
    """The line of `box` that starts `skip` bytes in, from the paragraph's layout at `width`
    (`line_width` for this line), or None where WeasyPrint must find it itself."""
    if (
        not current_options().paragraph_layout
        or width is None
        or not 0 < width < 2**21
        or box.justification_spacing
        or not plain_style(box.style)
    ):
        return None
    paragraph = _PARAGRAPHS.get(box)
    if (
        paragraph is None
        or paragraph.text is not box.text
        or not _same_measure(paragraph.width, width)
        or skip not in paragraph.lines
        or (skip == paragraph.start and (line_width is None or not _same_measure(paragraph.first_width, line_width)))
    ):
        if not plain_text(box) or line_width is None or not 0 < line_width <= width:
            return None
        paragraph = _PARAGRAPHS.set(box, _short_paragraph(context, box, width, skip, line_width))
    return paragraph.lines[skip]


def _pango_width(width: float) -> int:
    """A line width in points as Pango is given it, in whole Pango units (create_layout)."""
    return int(width * TO_UNITS)


def _same_measure(laid_out: float, width: float) -> bool:
    """Whether lines laid out at width `laid_out` (points) are those of `width`: Pango is given
    the width in whole Pango units (_pango_width), and a line's width, a whole number of units,
    overflows both or neither (x > w for x = k / 1024 is k > int(w * 1024)).

    A paragraph's width differs by some 1e-8 pt between left and right pages (split_inline_box
    widens its right edge by a factor of 1 + 1e-9, and a left page's edge is elsewhere): compared
    exactly, each page turn laid out the rest of a paragraph again (1.24 million characters laid
    out for 红楼梦, 857,000 compared in units)."""
    return _pango_width(laid_out) == _pango_width(width)


def plain_text(box: boxes.TextBox) -> bool:
    """Whether the text of `box` has none of the characters WeasyPrint handles itself
    (_PLAIN_TEXT). Known once per text: a long paragraph is laid out in several windows."""
    text = box.text
    known = _PLAIN_TEXTS.get(box)
    if known is None or known[0] is not text:
        known = _PLAIN_TEXTS.set(box, (text, _PLAIN_TEXT.fullmatch(text) is not None))
    return known[1]


def plain_style(style: Any) -> bool:
    """Whether text of this style breaks into lines as Pango breaks it, with nothing that WeasyPrint
    adds (spacing, decoration, hyphenation). Known once per style object: a paragraph's style is
    read again for each of its lines."""
    known = _PLAIN_STYLES.get(style)
    if known is None:
        known = _PLAIN_STYLES.set(
            style,
            style["white_space"] == "normal"
            and style["word_break"] == "normal"
            and style["letter_spacing"] == "normal"
            and not style["word_spacing"]
            and style["text_decoration_line"] == "none"
            and style["hyphens"] != "auto"
            and bool(style["font_size"]),
        )
    return known


# A short text comes back page after page (a running head, a folio): its layout is kept, for the
# fonts it was made with. The key holds what the layout depends on besides the defaults that
# paragraph_line asks for.
_SHORT_TEXT = 64
_short_paragraphs: weakref.WeakKeyDictionary[object, dict[tuple[object, ...], _Paragraph]] = weakref.WeakKeyDictionary()


def _short_paragraph(
    context: LayoutContext, box: boxes.TextBox, width: float, skip: int, line_width: float
) -> _Paragraph:
    """_lay_out_paragraph, or for a short text laid out before in the same fonts, that layout."""
    if len(box.text) > _SHORT_TEXT:
        return _lay_out_paragraph(context, box, width, skip, line_width)
    style = box.style
    key = (box.text, _pango_width(width), skip, _pango_width(line_width), *_style_key(style))  # _same_measure
    known = _short_paragraphs.setdefault(style.font_config, {})
    if (paragraph := known.get(key)) is None:
        if len(known) >= 512:
            known.clear()
        paragraph = known[key] = _lay_out_paragraph(context, box, width, skip, line_width)
    return paragraph._replace(text=box.text)  # the box's own text: paragraph_line's check


def _lay_out_paragraph(
    context: LayoutContext, box: boxes.TextBox, width: float, skip: int, first_width: float
) -> _Paragraph:
    """Lay out the text of `box` from `skip` on at `width`, its first line at `first_width` (a
    paragraph's first line is shorter by the indent), and note each line.

    Pango gives HarfBuzz at most 32 font features for a run of text (pango/shape.c), and a run
    is all of a paragraph in one font: past 32, halt would be dropped from the first marks. So
    the text is laid out up to its 25th halted mark, cut between two Han characters; the lines
    that end two characters or more before the cut are kept (their breaks are those of the whole
    text, as in split_first_line), and the next layout starts where they end."""
    encoded = box.text.encode()
    text = encoded[skip:].decode()
    fitted = None
    start_char = len(encoded[:skip].decode())
    whole: tuple[int, ...] | None = None  # the rest of the paragraph's breaks
    chosen_from = -1  # the character `whole` was chosen from; -1: none were
    squeezed: tuple[int, ...] = ()  # the marks the rest of the paragraph's lines squeeze
    if current_options().total_fit and _HAN.search(text):
        # The breaks of all the rest of the paragraph, chosen together; this window takes those
        # that fall in it (the rest of an optimal set of breaks, from one of them on, is the
        # optimal set for the rest of the text): chosen once, at the paragraph's first window.
        before = _PARAGRAPHS.get(box)
        if (
            before is not None
            and before.text is box.text
            and _same_measure(before.width, width)
            and before.fitted_from >= 0
            and (before.fitted is None or start_char == before.fitted_from or start_char in before.fitted)
        ):
            known = None if before.fitted is None else [b - start_char for b in before.fitted if b > start_char]
            fitted, whole, chosen_from, squeezed = known, before.fitted, before.fitted_from, before.squeezed
        else:
            chosen = _fitted_breaks(context, box.style, text, first_width, width)
            fitted = None if chosen is None else chosen[0]
            whole = None if chosen is None else tuple(start_char + b for b in chosen[0])
            squeezed = () if chosen is None else tuple(start_char + q for q in chosen[1])
            chosen_from = start_char
    halved = [q - start_char for q in squeezed if q >= start_char]  # in this window's text
    cut = _window_end(text, halved)
    # A line chosen to end beside a quotation mark, where Pango breaks no line, ends the window:
    # the line ends with the window's text, and is kept.
    at_quote = next((b for b in fitted or () if b < cut and beside_quote(text, b)), None)
    cut = cut if at_quote is None else at_quote
    shown = text[:cut].encode()
    whole_lines = cut == len(text) or at_quote is not None
    keep_to = skip + (len(shown) if whole_lines else len(shown) - 6)  # in bytes of the whole text
    layout = _window_layout(context, box, shown, width, first_width)
    fonts = fonts_held(box.style)
    shaped = Shaped(shown, skip, cjk_character_starts(text[:cut]), _strut(box.style), fonts)
    arguments = (keep_to - skip, skip, len(encoded), first_width, width)
    if fitted is not None:
        fitted = [start for start in fitted if start < cut]
        # set before Pango first lays the text out
        _allow_breaks_only_at(layout, text[:cut], fitted, [q for q in halved if q < cut])
    lines = _read_lines(layout, arguments, shaped)
    if fitted is not None and not _kept_as_chosen(lines, text[:cut], skip, fitted, whole=cut == len(text)):
        # Pango measured otherwise than the model: its own breaks, laid out again
        layout = _window_layout(context, box, shown, width, first_width)
        lines = _read_lines(layout, arguments, shaped)
    lines.setdefault(skip, None)  # not a whole line before the cut: left to WeasyPrint
    return _Paragraph(box.text, width, skip, first_width, lines, whole, chosen_from, squeezed)


def _window_end(text: str, squeezed: list[int]) -> int:
    """Where the window of `text` laid out at once ends: at its 25th mark set in half width (paired,
    or `squeezed` to fit a line), moved back to fall between two Han characters; or the text's end."""
    halts = halt_positions(text, _HALTS_PER_LAYOUT + 1)  # not the rest of a long paragraph's, each window
    if squeezed:
        halts = sorted(halts + squeezed[: _HALTS_PER_LAYOUT + 1])[: _HALTS_PER_LAYOUT + 1]
    cut = len(text)
    if len(halts) > _HALTS_PER_LAYOUT:
        cut = halts[_HALTS_PER_LAYOUT]
        while cut > 1 and not (_HAN.match(text[cut - 1]) and _HAN.match(text[cut])):
            cut -= 1
    return cut


def _window_layout(
    context: LayoutContext, box: boxes.TextBox, shown: bytes, width: float, first_width: float
) -> Layout:
    """A Pango layout of a window of the text of `box`, its first line at `first_width`."""
    layout = line_break.create_layout(shown.decode(), box.style, context, width, 0)
    if first_width != width:
        # Pango sets the first line in the layout's width less the indent: in Pango units, that is
        # the width WeasyPrint would give it, to the unit.
        pango.pango_layout_set_indent(layout.layout, _pango_width(width) - _pango_width(first_width))
    return layout


def _fitted_breaks(
    context: LayoutContext, style: Any, text: str, first_width: float, width: float
) -> tuple[list[int], list[int]] | None:
    """The line starts of a paragraph's breaks chosen together (breaking.py), and the marks its
    lines squeeze to fit, where they cost less than the greedy breaks Pango would take; None
    where Pango's stand. Han characters and full-width marks advance 1 em (a halted mark half);
    any other run of characters (a number, a stray ASCII mark) as Pango shapes it (_run_widths),
    and a line breaks beside one only where Pango allows it too."""
    em = _pango_width(style["font_size"])
    first, measure = _pango_width(first_width) / em, _pango_width(width) / em
    runs = [match.span() for match in _OTHER_RUN.finditer(text)]
    if not runs and len(text) <= first:
        return None  # one line (a character is 1 em at most), as Pango sets it: a quarter of 红楼梦's
    key = _style_key(style) if runs else ()
    measured = [
        (start, [units / em for units in _run_widths(context, style, key, text[start:end])]) for start, end in runs
    ]
    halts = halt_positions(text)
    advance = advances(text, halts, measured)
    allowed = bytes(break_mask(text))
    if runs:  # and where Pango allows it
        both = int.from_bytes(allowed, "little") & int.from_bytes(text_line_breaks(text, style["lang"]), "little")
        allowed = both.to_bytes(len(allowed), "little")
    if quotes := quote_breaks(text, halts):  # a window ends there (_lay_out_paragraph)
        flags = bytearray(allowed)
        for i in quotes:
            flags[i] = 2
        allowed = bytes(flags)
    return choose_breaks(text, advance, first, measure, allowed, squeezable_marks(text))


def _style_key(style: Any) -> tuple[object, ...]:
    """What the layout of a text in `style` depends on, besides the text and its width: known once
    per style object (WeasyPrint's key is a string of fourteen of its values, made at each call)."""
    key = _STYLE_KEYS.get(style)
    if key is None:
        font = line_break._font_style_cache_key(style, include_size=True)
        key = _STYLE_KEYS.set(style, (font, style["font_kerning"], style["direction"], style["overflow_wrap"]))
    return key


def _strut(style: Any) -> tuple[float, float]:
    """line_break.strut, known once per style object (it makes WeasyPrint's key at each call)."""
    strut = _STRUTS.get(style)
    if strut is None:
        strut = _STRUTS.set(style, line_break.strut(style))
    return strut


# By font configuration: the advance of each character of a run that is not Han or full-width
# marks (_OTHER_RUN), in Pango units, by the run and its style's _style_key. 红楼梦 has 159
# such runs (digits, a stray `-` or `*`), in 2,052 of its 4,495 windows.
_OTHER_RUN = re.compile(f"[^{_EM_WIDE}]+")
_run_cache: weakref.WeakKeyDictionary[object, dict[tuple[object, ...], list[int]]] = weakref.WeakKeyDictionary()


def _run_widths(context: LayoutContext, style: Any, key: tuple[object, ...], run: str) -> list[int]:
    """The advances of the characters of `run` set in `style` between two Han characters, as
    Pango shapes them in a paragraph (Pango units; a cluster's on its first character)."""
    known = _run_cache.setdefault(style.font_config, {})
    widths = known.get((run, *key))
    if widths is None:
        if len(known) >= 4096:
            known.clear()
        text = f"中{run}中"
        layout = line_break.create_layout(text, style, context, None, 0)
        widths = known[(run, *key)] = char_widths(layout, text.encode())[1:-1]
    return widths


def _kept_as_chosen(lines: dict[int, Line | None], window: str, skip: int, fitted: list[int], whole: bool) -> bool:
    """Whether Pango broke the window's text where the breaks were chosen: every line taken from the
    layout is one of the chosen lines, and where the window holds the rest of the paragraph, all are."""
    at, byte, previous = [], skip, 0  # the chosen lines' bounds in bytes of the text box's text
    for bound in [0, *fitted, len(window)]:
        byte += len(window[previous:bound].encode())
        at.append(byte)
        previous = bound
    chosen = set(itertools.pairwise(at))
    if any(line is not None and (start, line.end) not in chosen for start, line in lines.items()):
        return False
    return not whole or sorted(lines) == at[:-1]


def _read_lines(
    layout: Layout, arguments: tuple[int, int, int, float, float], shaped: Shaped
) -> dict[int, Line | None]:
    """The lines of a paragraph's layout that end by the cut (a break after it may depend on the
    text past the cut), in C where it was compiled; their fonts held."""
    lines: dict[int, Line | None] = {}
    layout_lines = pango.pango_layout_get_lines_readonly(layout.layout)
    if _compiled_paragraph_lines is None:
        used = _python_paragraph_lines(layout_lines, *arguments, shaped, lines)
    else:
        address = int(ffi.cast("uintptr_t", layout_lines))
        used = _compiled_paragraph_lines(
            address, _LINE_EXTENTS, *arguments, shaped.encoded, shaped.spaced, Line, shaped, lines
        )
    hold_fonts(shaped.fonts, used)
    return lines


def _allow_breaks_only_at(layout: Layout, text: str, starts: list[int], squeezed: Iterable[int] = ()) -> None:
    """Forbid every line break of the layout's text but those before `starts` (character indices),
    and set the marks at `squeezed` in half width (halt, as justify sets a pair's)."""
    attributes = pango.pango_layout_get_attributes(layout.layout)
    if attributes == ffi.NULL:
        attributes = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)
    # An attribute over a line's characters forbids the breaks inside it, and none at its edges.
    for start, end in byte_ranges(text, list(itertools.pairwise([0, *starts, len(text)]))):
        attribute = pango.pango_attr_allow_breaks_new(False)
        attribute.start_index, attribute.end_index = start, end
        pango.pango_attr_list_insert(attributes, attribute)
    for start, end in byte_ranges(text, [(q, q + 1) for q in squeezed]):
        attribute = pango.pango_attr_font_features_new(b"halt 1")
        attribute.start_index, attribute.end_index = start, end
        pango.pango_attr_list_insert(attributes, attribute)
    pango.pango_layout_set_attributes(layout.layout, attributes)


def _python_paragraph_lines(
    lines: Any,
    limit: int,
    skip: int,
    text_length: int,
    first_width: float,
    width: float,
    shaped: Shaped,
    out: dict[int, Line | None],
) -> set[int]:
    """The lines of a PangoLayout of `shaped` (`lines`, its list of PangoLayoutLine) up to the first
    that ends past byte `limit` of its text, not included, into `out` by their start in the text
    box's text (the layout's starts `skip` bytes into it, and it is `text_length` bytes long). A
    line is None where it overflows its measure (`first_width` for the layout's first, `width`
    after it), or where it ends before the text's end on a character that is not CJK: a break
    WeasyPrint may move. The addresses of the lines' fonts are returned. (Compiled:
    _speedups.paragraph_lines.)"""
    fonts: set[int] = set()
    logical = ffi.new("PangoRectangle *")
    item = ffi.cast("GSList *", lines)
    while item != ffi.NULL:
        line = ffi.cast("PangoLayoutLine *", item.data)
        item = item.next
        start, end = line.start_index, line.start_index + line.length
        if end > limit:
            break
        pango.pango_layout_line_get_extents(line, ffi.NULL, logical)
        line_width = first_width if start == 0 else width
        last = shaped.encoded[max(0, end - 4) : end].decode(errors="ignore")[-1:]  # a character is 4 bytes at most
        if logical.width * FROM_UNITS > line_width or (skip + end < text_length and not CJK_JUSTIFIABLE.match(last)):
            out[skip + start] = None
            continue
        runs = python_runs(line)
        fonts.update(run[0] for run in runs)
        out[skip + start] = Line(
            skip + end,
            skip + end if skip + end < text_length else None,
            logical.width * FROM_UNITS,
            logical.height * FROM_UNITS,
            -logical.y * FROM_UNITS,
            line.resolved_dir,
            shaped,
            runs,
            _opportunities(shaped, start, end),
        )
    return fonts


# The fonts of the lines taken from layouts, held as long as their font configuration lives (its
# font map keeps them that long anyway: 30 回 of 红楼梦 used 3). Held for each layout, they were
# referenced again for each.
_held_fonts: weakref.WeakKeyDictionary[object, dict[int, tuple[object, object]]] = weakref.WeakKeyDictionary()


def fonts_held(style: Any) -> dict[int, tuple[object, object]]:
    """The fonts held for the font configuration of `style` (Shaped.fonts)."""
    return _held_fonts.setdefault(style.font_config, {})


def hold_fonts(held: dict[int, tuple[object, object]], addresses: Iterable[int]) -> None:
    """Hold the fonts at `addresses` (Shaped.fonts)."""
    for address in addresses:
        if address not in held:
            font = ffi.cast("PangoFont *", address)
            held[address] = (font, ffi.gc(gobject.g_object_ref(font), gobject.g_object_unref))


# The lines taken in C (book/_speedups.c, built by `pip install`) where it was built: the same
# lines as _python_paragraph_lines, in 4–5 µs a line where it took 17–22 (红楼梦's 1–9 回, 3,186
# lines).
_compiled_paragraph_lines = compiled("paragraph_lines")
_LINE_EXTENTS = int(ffi.cast("uintptr_t", pango.pango_layout_line_get_extents))
