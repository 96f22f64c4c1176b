"""lines: WeasyPrint's line-breaking functions, fed from a paragraph laid out at once.

split_text_box and get_next_linebox take a line from paragraph.py where WeasyPrint would keep
Pango's break as it is, and fall back to WeasyPrint everywhere else; split_first_line and
first_line_metrics shape less text for the lines WeasyPrint still finds itself.
"""

from __future__ import annotations

import math
import re
from typing import Any

from weasyprint.formatting_structure import boxes
from weasyprint.layout import LayoutContext, inline
from weasyprint.layout import float as float_layout
from weasyprint.text import line_break
from weasyprint.text.ffi import FROM_UNITS, pango
from weasyprint.text.line_break import Layout

from ..text import HAN
from .inline_fit import plan_breaks, planned_split
from .justify import CJK_JUSTIFIABLE, count_expansion_opportunities
from .options import current_options
from .paragraph import Line, LineLayout, paragraph_line
from .side import SideTable

_original_split_first_line = inline.split_first_line
_HAN = re.compile(HAN)
# The containing block size a paragraph's text box was resolved in (by the box).
_RESOLVED_IN: SideTable[tuple[float, float]] = SideTable()


def split_first_line(
    text: str,
    style: Any,
    context: LayoutContext,
    max_width: float | None,
    justification_spacing: float,
    is_line_start: bool = True,
    minimum: bool = False,
) -> tuple[object, ...]:
    """split_first_line, shown only the text that two lines can hold.

    To find where a line ends, WeasyPrint shapes and breaks as much text as four lines of Latin
    letters take (4 characters per em of the width): with Chinese, one em per character, that is
    four lines, every one shaped again for the next line. Two lines' worth gives the same break:
    it depends on the characters after it only as far as the next break opportunity, and Chinese
    has one after every character. When the first line takes all the text shown (a short last line,
    or narrow Latin letters), the whole text is measured, as before."""
    font_size = style["font_size"]
    if max_width is not None and max_width != math.inf and font_size and not minimum:
        end = int(2 * max_width / font_size) + 2
        # Cut between two Han characters, so that the second line's first break comes before the cut;
        # soft hyphens (manual hyphenation looks at the whole text) are left to the slow path.
        if end < len(text) and _HAN.match(text[end - 1]) and _HAN.match(text[end]) and "\xad" not in text:
            shown = text[:end]
            result = _original_split_first_line(
                shown, style, context, max_width, justification_spacing, is_line_start, minimum
            )
            resume_index = result[2]  # in UTF-8 bytes; the second line must show two characters or more
            if resume_index is not None and len(shown.encode()) - resume_index >= 6:
                return result
    return _original_split_first_line(text, style, context, max_width, justification_spacing, is_line_start, minimum)


_original_first_line_metrics = line_break.first_line_metrics


def first_line_metrics(
    first_line: Any,
    text: str,
    layout: Layout,
    resume_at: int | None,
    space_collapse: bool,
    style: Any,
    hyphenated: bool = False,
    hyphenation_character: str | None = None,
) -> tuple[object, ...]:
    """first_line_metrics, which measures a line that ends on a CJK character where Pango broke it.

    WeasyPrint sets a broken line's text on its own and shapes it again, since a trailing space or
    a hyphen would change its width. A line that ends on a CJK character has neither, and its
    first line in the layout already shaped is the line (halt at its end included: the character
    after it is in that layout)."""
    if hyphenated or not resume_at:
        return _original_first_line_metrics(
            first_line, text, layout, resume_at, space_collapse, style, hyphenated, hyphenation_character
        )
    length = first_line.length  # in UTF-8 bytes
    line = text.encode()[:length].decode()
    if not line or not CJK_JUSTIFIABLE.match(line[-1]):
        return _original_first_line_metrics(first_line, text, layout, resume_at, space_collapse, style)
    width, height = line_break.line_size(first_line, style)
    baseline = pango.pango_layout_get_baseline(layout.layout) * FROM_UNITS
    layout.text, layout.following = line, text[len(line) : len(line) + 1]
    layout.deactivate()
    return layout, length, resume_at, width, height, baseline


_original_split_text_box = inline.split_text_box


