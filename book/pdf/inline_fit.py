"""inline_fit: the breaks of a paragraph set in several inline boxes, chosen together.

A paragraph with a number or a Latin word in it is several boxes: text, a span with its ¼-em
gap (render's cjk_spacing), text again. WeasyPrint breaks such a paragraph line by line, each line
as long as fits, and paragraph.py's layouts, which hold one text box, cannot see past a span.
Here the paragraph is measured box by box (each box's text shaped by Pango and its glyphs' widths
read, the spans' margins added), its breaks are chosen together (breaking.total_fit) among those
inside its text boxes and between its boxes that Pango allows and clreq keeps, and split_text_box
(lines.py) ends each line's piece of a text box at the break chosen in it or at its end. Where
WeasyPrint measures a piece otherwise than the model (it would overflow), WeasyPrint's own break
stands.
"""

from __future__ import annotations

import bisect
import itertools
from typing import Any

from weasyprint.formatting_structure import boxes
from weasyprint.layout import LayoutContext
from weasyprint.text import line_break

from .breaking import cost_of, may_break, poor, total_fit
from .options import current_options
from .paragraph import plain_style, plain_text
from .runs import char_widths, line_breaks
from .side import SideTable

# By line box: the measures (in Pango units) its breaks were chosen for. By text box: the chosen
# breaks that fall inside it, in UTF-8 bytes of its text.
_PLANNED: SideTable[tuple[int, int]] = SideTable()
_BREAKS: SideTable[list[int]] = SideTable()
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
        _BREAKS.set(box, [])
    em = linebox.style["font_size"]
    text = "".join(box.text for box, _, _, _ in pieces)
    widths: list[float] = []
    candidates: list[int] = []
    owners: list[tuple[boxes.TextBox, int]] = []  # where each piece's text begins in `text`
    lang = linebox.style["lang"]
    for number, (box, top_level, before, after) in enumerate(pieces):
        start = len(widths)
        layout = line_break.create_layout(box.text, box.style, context, None, 0)
        measured = [units / 1024 / em for units in char_widths(layout, box.text.encode())]
        if not measured:
            return
        # A gap at a line's edge is dropped (justify.text_align): a line that starts or ends at a
        # span is measured a quarter em longer than it is set, never shorter.
        measured[0] += before / em
        measured[-1] += after / em
        widths.extend(measured)
        owners.append((box, start))
        if top_level:
            allowed = line_breaks(layout)
            candidates.extend(start + i for i in range(1, len(box.text)) if allowed[i] and may_break(text, start + i))
        end = len(widths)  # between two boxes: where clreq and Pango (as WeasyPrint asks it) allow
        if (
            number + 1 < len(pieces)
            and may_break(text, end)
            and line_break.can_break_text(text[end - 1 : end + 1], lang)
        ):
            candidates.append(end)
    advance = list(itertools.accumulate(widths, initial=0.0))
    first, measure = units[0] / 1024 / em, units[1] / 1024 / em
    greedy = _first_fit(advance, candidates, first, measure)
    if greedy is None or not poor(text, advance, first, measure, greedy):
        return
    better = total_fit(text, advance, first, measure, candidates)
    if better is None or better == greedy:
        return
    if cost_of(text, advance, first, measure, better) >= cost_of(text, advance, first, measure, greedy):
        return
    for box, start in owners:  # a break at a box's end is its box's (its text ends the line)
        inside = [b - start for b in better if start < b <= start + len(box.text)]
        encoded_at = list(itertools.accumulate((len(ch.encode()) for ch in box.text), initial=0))
        _BREAKS.set(box, [encoded_at[i] for i in inside])


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


def _first_fit(advance: list[float], candidates: list[int], first: float, width: float) -> list[int] | None:
    """Each line as long as fits, ending at one of `candidates` (breaking.first_fit, WeasyPrint's
    way of breaking the boxes)."""
    starts: list[int] = []
    start, end_of_text = 0, len(advance) - 1
    at = [advance[c] for c in candidates]
    while True:
        limit = advance[start] + (first if start == 0 else width) + 1e-9
        if advance[end_of_text] <= limit:
            return starts
        index = bisect.bisect_right(at, limit) - 1
        if index < 0 or candidates[index] <= start:
            return None
        start = candidates[index]
        starts.append(start)


def forced_break(box: boxes.TextBox, skip: int) -> int | None:
    """Where the line that goes on in `box` from byte `skip` ends, for a text box whose
    paragraph had its breaks chosen (plan_breaks): the next chosen break in it, in UTF-8 bytes of
    its text; None where none was chosen after `skip` (its rest fits the line, as WeasyPrint
    finds) or the paragraph's breaks were not chosen."""
    breaks = _BREAKS.get(box)
    if breaks is None:
        return None
    index = bisect.bisect_right(breaks, skip)
    return breaks[index] if index < len(breaks) else None
