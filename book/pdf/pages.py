"""pages: shortcuts through WeasyPrint's page layout, and what the writer reads back from pages.

Margin boxes held back while a piece is laid out (its folios are known later), empty margin
boxes not sized, backgrounds skipped for boxes with nothing behind them, @page styles computed
once per set of matching selectors; and where each page's text begins (page_starts_of).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import weasyprint.layout
import weasyprint.layout.background
import weasyprint.layout.page
from weasyprint.document import Document
from weasyprint.draw.color import get_color
from weasyprint.formatting_structure import boxes
from weasyprint.layout import LayoutContext

from ..model import PageStart, parse_block_id
from .side import SideTable


def page_starts_of(document: Document) -> tuple[PageStart, ...]:
    """For each page whose first line is chapter text, the block and the character it begins with.

    Text boxes are walked in layout order; a block's offset on a page is the number of its
    characters laid out on the pages before.
    """
    laid_out: dict[str, int] = {}
    starts = []
    for number, page in enumerate(document.pages, start=1):
        first = True
        for box, block_id in _text_boxes(page._page_box, None):
            if block_id is None:
                continue
            if first:
                located = parse_block_id(block_id)
                if located is not None:
                    starts.append(PageStart(number, *located, laid_out.get(block_id, 0)))
                first = False
            # Characters of the book's text: not the word joiners print adds (render.NO_BREAK)
            laid_out[block_id] = laid_out.get(block_id, 0) + len(box.text) - box.text.count("\u2060")
    return tuple(starts)


def _text_boxes(box: boxes.Box, block_id: str | None) -> Iterator[tuple[boxes.TextBox, str | None]]:
    """The text boxes of a page's body in layout order, each with the data-block of the heading or
    paragraph it belongs to (margin boxes, the running heads and folios, are left out)."""
    if isinstance(box, boxes.MarginBox):
        return
    if box.element is not None and box.element.get("data-block"):
        block_id = box.element.get("data-block")
    if isinstance(box, boxes.TextBox):
        yield box, block_id
        return
    for child in getattr(box, "children", ()):
        yield from _text_boxes(child, block_id)


# Printing in pieces. A long book is laid out one chapter at a time, in parallel processes, and put
# together by assemble.py. Two things of a chapter's pages depend on the chapters before it: the
# folios, and nothing else (each chapter opens on a recto, its running heads are its own). So a
# piece is laid out with its margin boxes (running heads, folios) held back; once the folio of its
# first page is known, they are made with the page counter moved on by that much. And a piece's
# fonts are not embedded: it records the glyphs it used, and the assembler embeds one subset of
# each face for the whole book (assemble.py), as a single-pass render would.

original_make_margin_boxes = weasyprint.layout.make_margin_boxes
HeldMargins = list[tuple[object, boxes.PageBox, tuple[object, ...], int]]
# While a piece is laid out: its margin boxes, held back; set for one pass and reset after it.
HELD_MARGINS: ContextVar[HeldMargins | None] = ContextVar("book_held_margins", default=None)


def make_margin_boxes(context: LayoutContext, page: boxes.PageBox, state: tuple[object, ...]) -> list[boxes.Box]:
    """WeasyPrint's make_margin_boxes, or, while a piece is laid out, a note to make them later."""
    held = HELD_MARGINS.get()
    if held is None:
        return list(original_make_margin_boxes(context, page, state))
    held.append((context, page, state, context.current_page))
    return []


_original_resolve_percentages = weasyprint.layout.page.resolve_percentages


def resolve_percentages(box: boxes.Box, containing_block: object) -> None:
    """resolve_percentages, except for a margin box with no content.

    WeasyPrint makes all sixteen margin boxes of every page, and sets the width, the height and
    every margin, padding and border of those without content to 0 right after (layout/page.py,
    make_box): nothing it resolves for them is read again. Fourteen of the sixteen have no
    content on a page of this book."""
    if isinstance(box, boxes.MarginBox) and not box.is_generated:
        box.min_width = box.min_height = 0
        box.max_width = box.max_height = math.inf
        return
    _original_resolve_percentages(box, containing_block)


# Backgrounds. After a page is laid out, layout_box_backgrounds walks every box of it (layout/
# background.py): it resolves the corner radii, then reads nine style properties to find that
# nearly all boxes, a page's lines and their text, have no background, border image, mask or
# shadow (box.background = None). Whether a style has any is known once per style object.
_original_layout_box_backgrounds = weasyprint.layout.background.layout_box_backgrounds
_SQUARE_CORNER = (0, "px")
# Whether a style has nothing behind it (_nothing_behind), by the style.
_NOTHING_BEHIND: SideTable[bool] = SideTable()
_CORNERS = tuple(f"border_{corner}_radius" for corner in ("top_left", "top_right", "bottom_right", "bottom_left"))