def split_text_box(
    context: LayoutContext, box: boxes.TextBox, available_width: float | None, skip: int, is_line_start: bool = True
) -> tuple[boxes.TextBox | None, int | None, bool]:
    """split_text_box, which ends a line where the breaks of its paragraph were chosen together
    (inline_fit), and takes a paragraph's lines after the first from one layout."""
    planned = planned_split(context, box, available_width, skip, is_line_start, _original_split_text_box)
    if planned is not None:
        return planned
    line = paragraph_line(context, box, available_width, skip, available_width) if skip else None
    if line is None:
        return _original_split_text_box(context, box, available_width, skip, is_line_start)
    return _text_of_line(box, available_width, skip, line, LineLayout), line.resume_at, False  # type: ignore[arg-type]


def _text_of_line(
    box: boxes.TextBox, width: float, skip: int, line: Line, layout_type: type[LineLayout]
) -> boxes.TextBox:
    """The text box of a line, as split_text_box makes it."""
    # The line's text and the character after it, from its layout's text (which goes on past a line
    # it keeps, or to the end of the box's text).
    encoded, start = line.shaped.encoded, skip - line.shaped.start
    end = line.end - line.shaped.start
    text = encoded[start:end].decode()
    layout = layout_type.__new__(layout_type)  # as split_first_line leaves it, deactivated
    layout.shaped, layout.runs = line.shaped, line.runs
    layout.justification_spacing, layout.max_width = box.justification_spacing, width
    layout.first_line_direction, layout.opportunities = line.direction, line.opportunities
    layout.ascent = layout.underline_position = layout.strikethrough_position = None  # no text decoration
    layout.text, layout.following = text, encoded[end : end + 4].decode(errors="ignore")[:1]
    new_box = box.copy_with_text(text)
    new_box.width, new_box.height, new_box.pango_layout = line.width, line.height, layout
    # The margins make the box's height the line-height, half the leading each.
    line_height, _ = line.shaped.strut
    new_box.margin_top = new_box.margin_bottom = (line_height - line.height) / 2
    new_box.baseline = line.baseline + new_box.margin_top
    return new_box


_original_get_next_linebox = inline.get_next_linebox


def get_next_linebox(
    context: LayoutContext,
    linebox: boxes.LineBox,
    position_y: float,
    bottom_space: float,
    skip_stack: dict[int, object] | None,
    containing_block: boxes.Box,
    absolute_boxes: list[boxes.Box],
    fixed_boxes: list[boxes.Box],
    first_letter_style: object,
    first_line_style: object,
) -> tuple[boxes.LineBox | None, dict[int, object] | None]:
    """get_next_linebox, which makes a line of a paragraph of plain text from its layout.

    Such a paragraph is one text box in its line box: each line is the line box with a text box
    of the line's text, aligned and placed as WeasyPrint places it (the same steps, without the
    searches for floats, inline children and collapsible spaces that cannot be there)."""
    if not (first_letter_style or first_line_style or context.excluded_shapes):
        made = _paragraph_linebox(context, linebox, position_y, skip_stack, containing_block)
        if made is not None:
            return made
        if skip_stack is None and len(linebox.children) > 1:  # a paragraph of several boxes
            linebox.position_y = position_y
            _, _, available_width = _line_bounds(context, linebox, containing_block)
            max_x = available_width * (1 + 1e-9)  # as split_inline_box
            plan_breaks(context, linebox, max_x - linebox.text_indent, max_x)
    return _original_get_next_linebox(
        context,
        linebox,
        position_y,
        bottom_space,
        skip_stack,
        containing_block,
        absolute_boxes,
        fixed_boxes,
        first_letter_style,
        first_line_style,
    )


