"""inline_fit: the breaks of a paragraph set in several inline boxes, chosen together.

A paragraph with a number or a Latin word in it is several boxes: text, a span with its ¼-em
gap (render's cjk_spacing), text again. WeasyPrint breaks such a paragraph line by line, each line
as long as fits, and paragraph.py's layouts, which hold one text box, cannot see past a span.
Here the paragraph is measured box by box (each box's text shaped by Pango and its glyphs' widths
read, the spans' margins added), its breaks are chosen together (breaking.total_fit) among those
inside its text boxes and between its boxes that Pango allows and clreq keeps (and those beside a
quotation mark, which clreq allows and Pango does not: WeasyPrint does not ask Pango where a line
given its end breaks), marks squeezed as
in a paragraph of one box, and split_text_box (lines.py) sets each line's piece of a text box up
to the break chosen in it (or its end), its squeezed marks in half width. Where WeasyPrint
measures a piece otherwise than the model (it would overflow), WeasyPrint's own break stands.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable
from typing import Any

from weasyprint.formatting_structure import boxes
from weasyprint.layout import LayoutContext
from weasyprint.text import line_break

from ..text import squeezable_marks
from .breaking import beside_quote, better_breaks, first_fit_among, may_break
from .options import current_options
from .paragraph import plain_style, plain_text
from .runs import char_widths, line_breaks
from .side import SideTable

# By line box: the measures (in Pango units) its breaks were chosen for. By text box: the chosen
# breaks that fall inside it or at its end, in UTF-8 bytes of its text, and the marks its lines
# squeeze (breaking.squeezed_marks), as character indices of its text; None: WeasyPrint's breaks.
_PLANNED: SideTable[tuple[int, int]] = SideTable()
_PLANS: SideTable[tuple[list[int], list[int]] | None] = SideTable()
_SPAN_CLASSES = {"latin-before", "latin-after", "latin-both"}


def plan_breaks(context: LayoutContext, linebox: boxes.LineBox, first_width: float, width: float) -> None:
    """Choose the breaks of a paragraph of several boxes (a line box's children, before its first
    line is laid out), where they cost less than each line as long as fits; note them by text box."""
    if not current_options().total_fit or not current_options().paragraph_layout:
        return
    units = (int(first_width * 1024), int(width * 1024))
    if _PLANNED.get(linebox) == units:
        return
    _PLANNED.set(linebox, units)
    pieces = _pieces(linebox)
    if pieces is None:
        return
    for box, _, _, _ in pieces:  # breaks chosen for another measure no longer hold
        _PLANS.set(box, None)
    em = linebox.style["font_size"]
    text = "".join(box.text for box, _, _, _ in pieces)
    widths: list[float] = []
    candidates: list[int] = []  # where a line may end: clreq's breaks that Pango allows, and beside quotes
    pangos: list[int] = []  # those Pango allows
    owners: list[tuple[boxes.TextBox, int]] = []  # where each piece's text begins in `text`
    own_text: list[tuple[int, int]] = []  # where the line box's own text boxes are in `text`
    lang = linebox.style["lang"]
    for number, (box, top_level, before, after) in enumerate(pieces):
        start = len(widths)
        layout = line_break.create_layout(box.text, box.style, context, None, 0)
        measured = [pango_units / 1024 / em for pango_units in char_widths(layout, box.text.encode())]
        if not measured:
            return
        # A gap at a line's edge is dropped (justify.text_align): a line that starts or ends at a
        # span is measured a quarter em longer than it is set, never shorter.
        measured[0] += before / em
        measured[-1] += after / em
        widths.extend(measured)
        owners.append((box, start))
        if top_level:
            own_text.append((start, start + len(box.text)))
            allowed = line_breaks(layout)
            for i in range(start + 1, start + len(box.text)):
                if may_break(text, i, quotes=True) and (allowed[i - start] or beside_quote(text, i)):
                    candidates.append(i)
                    if allowed[i - start]:
                        pangos.append(i)
        end = len(widths)  # between two boxes: where clreq and Pango (as WeasyPrint asks it) allow
        if number + 1 < len(pieces) and may_break(text, end, quotes=True):
            if line_break.can_break_text(text[end - 1 : end + 1], lang):
                candidates.append(end)
                pangos.append(end)
            elif beside_quote(text, end):
                candidates.append(end)
    advance = list(itertools.accumulate(widths, initial=0.0))
    first, measure = units[0] / 1024 / em, units[1] / 1024 / em
    greedy = first_fit_among(advance, pangos, first, measure)  # as WeasyPrint breaks, line by line
    marks = [q for q in squeezable_marks(text) if any(s <= q < e for s, e in own_text)]  # not a span's
    chosen = better_breaks(text, advance, first, measure, greedy, marks, candidates)
    if chosen is None:
        return
    better, squeezed = chosen
    for box, start in owners:  # a break at a box's end is its box's (its text ends the line)
        end = start + len(box.text)
        encoded_at = list(itertools.accumulate((len(ch.encode()) for ch in box.text), initial=0))
        breaks = [encoded_at[b - start] for b in better if start < b <= end]
        _PLANS.set(box, (breaks, [q - start for q in squeezed if start <= q < end]))


def _pieces(linebox: boxes.LineBox) -> list[tuple[Any, bool, float, float]] | None:
    """The text boxes of a paragraph of plain text and ¼-em spans, in order, each with whether
    it is the line box's own child and the margins before and after it (px); None for any other
    paragraph (emphasis in another face, an image, a note's call, a single text box)."""
    children = linebox.children
    if len(children) < 2 or linebox.style["direction"] != "ltr" or linebox.is_leader:
        return None
    pieces: list[tuple[Any, bool, float, float]] = []
    for child in children:
        if isinstance(child, boxes.TextBox):
            if not plain_text(child) or not plain_style(child.style):
                return None
            pieces.append((child, True, 0.0, 0.0))
        elif (
            isinstance(child, boxes.InlineBox)
            and child.element_tag == "span"
            and len(child.children) == 1
            and isinstance(child.children[0], boxes.TextBox)
            and _SPAN_CLASSES.intersection((child.element.get("class") or "").split())
            and child.style["font_family"] == linebox.style["font_family"]
            and child.style["font_size"] == linebox.style["font_size"]
        ):
            text_box = child.children[0]
            if not text_box.text or not plain_style(text_box.style):
                return None
            before, after = (_margin(child.style[side]) for side in ("margin_left", "margin_right"))
            if before is None or after is None:
                return None
            pieces.append((text_box, False, before, after))
        else:
            return None
    return pieces if any(top for _, top, _, _ in pieces) else None


def _margin(value: Any) -> float | None:
    """A horizontal margin in px, or None where it is not a length (a percentage, auto)."""
    if value == "auto" or getattr(value, "unit", None) not in ("px", None):
        return None
    return float(getattr(value, "value", value))


def planned_split(
    context: LayoutContext,
    box: boxes.TextBox,
    available_width: float | None,
    skip: int,
    is_line_start: bool,
    split: Callable[..., tuple[boxes.TextBox | None, int | None, bool]],
) -> tuple[boxes.TextBox | None, int | None, bool] | None:
    """split_text_box for a text box whose paragraph had its breaks chosen (plan_breaks): the
    line's piece of it from byte `skip` to the next break chosen in it (or to its end, where the
    line goes on past it), set by `split` (WeasyPrint's split_text_box) with the marks chosen in it
    squeezed. None where its breaks were not chosen, or where the piece would overflow the line:
    WeasyPrint breaks it."""
    plan = _PLANS.get(box)
    if plan is None or available_width is None:
        return None
    breaks, squeezed = plan
    encoded = box.text.encode()
    index = bisect.bisect_right(breaks, skip)
    end = breaks[index] if index < len(breaks) else None
    stop = len(encoded) if end is None else end
    if skip >= stop:
        return None
    piece = box if stop == len(encoded) else box.copy_with_text(encoded[:stop].decode())
    new_box, rest, _ = split(context, piece, math.inf, skip, is_line_start)
    if new_box is None or rest is not None:
        return None
    first = len(encoded[:skip].decode())
    marks = tuple(q - first for q in squeezed if first <= q < first + len(new_box.text))
    if marks:
        # Set in half width as the text is shaped (justify.set_text_with_cjk_spacing), here and
        # when the line is drawn; measured again
        layout = new_box.pango_layout
        layout.squeezed = marks
        layout.reactivate(new_box.style)
        new_box.width, _ = line_break.line_size(layout.get_first_line()[0], new_box.style)
        layout.deactivate()
    if new_box.width > available_width * (1 + 1e-9):
        return None
    return new_box, end, False
