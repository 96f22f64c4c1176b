"""patches: every change the PDF writer makes to a library it does not own, in one table.

PATCHES lists (owner, name, replacement, why, upstream). install(), which each writer calls
before it renders, applies them; importing any module of book changes nothing.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import pydyf
import tinyhtml5.inputstream
import weasyprint.layout
import weasyprint.pdf
from weasyprint.layout import inline
from weasyprint.text import line_break
from weasyprint.text.line_break import Layout

from .finishing import PAGES_ONLY, VARIANTS
from .fonts import build_fonts_dictionary, face_file
from .glyphs import draw_text
from .justify import add_word_spacing, count_expansion_opportunities, set_text_with_cjk_spacing, text_align
from .lines import first_line_metrics, get_next_linebox, split_first_line, split_text_box
from .pages import layout_box_backgrounds, make_margin_boxes, resolve_percentages, set_page_type_computed_styles


class _Zlib:
    """zlib for pydyf, which compresses every stream at level 9: four times the time of level 6
    (the default of zlib and qpdf) for streams under 1 % smaller (measured on the seed's fonts)."""

    def __getattr__(self, name: str) -> object:
        return getattr(zlib, name)

    @staticmethod
    def compressobj(level: int = 6, *args: object, **kwargs: object) -> zlib._Compress:
        return zlib.compressobj(min(level, 6), *args, **kwargs)  # type: ignore[arg-type]


class _UntilPatterns(dict):
    """tinyhtml5's cache of the patterns chars_until compiles (inputstream.characters_until_regex),
    filled under the right key. tinyhtml5 2.1 stores each pattern under itself (`characters =
    cache[(characters, opposite)] = regex` rebinds `characters` first), so every call of
    chars_until, one for each run of text in a piece's HTML, built and looked up its pattern again.
    This builds it as chars_until does, once."""

    def __missing__(self, key: tuple[object, bool]) -> re.Pattern[str]:
        characters, opposite = key
        pattern = "".join([f"\\x{ord(character):02x}" for character in characters])  # type: ignore[attr-defined]
        compiled = self[key] = re.compile(f"[{pattern if opposite else '^' + pattern}]+")
        return compiled


@dataclass(frozen=True)
class Patch:
    """One change to a library we do not own: `owner.name` (or `owner[name]`, a dict's entry)
    becomes `replacement` when `install()` runs."""

    owner: object  # a module, a class or a dict
    name: str
    replacement: object
    why: str
    upstream: str  # the upstream code it replaces, and the version it was written against


# Every change this extension makes to WeasyPrint, pydyf and tinyhtml5, in one table. Nothing is
# changed on import: write_pdf() and PieceWriter call install(). tests/test_typesetting.py checks
# each upstream function's source against what its replacement assumes.
PATCHES: tuple[Patch, ...] = (
    Patch(pydyf, "zlib", _Zlib(), "streams compressed at level 6, not 9: a quarter of the time", "pydyf 0.11 zlib"),
    Patch(
        tinyhtml5.inputstream,
        "characters_until_regex",
        _UntilPatterns(),
        "a pattern cache filled under the right key (tinyhtml5 keys each pattern by itself)",
        "tinyhtml5 2.1 inputstream.characters_until_regex",
    ),
    Patch(
        weasyprint.pdf.fonts,
        "get_hb_object_data",
        face_file,
        "a face's file found without reading it whole through HarfBuzz",
        "WeasyPrint 70 pdf/fonts.py get_hb_object_data",
    ),
    Patch(
        weasyprint.layout,
        "make_margin_boxes",
        make_margin_boxes,
        "a piece's running heads and folios held back until its first folio is known",
        "WeasyPrint 70 layout/page.py make_margin_boxes",
    ),
    Patch(
        weasyprint.layout.page,
        "resolve_percentages",
        resolve_percentages,
        "empty margin boxes are not sized",
        "WeasyPrint 70 layout/percent.py resolve_percentages",
    ),
    Patch(
        weasyprint.pdf,
        "build_fonts_dictionary",
        build_fonts_dictionary,
        "a piece records its glyphs; the assembler embeds one subset of each face",
        "WeasyPrint 70 pdf/fonts.py build_fonts_dictionary",
    ),
    Patch(
        weasyprint.layout.background,
        "layout_box_backgrounds",
        layout_box_backgrounds,
        "boxes with nothing behind them skip the background layout",
        "WeasyPrint 70 layout/background.py layout_box_backgrounds",
    ),
    Patch(
        weasyprint.layout.page,
        "set_page_type_computed_styles",
        set_page_type_computed_styles,
        "pages that the same @page selectors match share their computed styles",
        "WeasyPrint 70 layout/page.py set_page_type_computed_styles",
    ),
    *(
        Patch(
            weasyprint.pdf.VARIANTS,  # an entry of the dict, which document.py imported by name
            PAGES_ONLY + name,
            (lambda *_: None, weasyprint.pdf.VARIANTS[name][1]),
            "a PDF/X variant for a chapter's piece: the variant's properties without its metadata",
            "WeasyPrint 70 pdf/__init__.py VARIANTS",
        )
        for name in VARIANTS.values()
    ),
    Patch(
        inline,
        "count_expandable_spaces",
        count_expansion_opportunities,
        "every CJK character an expansion opportunity (text-justify: inter-character)",
        "WeasyPrint 70 layout/inline.py count_expandable_spaces",
    ),
    Patch(
        inline,
        "split_first_line",
        split_first_line,
        "a line break before a dash's run is not taken (clreq: —— never begins a line)",
        "WeasyPrint 70 text/line_break.py split_first_line",
    ),
    Patch(
        inline,
        "split_text_box",
        split_text_box,
        "a paragraph's lines taken from one Pango layout of it",
        "WeasyPrint 70 layout/inline.py split_text_box",
    ),
    Patch(
        inline,
        "get_next_linebox",
        get_next_linebox,
        "a line of a paragraph laid out at once made directly",
        "WeasyPrint 70 layout/inline.py get_next_linebox",
    ),
    Patch(
        weasyprint.draw,
        "draw_text",
        draw_text,
        "a line drawn from the glyphs of its layout, with the justification as character spacing",
        "WeasyPrint 70 draw/text.py draw_text",
    ),
    Patch(
        inline,
        "text_align",
        text_align,
        "the CJK-Latin gap dropped at a line's edges before it is aligned or justified",
        "WeasyPrint 70 layout/inline.py text_align",
    ),
    Patch(
        inline,
        "add_word_spacing",
        add_word_spacing,
        "justification spread between CJK characters as letter-spacing",
        "WeasyPrint 70 layout/inline.py add_word_spacing",
    ),
    Patch(
        line_break,
        "first_line_metrics",
        first_line_metrics,
        "a line's metrics from the paragraph's layout",
        "WeasyPrint 70 text/line_break.py first_line_metrics",
    ),
    Patch(
        Layout,
        "set_text",
        set_text_with_cjk_spacing,
        "paired marks set half-width (halt) and a dash kept with the character before it",
        "WeasyPrint 70 text/line_break.py Layout.set_text",
    ),
)
_installed: list[bool] = []


def install() -> None:
    """Apply PATCHES, once per process. Each render calls it first; importing this module changes
    nothing in the libraries."""
    if _installed:
        return
    for patch in PATCHES:
        if isinstance(patch.owner, dict):
            patch.owner[patch.name] = patch.replacement
        else:
            setattr(patch.owner, patch.name, patch.replacement)
    _installed.append(True)
