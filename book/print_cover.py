"""print_cover: the print cover spread (back cover, spine, front cover) as HTML for the PDF writer.

The front panel is book/cover.py's layout, the one the EPUB's cover image draws; the back cover
holds the title, the blurb and the ISBN's EAN-13 bars (ean.py); the spine its title, author and
publisher when it is 6 mm wide or more.
"""

from __future__ import annotations

import jinja2

from .cover import front_cover
from .ean import ean13
from .fonts import FontFace
from .model import Manuscript, PdfProfile
from .render import DEFAULT_STYLES, PrintRendition, credit_lines, font_rules, profile_context, render_template

# A spine narrower than this carries no text: its type would be under 3.3 mm, and a fold's ±1 mm
# would run through it.
SPINE_TEXT_MM = 6


def render_cover_pdf(
    manuscript: Manuscript,
    templates: jinja2.Environment,
    fonts: tuple[FontFace, ...],
    trim: tuple[float, float],
    profile: PdfProfile,
    spine_mm: float,
) -> PrintRendition:
    """The cover as one spread: back cover, spine and front cover, with the print profile's bleed."""
    meta = manuscript.metadata
    rules = font_rules(fonts, lambda f: f.path.as_uri())
    credits = credit_lines(meta.creators, meta.language)
    context = {
        "lang": meta.language,
        "meta": meta,
        "creators": credits,
        "front": front_cover(meta, credits, trim[1] / trim[0]),
        "barcode": ean13(meta.identifier) if meta.identifier.startswith("urn:isbn:") else None,
        "spine_author": "　".join(c.name for c in meta.creators if c.role == "aut")[:12],
        "fonts": rules,
        "trim_width": trim[0],
        "trim_height": trim[1],
        "spine": spine_mm,
        "spine_text": spine_mm >= SPINE_TEXT_MM,
        "profile": profile_context(profile),
    }
    html = render_template(templates, "print/cover.html", **context)
    css = (render_template(templates, "shared.css"), render_template(templates, "print/cover.css", **context))
    folds = (trim[0], trim[0] + spine_mm)  # from the spread's left trim edge, in mm
    spread = (2 * trim[0] + spine_mm, trim[1])
    return PrintRendition(html, css, DEFAULT_STYLES.as_uri() + "/", profile, "", spread, folds)