def _paragraph_linebox(
    context: LayoutContext,
    linebox: boxes.LineBox,
    position_y: float,
    skip_stack: dict[int, object] | None,
    containing_block: boxes.Box,
) -> tuple[boxes.LineBox, dict[int, object] | None] | None:
    """The next line of a line box that holds one text box, from its paragraph's layout, or None."""
    children = linebox.children
    if len(children) != 1 or not isinstance(children[0], boxes.TextBox) or linebox.is_leader:
        return None
    if linebox.style["direction"] != "ltr" or linebox.text_indent < 0:
        return None
    skip = 0  # the first line
    if skip_stack is not None:
        inner = skip_stack.get(0)
        if len(skip_stack) != 1 or not isinstance(inner, dict) or len(inner) != 1:
            return None
        ((skip, rest),) = inner.items()
        if rest is not None or not skip:
            return None
    text_box = children[0]
    linebox.position_y = position_y
    linebox.width = linebox.height = 0
    position_x, position_y, available_width = _line_bounds(context, linebox, containing_block)
    linebox.position_x = position_x
    max_x = (position_x + available_width) * (1 + 1e-9)  # as split_inline_box
    # The paragraph's text box is resolved again for each of its lines; the same containing block
    # size gives the same values.
    size = (containing_block.width, containing_block.height)
    if _RESOLVED_IN.get(text_box) != size:
        inline.resolve_percentages(text_box, containing_block)
        _RESOLVED_IN.set(text_box, size)
    # The width of the paragraph's lines, and of this one (the first is shorter by the indent).
    full_width, width = max_x - position_x, max_x - (position_x + linebox.text_indent)
    line = paragraph_line(context, text_box, full_width, skip, width)
    if line is None:
        return None
    text_box.position_x, text_box.position_y = position_x + linebox.text_indent, position_y
    new_child = _text_of_line(text_box, width, skip, line, LineLayout)
    new_line = linebox.copy_with_children([new_child])
    new_line.remove_decoration(start=skip_stack is not None, end=line.resume_at is None)
    new_line.width = new_child.position_x + new_child.margin_width() - new_line.content_box_x()
    if linebox.style is text_box.style:  # as _adjust_line_height, with the strut already known
        line_height, new_line.baseline = line.shaped.strut
        new_line.height = linebox.style["font_size"]
        half_leading = (line_height - new_line.height) / 2
        new_line.margin_top = half_leading - new_line.border_top_width - new_line.padding_top
        new_line.margin_bottom = half_leading - new_line.border_bottom_width - new_line.padding_bottom
    else:
        inline._adjust_line_height(new_line)
    linebox.width, linebox.height = new_line.width, new_line.height
    offset_x = _align(context, new_line, new_child, available_width, last=line.resume_at is None)
    bottom, top = _line_box_verticality(new_line, new_child)
    new_line.baseline, new_line.position_y, new_line.height = -top, top, bottom - top
    new_line.margin_top = new_line.margin_bottom = 0
    new_line.translate(offset_x, position_y - top)
    new_line.position_y = position_y  # as WeasyPrint: position_y - top + top may differ from position_y
    return new_line, (None if line.resume_at is None else {0: {line.resume_at: None}})


def _line_box_verticality(line: boxes.LineBox, text_box: boxes.TextBox) -> tuple[float, float]:
    """line_box_verticality for a line box whose one child is a text box on the baseline: the steps
    of inline_box_verticality and aligned_subtree_verticality for it, in their order (the baseline
    at y = 0). The line's bottom and top."""
    if text_box.style["vertical_align"] != "baseline":
        return inline.line_box_verticality(line)
    top = text_box.position_y = 0 - text_box.baseline
    bottom = top + text_box.margin_height()
    line_top = 0 - line.baseline
    line_bottom = line_top + line.margin_height()
    return (line_bottom if line_bottom > bottom else bottom), (line_top if line_top < top else top)


def _line_bounds(
    context: LayoutContext, linebox: boxes.LineBox, containing_block: boxes.Box
) -> tuple[float, float, float]:
    """float.avoid_collisions for a line box (outer=False): where it starts and how wide it may be.
    With no float on the page and left-to-right text these are its steps without the search for
    floats, in the same order (the same rounding)."""
    if context.excluded_shapes or containing_block.style["direction"] != "ltr":
        return float_layout.avoid_collisions(context, linebox, containing_block, outer=False)
    left = containing_block.content_box_x()
    right = left + containing_block.width
    left += linebox.margin_left
    right -= linebox.margin_right
    return left - linebox.margin_left, linebox.border_box_y() - linebox.margin_top, right - left


def _align(
    context: LayoutContext, line: boxes.LineBox, text_box: boxes.TextBox, available_width: float, last: bool
) -> float:
    """text_align for a line of one text box; a justified line is justified here, with the steps
    of justify_line, justify_line and add_word_spacing for one text box (the opportunities
    counted once, the line's own layout given the spacing)."""
    style = line.style
    align = style["text_align_all"]
    if last and style["text_align_last"] != "auto":
        align = style["text_align_last"]
    if line.width >= available_width or align != "justify" or not current_options().cjk_justification:
        return inline.text_align(context, line, available_width, last)
    count = _line_opportunities(text_box)
    if count:
        spacing = (available_width - line.width) / count
        text_box.justification_spacing = text_box.pango_layout.justification_spacing = spacing
        text_box.width += spacing * count
        line.width += spacing * count
    return 0


def _line_opportunities(box: boxes.TextBox) -> float:
    """count_expansion_opportunities for a line taken from a paragraph's layout, as counted when
    it was taken (_opportunities)."""
    opportunities = box.pango_layout.opportunities
    return count_expansion_opportunities(box) if opportunities is None else opportunities