def layout_box_backgrounds(
    page: boxes.PageBox,
    box: boxes.Box,
    get_image_from_uri: object,
    layout_children: bool = True,
    style: object = None,
) -> None:
    """layout_box_backgrounds, with the same outcome for a box whose style has nothing to lay out
    (_nothing_behind): its corners square and no background."""
    if style is not None or box is page or not _nothing_behind(box.style):
        _original_layout_box_backgrounds(page, box, get_image_from_uri, layout_children, style)
        return
    box.border_top_left_radius = box.border_top_right_radius = (0, 0)
    box.border_bottom_right_radius = box.border_bottom_left_radius = (0, 0)
    if layout_children:
        for child in box.all_children():
            layout_box_backgrounds(page, child, get_image_from_uri)
    box.background = None


def _nothing_behind(style: Any) -> bool:
    """Whether layout_box_backgrounds finds nothing to lay out for a box of this style: square
    corners (resolve_radii_percentages' short track), no border image or mask, and a transparent
    background without images and shadows (or hidden)."""
    known = _NOTHING_BEHIND.get(style)
    if known is None:
        known = (
            all(_SQUARE_CORNER in style[corner] for corner in _CORNERS)
            and style["border_image_source"][0] == "none"
            and style["mask_border_source"][0] == "none"
            and (
                style["visibility"] == "hidden"
                or (
                    all(kind == "none" for kind, _ in style["background_image"])
                    and get_color(style, "background_color").alpha == 0
                )
            )
            and not style["box_shadow"]
        )
        _NOTHING_BEHIND.set(style, known)
    return known


# Page styles. WeasyPrint cascades the @page rules again for every page (layout/page.py,
# set_page_type_computed_styles), then computes the page's style and those of its sixteen margin
# boxes: a page's type holds its index, for the :nth() selectors, so no two pages share a type.
# Those styles depend only on which @page selectors match the page, so pages that the same selectors
# match share the styles of the first of them. Nothing later changes them but in ways that
# give the same result each time (make_page sets the root's overflow; _standardize_page_based_counters
# puts the page counter first). The first page's are not shared: viewport units (vw, vh, …) read
# the page size that the first page sets (css/units.py, initial_page_sizes).
_original_set_page_type_computed_styles = weasyprint.layout.page.set_page_type_computed_styles
# By a document's StyleFor: the styles of each set of matching selectors, and every @page selector
# of its style sheets with the sets found for each kind of page.
_PageStyles = dict[tuple[object, ...], list[tuple[object, object, object]]]
_PAGE_STYLES: SideTable[_PageStyles] = SideTable()
_PAGE_SELECTORS: SideTable[tuple[tuple[Any, ...], dict[object, tuple[Any, ...]]]] = SideTable()


def set_page_type_computed_styles(page_type: Any, html: Any, style_for: Any) -> None:
    """set_page_type_computed_styles, the styles computed once for each set of matching @page selectors."""
    matched = _matching_page_selectors(page_type, style_for)
    known = _PAGE_STYLES.get(style_for)
    if known is None:
        known = _PAGE_STYLES.set(style_for, {})
    cascaded, computed = style_for.get_cascaded_styles(), style_for.get_computed_styles()
    if (styles := known.get(matched)) is None:
        _original_set_page_type_computed_styles(page_type, html, style_for)
        if page_type.index:
            pseudo_types = {None} | {pseudo_type for *_, pseudo_type in matched}
            known[matched] = [
                (pseudo_type, cascaded.get((page_type, pseudo_type)), computed[page_type, pseudo_type])
                for pseudo_type in pseudo_types
                if (page_type, pseudo_type) in computed
            ]
        return
    for pseudo_type, cascaded_style, computed_style in styles:
        if cascaded_style is not None:
            cascaded[page_type, pseudo_type] = cascaded_style
        computed[page_type, pseudo_type] = computed_style


def _matching_page_selectors(page_type: Any, style_for: Any) -> tuple[Any, ...]:
    """The @page selectors that match a page, by where they are in the style sheets. Whether a
    selector matches depends on the page's side, blankness, first-ness and name, and for :nth() on
    its place in the document or its page group: the selectors that match are looked up by those,
    the :nth() selectors tried on each page (8 of the 48 a book's style sheets have)."""
    match = style_for._page_type_match
    if (selectors := _PAGE_SELECTORS.get(style_for)) is None:
        selectors = _PAGE_SELECTORS.set(
            style_for,
            (
                tuple(
                    ((sheet_index, rule_index, selector_index, pseudo_type), page_selector)
                    for sheet_index, (sheet, _, _) in enumerate(style_for._sheets)
                    for rule_index, (_, rule_selectors, _) in enumerate(sheet.page_rules)
                    for selector_index, (_, pseudo_type, page_selector) in enumerate(rule_selectors)
                ),
                {},
            ),
        )
    every, known = selectors
    nth = tuple(match(page_selector, page_type) for _, page_selector in every if page_selector.index is not None)
    key = (page_type.side, page_type.blank, page_type.index == 0, page_type.name, nth)
    if (matched := known.get(key)) is None:
        matched = known[key] = tuple(where for where, page_selector in every if match(page_selector, page_type))
    return matched
